// The Debug Console / hover expression language over a paused EvalPrediction (no JavaScript eval).
export { evaluateExpression, evaluationOf, FUNCTIONS } from './evaluate';
export type { ExprContext } from './evaluate';
export { BUILTINS, helpLines } from './builtins';
export type { Builtin } from './builtins';
export { evaluateSliced, EvaluationCancelled, runSliced } from './slices';
export { ExprError } from './errors';
export { parse } from './parser';
export type { Value, Seq, NodeValue, EvalPredValue, MappingValue } from './values';
export { formatValue, formatNumber, previewTensor, summary, typeName, isSeq, isNode, isEvalPred, isMapping, mappingSummary, pyString, statisticsText } from './values';
