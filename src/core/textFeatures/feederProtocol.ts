// What the loop thread and the feeder thread exchange (feeder.ts, feederThread.ts), and the one tokenization
// step both the inline feed and the thread run: rows' texts -> encodings, as prepareBatch encodes them.
import type { Encoded, LoadedTokenizer } from '../text';
import type { FeatureChunk } from './tokenFeatures';

export interface FeederJob {
  tokenizerDir: string;
  /** Row i's text (column or rendered template) and, for text pairs, its pair text. */
  texts: string[];
  pairs: string[] | null;
  maxLength: number;
  chunkRows: number;
}

export type ToFeeder =
  /** Sent at once by a thread started ahead of its job (FeederThread): load the tokenizer meanwhile. */
  | { type: 'warm'; tokenizerDir: string }
  | { type: 'start'; job: FeederJob; aheadChunks: number }
  | { type: 'consumed'; row: number };

export type FromFeeder = { type: 'chunk'; chunk: FeatureChunk } | { type: 'error'; row: number; message: string; userError: boolean };

/** Encode rows [first, last) of the job (sequence classification: no word ids or offsets needed). */
export function tokenizeRows(tok: LoadedTokenizer, job: FeederJob, first: number, last: number): Encoded[] {
  const out: Encoded[] = [];
  for (let i = first; i < last; i++) out.push(tok.encode(job.texts[i], job.pairs ? job.pairs[i] : undefined, { maxLength: job.maxLength, align: false }));
  return out;
}
