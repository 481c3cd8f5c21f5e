// Trainer's accumulation of per-batch outputs (docs/trainer-semantics.md#accumulation-across-batches): nested_concat with padding index -100.
// Trainer concatenates batch by batch; we keep the batches and concatenate once at the end (O(N) copies,
// not O(N²)). The result is identical: the final width is the maximum over batches, rows from narrower
// batches are left-aligned and -100-filled on the right; the type checks below raise where Trainer would.
import { EvalpredError } from '../errors';
import { DType, DTYPES } from '../tensor/dtype';
import { Tensor, TensorNode } from '../tensor/tensor';

export const PADDING_INDEX = -100;

/** Accumulates one EvalPrediction field over batches in memory (EvalLoopContainer); spool.ts streams them to disk instead. */
export class LoopContainer {
  private readonly batches: TensorNode[] = [];
  constructor(
    readonly name: string,
    readonly doConcat: boolean,
  ) {}

  add(node: TensorNode): void {
    this.batches.push(node);
  }

  /** In memory: nothing is ever under way. */
  settle(): Promise<void> {
    return Promise.resolve();
  }

  get count(): number {
    return this.batches.length;
  }

  /** null when nothing was added (Trainer leaves the field None). */
  result(): TensorNode | null {
    if (this.batches.length === 0) return null;
    if (!this.doConcat) return { list: this.batches.slice() };
    return concatNodes(this.batches, this.name);
  }
}

function kindOf(n: TensorNode): 'tensor' | 'tuple' | 'list' {
  return n instanceof Tensor ? 'tensor' : 'tuple' in n ? 'tuple' : 'list';
}

/** The one kind every batch's node has (nested_concat's type check), else the error Trainer would raise. */
export function sameKind<K extends string>(kinds: readonly K[], name: string): K {
  kinds.forEach((k, b) => {
    if (k !== kinds[0]) {
      throw new EvalpredError(
        `${name}: batch ${b} produced a ${k} but batch 0 produced a ${kinds[0]}; Trainer's nested_concat ` +
          `requires the same structure in every batch (it raises an AssertionError here too).`,
        { tensor: name },
      );
    }
  });
  return kinds[0];
}

/** nested_concat folded over batches. */
export function concatNodes(nodes: readonly TensorNode[], name: string): TensorNode {
  if (nodes.length === 1) return nodes[0];
  const kind = sameKind(nodes.map(kindOf), name);
  if (kind === 'tensor') return concatTensors(nodes as Tensor[], name);
  const items = nodes.map((n) => ('tuple' in n ? n.tuple : (n as { list: TensorNode[] }).list));
  // zip() truncates to the shortest member list, as Trainer's nested_concat does.
  const len = Math.min(...items.map((i) => i.length));
  const merged: TensorNode[] = [];
  for (let k = 0; k < len; k++) merged.push(concatNodes(items.map((i) => i[k]), `${name}[${k}]`));
  return kind === 'tuple' ? { tuple: merged } : { list: merged };
}

/** What concatenating batches of these dtypes and shapes gives: concatPlan's answer. */
export interface ConcatPlan {
  dtype: DType;
  /** Shape of the result. */
  shape: number[];
  /** Shapes with 0-d operands promoted to [1] (atleast_1d). */
  shapes: number[][];
  /** Elements per row of the result. */
  outRowLen: number;
  /** Elements per row of each batch. */
  rowLens: number[];
  /** Some batch is narrower than the result: its rows are padded with -100. */
  ragged: boolean;
}

/**
 * The checks and the layout of torch_pad_and_concatenate / numpy_pad_and_concatenate over all batches at once,
 * shared by the in-memory concatenation below and the streamed one (spool.ts): same errors, same result.
 */
export function concatPlan(parts: readonly { dtype: DType; shape: readonly number[] }[], name: string): ConcatPlan {
  // 0-d operands are promoted to [1] (atleast_1d).
  const shapes = parts.map((t) => (t.shape.length === 0 ? [1] : [...t.shape]));
  const first = shapes[0];
  const dtype = parts[0].dtype;
  const ndim = first.length;
  shapes.forEach((s, b) => {
    if (s.length !== ndim) {
      throw new EvalpredError(
        `${name}: batch ${b} has shape [${s}] but batch 0 has shape [${first}]; the arrays cannot be ` +
          `concatenated (Trainer fails the same way, e.g. when a batch of size 1 lost its batch axis, docs/trainer-semantics.md#predictions-from-model-outputs).`,
        { tensor: name },
      );
    }
  });
  const widths = shapes.map((s) => (ndim >= 2 ? s[1] : 0));
  const width = Math.max(...widths);
  const tail = first.slice(2);
  shapes.forEach((s, b) => {
    if (s.slice(2).join(',') !== tail.join(',')) {
      throw new EvalpredError(
        `${name}: batch ${b} has shape [${s}] but batch 0 has shape [${first}]; only axis 1 is padded ` +
          `across batches, so axes 2 and beyond must agree.`,
        { tensor: name },
      );
    }
  });
  const rows = shapes.reduce((a, s) => a + s[0], 0);
  const ragged = ndim >= 2 && widths.some((w) => w !== width);
  if (ragged && dtype === 'uint8') {
    throw new EvalpredError(`${name}: cannot pad a uint8 array with -100 (NumPy raises OverflowError here too).`, { tensor: name });
  }
  const inner = tail.reduce((a, b) => a * b, 1);
  return {
    dtype,
    shape: ndim >= 2 ? [rows, width, ...tail] : [rows],
    shapes,
    outRowLen: (ndim >= 2 ? width : 1) * inner,
    rowLens: shapes.map((s) => (ndim >= 2 ? s[1] : 1) * inner),
    ragged,
  };
}

/** torch_pad_and_concatenate / numpy_pad_and_concatenate over all batches at once. */
export function concatTensors(parts: readonly Tensor[], name: string): Tensor {
  if (parts.length === 1) return parts[0];
  const { dtype, shape, outRowLen, rowLens, ragged } = concatPlan(parts, name);
  const ts = parts.map((t) => (t.ndim === 0 ? t.reshape([1]) : t));
  const out = ragged ? Tensor.full(dtype, shape, PADDING_INDEX) : Tensor.full(dtype, shape);
  const sameType = ts.every((t) => t.dtype === dtype);
  let row0 = 0;
  ts.forEach((t, b) => {
    const n = t.shape[0];
    const rowLen = rowLens[b];
    if (sameType) {
      const src = t.data as ArrayLike<unknown> as never;
      const dst = out.data as unknown as { set(a: ArrayLike<unknown>, o: number): void };
      if (rowLen === outRowLen) dst.set(src, row0 * outRowLen);
      else for (let r = 0; r < n; r++) dst.set((t.data as Float32Array).subarray(r * rowLen, (r + 1) * rowLen), (row0 + r) * outRowLen);
    } else {
      // Mixed dtypes (rare): convert into the first batch's dtype, as torch's copy into new_full does.
      for (let r = 0; r < n; r++) for (let k = 0; k < rowLen; k++) out.set((row0 + r) * outRowLen + k, t.at(r * rowLen + k));
    }
    row0 += n;
  });
  return out;
}

/** Bytes a node would take, for the "full logits are large" warning (the large-logits pitfall, docs/trainer-semantics.md#pitfalls). */
export function nodeBytes(node: TensorNode | null): number {
  if (!node) return 0;
  if (node instanceof Tensor) return node.size * DTYPES[node.dtype].itemSize;
  return ('tuple' in node ? node.tuple : node.list).reduce((a, n) => a + nodeBytes(n), 0);
}

/**
 * NumPy's float32 mean (np.mean on a contiguous float32 vector): pairwise summation in float32, divided by
 * the count in float32. Trainer reports eval_loss = float(np.mean(losses)); reproducing the summation makes
 * our eval_loss equal to the last bit.
 */
export function numpyMeanFloat32(values: Float32Array): number {
  const f = Math.fround;
  const pairwise = (off: number, n: number): number => {
    if (n < 8) {
      let res = 0; // numpy starts from -0.0 in newer versions; sign of zero does not change a sum of losses
      for (let i = 0; i < n; i++) res = f(res + values[off + i]);
      return res;
    }
    if (n <= 128) {
      const r = [0, 0, 0, 0, 0, 0, 0, 0].map((_, j) => values[off + j]);
      let i = 8;
      for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] = f(r[j] + values[off + i + j]);
      let res = f(f(f(r[0] + r[1]) + f(r[2] + r[3])) + f(f(r[4] + r[5]) + f(r[6] + r[7])));
      for (; i < n; i++) res = f(res + values[off + i]);
      return res;
    }
    let n2 = Math.floor(n / 2);
    n2 -= n2 % 8;
    return f(pairwise(off, n2) + pairwise(off + n2, n - n2));
  };
  if (values.length === 0) return NaN;
  return f(pairwise(0, values.length) / values.length);
}

/**
 * The built-in `--preprocess argmax`: exactly the preprocess_logits_for_metrics of transformers'
 * examples/pytorch/language-modeling/run_clm.py (run_mlm.py has the same one), which users copy:
 *
 *     def preprocess_logits_for_metrics(logits, labels):
 *         if isinstance(logits, tuple):
 *             # Depending on the model and config, logits may contain extra tensors,
 *             # like past_key_values, but logits always come first
 *             logits = logits[0]
 *         return logits.argmax(dim=-1)
 *
 * So a tuple keeps only its first member (a seq2seq model's (logits, encoder_last_hidden_state) becomes the
 * token ids, not two argmaxes); ties go to the first maximum, as torch.argmax. Checked against a Python
 * transcription in test/helpers/preprocess_reference.py (docs/fidelity.md).
 */
export function argmaxPreprocess(node: TensorNode): Tensor {
  const logits = !(node instanceof Tensor) && 'tuple' in node ? node.tuple[0] : node;
  if (logits instanceof Tensor) return logits.argmax(-1);
  const what = logits === undefined ? 'an empty tuple' : 'tuple' in logits ? 'a tuple inside a tuple' : 'a list';
  throw new EvalpredError(
    `--preprocess argmax (run_clm.py's preprocess_logits_for_metrics) needs logits as a tensor or a tuple whose first member is the ` +
      `logits tensor, but the model gave ${what}; torch would fail at logits.argmax(dim=-1) too. Write your own ` +
      `preprocess_logits_for_metrics in the metric file for this model.`,
    { tensor: 'predictions' },
  );
}

/** The loss vector as one float32 array, whether it was concatenated or kept per batch. */
export function flatLosses(node: TensorNode): Float32Array {
  if (node instanceof Tensor) return node.data as Float32Array;
  const parts = ('tuple' in node ? node.tuple : node.list).map(flatLosses);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
