// The summary parts of the prediction view: one card per tensor (tuple and list members each), and the
// confusion matrix of a classification run.
import { FIELD_NAMES } from '../inspect/describe';
import { Gen, runToEnd } from '../tensor/blocks';
import { histogramOf, statsOf } from '../tensor/stats';
import { EvalPredictionData, EvalPredictionField, walkTensors } from '../tensor/tensor';
import type { ConfusionView, TensorCard } from '../../shared/protocol';
import { SampleTable } from './samples';

export const HISTOGRAM_BINS = 20;

export function tensorCards(ep: EvalPredictionData): TensorCard[] {
  return runToEnd(tensorCardsOf(ep));
}

/** tensorCards in slices: statistics and histogram read each array block by block (docs/cache-format.md#arrays-larger-than-memory). */
export function* tensorCardsOf(ep: EvalPredictionData): Gen<TensorCard[]> {
  const cards: TensorCard[] = [];
  for (const key of Object.keys(FIELD_NAMES) as (EvalPredictionField)[]) {
    const node = ep[key];
    if (!node) continue;
    for (const [p, t] of walkTensors(node, FIELD_NAMES[key])) {
      const s = yield* statsOf(t);
      const h = yield* histogramOf(t, HISTOGRAM_BINS, undefined, s); // the min/max the stats found: one pass less
      cards.push({
        path: p,
        dtype: t.dtype,
        shape: [...t.shape],
        min: s.min,
        max: s.max,
        mean: s.mean,
        nanCount: s.nanCount,
        minus100Count: s.minus100Count,
        histogram: { edges: h.edges, counts: h.counts },
      });
    }
  }
  return cards;
}

/**
 * counts[gold][predicted] over the table's label names: per sample for sequence classification, per labelled
 * token for token classification (as seqeval-free token accuracy sees it). Undefined when there are no labels.
 */
export function confusionMatrix(table: SampleTable): ConfusionView | undefined {
  const L = table.labels.length;
  if (!L || table.task === 'question-answering') return undefined;
  const counts = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  let any = false;
  const add = (g: number, p: number) => {
    if (g >= 0 && g < L && p >= 0 && p < L) {
      counts[g][p]++;
      any = true;
    }
  };
  if (table.task === 'token-classification') for (const [g, p] of table.tokenPairs()) add(g, p);
  else for (let i = 0; i < table.n; i++) add(table.goldId[i], table.predId[i]);
  return any ? { labels: [...table.labels], counts } : undefined;
}
