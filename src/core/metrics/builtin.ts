// The metrics `evalpred run` reports when no metric file is given, so a first run (and the demo) shows
// numbers: accuracy and F1 for classification, seqeval entity scores for token classification.
import { accuracy, f1, seqevalScores } from './library';
import { Described } from './postprocess';
import { EvalPredictionData, Tensor } from '../tensor/tensor';
import type { TaskName } from '../loop/settings';

const num = (value: number): Described => ({ type: 'number', value: Number.isNaN(value) ? 'NaN' : value });

/** Returns null when there is nothing built-in to compute (no labels, or a task without a default). */
export function builtinMetrics(ep: EvalPredictionData, task: TaskName, id2label?: Record<number, string>): Described | null {
  const preds = ep.predictions;
  const labels = ep.labelIds;
  if (!(preds instanceof Tensor) || !(labels instanceof Tensor)) return null;
  const entries: [string, number][] = [];
  if (task === 'sequence-classification' && labels.dtype === 'int64' && labels.ndim === 1) {
    const ids = preds.dtype === 'int64' && preds.ndim === 1 ? preds : preds.argmax(-1);
    const classes = preds.ndim === 2 ? preds.shape[1] : Math.max(ids.size ? Number(Math.max(...Array.from(ids.data as BigInt64Array, Number))) + 1 : 0, 2);
    entries.push(['accuracy', accuracy(ids, labels)]);
    entries.push(['f1', classes === 2 ? f1(ids, labels, { average: 'binary' }) : f1(ids, labels, { average: 'macro' })]);
  } else if (task === 'token-classification' && labels.ndim === 2) {
    const ids = preds.ndim === 3 ? preds.argmax(-1) : preds;
    const name = (i: number) => id2label?.[i] ?? String(i);
    const predTags: string[][] = [];
    const goldTags: string[][] = [];
    for (let r = 0; r < labels.shape[0]; r++) {
      const p: string[] = [];
      const g: string[] = [];
      for (let k = 0; k < labels.shape[1]; k++) {
        const l = labels.get(r, k);
        if (l === -100) continue;
        g.push(name(l));
        p.push(name(ids.get(r, k)));
      }
      predTags.push(p);
      goldTags.push(g);
    }
    const s = seqevalScores(predTags, goldTags, { scheme: 'IOB2' });
    entries.push(['precision', s.precision], ['recall', s.recall], ['f1', s.f1], ['accuracy', s.accuracy]);
  } else return null;
  return { type: 'mapping', entries: entries.map(([k, v]) => [{ type: 'string', value: k }, num(v)]) };
}
