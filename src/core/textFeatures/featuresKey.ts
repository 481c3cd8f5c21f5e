// The tokenized-features cache key (docs/cache-format.md#tokenized-features): everything that changes the
// token ids of a row, nothing that does not. So a run that changes only the batch size, --max-samples, the
// metric or the preprocess reuses the features; a changed tokenizer file, dataset byte or text setting misses.
// The content hashes come from the prediction cache's key computation (src/core/evaluate.ts hashes those files
// once, for both keys); the loop adds the text settings it resolved.
import crypto from 'node:crypto';
import { FEATURES_FORMAT } from './featuresFile';

/** How the rows' text is tokenized: the resolved columns or template, the max length and the truncation. */
export interface TextSettings {
  task: string;
  text?: string;
  pair?: string;
  template?: string;
  maxLength: number;
  truncation: 'longest_first' | 'only_first' | 'only_second';
  docStride?: number;
}

/** What the caller hashed: the tokenizer files, the dataset files and split, the tool version (as one hex digest). */
export interface FeaturesCacheTarget {
  dir: string;
  inputs: string;
}

export function featuresKey(inputs: string, text: TextSettings): string {
  // fixed member order (undefined members dropped by JSON.stringify), so the same settings give the same text
  const { task, text: column, pair, template, maxLength, truncation, docStride } = text;
  const canonical = JSON.stringify({ format: FEATURES_FORMAT, inputs, task, text: column, pair, template, maxLength, truncation, docStride });
  return crypto.createHash('sha256').update(canonical).digest('hex');
}
