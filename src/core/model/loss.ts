// The losses transformers' heads compute, as torch computes them in float32 (docs/trainer-semantics.md#losses-we-compute).
// Each returns the batch mean as a float32 value: we accumulate in float64 and round once, which agrees with
// torch's float32 result to about 1e-7 relative. float16 logits are widened (torch on an fp16 model would
// round its loss to half precision; the ONNX export keeps only the logits, so we report the float32 value).
//
// All-ignored batches: torch's mean over zero elements is 0/0 = NaN, and Trainer logs that NaN; so do we.
import { EvalpredError } from '../errors';
import { Tensor } from '../tensor/tensor';

/**
 * torch.nn.functional.cross_entropy(logits.view(-1, C), labels.view(-1), ignore_index) with reduction 'mean':
 * logits [n, C] or [n, L, C] (any float dtype), labels integer with n (or n*L) elements.
 * Returns NaN when every label is ignore_index (as torch does).
 */
export function crossEntropy(logits: Tensor, labels: Tensor, ignoreIndex = -100): number {
  const C = classCount(logits);
  const rows = logits.size / C;
  if (labels.size !== rows) {
    throw new EvalpredError(
      `cross-entropy: logits ${logits} hold ${rows} rows of ${C} classes but labels ${labels} hold ${labels.size} values ` +
        `(torch's view(-1) would fail: the label and logit batches do not line up).`,
      { tensor: 'label_ids' },
    );
  }
  requireInteger(labels, 'cross-entropy');
  return crossEntropyRows(logits, rows, (r) => r * C, (r) => labels.at(r), ignoreIndex);
}

/** The size of `logits`' class axis (its last), refused when there is none. */
export function classCount(logits: Tensor): number {
  const C = logits.shape[logits.ndim - 1];
  if (logits.ndim < 2 || !C) throw new EvalpredError(`cross-entropy needs logits with a class axis, got ${logits}`, { tensor: 'logits' });
  return C;
}

/**
 * The mean cross-entropy over `rows` targets, the r-th scoring the C logits from flat offset `base(r)` against the
 * class `label(r)`: crossEntropy's loop, for callers that score a strided selection of rows without copying it
 * (a causal LM's shifted positions, whose copy was a second batch of full logits in memory).
 */
export function crossEntropyRows(logits: Tensor, rows: number, base: (r: number) => number, label: (r: number) => number, ignoreIndex = -100): number {
  const C = classCount(logits);
  const x = floatReader(logits);
  // float32/float64 rows are read in place; other dtypes (float16 bits, integers) are widened a row at a time.
  const direct = logits.dtype === 'float32' || logits.dtype === 'float64' ? (logits.data as Float32Array | Float64Array) : null;
  const row = direct ? null : new Float64Array(C);
  let sum = 0;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    const y = label(r);
    if (y === ignoreIndex) continue;
    if (y < 0 || y >= C) {
      throw new EvalpredError(
        `label ${y} at position ${r} of label_ids is outside the model's ${C} classes [0, ${C - 1}] (and is not the ignore index ${ignoreIndex}); ` +
          `torch's cross_entropy would raise "Target ${y} is out of bounds". Check the label column against config.json's id2label.`,
        { tensor: 'label_ids' },
      );
    }
    const b = base(r);
    if (row) for (let c = 0; c < C; c++) row[c] = x(b + c);
    sum += (direct ? logSumExp(direct, b, C) : logSumExp(row!, 0, C)) - x(b + y);
    count++;
  }
  return Math.fround(sum / count); // 0/0 = NaN when everything is ignored
}

/** BCEWithLogitsLoss (mean over every element): max(x,0) - x*y + log1p(exp(-|x|)); shapes must match. */
export function bceWithLogits(logits: Tensor, targets: Tensor): number {
  if (logits.size !== targets.size || !sameShape(logits.shape, targets.shape)) {
    throw new EvalpredError(
      `binary cross-entropy needs labels shaped like the logits: logits ${logits}, labels ${targets} ` +
        `(torch raises "Target size must be the same as input size").`,
      { tensor: 'label_ids' },
    );
  }
  const x = floatReader(logits);
  const y = floatReader(targets);
  let sum = 0;
  for (let i = 0; i < logits.size; i++) {
    const v = x(i);
    sum += Math.max(v, 0) - v * y(i) + Math.log1p(Math.exp(-Math.abs(v)));
  }
  return Math.fround(sum / logits.size);
}

/**
 * MSELoss (mean): with `squeeze`, both sides lose their size-1 axes first (transformers does
 * `loss_fct(logits.squeeze(), labels.squeeze())` when num_labels == 1). Shapes broadcast as in torch.
 */
export function mse(preds: Tensor, targets: Tensor, opts: { squeeze?: boolean } = {}): number {
  let a = preds;
  let b = targets;
  if (opts.squeeze) {
    a = a.reshape(a.shape.filter((d) => d !== 1));
    b = b.reshape(b.shape.filter((d) => d !== 1));
  }
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) {
    throw new EvalpredError(`mean squared error: predictions ${a} and labels ${b} do not broadcast (torch would raise).`, { tensor: 'label_ids' });
  }
  const ia = broadcastIndexer(a.shape, shape);
  const ib = broadcastIndexer(b.shape, shape);
  const x = floatReader(a);
  const y = floatReader(b);
  const n = shape.reduce((p, d) => p * d, 1);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const d = x(ia(i)) - y(ib(i));
    sum += d * d;
  }
  return Math.fround(sum / n);
}

/**
 * Extractive QA loss as BertForQuestionAnswering computes it: positions squeezed to [n], clamped to [0, L]
 * (so -100 becomes 0, not ignored!), L used as the ignore index, then (CE(start) + CE(end)) / 2 in float32.
 */
export function qaLoss(startLogits: Tensor, endLogits: Tensor, startPositions: Tensor, endPositions: Tensor): number {
  const L = startLogits.shape[startLogits.ndim - 1];
  const clamp = (p: Tensor, name: string): Tensor => {
    requireInteger(p, 'question-answering loss');
    if (p.ndim > 2 || (p.ndim === 2 && p.shape[1] !== 1)) {
      throw new EvalpredError(`${name} must hold one position per example ([n] or [n, 1]), got ${p}.`, { tensor: name });
    }
    const out = Tensor.full('int64', [p.size]);
    for (let i = 0; i < p.size; i++) out.set(i, Math.min(Math.max(p.at(i), 0), L));
    return out;
  };
  const s = crossEntropy(startLogits, clamp(startPositions, 'start_positions'), L);
  const e = crossEntropy(endLogits, clamp(endPositions, 'end_positions'), L);
  return Math.fround(Math.fround(s + e) / 2);
}

/** NumPy/torch broadcasting of two shapes, or null when they do not broadcast. */
export function broadcastShape(a: readonly number[], b: readonly number[]): number[] | null {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

function broadcastIndexer(from: readonly number[], to: readonly number[]): (flat: number) => number {
  if (sameShape(from, to)) return (i) => i;
  const off = to.length - from.length;
  const toStrides = strides(to);
  const fromStrides = strides(from);
  return (flat) => {
    let src = 0;
    for (let k = 0; k < to.length; k++) {
      const idx = Math.floor(flat / toStrides[k]) % to[k];
      const fk = k - off;
      if (fk >= 0 && from[fk] !== 1) src += idx * fromStrides[fk];
    }
    return src;
  };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function isIntegerDType(t: Tensor): boolean {
  return t.dtype === 'int64' || t.dtype === 'int32' || t.dtype === 'int16' || t.dtype === 'int8' || t.dtype === 'uint8';
}

function requireInteger(t: Tensor, what: string): void {
  if (!isIntegerDType(t)) {
    throw new EvalpredError(`${what} needs integer class ids as labels, got ${t} (torch would raise "expected scalar type Long").`, { tensor: 'label_ids' });
  }
}

/** Element reader returning float64 values (float16 bits widened, int64 as numbers). */
function floatReader(t: Tensor): (i: number) => number {
  if (t.dtype === 'float32' || t.dtype === 'float64') {
    const d = t.data as Float32Array | Float64Array;
    return (i) => d[i];
  }
  return (i) => t.at(i);
}

/** log(sum(exp(d[base .. base + C)))), read in place: no call per element (a causal LM's batch is 15M logits). */
function logSumExp(d: ArrayLike<number>, base: number, C: number): number {
  let m = -Infinity;
  for (let c = base, end = base + C; c < end; c++) m = Math.max(m, d[c]);
  if (m === -Infinity || m === Infinity) return m; // all -inf row (masked) or +inf: as torch, inf - inf -> NaN below
  let s = 0;
  for (let c = base, end = base + C; c < end; c++) s += Math.exp(d[c] - m);
  return m + Math.log(s);
}

/** Labels that are not -100 ([n, L]); `shifted` leaves out position 0 of each row (what ForCausalLMLoss scores). */
export function activeLabels(labels: Tensor, shifted: boolean): number {
  const [n, L] = labels.shape;
  let k = 0;
  for (let r = 0; r < n; r++) for (let t = shifted ? 1 : 0; t < L; t++) if (labels.at(r * L + t) !== -100) k++;
  return k;
}
