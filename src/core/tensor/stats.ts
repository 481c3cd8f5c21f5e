// Summary statistics for the views and `inspect`: one pass over the data, block by block (./blocks.ts), so a
// 1M x 50k logits tensor costs one scan and a file-backed one of any size one block of memory. min/max/mean/std
// cover finite values only (NaN and ±inf are counted apart), int64 is read via Number (rounded past 2^53), std is the population std (NumPy's default ddof=0), from each slice's squared deviations merged as Chan et al.
// do (addSlice): as stable as Welford's per-element update, and 2.5x faster over 50M float32 (no division per element).
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
  // Block by block (./blocks.ts): a file-backed array of any size is read a block at a time, and each block a
  // slice at a time, yielding between slices. Slices start at multiples of SLICE_ELEMENTS of the flat index, whatever
  // the blocks are (a slice split by a block's end is completed in `carry`): the totals depend on the slices, so an
  // array gives the same figures to the last digit in memory and from a file.
  const acc: Totals = { finite: 0, sum: 0, comp: 0, mean: 0, m2: 0, min: Infinity, max: -Infinity, nan: 0, posInf: 0, negInf: 0, minus100: 0, zero: 0 };
  const S = SLICE_ELEMENTS;
  let carry: Float64Array | null = null;
  let carried = 0;
  for (const { start, raw } of blocks(t)) {
    const values = numbersOf(raw, t.dtype, start, false);
    const n = raw.length;
    let i = 0;
    if (carried > 0) {
      const take = Math.min(S - carried, n);
      for (let k = 0; k < take; k++) carry![carried + k] = values[k];
      carried += take;
      i = take;
      if (carried === S) {
        addSlice(acc, carry!, 0, S);
        carried = 0;
      }
    }
    for (; i + S <= n; i += S) {
      addSlice(acc, values, i, i + S);
      yield;
    }
    if (i < n) {
      carry ??= new Float64Array(S);
      for (let k = i; k < n; k++) carry[k - i] = values[k];
      carried = n - i;
    }
    yield; // at least once a block: reading the next one may be a file read
  }
  if (carried > 0) addSlice(acc, carry!, 0, carried);
  const { finite, sum, comp, m2, min, max, nan, posInf, negInf, minus100, zero } = acc;
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

/** scan's running totals. */
interface Totals {
  finite: number;
  /** Neumaier-compensated sum: the mean is sum / n, as NumPy reports it, without drift. */
  sum: number;
  comp: number;
  /** The running mean and sum of squared deviations, merged slice by slice, only for the variance. */
  mean: number;
  m2: number;
  min: number;
  max: number;
  nan: number;
  posInf: number;
  negInf: number;
  minus100: number;
  zero: number;
}

/**
 * Adds values[from, to) to `acc`. The totals live in locals for the loops (a function of its own, so V8 keeps them in
 * registers, which it does not across a generator's yields). The slice's squared deviations from its own mean are a
 * second pass while it is in cache, merged into the running ones (Chan, Golub and LeVeque): no division per element.
 */
function addSlice(acc: Totals, values: ArrayLike<number>, from: number, to: number): void {
  let { sum, comp, min, max, nan, posInf, negInf, minus100, zero } = acc;
  let sliceSum = 0;
  let sliceFinite = 0;
  for (let i = from; i < to; i++) {
    const v = values[i];
    if (v - v !== 0) {
      // NaN or ±inf
      if (v !== v) nan++;
      else if (v > 0) posInf++;
      else negInf++;
      continue;
    }
    if (v === 0) zero++;
    else if (v === -100) minus100++;
    if (v < min) min = v;
    if (v > max) max = v;
    sliceFinite++;
    sliceSum += v;
    const s2 = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - s2 + v : v - s2 + sum;
    sum = s2;
  }
  Object.assign(acc, { sum, comp, min, max, nan, posInf, negInf, minus100, zero });
  if (sliceFinite === 0) return;
  const sliceMean = sliceSum / sliceFinite;
  let sliceM2 = 0;
  for (let i = from; i < to; i++) {
    const d = values[i] - sliceMean;
    if (d - d === 0) sliceM2 += d * d;
  }
  const n = acc.finite + sliceFinite;
  const delta = sliceMean - acc.mean;
  acc.mean += (delta * sliceFinite) / n;
  acc.m2 += sliceM2 + (delta * delta * acc.finite * sliceFinite) / n;
  acc.finite = n;
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
