// Classification metrics with scikit-learn's semantics (checked against sklearn 1.2 in the tests, live where
// possible: test/unit/metricsLibrary.test.ts, test/unit/metricsFidelity.test.ts). Argument order is
// (preds, labels), as in a compute_metrics body; sklearn's is (y_true, y_pred).
//
// Inputs as sklearn's type_of_target sees them: two 2-D 0/1 matrices of the same shape with more than one
// column are multilabel-indicator (rows = samples, columns = labels); anything else is flattened to class
// ids (so token-level [N, L] arrays are scored position by position, which sklearn would refuse).
// Empty inputs give sklearn's results (accuracy NaN, binary/micro/weighted scores 0.0, macro NaN, an empty
// confusion matrix) instead of an error.
import { EvalpredError } from '../../errors';
import { NumericInput, checkClassIds, matrixShape, pairOf, sampleWeights, toNumbers, warnOnce } from './values';

/** What sklearn's _check_targets decides: flat class ids, or a multilabel indicator matrix. */
interface Targets {
  p: Float64Array;
  t: Float64Array;
  /** [samples, labels] when multilabel-indicator. */
  multilabel: [number, number] | null;
  /** Number of samples (rows of a multilabel input). */
  n: number;
}

function isBinaryMatrix(v: Float64Array): boolean {
  for (let i = 0; i < v.length; i++) if (v[i] !== 0 && v[i] !== 1) return false;
  return true;
}

function targetsOf(preds: NumericInput, labels: NumericInput, allowMultilabel = true): Targets {
  const [p, t] = pairOf(preds, 'preds', labels, 'labels', true);
  const ps = matrixShape(preds);
  const ts = matrixShape(labels);
  if (allowMultilabel && ps && ts && ps[0] === ts[0] && ps[1] === ts[1] && ps[1] > 1 && isBinaryMatrix(p) && isBinaryMatrix(t)) {
    return { p, t, multilabel: ps, n: ps[0] };
  }
  checkClassIds(p, 'preds');
  checkClassIds(t, 'labels');
  return { p, t, multilabel: null, n: p.length };
}

/** Sorted distinct values of both vectors (sklearn's unique_labels). */
function presentLabels(a: Float64Array, b: Float64Array): number[] {
  const s = new Set<number>();
  for (const v of a) s.add(v);
  for (const v of b) s.add(v);
  return [...s].sort((x, y) => x - y);
}

export interface AccuracyOptions {
  /** Positions whose label equals this are left out (as Trainer's -100 padding); not sklearn's. */
  ignoreIndex?: number;
  /** sklearn's sample_weight: one weight per sample (per row for multilabel input). */
  sampleWeight?: NumericInput;
  /** sklearn's normalize: false returns the (weighted) count of correct samples. Default true. */
  normalize?: boolean;
}

/**
 * sklearn accuracy_score: the (weighted) fraction of samples where preds equals labels; for multilabel
 * input the subset accuracy (a row counts only when every label matches). Empty input: NaN (0 with
 * normalize false), as sklearn. ignoreIndex skips those label positions (an evalpred extension).
 */
export function accuracy(preds: NumericInput, labels: NumericInput, options: AccuracyOptions = {}): number {
  const ignore = options.ignoreIndex;
  let tg: Targets;
  if (ignore === undefined) tg = targetsOf(preds, labels);
  else {
    const [p, t] = pairOf(preds, 'preds', labels, 'labels', true);
    tg = { p, t, multilabel: null, n: p.length };
  }
  const w = sampleWeights(options.sampleWeight, tg.n);
  const cols = tg.multilabel ? tg.multilabel[1] : 1;
  let total = 0;
  let correct = 0;
  for (let i = 0; i < tg.n; i++) {
    if (ignore !== undefined && tg.t[i] === ignore) continue;
    let ok = true;
    for (let j = 0; j < cols && ok; j++) ok = tg.p[i * cols + j] === tg.t[i * cols + j];
    const wi = w ? w[i] : 1;
    total += wi;
    if (ok) correct += wi;
  }
  if (ignore !== undefined && total === 0 && tg.n > 0) {
    throw new EvalpredError(`every label equals ignoreIndex ${ignore}: there is nothing to score`, { tensor: 'labels' });
  }
  if (options.normalize === false) return correct;
  return correct / total; // 0/0 = NaN on empty input, as np.average
}

export type Average = 'binary' | 'micro' | 'macro' | 'weighted' | 'samples';
/** sklearn's zero_division: what a 0/0 precision or recall becomes ('warn' = 0 plus a warning). */
export type ZeroDivision = 'warn' | 0 | 1;

export interface PrecisionRecallF1Options {
  /** Default 'binary', as sklearn. 'samples' is for multilabel input only. */
  average?: Average;
  /** The positive class for average 'binary' (default 1). */
  posLabel?: number;
  /** Classes to score (and their order); for multilabel input, column indices. Default: every class seen. */
  labels?: readonly number[];
  zeroDivision?: ZeroDivision;
  /** sklearn's sample_weight: one weight per sample (per row for multilabel input). */
  sampleWeight?: NumericInput;
}

export interface PrecisionRecallF1 {
  precision: number;
  recall: number;
  f1: number;
}

const AVERAGES: readonly Average[] = ['binary', 'micro', 'macro', 'weighted', 'samples'];

/** sklearn precision_recall_fscore_support(y_true=labels, y_pred=preds, beta=1) for one average. */
export function precisionRecallF1(preds: NumericInput, labels: NumericInput, options: PrecisionRecallF1Options = {}): PrecisionRecallF1 {
  const r = precisionRecallFbeta(preds, labels, 1, options);
  return { precision: r.precision, recall: r.recall, f1: r.fbeta };
}

/** precision_recall_fscore_support with any beta (F-beta weighs recall beta times as much as precision). */
export function precisionRecallFbeta(
  preds: NumericInput,
  labels: NumericInput,
  beta: number,
  options: PrecisionRecallF1Options = {},
): { precision: number; recall: number; fbeta: number } {
  const average = options.average ?? 'binary';
  if (!AVERAGES.includes(average)) {
    throw new EvalpredError(`average must be one of ${AVERAGES.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(average)}`);
  }
  if (typeof beta !== 'number' || !(beta >= 0)) throw new EvalpredError(`beta should be >=0 in the F-beta score; got ${beta}`);
  const zd = options.zeroDivision ?? 'warn';
  if (zd !== 'warn' && zd !== 0 && zd !== 1) throw new EvalpredError(`zeroDivision must be 'warn', 0 or 1; got ${JSON.stringify(zd)}`);
  const zdValue = zd === 1 ? 1 : 0;
  const tg = targetsOf(preds, labels);
  const w = sampleWeights(options.sampleWeight, tg.n);
  const wt = (i: number) => (w ? w[i] : 1);

  let tp: number[];
  let predSum: number[];
  let trueSum: number[];
  if (tg.multilabel) {
    const [n, k] = tg.multilabel;
    if (average === 'binary') {
      throw new EvalpredError("preds and labels are multilabel indicator matrices but average is 'binary': choose average 'micro', 'macro', 'weighted' or 'samples'");
    }
    const cols = options.labels ? [...options.labels] : Array.from({ length: k }, (_, j) => j);
    cols.forEach((c) => {
      if (!Number.isInteger(c) || c < 0 || c >= k) throw new EvalpredError(`labels holds ${c}, which is not a column of the ${k}-label indicator matrices (0..${k - 1})`);
    });
    if (average === 'samples') {
      // per-sample scores over the chosen labels, then averaged with sample_weight
      const ps: number[] = [];
      const rs: number[] = [];
      const fs: number[] = [];
      for (let i = 0; i < n; i++) {
        let a = 0, pp = 0, tt = 0;
        for (const c of cols) {
          const pv = tg.p[i * k + c], tv = tg.t[i * k + c];
          a += pv * tv;
          pp += pv;
          tt += tv;
        }
        const pr = divide(a, pp, zdValue, zd, 'Precision is ill-defined and being set to 0.0 in samples with no predicted labels.');
        const rc = divide(a, tt, zdValue, zd, 'Recall is ill-defined and being set to 0.0 in samples with no true labels.');
        ps.push(pr);
        rs.push(rc);
        fs.push(fbetaOf(pr, rc, beta));
      }
      const avg = (v: number[]) => weightedMean(v, w);
      return { precision: avg(ps), recall: avg(rs), fbeta: avg(fs) };
    }
    tp = cols.map(() => 0);
    predSum = cols.map(() => 0);
    trueSum = cols.map(() => 0);
    for (let i = 0; i < n; i++) {
      cols.forEach((c, j) => {
        const pv = tg.p[i * k + c], tv = tg.t[i * k + c];
        tp[j] += pv * tv * wt(i);
        predSum[j] += pv * wt(i);
        trueSum[j] += tv * wt(i);
      });
    }
  } else {
    if (average === 'samples') throw new EvalpredError("average 'samples' is for multilabel indicator input only (sklearn: samplewise metrics are not available outside of multilabel classification)");
    const { p, t } = tg;
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
      if (options.labels && classes.length === 0) throw new EvalpredError('the labels option is empty: give at least one class to score');
    }
    const index = new Map<number, number>(classes.map((c, i) => [c, i]));
    tp = classes.map(() => 0);
    predSum = classes.map(() => 0);
    trueSum = classes.map(() => 0);
    for (let i = 0; i < p.length; i++) {
      const pi = index.get(p[i]);
      const ti = index.get(t[i]);
      if (pi !== undefined) predSum[pi] += wt(i);
      if (ti !== undefined) trueSum[ti] += wt(i);
      if (pi !== undefined && p[i] === t[i]) tp[pi] += wt(i);
    }
  }
  if (average === 'micro') {
    tp = [sum(tp)];
    predSum = [sum(predSum)];
    trueSum = [sum(trueSum)];
  }
  const scope = tp.length === 1 ? 'due to' : 'in labels with';
  const precision = tp.map((x, i) => divide(x, predSum[i], zdValue, zd, `Precision is ill-defined and being set to 0.0 ${scope} no predicted samples.`));
  const recall = tp.map((x, i) => divide(x, trueSum[i], zdValue, zd, `Recall is ill-defined and being set to 0.0 ${scope} no true samples.`));
  const f = precision.map((pr, i) => fbetaOf(pr, recall[i], beta));

  if (average === 'weighted') {
    const wSum = sum(trueSum);
    if (wSum === 0) {
      // sklearn's special case: no true samples in any scored class.
      return sum(predSum) === 0 ? { precision: zdValue, recall: zdValue, fbeta: zdValue } : { precision: 0, recall: zdValue, fbeta: 0 };
    }
    return { precision: weightedMean(precision, trueSum), recall: weightedMean(recall, trueSum), fbeta: weightedMean(f, trueSum) };
  }
  // macro (and binary/micro, one value): the plain mean; NaN over no classes, as np.average of nothing
  return { precision: weightedMean(precision, null), recall: weightedMean(recall, null), fbeta: weightedMean(f, null) };
}

/** (1 + beta²) P R / (beta² P + R), with a zero denominator counted as 1 (sklearn 1.2). */
function fbetaOf(p: number, r: number, beta: number): number {
  if (beta === Infinity) return r;
  const b2 = beta * beta;
  const denom = b2 * p + r;
  return ((1 + b2) * p * r) / (denom === 0 ? 1 : denom);
}

function weightedMean(v: number[], w: ArrayLike<number> | null): number {
  if (!w) return sum(v) / v.length;
  let s = 0, ws = 0;
  for (let i = 0; i < v.length; i++) {
    s += v[i] * w[i];
    ws += w[i];
  }
  return s / ws;
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

/** sklearn fbeta_score(y_true=labels, y_pred=preds, beta=beta). */
export function fbeta(preds: NumericInput, labels: NumericInput, beta: number, options: PrecisionRecallF1Options = {}): number {
  return precisionRecallFbeta(preds, labels, beta, options).fbeta;
}

export interface MatthewsOptions {
  sampleWeight?: NumericInput;
}

/** sklearn matthews_corrcoef (multiclass form, optional sample_weight); 0 when either side holds one class (or none). */
export function matthewsCorrcoef(preds: NumericInput, labels: NumericInput, options: MatthewsOptions = {}): number {
  const { p, t } = targetsOf(preds, labels, false);
  const w = sampleWeights(options.sampleWeight, p.length);
  const classes = presentLabels(p, t);
  const index = new Map<number, number>(classes.map((c, i) => [c, i]));
  const k = classes.length;
  const tSum = new Float64Array(k);
  const pSum = new Float64Array(k);
  let correct = 0;
  for (let i = 0; i < p.length; i++) {
    const wi = w ? w[i] : 1;
    tSum[index.get(t[i])!] += wi;
    pSum[index.get(p[i])!] += wi;
    if (p[i] === t[i]) correct += wi;
  }
  const n = sum(pSum);
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
  /** Number of classes K (ids 0..K-1); default: the largest id seen + 1. Ignored when `labels` is given. */
  numClasses?: number;
  /** sklearn's labels=: the classes (and their order) of the rows and columns; samples of other classes are left out. */
  labels?: readonly number[];
  /** sklearn's normalize=: divide by the true-class (row) totals, the predicted-class (column) totals, or everything; 0/0 gives 0. */
  normalize?: 'true' | 'pred' | 'all';
  /** sklearn's sample_weight: counts become sums of weights. */
  sampleWeight?: NumericInput;
}

/**
 * Counts as number[K][K], row = true class, column = predicted class (sklearn's orientation). Without
 * `labels`, rows are indexed by class id 0..K-1 even when some class never occurs (unlike sklearn, whose
 * default is the sorted classes present); with `labels`, exactly sklearn's confusion_matrix.
 */
export function confusionMatrix(preds: NumericInput, labels: NumericInput, options: ConfusionMatrixOptions = {}): number[][] {
  const [p, t] = pairOf(preds, 'preds', labels, 'labels', true);
  checkClassIds(p, 'preds');
  checkClassIds(t, 'labels');
  const w = sampleWeights(options.sampleWeight, p.length);
  if (options.normalize !== undefined && !['true', 'pred', 'all'].includes(options.normalize)) {
    throw new EvalpredError(`normalize must be one of 'true', 'pred', 'all' (or left out); got ${JSON.stringify(options.normalize)}`);
  }
  let classes: number[];
  if (options.labels) {
    classes = [...toNumbers(options.labels as number[], 'labels option')];
    if (classes.length === 0) throw new EvalpredError("'labels' should contains at least one label (sklearn's confusion_matrix raises here too)");
    if (p.length > 0 && !classes.some((c) => t.includes(c))) {
      throw new EvalpredError(`At least one label specified must be in labels (y_true): none of [${classes.join(', ')}] occurs there`);
    }
  } else {
    let k = options.numClasses;
    if (k !== undefined && (!Number.isInteger(k) || k < 1)) throw new EvalpredError(`numClasses must be a positive integer; got ${k}`);
    if (k === undefined) {
      k = 0;
      for (let i = 0; i < p.length; i++) k = Math.max(k, p[i] + 1, t[i] + 1);
    }
    for (let i = 0; i < p.length; i++) {
      for (const [v, name] of [
        [p[i], 'preds'],
        [t[i], 'labels'],
      ] as const) {
        if (v < 0 || v >= k) {
          throw new EvalpredError(`${name}[${i}] is ${v}, outside the class ids 0..${k - 1} of the confusion matrix`, { tensor: name, row: i });
        }
      }
    }
    classes = Array.from({ length: k }, (_, c) => c);
  }
  const index = new Map<number, number>(classes.map((c, i) => [c, i]));
  const K = classes.length;
  const m = Array.from({ length: K }, () => new Array<number>(K).fill(0));
  for (let i = 0; i < p.length; i++) {
    const ti = index.get(t[i]);
    const pi = index.get(p[i]);
    if (ti === undefined || pi === undefined) continue; // sklearn drops samples outside labels
    m[ti][pi] += w ? w[i] : 1;
  }
  if (options.normalize) {
    const rowSums = m.map((r) => sum(r));
    const colSums = classes.map((_, j) => m.reduce((a, r) => a + r[j], 0));
    const all = sum(rowSums);
    // np.nan_to_num after the division: an empty row or column gives 0, not NaN
    const div = (x: number, d: number) => (d === 0 ? 0 : x / d);
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) m[i][j] = div(m[i][j], options.normalize === 'true' ? rowSums[i] : options.normalize === 'pred' ? colSums[j] : all);
    }
  }
  return m;
}
