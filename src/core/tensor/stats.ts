// Summary statistics for the views and `inspect`: one pass over the data, block by block (./blocks.ts), so a
// 1M x 50k logits tensor costs one scan and a file-backed one of any size one block of memory. min/max/mean/std
// cover finite values only (NaN and ±inf are counted apart), int64 is read via Number (rounded past 2^53), std is the population std (NumPy's default ddof=0), accumulated with Welford's update for stability.
import { Gen, SLICE_ELEMENTS, blocks, numbersOf, runToEnd, walkNumbers } from './blocks';
import { floatToHalf, halfToFloat } from './dtype';
import { Tensor } from './tensor';

export interface TensorStats {
  /** Number of elements (all of them, including NaN/inf). */
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  nanCount: number;
  posInfCount: number;
  negInfCount: number;
  /** Values equal to -100, the label padding index Trainer and the collators use. */
  minus100Count: number;
  zeroCount: number;
}

/**
 * Statistics of file-backed arrays that were never loaded: their elements are the file's, which does not change
 * while it is open, so one pass over gigabytes serves the view's cards, the lints and the Variables view.
 */
const fileStats = new WeakMap<Tensor, TensorStats>();

/** tensorStats in slices: a generator that yields every SLICE_ELEMENTS elements (./blocks.ts). */
export function* statsOf(t: Tensor): Gen<TensorStats> {
  const fromFile = !!t.backing && !t.inMemory;
  const known = fromFile ? fileStats.get(t) : undefined;
  if (known) return { ...known };
  const s = yield* scan(t);
  if (fromFile && !t.inMemory) fileStats.set(t, { ...s });
  return s;
}

function* scan(t: Tensor): Gen<TensorStats> {
  // Block by block (./blocks.ts): a file-backed array of any size is read a block at a time.
  let finite = 0;
  let sum = 0;
  let comp = 0; // Neumaier compensation: the mean is sum / n, as NumPy reports it, without drift
  let mean = 0; // Welford's running mean, only for the variance
  let m2 = 0;
  let min = Infinity;
  let max = -Infinity;
  let nan = 0;
  let posInf = 0;
  let negInf = 0;
  let minus100 = 0;
  let zero = 0;
  // The loop is in this generator's own body (not a callback): its running totals stay in registers.
  for (const { start, raw } of blocks(t)) {
    const values = numbersOf(raw, t.dtype, start, false);
    for (let f = 0; f < raw.length; f += SLICE_ELEMENTS) {
      for (let i = f, to = Math.min(raw.length, f + SLICE_ELEMENTS); i < to; i++) {
        const v = values[i];
        if (v !== v) {
          nan++;
          continue;
        }
        if (v === Infinity) {
          posInf++;
          continue;
        }
        if (v === -Infinity) {
          negInf++;
          continue;
        }
        if (v === 0) zero++;
        else if (v === -100) minus100++;
        if (v < min) min = v;
        if (v > max) max = v;
        finite++;
        const s2 = sum + v;
        comp += Math.abs(sum) >= Math.abs(v) ? sum - s2 + v : v - s2 + sum;
        sum = s2;
        const delta = v - mean;
        mean += delta / finite;
        m2 += delta * (v - mean);
      }
      yield;
    }
  }
  const has = finite > 0;
  return {
    count: t.size,
    min: has ? min : null,
    max: has ? max : null,
    mean: has ? (sum + comp) / finite : null,
    std: has ? Math.sqrt(Math.max(0, m2 / finite)) : null,
    nanCount: nan,
    posInfCount: posInf,
    negInfCount: negInf,
    minus100Count: minus100,
    zeroCount: zero,
  };
}

export function tensorStats(t: Tensor): TensorStats {
  return runToEnd(statsOf(t));
}

export interface Histogram {
  /** bins + 1 edges, ascending. */
  edges: number[];
  counts: number[];
}

/**
 * np.histogram over the finite values: `bins` equal-width bins spanning `range` (default: finite min..max;
 * a zero-width range widens to ±0.5 and an empty tensor uses [0, 1], as NumPy does). Every bin is half-open
 * [a, b) except the last, which is closed; values outside `range` are not counted. Edges are computed in the
 * tensor's float type (float32/float16 edges for float32/float16 data), so boundary values fall where NumPy puts them.
 */
export function histogram(t: Tensor, bins: number, range?: [number, number], finite?: { min: number | null; max: number | null }): Histogram {
  return runToEnd(histogramOf(t, bins, range, finite));
}

/**
 * histogram in slices (a generator yielding every SLICE_ELEMENTS elements), block by block (./blocks.ts).
 * `finite`, the data's finite min and max when already known (tensorStats' min/max, null when there are
 * none), saves the pass that finds them; the result is the same.
 */
export function* histogramOf(t: Tensor, bins: number, range?: [number, number], finite?: { min: number | null; max: number | null }): Gen<Histogram> {
  if (!Number.isInteger(bins) || bins < 1) throw new RangeError(`histogram needs a positive integer number of bins, got ${bins}`);
  let first: number;
  let last: number;
  let fromData = false; // range taken from the data's own min/max (NumPy scalars of the data's type)
  if (range) {
    [first, last] = range;
    if (!(first <= last)) throw new RangeError(`histogram range [${first}, ${last}] must have min <= max`);
    if (!Number.isFinite(first) || !Number.isFinite(last)) throw new RangeError(`histogram range [${first}, ${last}] must be finite`);
  } else {
    let lo = Infinity;
    let hi = -Infinity;
    if (finite) {
      lo = finite.min ?? Infinity;
      hi = finite.max ?? -Infinity;
    } else {
      yield* walkNumbers(t, false, (values, from, to) => {
        for (let i = from; i < to; i++) {
          const v = values[i];
          if (Number.isFinite(v)) {
            if (v < lo) lo = v;
            if (v > hi) hi = v;
          }
        }
      });
    }
    if (lo > hi) [first, last] = [0, 1]; // no finite values: NumPy's (Python int) default
    else [first, last, fromData] = [lo, hi, true];
  }
  // Edges as np.linspace makes them. With an explicit range (Python floats) it computes in float64 and casts
  // to the data's float type; with the data's own min/max (NumPy scalars of that type) it computes in that
  // type: each float32/float16 step is emulated by rounding a float64 result, which is exact for + - * /.
  const round = t.dtype === 'float32' ? Math.fround : t.dtype === 'float16' ? roundHalf : (x: number) => x;
  const inType = fromData && (t.dtype === 'float32' || t.dtype === 'float16');
  const op = inType ? round : (x: number) => x;
  if (first === last) {
    first = op(first - 0.5);
    last = op(last + 0.5);
  }
  const step = op(op(last - first) / bins);
  const edges = new Array<number>(bins + 1);
  for (let k = 0; k < bins; k++) edges[k] = round(op(op(k * step) + first));
  edges[bins] = round(last);
  const lo = edges[0];
  const hi = edges[bins];
  const counts = new Array<number>(bins).fill(0);
  const scale = bins / (hi - lo);
  yield* walkNumbers(t, false, (values, from, to) => {
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (!(v >= lo && v <= hi)) continue; // drops NaN, ±inf and out-of-range values
      let k = Math.floor((v - lo) * scale);
      if (k >= bins) k = bins - 1;
      // The division can be off by one ULP near an edge; settle with the edges themselves, as NumPy does.
      if (v < edges[k]) k--;
      else if (k < bins - 1 && v >= edges[k + 1]) k++;
      counts[k]++;
    }
  });
  return { edges, counts };
}

/** float64 -> float16 value (floatToHalf goes through float32; double rounding only matters far below display precision). */
function roundHalf(x: number): number {
  return halfToFloat(floatToHalf(x));
}
