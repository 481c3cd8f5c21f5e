// The prediction view's wording and cell text (header line, count, header-click sort, numbers in cells, raw
// array slices), free of the DOM so it is unit-tested under Node (test/unit/viewSort.test.ts,
// test/unit/viewFormat.test.ts). Numbers for people are src/shared/format.ts's.
import { formatCompact } from '../src/shared/format';
import type { RawArray, SortKey, TaskKind } from '../src/shared/protocol';

const TASK_TITLES: Record<TaskKind, string> = {
  'sequence-classification': 'sequence classification',
  'token-classification': 'token classification',
  'question-answering': 'extractive question answering',
  'seq2seq-lm': 'seq2seq generation',
  'causal-lm': 'causal language model',
  unknown: 'unknown task',
};

/** The header line: "seq2seq generation · 300 samples", "… · 300 samples × 4 sequences" under num_return_sequences 4. */
export function summaryLine(task: TaskKind, numSamples: number, sequencesPerSample = 1): string {
  const per = sequencesPerSample > 1 ? ` × ${sequencesPerSample} sequences (num_return_sequences)` : '';
  return `${TASK_TITLES[task] ?? task} · ${numSamples.toLocaleString('en-US')} samples${per}`;
}

/** Most lines a row takes: a row of more sequences shows the first ones and says how many more the detail has. */
export const MAX_SEQUENCE_LINES = 8;

/** The lines of a row holding `n` sequences (num_return_sequences): one each, at most MAX_SEQUENCE_LINES. */
export function sequenceLines(n: number): number {
  return Math.max(1, Math.min(n, MAX_SEQUENCE_LINES));
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

/** A confidence or loss in its table cell: three decimals, '' when the sample has none. */
export function cellNumber(x: number | undefined): string {
  return x === undefined ? '' : x.toFixed(3);
}

/** The correctness cell: ✓, ✗ or nothing, and what a screen reader says for it. */
export function correctMark(correct: boolean | undefined): { text: string; label: string } {
  if (correct === undefined) return { text: '', label: '' };
  return correct ? { text: '✓', label: 'correct' } : { text: '✗', label: 'wrong' };
}

/** The numbers of a raw array slice (the detail pane), as the browser's typed array of its dtype. */
export function rawValues(a: RawArray): ArrayLike<number | bigint> {
  switch (a.dtype) {
    case 'float32':
      return new Float32Array(a.buffer);
    case 'float64':
      return new Float64Array(a.buffer);
    case 'int32':
      return new Int32Array(a.buffer);
    case 'int64':
      return new BigInt64Array(a.buffer);
    case 'uint8':
      return new Uint8Array(a.buffer);
  }
}

/** A raw array slice as lines of its last axis (floats in compact form), at most `limit` values then "… N more". */
export function rawValuesText(a: RawArray, limit = 4000): string {
  const values = rawValues(a);
  const inner = a.shape.length >= 2 ? a.shape[a.shape.length - 1] : values.length || 1;
  const lines: string[] = [];
  const end = Math.min(values.length, limit);
  for (let s = 0; s < end; s += inner) {
    const parts: string[] = [];
    for (let k = s; k < Math.min(s + inner, end); k++) {
      const v = values[k];
      parts.push(typeof v === 'bigint' ? v.toString() : a.dtype.startsWith('float') ? formatCompact(v) : String(v));
    }
    lines.push(parts.join(' '));
  }
  if (values.length > end) lines.push(`… ${values.length - end} more`);
  return lines.join('\n');
}

/** A metric of one run in the compare view: numbers compact, text as it is, "—" when the run has none. */
export function compareMetricValue(v: number | string | undefined): string {
  if (v === undefined) return '—';
  return typeof v === 'number' ? formatCompact(v) : v;
}

/** "right: A 12 of 24 · B 15 of 24 (+3)". */
export function correctLine(c: { a: number; b: number; known: number }): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const d = c.b - c.a;
  return `right: A ${n(c.a)} of ${n(c.known)} · B ${n(c.b)} of ${n(c.known)} (${d === 0 ? '±0' : d > 0 ? `+${n(d)}` : `−${n(-d)}`})`;
}

/** Metrics where a smaller value is the better one (loss, perplexity, error rates, run time). */
export function lowerIsBetter(key: string): boolean {
  return /(loss|perplexity|error|runtime|\bwer\b|\bcer\b)/i.test(key);
}

/** The class of a delta cell: 'better', 'worse' or '' for no change or no number. */
export function deltaClass(key: string, delta: number | undefined): string {
  if (delta === undefined || delta === 0 || Number.isNaN(delta)) return '';
  return delta > 0 !== lowerIsBetter(key) ? 'better' : 'worse';
}

const SCORE_TITLES: Record<string, string> = { accuracy: 'Accuracy', exact_match: 'EM', f1: 'F1', token_accuracy: 'Token acc.' };

/** The header of a per-sample metric column. */
export function scoreTitle(name: string): string {
  return SCORE_TITLES[name] ?? name;
}
