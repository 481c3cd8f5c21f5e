// The tensor maths the expression language needs: NumPy basic indexing (ints and slices), boolean-mask
// and integer-array indexing along axis 0, broadcasting element-wise operators and axis reductions.
// Results are fresh tensors of just the selected elements; leading integer indices share memory (row()).
// Every loop over elements is a generator that yields every SLICE_ELEMENTS elements, so the Debug Console can
// run an evaluation in slices and the adapter answers other requests in between (runSliced in ./slices.ts).
import { DTYPES, DType } from '../tensor/dtype';
import { Tensor } from '../tensor/tensor';

export type Axis = { kind: 'int'; index: number } | { kind: 'slice'; start?: number; stop?: number; step?: number };

/**
 * Refuse to build results larger than this (a typo like `predictions * predictions[:, None]` on real data):
 * the adapter answers one request at a time, and 10 M elements keep one evaluation well under a second.
 */
export const MAX_RESULT_ELEMENTS = 10_000_000;

/** The one refusal every allocating operation gives. */
export function checkResultSize(size: number): void {
  if (size > MAX_RESULT_ELEMENTS) {
    throw new IndexError(`the result would hold ${size} elements, more than the ${MAX_RESULT_ELEMENTS} the Debug Console computes; select fewer rows (e.g. [:1000]) first`);
  }
}

export class IndexError extends Error {}

/** A computation that yields (nothing) at points where it may be paused; its return value is the result. */
export type Gen<T> = Generator<void, T, void>;

/** Elements processed between two yields. */
export const SLICE_ELEMENTS = 1 << 16;

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
      return new Tensor(cur.dtype, [], cur.data.subarray(i, i + 1) as typeof cur.data);
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
  checkResultSize(size);
  const out = new DTYPES[cur.dtype].ctor(size);
  const strides = cur.strides;
  const src = cur.data as ArrayLike<number | bigint>;
  const dst = out as unknown as { [i: number]: number | bigint };
  let w = 0;
  const work = new Work();
  const last = cur.ndim - 1;
  function* rec(a: number, off: number): Gen<void> {
    if (a === last) {
      for (const i of per[a]) dst[w++] = src[off + i * strides[a]];
      if (work.tick(per[a].length)) yield;
      return;
    }
    for (const i of per[a]) yield* rec(a + 1, off + i * strides[a]);
  }
  if (cur.ndim === 0) dst[w++] = src[0];
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
      for (let i = 0; i < sel.size; i++) {
        if (sel.data[i]) out.push(i);
        if (work.tick()) yield;
      }
      return yield* gather(t.reshape([t.size]), out);
    }
    if (sel.ndim !== 1 || sel.shape[0] !== t.shape[0]) {
      throw new IndexError(`boolean index of shape (${sel.shape.join(', ')}) does not match the array's shape (${t.shape.join(', ')})`);
    }
    for (let i = 0; i < sel.size; i++) {
      if (sel.data[i]) rows.push(i);
      if (work.tick()) yield;
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
  checkResultSize(rows.length * inner);
  const out = new DTYPES[t.dtype].ctor(rows.length * inner);
  const work = new Work();
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    (out as Float32Array).set((t.data as Float32Array).subarray(r * inner, (r + 1) * inner), i * inner);
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
  checkResultSize(size);
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
  checkResultSize(t.size);
  const out = Tensor.full(dtype, t.shape);
  for (let s0 = 0; s0 < t.size; s0 += SLICE_ELEMENTS) {
    const end = Math.min(t.size, s0 + SLICE_ELEMENTS);
    for (let i = s0; i < end; i++) out.set(i, f(t.at(i)));
    yield;
  }
  return out;
}

/** Reduce over one axis (or all when axis is undefined) with `init`/`step`/`finish`. */
export function* reduce(
  t: Tensor,
  axis: number | undefined,
  dtype: DType,
  init: () => { acc: number; n: number },
  step: (s: { acc: number; n: number }, v: number) => void,
  finish: (s: { acc: number; n: number }) => number,
): Gen<Tensor | number> {
  const work = new Work();
  if (axis === undefined) {
    const s = init();
    for (let s0 = 0; s0 < t.size; s0 += SLICE_ELEMENTS) {
      const end = Math.min(t.size, s0 + SLICE_ELEMENTS);
      for (let i = s0; i < end; i++) step(s, t.at(i));
      yield;
    }
    return finish(s);
  }
  const ax = axis < 0 ? axis + t.ndim : axis;
  if (ax < 0 || ax >= t.ndim) throw new IndexError(`axis ${axis} is out of bounds for a ${t.ndim}-d array`);
  const outer = t.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const len = t.shape[ax];
  const inner = t.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  const out = Tensor.full(dtype, [...t.shape.slice(0, ax), ...t.shape.slice(ax + 1)]);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const s = init();
      for (let k = 0; k < len; k++) step(s, t.at(o * len * inner + k * inner + i));
      out.set(o * inner + i, finish(s));
      if (work.tick(len)) yield;
    }
  }
  return out;
}

/** Elements one synchronous Tensor.argmax call may cover between two yields. */
const ARGMAX_BLOCK = 1 << 20;

/**
 * Tensor.argmax along `axis` (same result: int64, first maximum, the first NaN wins as in NumPy), computed in
 * blocks of the reduced axis so it yields between them. Each block is Tensor.argmax on a view (its fast path),
 * and blocks are combined with the same rule.
 */
export function* argmaxAxis(t: Tensor, axis: number): Gen<Tensor> {
  if (t.ndim === 0) return t.argmax(axis);
  const ax = axis < 0 ? axis + t.ndim : axis;
  if (ax < 0 || ax >= t.ndim) throw new RangeError(`axis ${axis} is out of bounds for a ${t.ndim}-d tensor`);
  const outer = t.shape.slice(0, ax).reduce((a, b) => a * b, 1);
  const len = t.shape[ax];
  const inner = t.shape.slice(ax + 1).reduce((a, b) => a * b, 1);
  if (len === 0) throw new RangeError('argmax of an empty axis');
  const out = new BigInt64Array(outer * inner);
  const big = t.data instanceof BigInt64Array ? t.data : undefined;
  // NumPy's order: NaN beats everything and the first one stays; otherwise strictly larger wins (first max).
  const beats = (c: number, b: number): boolean => {
    if (big) return big[c] > big[b];
    const bv = t.at(b);
    if (bv !== bv) return false;
    const cv = t.at(c);
    return cv !== cv || cv > bv;
  };
  const seg = Math.max(1, Math.floor(ARGMAX_BLOCK / inner));
  const work = new Work();
  for (let o = 0; o < outer; o++) {
    const base = o * len * inner;
    for (let k0 = 0; k0 < len; k0 += seg) {
      const k1 = Math.min(len, k0 + seg);
      const view = new Tensor(t.dtype, [k1 - k0, inner], (t.data as Float32Array).subarray(base + k0 * inner, base + k1 * inner) as typeof t.data);
      const local = view.argmax(0).data as BigInt64Array;
      for (let i = 0; i < inner; i++) {
        const k = k0 + Number(local[i]);
        if (k0 === 0 || beats(base + k * inner + i, base + Number(out[o * inner + i]) * inner + i)) out[o * inner + i] = BigInt(k);
      }
      if (work.tick((k1 - k0) * inner)) yield;
    }
  }
  return new Tensor('int64', [...t.shape.slice(0, ax), ...t.shape.slice(ax + 1)], out);
}
