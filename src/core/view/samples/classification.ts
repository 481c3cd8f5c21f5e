// Sequence classification (and regression) rows: argmax of the logits against the gold id.
import type { Tensor } from '../../tensor/tensor';
import { NONE, firstTensor, numbers, softmaxAt } from './arrays';
import { TaskContext, TaskRows, correctScore } from './types';

function goldAt(labels: Tensor | undefined, i: number): number {
  if (!labels || labels.ndim !== 1 || labels.dtype.startsWith('float')) return NONE;
  const g = labels.at(i);
  return g < 0 ? NONE : g;
}

export function classificationRows(ctx: TaskContext, preds: Tensor): TaskRows {
  const { cols, src } = ctx;
  const labels = firstTensor(src.evalPred.labelIds);
  const regression = preds.ndim === 2 && preds.dtype.startsWith('float') && preds.shape[1] === 1;
  if (regression) {
    return {
      describe(i, v) {
        v.prediction = String(+preds.at(i).toPrecision(4));
        if (labels && labels.ndim === 1) v.label = String(+labels.at(i).toPrecision(4));
      },
    };
  }
  const get = numbers(preds);
  // The fast path reads the arrays in place; a file-backed one (docs/cache-format.md#arrays-larger-than-memory) goes
  // through `get`, a window at a time, instead of being loaded whole.
  if (preds.ndim === 2 && (preds.dtype === 'float32' || preds.dtype === 'float64') && preds.inMemory && labels?.dtype === 'int64' && labels.ndim === 1 && labels.inMemory) {
    fillFast(cols, preds.data as Float32Array | Float64Array, preds.shape[1], labels.data as BigInt64Array);
  } else if (preds.ndim === 2 && preds.dtype.startsWith('float')) {
    const c = preds.shape[1];
    for (let i = 0; i < cols.n; i++) {
      const g = goldAt(labels, i);
      const s = softmaxAt(get, i * c, c, g);
      cols.predId[i] = s.arg;
      cols.confidence[i] = s.pmax;
      cols.loss[i] = s.ce;
      cols.goldId[i] = g;
      if (g !== NONE) cols.correct[i] = s.arg === g ? 1 : 0;
    }
  } else if (preds.ndim === 1 && !preds.dtype.startsWith('float')) {
    // Already argmax-ed (preprocess_logits_for_metrics): no probabilities, so no confidence or loss.
    for (let i = 0; i < cols.n; i++) {
      const g = goldAt(labels, i);
      cols.predId[i] = get(i);
      cols.goldId[i] = g;
      if (g !== NONE) cols.correct[i] = get(i) === g ? 1 : 0;
    }
  }
  return {
    // Each sample adds 1 (right) or 0 to accuracy, the mean over the samples.
    scores: [correctScore('accuracy', cols.correct)],
    describe(i, v) {
      v.prediction = ctx.name(cols.predId[i]);
      if (cols.goldId[i] !== NONE) v.label = ctx.name(cols.goldId[i]);
    },
    searchable: (i) => `${ctx.name(cols.predId[i])}\n${ctx.name(cols.goldId[i])}`,
  };
}

/** The common case read straight from the typed arrays (a 1M x C table is built in tens of milliseconds). */
function fillFast(cols: TaskContext['cols'], x: Float32Array | Float64Array, c: number, labels: BigInt64Array): void {
  for (let i = 0, base = 0; i < cols.n; i++, base += c) {
    let arg = 0;
    let m = x[base];
    for (let k = 1; k < c; k++) {
      const v = x[base + k];
      if (v > m || (v !== v && m === m)) {
        m = v;
        arg = k;
      }
    }
    let s = 0;
    for (let k = 0; k < c; k++) s += Math.exp(x[base + k] - m);
    const g = Number(labels[i]);
    cols.predId[i] = arg;
    cols.confidence[i] = 1 / s;
    if (g >= 0 && g < c) {
      cols.goldId[i] = g;
      cols.loss[i] = Math.log(s) - (x[base + g] - m);
      cols.correct[i] = arg === g ? 1 : 0;
    }
  }
}
