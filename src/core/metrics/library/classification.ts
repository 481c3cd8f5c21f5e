// Classification metrics with scikit-learn's semantics (checked against sklearn 1.2 in the tests).
// Argument order is (preds, labels), as in a compute_metrics body; sklearn's is (y_true, y_pred).
import { EvalpredError } from '../../errors';
import { NumericInput, checkClassIds, pairOf, warnOnce } from './values';

function classPair(preds: NumericInput, labels: NumericInput): [Float64Array, Float64Array] {
  const [p, t] = pairOf(preds, 'preds', labels, 'labels');
  checkClassIds(p, 'preds');
  checkClassIds(t, 'labels');
  return [p, t];
}

/** Sorted distinct values of both vectors (sklearn's unique_labels). */
function presentLabels(a: Float64Array, b: Float64Array): number[] {
  const s = new Set<number>();
  for (const v of a) s.add(v);
  for (const v of b) s.add(v);
  return [...s].sort((x, y) => x - y);
}

export interface AccuracyOptions {
  /** Positions whose label equals this are left out (as Trainer's -100 padding). */
  ignoreIndex?: number;
}

/** Fraction of positions where preds equals labels (sklearn accuracy_score), optionally skipping ignoreIndex labels. */
export function accuracy(preds: NumericInput, labels: NumericInput, options: AccuracyOptions = {}): number {
  const [p, t] = pairOf(preds, 'preds', labels, 'labels');
  const ignore = options.ignoreIndex;
  let n = 0;
  let correct = 0;
  for (let i = 0; i < t.length; i++) {
    if (ignore !== undefined && t[i] === ignore) continue;
    n++;
    if (p[i] === t[i]) correct++;
  }
  if (n === 0) throw new EvalpredError(`every label equals ignoreIndex ${ignore}: there is nothing to score`, { tensor: 'labels' });
  return correct / n;
}

export type Average = 'binary' | 'micro' | 'macro' | 'weighted';
/** sklearn's zero_division: what a 0/0 precision or recall becomes ('warn' = 0 plus a warning). */
export type ZeroDivision = 'warn' | 0 | 1;

export interface PrecisionRecallF1Options {
  /** Default 'binary', as sklearn. */
  average?: Average;
  /** The positive class for average 'binary' (default 1). */
  posLabel?: number;
  /** Classes to score (and their order) for micro/macro/weighted; default: every class seen in preds or labels. */
  labels?: readonly number[];
  zeroDivision?: ZeroDivision;
}

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

const AVERAGES: readonly Average[] = ['binary', 'micro', 'macro', 'weighted'];

/** sklearn precision_recall_fscore_support(y_true=labels, y_pred=preds, beta=1) for one average. */
export function precisionRecallF1(preds: NumericInput, labels: NumericInput, options: PrecisionRecallF1Options = {}): PrecisionRecallF1 {
  const average = options.average ?? 'binary';
  if (!AVERAGES.includes(average)) {
    throw new EvalpredError(`average must be one of ${AVERAGES.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(average)}`);
  }
  const zd = options.zeroDivision ?? 'warn';
  if (zd !== 'warn' && zd !== 0 && zd !== 1) throw new EvalpredError(`zeroDivision must be 'warn', 0 or 1; got ${JSON.stringify(zd)}`);
  const zdValue = zd === 1 ? 1 : 0;
  const [p, t] = classPair(preds, labels);
  const present = presentLabels(p, t);

  let classes: number[];
  if (average === 'binary') {
    if (present.length > 2) {
      throw new EvalpredError(
        `preds and labels hold ${present.length} classes ([${present.join(', ')}]) but average is 'binary': ` +
          `choose average 'micro', 'macro' or 'weighted'`,
      );
    }
    const pos = options.posLabel ?? 1;
    if (!present.includes(pos) && present.length >= 2) {
      throw new EvalpredError(`posLabel=${pos} is not a valid label: it should be one of [${present.join(', ')}]`);
    }
    classes = [pos];
  } else {
    classes = options.labels ? [...options.labels] : present;
    if (classes.length === 0) throw new EvalpredError('the labels option is empty: give at least one class to score');
  }

  const index = new Map<number, number>(classes.map((c, i) => [c, i]));
  const k = classes.length;
  const tp = new Float64Array(k);
  const predSum = new Float64Array(k);
  const trueSum = new Float64Array(k);
  for (let i = 0; i < p.length; i++) {
    const pi = index.get(p[i]);
    const ti = index.get(t[i]);
    if (pi !== undefined) predSum[pi]++;
    if (ti !== undefined) trueSum[ti]++;
    if (pi !== undefined && p[i] === t[i]) tp[pi]++;
  }
  const sums = average === 'micro' ? [[sum(tp)], [sum(predSum)], [sum(trueSum)]] : [[...tp], [...predSum], [...trueSum]];
  const [tps, preds_, trues] = sums;

  const scope = tps.length === 1 ? 'due to' : 'in labels with';
  const precision = tps.map((x, i) => divide(x, preds_[i], zdValue, zd, `Precision is ill-defined and being set to 0.0 ${scope} no predicted samples.`));
  const recall = tps.map((x, i) => divide(x, trues[i], zdValue, zd, `Recall is ill-defined and being set to 0.0 ${scope} no true samples.`));
  const f = precision.map((pr, i) => {
    const denom = pr + recall[i];
    return (2 * pr * recall[i]) / (denom === 0 ? 1 : denom);
  });

  if (average === 'weighted') {
    const w = trues;
    const wSum = sum(w);
    if (wSum === 0) {
      // sklearn's special case: no true samples in any scored class.
      return sum(preds_) === 0 ? { precision: zdValue, recall: zdValue, f1: zdValue } : { precision: 0, recall: zdValue, f1: 0 };
    }
    const wavg = (v: number[]) => v.reduce((acc, x, i) => acc + x * w[i], 0) / wSum;
    return { precision: wavg(precision), recall: wavg(recall), f1: wavg(f) };
  }
  const mean = (v: number[]) => sum(v) / v.length;
  return { precision: mean(precision), recall: mean(recall), f1: mean(f) };
}

function divide(num: number, den: number, zdValue: number, zd: ZeroDivision, warning: string): number {
  if (den !== 0) return num / den;
  if (zd === 'warn') warnOnce(`${warning} Use the zeroDivision option to control this behavior.`);
  return zdValue;
}

function sum(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s;
}

/** sklearn precision_score. */
export function precision(preds: NumericInput, labels: NumericInput, options: PrecisionRecallF1Options = {}): number {
  return precisionRecallF1(preds, labels, options).precision;
}

/** sklearn recall_score. */
export function recall(preds: NumericInput, labels: NumericInput, options: PrecisionRecallF1Options = {}): number {
  return precisionRecallF1(preds, labels, options).recall;
}

/** sklearn f1_score. */
export function f1(preds: NumericInput, labels: NumericInput, options: PrecisionRecallF1Options = {}): number {
  return precisionRecallF1(preds, labels, options).f1;
}

/** sklearn matthews_corrcoef (multiclass form); 0 when either vector holds a single class. */
export function matthewsCorrcoef(preds: NumericInput, labels: NumericInput): number {
  const [p, t] = classPair(preds, labels);
  const classes = presentLabels(p, t);
  const index = new Map<number, number>(classes.map((c, i) => [c, i]));
  const k = classes.length;
  const tSum = new Float64Array(k);
  const pSum = new Float64Array(k);
  let correct = 0;
  for (let i = 0; i < p.length; i++) {
    tSum[index.get(t[i])!]++;
    pSum[index.get(p[i])!]++;
    if (p[i] === t[i]) correct++;
  }
  const n = p.length;
  let tp = 0;
  let pp = 0;
  let tt = 0;
  for (let c = 0; c < k; c++) {
    tp += tSum[c] * pSum[c];
    pp += pSum[c] * pSum[c];
    tt += tSum[c] * tSum[c];
  }
  const covYtYp = correct * n - tp;
  const covYpYp = n * n - pp;
  const covYtYt = n * n - tt;
  if (covYpYp * covYtYt === 0) return 0;
  return covYtYp / Math.sqrt(covYtYt * covYpYp);
}

export interface ConfusionMatrixOptions {
  /** Number of classes K (ids 0..K-1); default: the largest id seen + 1. */
  numClasses?: number;
}

/**
 * Counts as number[K][K], row = true class id, column = predicted class id (sklearn's orientation).
 * Unlike sklearn, rows are indexed by class id 0..K-1 even when some class never occurs.
 */
export function confusionMatrix(preds: NumericInput, labels: NumericInput, options: ConfusionMatrixOptions = {}): number[][] {
  const [p, t] = classPair(preds, labels);
  let k = options.numClasses;
  if (k !== undefined && (!Number.isInteger(k) || k < 1)) throw new EvalpredError(`numClasses must be a positive integer; got ${k}`);
  if (k === undefined) {
    k = 0;
    for (let i = 0; i < p.length; i++) k = Math.max(k, p[i] + 1, t[i] + 1);
  }
  const m = Array.from({ length: k }, () => new Array<number>(k!).fill(0));
  for (let i = 0; i < p.length; i++) {
    for (const [v, name] of [
      [p[i], 'preds'],
      [t[i], 'labels'],
    ] as const) {
      if (v < 0 || v >= k) {
        throw new EvalpredError(`${name}[${i}] is ${v}, outside the class ids 0..${k - 1} of the confusion matrix`, { tensor: name, row: i });
      }
    }
    m[t[i]][p[i]]++;
  }
  return m;
}
