// The tokenized-features cache key (docs/cache-format.md#tokenized-features): everything that changes the
// token ids of a row, nothing that does not. So a run that changes only the batch size, --max-samples, the
// metric or the preprocess reuses the features; a changed tokenizer file, dataset byte or text setting misses.
// The content hashes come from the prediction cache's key computation (src/core/evaluate.ts hashes those files
// once, for both keys); the loop adds the text settings it resolved.
import crypto from 'node:crypto';
import { FEATURES_FORMAT } from './featuresFile';

/**
 * How the rows' text is tokenized: the task (which also says how: pre-split words, question and context,
 * overflowing windows), the resolved columns or template, the max length and the truncation, and for the
 * families that have them the doc stride and the target column and its max length. Padding is not here: the
 * features are stored unpadded and padded per batch (pad-to-max-length too), so it never changes them.
 */
export interface TextSettings {
  task: string;
  text?: string;
  pair?: string;
  template?: string;
  maxLength: number;
  truncation: 'longest_first' | 'only_first' | 'only_second';
  docStride?: number;
  /** Seq2seq: the target column tokenized as labels, and --max-target-length. */
  target?: string;
  maxTargetLength?: number;
}

/** What the caller hashed: the tokenizer files, the dataset files and split, the tool version (as one hex digest). */
export interface FeaturesCacheTarget {
  dir: string;
  inputs: string;
}

export function featuresKey(inputs: string, text: TextSettings): string {
  // fixed member order (undefined members dropped by JSON.stringify), so the same settings give the same text
  const { task, text: column, pair, template, maxLength, truncation, docStride, target, maxTargetLength } = text;
  const canonical = JSON.stringify({ format: FEATURES_FORMAT, inputs, task, text: column, pair, template, maxLength, truncation, docStride, target, maxTargetLength });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}
