// Tokenization, batching/padding, label alignment and decoding.
export type { Encoded } from './encoded';
export { TOKENIZATION_RULES, loadTokenizer } from './tokenizer';
export type { LoadedTokenizer } from './tokenizer';
export { alignWordLabels, qaPositions, runQaPositions } from './labels';
export { collate, padLabels, tokenizerBatch } from './collate';
export type { Collated } from './collate';
