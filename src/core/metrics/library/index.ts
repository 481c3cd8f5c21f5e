// The built-in metric library users import in a TS/JS metric file: `import { accuracy, f1 } from "evalpred/metrics"`.
// Vectors may be our Tensor, a typed array or a plain (nested) array; argument order is (preds, labels).
export * from './classification';
export * from './correlation';
export * from './perplexity';
export * from './squad';
export * from './seqeval';
export * from './bleu';
export * from './rouge';
export type { NumericInput, TensorLike } from './values';
export * from './tokenizer';
