// The tensor maths the expression language needs: NumPy basic indexing (ints and slices), boolean-mask
// and integer-array indexing along axis 0, broadcasting element-wise operators and axis reductions.
// Results are fresh tensors of just the selected elements; leading integer indices share memory (row()).
// Every loop over elements is a generator that yields every SLICE_ELEMENTS elements, so the Debug Console can
// run an evaluation in slices and the adapter answers other requests in between (runSliced in ./slices.ts).
import { AxisSplit, AxisVisitor, Gen, SLICE_ELEMENTS, axisSplit, blocks, numbersOf, walkAxis } from '../tensor/blocks';
import { humanBytes } from '../tensor/diskSpace';
import { DTYPES, DType, TensorData } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';

export type Axis = { kind: 'int'; index: number } | { kind: 'slice'; start?: number; stop?: number; step?: number };

/**
 * Refuse to build results larger than this (a typo like `predictions * predictions[:, None]` on real data):
 * the adapter answers one request at a time, and 10 M elements keep one evaluation well under a second.
 */
export const MAX_RESULT_ELEMENTS = 10_000_000;

/**
 * The one refusal every allocating operation gives, naming the array the result is built from (`from`) and
 * its size; an array past the cap is still one the reductions take whole (they stream: ../tensor/blocks.ts).
 */
export function checkResultSize(size: number, from?: Tensor): void {
  if (size > MAX_RESULT_ELEMENTS) {
    const src = from ? ` from the ${from} array (${humanBytes(from.nbytes)})` : '';
    const reduce = from && from.size > MAX_RESULT_ELEMENTS ? '; or reduce it: sum, mean, min, max, argmax, argmin, count take arrays of any size' : '';
    throw new IndexError(`the result would hold ${size} elements${src}, more than the ${MAX_RESULT_ELEMENTS} the Debug Console computes; select fewer rows (e.g. [:1000]) first${reduce}`);
  }
}

export class IndexError extends Error {}

export type { Gen } from '../tensor/blocks';
export { SLICE_ELEMENTS } from '../tensor/blocks';

/** Counts work; `tick(n)` is true when a slice's worth has been done since the last yield. */
export class Work {
  private done = 0;
  tick(n = 1): boolean {
    this.done += n;
    if (this.done < SLICE_ELEMENTS) return false;
    this.done = 0;
    return true;
  }
}

function sliceRange(n: number, s: Extract<Axis, { kind: 'slice' }>): number[] {
  const step = s.step ?? 1;
  if (step === 0) throw new IndexError('slice step cannot be zero');
  const clamp = (v: number | undefined, dflt: number, lo: number, hi: number) => {
    if (v === undefined) return dflt;
    if (v < 0) v += n;
    return Math.min(Math.max(v, lo), hi);
  };
  const out: number[] = [];
  if (step > 0) {
    const start = clamp(s.start, 0, 0, n);
    const stop = clamp(s.stop, n, 0, n);
    for (let i = start; i < stop; i += step) out.push(i);
  } else {
    const start = clamp(s.start, n - 1, -1, n - 1);
    const stop = clamp(s.stop, -1, -1, n - 1);
    for (let i = start; i > stop; i += step) out.push(i);
  }
  return out;
}

/** `t[items]` with NumPy basic indexing. A fully integer-indexed element comes back as a 0-d tensor (keeps its dtype, as np.float32 does). */
export function* indexTensor(t: Tensor, items: Axis[]): Gen<Tensor> {
  if (items.length > t.ndim) throw new IndexError(`too many indices for a ${t.ndim}-d array of shape (${t.shape.join(', ')}): ${items.length} given`);
  // Leading integers: take rows without copying.
  let cur = t;
  let k = 0;
  while (k < items.length && items[k].kind === 'int') {
    const { index } = items[k] as { index: number };
    const n = cur.shape[0];
    if (index < -n || index >= n) throw new IndexError(`index ${index} is out of bounds for axis ${k} with size ${n}`);
    if (cur.ndim === 1) {
      const i = index < 0 ? index + n : index;
      return new Tensor(cur.dtype, [], cur.elements(i, i + 1));
    }
    cur = cur.row(index);
    k++;
  }
  const rest = items.slice(k);
  if (rest.length === 0) return cur;
  const per: number[][] = [];
  const keep: boolean[] = [];
  for (let a = 0; a < cur.ndim; a++) {
    const it = rest[a];
    const n = cur.shape[a];
    if (!it) {
      per.push([...Array(n).keys()]);
      keep.push(true);
    } else if (it.kind === 'int') {
      if (it.index < -n || it.index >= n) throw new IndexError(`index ${it.index} is out of bounds for axis ${a + k} with size ${n}`);
      per.push([it.index < 0 ? it.index + n : it.index]);
      keep.push(false);
    } else {
      per.push(sliceRange(n, it));
      keep.push(true);
    }
  }
  const outShape = per.filter((_, a) => keep[a]).map((p) => p.length);
  const size = outShape.reduce((x, y) => x * y, 1);
  checkResultSize(size, cur);
  const out = new DTYPES[cur.dtype].ctor(size);
  const strides = cur.strides;
  const dst = out as unknown as { [i: number]: number | bigint };
  let w = 0;
  const work = new Work();
  const last = cur.ndim - 1;
  // A file-backed array is read one run of its last axis at a time: the span the selection covers there.
  const src = cur.inMemory ? (cur.data as ArrayLike<number | bigint>) : undefined;
  const lastIdx = per[last] ?? [];
  const lo = lastIdx.length ? Math.min(...lastIdx) : 0;
  const hi = lastIdx.length ? Math.max(...lastIdx) : -1;
  function* rec(a: number, off: number): Gen<void> {
    if (a === last) {
      if (src) for (const i of lastIdx) dst[w++] = src[off + i];
      else if (lastIdx.length) {
        const span = cur.elements(off + lo, off + hi + 1) as ArrayLike<number | bigint>;
        for (const i of lastIdx) dst[w++] = span[i - lo];
      }
      if (work.tick(Math.max(lastIdx.length, hi - lo + 1))) yield;
      return;
    }
    for (const i of per[a]) yield* rec(a + 1, off + i * strides[a]);
  }
  if (cur.ndim === 0) dst[w++] = cur.elements(0, 1)[0];
  else yield* rec(0, 0);
  return new Tensor(cur.dtype, outShape, out);
}

/** `t[mask]` (bool, same leading shape) or `t[ids]` (int array) along axis 0. */
export function* takeRows(t: Tensor, sel: Tensor): Gen<Tensor> {
  if (t.ndim === 0) throw new IndexError('a 0-d array cannot be indexed');
  let rows: number[] = [];
  const work = new Work();
  if (sel.dtype === 'bool') {
    if (sel.ndim === t.ndim && sel.shape.every((d, i) => d === t.shape[i])) {
      // Full-shape mask: NumPy returns the selected elements as a flat array.
      const out: number[] = [];
      for (const { start, raw } of blocks(sel)) {
        for (let i = 0; i < raw.length; i++) {
          if (raw[i]) out.push(start + i);
          if (work.tick()) yield;
        }
        checkResultSize(out.length, t);
      }
      return yield* gather(t.reshape([t.size]), out);
    }
    if (sel.ndim !== 1 || sel.shape[0] !== t.shape[0]) {
      throw new IndexError(`boolean index of shape (${sel.shape.join(', ')}) does not match the array's shape (${t.shape.join(', ')})`);
    }
    for (const { start, raw } of blocks(sel)) {
      for (let i = 0; i < raw.length; i++) {
        if (raw[i]) rows.push(start + i);
        if (work.tick()) yield;
      }
    }
  } else if (!DTYPES[sel.dtype].isFloat) {
    if (sel.ndim !== 1) throw new IndexError('integer-array indexing takes a 1-d array of row numbers');
    const n = t.shape[0];
    rows = Array.from({ length: sel.size }, (_, i) => {
      const r = sel.at(i);
      if (r < -n || r >= n) throw new IndexError(`index ${r} is out of bounds for axis 0 with size ${n}`);
      return r < 0 ? r + n : r;
    });
  } else throw new IndexError('arrays used as indices must be of integer or boolean type');
  return yield* gather(t, rows);
}

function* gather(t: Tensor, rows: number[]): Gen<Tensor> {
  const inner = t.shape.slice(1).reduce((a, b) => a * b, 1);
  checkResultSize(rows.length * inner, t);
  const out = new DTYPES[t.dtype].ctor(rows.length * inner);
  const work = new Work();
  // A file-backed array is read a window at a time (rows come in ascending order from a mask): no whole-array load.
  let win: { start: number; data: TensorData } | undefined = t.inMemory ? { start: 0, data: t.data } : undefined;
  for (let i = 0; i < rows.length; i++) {
    const s0 = rows[i] * inner;
    const s1 = s0 + inner;
    if (!win || s0 < win.start || s1 > win.start + win.data.length) win = { start: s0, data: t.elements(s0, Math.max(s1, s0 + SLICE_ELEMENTS)) };
    (out as Float32Array).set((win.data as Float32Array).subarray(s0 - win.start, s1 - win.start), i * inner);
    if (work.tick(inner)) yield;
  }
  return new Tensor(t.dtype, [rows.length, ...t.shape.slice(1)], out);
}

export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) {
      throw new IndexError(`operands could not be broadcast together with shapes (${a.join(', ')}) (${b.join(', ')})`);
    }
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** Flat source offsets of `t` for every element of `shape` (broadcast axes repeat). */
function* offsets(t: Tensor, shape: number[]): Gen<Int32Array | null> {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return null; // identity
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(size);
  const n = shape.length;
  const st = t.strides;
  const strides = shape.map((_, i) => {
    const j = i - (n - t.ndim);
    return j < 0 || t.shape[j] === 1 ? 0 : st[j];
  });
  const idx = new Array(n).fill(0);
  let off = 0;
  const work = new Work();
  for (let f = 0; f < size; f++) {
    if (work.tick()) yield;
    out[f] = off;
    for (let a = n - 1; a >= 0; a--) {
      idx[a]++;
      off += strides[a];
      if (idx[a] < shape[a]) break;
      off -= strides[a] * shape[a];
      idx[a] = 0;
    }
  }
  return out;
}

/** Element-wise `f(a, b)` with NumPy broadcasting; the result is stored as `dtype`. */
export function* elementwise(a: Tensor, b: Tensor, dtype: DType, f: (x: number, y: number) => number): Gen<Tensor> {
  const shape = broadcastShapes(a.shape, b.shape);
  const size = shape.reduce((x, y) => x * y, 1);
  checkResultSize(size, a.size >= b.size ? a : b);
  const oa = yield* offsets(a, shape);
  const ob = yield* offsets(b, shape);
  const out = Tensor.full(dtype, shape);
  for (let s0 = 0; s0 < size; s0 += SLICE_ELEMENTS) {
    const end = Math.min(size, s0 + SLICE_ELEMENTS);
    for (let i = s0; i < end; i++) out.set(i, f(a.at(oa ? oa[i] : i), b.at(ob ? ob[i] : i)));
    yield;
  }
  return out;
}

export function* mapTensor(t: Tensor, dtype: DType, f: (x: number) => number): Gen<Tensor> {
  checkResultSize(t.size, t);
  const out = Tensor.full(dtype, t.shape);
  for (let s0 = 0; s0 < t.size; s0 += SLICE_ELEMENTS) {
    const end = Math.min(t.size, s0 + SLICE_ELEMENTS);
    for (let i = s0; i < end; i++) out.set(i, f(t.at(i)));
    yield;
  }
  return out;
}

/** The reductions `reduce` computes: NumPy's sum/mean/min/max (min and max propagate NaN). */
export type Reduction = 'sum' | 'mean' | 'min' | 'max';

/**
 * A reduction over one axis (or every element when axis is undefined: a number comes back), stored as
 * `dtype`. Streamed block by block (src/core/tensor/blocks.ts), so a file-backed array of any size works in
 * one block of memory; each output accumulates in float64, in the order of the reduced axis, whatever the
 * blocks, so an in-memory and a file-backed array give the same bits.
 */
export function* reduce(t: Tensor, axis: number | undefined, dtype: DType, kind: Reduction): Gen<Tensor | number> {
  const split = splitFor(t, axis);
  const acc = new Float64Array(split.outer * split.inner);
  let v: AxisVisitor<ArrayLike<number>>;
  if (kind === 'sum' || kind === 'mean') {
    v = {
      along(x, from, to, out) {
        let a = acc[out];
        for (let j = from; j < to; j++) a += x[j];
        acc[out] = a;
      },
      across(x, from, to, out) {
        for (let j = from, o = out; j < to; j++, o++) acc[o] += x[j];
      },
    };
  } else {
    // The first element starts the output; a NaN ends it (NumPy propagates NaN); else the smaller / larger wins.
    const lower = kind === 'min';
    v = {
      along(x, from, to, out, k0) {
        let j = from;
        let a = acc[out];
        if (k0 === 0) a = x[j++];
        if (a === a) {
          for (; j < to; j++) {
            const e = x[j];
            if (e !== e) {
              a = e;
              break;
            }
            if (lower ? e < a : e > a) a = e;
          }
        }
        acc[out] = a;
      },
      across(x, from, to, out, k) {
        for (let j = from, o = out; j < to; j++, o++) {
          const e = x[j];
          const a = acc[o];
          if (k === 0 || e !== e || (a === a && (lower ? e < a : e > a))) acc[o] = e;
        }
      },
    };
    if (split.len === 0) acc.fill(NaN);
  }
  yield* walkAxis(t, split, (raw, start) => numbersOf(raw, t.dtype, start), v);
  if (kind === 'mean') for (let o = 0; o < acc.length; o++) acc[o] = split.len ? acc[o] / split.len : NaN;
  if (axis === undefined) return acc[0];
  const out = Tensor.full(dtype, split.outShape);
  for (let o = 0; o < acc.length; o++) out.set(o, acc[o]);
  return out;
}

/** axisSplit with the Debug Console's refusal of results it does not build. */
function splitFor(t: Tensor, axis: number | undefined): AxisSplit {
  let split: AxisSplit;
  try {
    split = axisSplit(t.shape, axis);
  } catch (e) {
    throw new IndexError((e as Error).message);
  }
  checkResultSize(split.outer * split.inner, t);
  return split;
}

/**
 * The index of the largest value along `axis` (every element when undefined), as Tensor.argmax gives it:
 * int64, the first maximum, the first NaN wins (NumPy's rule); `lowest` gives argmin by the same rule with
 * the order reversed. Streamed block by block like `reduce`; int64 is compared as bigints (exact past 2^53).
 */
export function* argExtremeAxis(t: Tensor, axis: number | undefined, lowest = false): Gen<Tensor> {
  const split = splitFor(t, axis);
  if (split.len === 0) throw new RangeError(`${lowest ? 'argmin' : 'argmax'} of an empty axis`);
  const n = split.outer * split.inner;
  const best = new Float64Array(n);
  if (t.dtype === 'int64') {
    const bestV = new BigInt64Array(n);
    const beats = lowest ? (e: bigint, b: bigint) => e < b : (e: bigint, b: bigint) => e > b;
    yield* walkAxis(t, split, (raw) => raw as BigInt64Array, {
      along(x, from, to, out, k0) {
        let j = from;
        let k = k0;
        let b = best[out];
        let bv = bestV[out];
        if (k === 0) {
          b = 0;
          bv = x[j++];
          k++;
        }
        for (; j < to; j++, k++) {
          if (beats(x[j], bv)) {
            b = k;
            bv = x[j];
          }
        }
        best[out] = b;
        bestV[out] = bv;
      },
      across(x, from, to, out, k) {
        for (let j = from, o = out; j < to; j++, o++) {
          if (k === 0 || beats(x[j], bestV[o])) {
            best[o] = k;
            bestV[o] = x[j];
          }
        }
      },
    });
  } else {
    const bestV = new Float64Array(n);
    // !(e <= b) is true for a larger value and for NaN (argmax); !(e >= b) for a smaller one and NaN (argmin).
    const beats = lowest ? (e: number, b: number) => !(e >= b) : (e: number, b: number) => !(e <= b);
    yield* walkAxis(t, split, (raw: TensorData, start) => numbersOf(raw, t.dtype, start), {
      along(x, from, to, out, k0) {
        let j = from;
        let k = k0;
        let b = best[out];
        let bv = bestV[out];
        if (k === 0) {
          b = 0;
          bv = x[j++];
          k++;
        }
        if (bv === bv) {
          for (; j < to; j++, k++) {
            const e = x[j];
            if (beats(e, bv)) {
              b = k;
              bv = e;
              if (e !== e) break;
            }
          }
        }
        best[out] = b;
        bestV[out] = bv;
      },
      across(x, from, to, out, k) {
        for (let j = from, o = out; j < to; j++, o++) {
          const b = bestV[o];
          if (k === 0 || (b === b && beats(x[j], b))) {
            best[o] = k;
            bestV[o] = x[j];
          }
        }
      },
    });
  }
  const out = new BigInt64Array(n);
  for (let o = 0; o < n; o++) out[o] = BigInt(best[o]);
  return new Tensor('int64', split.outShape, out);
}
