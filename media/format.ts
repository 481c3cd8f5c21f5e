// The prediction view's wording (header line, count, header-click sort), free of the DOM so it is unit-tested
// under Node (test/unit/viewSort.test.ts). Numbers are formatted by src/shared/format.ts.
import type { SortKey, TaskKind } from '../src/shared/protocol';

const TASK_TITLES: Record<TaskKind, string> = {
  'sequence-classification': 'sequence classification',
  'token-classification': 'token classification',
  'question-answering': 'extractive question answering',
  'seq2seq-lm': 'seq2seq generation',
  'causal-lm': 'causal language model',
  unknown: 'unknown task',
};

/** The header line: "seq2seq generation · 300 samples". */
export function summaryLine(task: TaskKind, numSamples: number): string {
  return `${TASK_TITLES[task] ?? task} · ${numSamples.toLocaleString('en-US')} samples`;
}

/** The toolbar count once the host answered: "12 of 300 samples", "no sample matches (of 300)". */
export function countLine(total: number, numSamples: number): string {
  if (total === 0) return `no sample matches (of ${numSamples.toLocaleString('en-US')})`;
  return `${total.toLocaleString('en-US')} of ${numSamples.toLocaleString('en-US')} samples`;
}

/** The sort a header click asks for: a new column starts descending for loss (worst first), ascending otherwise; the same column flips. */
export function headerSort(current: { key: SortKey; descending: boolean }, clicked: SortKey): { key: SortKey; descending: boolean } {
  if (current.key === clicked) return { key: clicked, descending: !current.descending };
  return { key: clicked, descending: clicked === 'loss' };
}
