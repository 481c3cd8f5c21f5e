// Regression/correlation metrics with scipy.stats' semantics (pearsonr, spearmanr), statistic only.
import { EvalpredError } from '../../errors';
import { NumericInput, pairOf, toNumbers } from './values';

function pairForCorrelation(preds: NumericInput, labels: NumericInput): [Float64Array, Float64Array] {
  const [x, y] = pairOf(preds, 'preds', labels, 'labels');
  if (x.length < 2) throw new EvalpredError(`preds and labels need at least 2 values for a correlation; got ${x.length}`, { tensor: 'preds' });
  return [x, y];
}

function pearsonOf(x: Float64Array, y: Float64Array): number {
  // scipy: constant input -> NaN (with a ConstantInputWarning); NaN anywhere propagates.
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  if (Number.isNaN(mx) || Number.isNaN(my)) return NaN;
  if (x.every((v) => v === x[0]) || y.every((v) => v === y[0])) return NaN;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  const nx = Math.sqrt(sxx);
  const ny = Math.sqrt(syy);
  let r = 0;
  for (let i = 0; i < n; i++) r += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
  return Math.max(-1, Math.min(1, r));
}

/** Pearson's r (scipy.stats.pearsonr(...).statistic). NaN for constant input, as scipy. */
export function pearson(preds: NumericInput, labels: NumericInput): number {
  const [x, y] = pairForCorrelation(preds, labels);
  return pearsonOf(x, y);
}

/** Ranks 1..n with ties given their average rank (scipy.stats.rankdata, method='average'). */
export function rankAverage(values: NumericInput): Float64Array {
  const v = toNumbers(values, 'values');
  const order = Array.from(v.keys()).sort((a, b) => v[a] - v[b] || a - b);
  const ranks = new Float64Array(v.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/** Spearman's rho (scipy.stats.spearmanr(...).statistic): Pearson's r of average ranks. NaN if any value is NaN. */
export function spearman(preds: NumericInput, labels: NumericInput): number {
  const [x, y] = pairForCorrelation(preds, labels);
  if (x.some(Number.isNaN) || y.some(Number.isNaN)) return NaN;
  return pearsonOf(rankAverage(x), rankAverage(y));
}
