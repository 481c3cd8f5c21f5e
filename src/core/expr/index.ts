// The Debug Console / hover expression language over a paused EvalPrediction (no JavaScript eval).
export { evaluateExpression, FUNCTIONS } from './evaluate';
export type { ExprContext } from './evaluate';
export { ExprError } from './errors';
export { parse } from './parser';
export type { Value, Seq, NodeValue, EvalPredValue } from './values';
export { formatValue, formatNumber, previewTensor, summary, typeName, isSeq, isNode, isEvalPred, pyString } from './values';
