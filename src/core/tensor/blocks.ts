// Whole-array passes that run the same way on an in-memory tensor and on a file-backed one of any size
// (docs/cache-format.md#arrays-larger-than-memory): the elements in flat C order, one block at a time (a view
// of an in-memory tensor's data, a read of a file-backed one's), so memory stays one block whatever the
// array's size. The passes are generators that yield every SLICE_ELEMENTS elements, so a caller running them
// in slices (src/core/expr/slices.ts) keeps answering requests. A result never depends on where blocks end:
// each output takes its elements in the order one loop over the whole array would.
import { DType, TensorData, halfToFloat } from './dtype';
import { Tensor, blockElements } from './tensor';

/** A computation that yields (nothing) at points where it may be paused; its return value is the result. */
export type Gen<T> = Generator<void, T, void>;

/** Elements processed between two yields. */
export const SLICE_ELEMENTS = 1 << 16;

/** Run `g` to its end at once (tests, synchronous callers, small arrays). */
export function runToEnd<T>(g: Gen<T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

/** The elements in flat C order, `size` at a time, as stored (float16 as bits, int64 as bigints). */
export function* blocks(t: Tensor, size = blockElements()): Generator<{ start: number; raw: TensorData }> {
  for (let s = 0; s < t.size; s += size) yield { start: s, raw: t.elements(s, Math.min(t.size, s + size)) };
}

/**
 * A block as JS numbers, as Tensor.at reads them: float16 widened, int64 via Number (`exact`: refused beyond
 * 2^53, as at() does; else rounded), bool as 0/1; other dtypes are numbers already and come back as they are.
 */
export function numbersOf(raw: TensorData, dtype: DType, start: number, exact = true): ArrayLike<number> {
  if (dtype === 'float16') {
    const out = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = halfToFloat(raw[i] as number);
    return out;
  }
  if (raw instanceof BigInt64Array) {
    const out = new Float64Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const v = raw[i];
      if (exact && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER))) {
        throw new RangeError(`int64 value ${v} at flat index ${start + i} does not fit a JS number exactly`);
      }
      out[i] = Number(v);
    }
    return out;
  }
  return raw as Exclude<TensorData, BigInt64Array>;
}

/** A reduction's view of a shape: `outer` x `len` (the reduced axis) x `inner`, and the result's shape. */
export interface AxisSplit {
  outer: number;
  len: number;
  inner: number;
  outShape: number[];
}

/** Split `shape` around `axis` (negative counts from the end); undefined reduces over every element. */
export function axisSplit(shape: readonly number[], axis: number | undefined): AxisSplit {
  const size = shape.reduce((a, b) => a * b, 1);
  if (axis === undefined) return { outer: 1, len: size, inner: 1, outShape: [] };
  const ax = axis < 0 ? axis + shape.length : axis;
  if (!Number.isInteger(ax) || ax < 0 || ax >= shape.length) throw new RangeError(`axis ${axis} is out of bounds for a ${shape.length}-d array`);
  const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
  return { outer: prod(shape.slice(0, ax)), len: shape[ax], inner: prod(shape.slice(ax + 1)), outShape: [...shape.slice(0, ax), ...shape.slice(ax + 1)] };
}

/**
 * What a reduction does with a run of consecutive elements. Output `o * inner + i` reduces the elements
 * `o * len * inner + k * inner + i` for k = 0 .. len - 1, and always sees them in that order of k.
 */
export interface AxisVisitor<D> {
  /** values[from, to) are elements k0, k0 + 1, ... of output `out` (the reduced axis is the innermost one). */
  along(values: D, from: number, to: number, out: number, k0: number): void;
  /** values[from + j] is element k of output out + j (the reduced axis is not the innermost one). */
  across(values: D, from: number, to: number, out: number, k: number): void;
}

/**
 * Walk `t`'s elements once in flat order, block by block, handing runs to `v` (each block converted by
 * `convert` first), yielding every SLICE_ELEMENTS elements.
 */
export function* walkAxis<D>(t: Tensor, split: AxisSplit, convert: (raw: TensorData, start: number) => D, v: AxisVisitor<D>): Gen<void> {
  const { len, inner } = split;
  const span = len * inner;
  let done = 0;
  for (const { start, raw } of blocks(t)) {
    const values = convert(raw, start);
    const end = start + raw.length;
    for (let f = start; f < end; ) {
      const o = Math.floor(f / span);
      const r = f - o * span;
      const k = Math.floor(r / inner);
      const i = r - k * inner;
      const to = Math.min(end, f + SLICE_ELEMENTS - done, inner === 1 ? f + len - k : f + inner - i);
      if (inner === 1) v.along(values, f - start, to - start, o, k);
      else v.across(values, f - start, to - start, o * inner + i, k);
      done += to - f;
      f = to;
      if (done >= SLICE_ELEMENTS) {
        done = 0;
        yield;
      }
    }
  }
}

/**
 * Every element as a number (numbersOf, `exact` for int64), block by block, to `each(values, from, to)`,
 * yielding every SLICE_ELEMENTS elements.
 */
export function* walkNumbers(t: Tensor, exact: boolean, each: (values: ArrayLike<number>, from: number, to: number) => void): Gen<void> {
  for (const { start, raw } of blocks(t)) {
    const values = numbersOf(raw, t.dtype, start, exact);
    for (let f = 0; f < raw.length; f += SLICE_ELEMENTS) {
      each(values, f, Math.min(raw.length, f + SLICE_ELEMENTS));
      yield;
    }
  }
}
