// Debug Console completions at the compute_metrics boundary (DAP `completions`; README "Debug Console"):
// names (the user's parameter name, eval_pred, the EvalPrediction fields, the expression language's
// built-ins, NumPy as np and the metric module's own top-level names for a Python metric) and attributes
// after a dot (the EvalPrediction's fields, an array's attributes and methods, np's functions), and at a
// batch_eval_metrics stop the batch mapping's keys after `inputs.` or `inputs["`. Nothing is
// evaluated to complete: the kind of what stands before the dot is read from its name, so completing never
// runs the user's code. Stopped inside a Python frame, the session forwards the request to debugpy instead.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { BUILTINS } from '../core/expr';

export interface CompletionScope {
  /** The metric function's parameter name (eval_preds, p, …): the EvalPrediction, as in the user's code. */
  paramName: string;
  /** A .py metric: a typed line is Python (a leading ':' switches to the expression language). */
  python: boolean;
  /** The metric module's source, for its top-level names (imports, functions, constants). */
  source?: string;
  /** At a batch_eval_metrics stop with inputs: the keys of the call's batch mapping (`inputs`), in order. */
  inputKeys?: string[];
}

type Kind = DebugProtocol.CompletionItemType;
type Item = { label: string; type: Kind; detail?: string };

const FIELDS: Item[] = [
  { label: 'predictions', type: 'field', detail: 'model outputs (logits, or what preprocess_logits_for_metrics returned)' },
  { label: 'label_ids', type: 'field', detail: 'labels, -100 where padded' },
  { label: 'inputs', type: 'field', detail: 'input ids (include_for_metrics=["inputs"]); under batch_eval_metrics the whole batch mapping' },
  { label: 'losses', type: 'field', detail: 'per-sample losses (include_for_metrics=["loss"])' },
];

/** Names the expression language knows besides the fields (src/core/expr/evaluate.ts `name`). */
const EXPR_NAMES: Item[] = [
  ...['preds', 'logits', 'labels'].map((label): Item => ({ label, type: 'variable', detail: 'alias of an EvalPrediction field' })),
  { label: 'sample', type: 'variable', detail: 'the row shown in the sample scope' },
  ...['True', 'False', 'None'].map((label): Item => ({ label, type: 'keyword' })),
];

/** What an array answers after a dot: the expression language's attributes and methods. */
const EXPR_ARRAY_MEMBERS: Item[] = [
  ...['shape', 'dtype', 'ndim', 'size'].map((label): Item => ({ label, type: 'property' })),
  ...['argmax', 'argmin', 'mean', 'sum', 'min', 'max', 'tolist'].map((label): Item => ({ label, type: 'method' })),
];

/** A NumPy ndarray's everyday attributes and methods (a static list: nothing is evaluated to complete). */
const NDARRAY_MEMBERS: Item[] = [
  ...['shape', 'dtype', 'ndim', 'size', 'T', 'flat', 'nbytes', 'itemsize'].map((label): Item => ({ label, type: 'property' })),
  ...['argmax', 'argmin', 'argsort', 'astype', 'all', 'any', 'clip', 'copy', 'cumsum', 'flatten', 'max', 'mean', 'min', 'nonzero', 'prod', 'ravel', 'reshape', 'round', 'sort', 'squeeze', 'std', 'sum', 'tolist', 'transpose', 'var'].map(
    (label): Item => ({ label, type: 'method' }),
  ),
];

/** NumPy functions a metric reaches for (np.<tab>). */
const NP_FUNCTIONS = [
  'abs', 'all', 'allclose', 'any', 'arange', 'argmax', 'argmin', 'argsort', 'array', 'array_equal', 'asarray', 'bincount', 'clip', 'concatenate',
  'count_nonzero', 'cumsum', 'diag', 'exp', 'expand_dims', 'flatnonzero', 'full', 'histogram', 'isclose', 'isfinite', 'isin', 'isnan', 'log',
  'log1p', 'logical_and', 'logical_not', 'logical_or', 'max', 'maximum', 'mean', 'median', 'min', 'minimum', 'nan', 'nanmean', 'nonzero',
  'ones', 'percentile', 'prod', 'quantile', 'ravel', 'reshape', 'round', 'sort', 'sqrt', 'squeeze', 'stack', 'std', 'sum', 'take_along_axis',
  'unique', 'var', 'vstack', 'where', 'zeros',
].map((label): Item => ({ label, type: label === 'nan' ? 'value' : 'function' }));
const NP_MODULES: Item[] = ['linalg', 'random', 'ma'].map((label) => ({ label, type: 'module' }));

const PYTHON_BUILTINS = ['abs', 'dict', 'enumerate', 'float', 'int', 'isinstance', 'len', 'list', 'max', 'min', 'print', 'range', 'round', 'set', 'sorted', 'str', 'sum', 'tuple', 'type', 'zip'].map(
  (label): Item => ({ label, type: 'function' }),
);

/** A BatchEncoding's everyday methods (a Python metric's batch_eval_metrics inputs). */
const BATCH_ENCODING_METHODS = ['keys', 'values', 'items', 'get', 'to'];

const FIELD_NAMES = new Set(['predictions', 'label_ids', 'labelIds', 'inputs', 'losses', 'preds', 'logits', 'labels']);
const EVAL_PRED_NAMES = new Set(['eval_pred', 'evalPred', 'p']);

/** Top-level names a module defines or imports (def, class, import, from … import, NAME = …). */
export function moduleNames(source: string): Item[] {
  const out = new Map<string, Item>();
  const add = (label: string, type: Kind) => {
    if (/^[A-Za-z_]\w*$/.test(label) && !out.has(label)) out.set(label, { label, type });
  };
  for (const line of source.split(/\r?\n/)) {
    let m: RegExpExecArray | null;
    if ((m = /^(?:async\s+)?def\s+(\w+)/.exec(line))) add(m[1], 'function');
    else if ((m = /^class\s+(\w+)/.exec(line))) add(m[1], 'class');
    else if ((m = /^import\s+(.+)$/.exec(line))) {
      for (const part of m[1].split(',')) {
        const a = /^\s*([\w.]+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
        if (a) add(a[2] ?? a[1].split('.')[0], 'module');
      }
    } else if ((m = /^from\s+[\w.]+\s+import\s+\(?([^)#]+)/.exec(line))) {
      for (const part of m[1].split(',')) {
        const a = /^\s*(\w+)(?:\s+as\s+(\w+))?\s*$/.exec(part);
        if (a) add(a[2] ?? a[1], 'variable');
      }
    } else if ((m = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=(?!=)/.exec(line))) add(m[1], 'variable');
  }
  return [...out.values()];
}

/**
 * Completions for `text` with the cursor at `column` (1-based) of `line` (1-based). Each item replaces the
 * word before the cursor: `start` is 0-based within that line, `length` the word's length.
 */
export function completionsAt(text: string, column: number, scope: CompletionScope, line = 1): DebugProtocol.CompletionItem[] {
  const lineText = text.split(/\r?\n/)[line - 1] ?? '';
  const before = lineText.slice(0, Math.max(0, column - 1));
  const python = scope.python && !lineText.trimStart().startsWith(':');
  // `a.b.wor|`: the dotted chain before the word being typed, and that word.
  const m = /((?:[A-Za-z_]\w*\s*\.\s*)*)([A-Za-z_]\w*)?$/.exec(before)!;
  const word = m[2] ?? '';
  const chain = m[1]
    .split('.')
    .map((s) => s.trim())
    .filter(Boolean);
  // A dot after something that is not a name (`x[0].`, `(a + b).`) still completes array members.
  const afterExpression = !chain.length && /[\])]\s*\.\s*\w*$/.test(before);
  // `inputs["att|` (or `eval_pred.inputs['`): the batch mapping's keys, the word being the text after the quote.
  const keyed = scope.inputKeys && /(?<![\w.]\s*)((?:[A-Za-z_]\w*\s*\.\s*)?inputs)\s*\[\s*["'](\w*)$/.exec(before);
  const isEvalPred = (n: string) => n === scope.paramName || EVAL_PRED_NAMES.has(n);
  let items: Item[];
  let typed = word;
  if (keyed && (keyed[1] === 'inputs' || isEvalPred(keyed[1].split('.')[0].trim()))) {
    items = scope.inputKeys!.map((label): Item => ({ label, type: 'value', detail: 'a key of the batch mapping' }));
    typed = keyed[2];
  } else if (chain.length || afterExpression) items = members(chain, python, scope);
  else items = names(python, scope);
  const seen = new Set<string>();
  return items
    .filter((i) => i.label.startsWith(typed) && !seen.has(i.label) && seen.add(i.label))
    .map((i) => ({ label: i.label, type: i.type, detail: i.detail, start: before.length - typed.length, length: typed.length }));
}

function names(python: boolean, scope: CompletionScope): Item[] {
  const evalPred: Item[] = [
    { label: scope.paramName, type: 'variable', detail: 'the EvalPrediction compute_metrics receives' },
    { label: 'eval_pred', type: 'variable', detail: 'the EvalPrediction' },
  ];
  if (python) {
    return [...evalPred, { label: 'np', type: 'module', detail: 'numpy' }, ...(scope.source ? moduleNames(scope.source) : []), ...PYTHON_BUILTINS];
  }
  return [...evalPred, ...FIELDS, ...EXPR_NAMES, ...BUILTINS.filter((b) => b.function).map((b): Item => ({ label: b.name, type: 'function', detail: `${b.usage}: ${b.description}` }))];
}

function members(chain: string[], python: boolean, scope: CompletionScope): Item[] {
  const paramName = scope.paramName;
  const last = chain[chain.length - 1];
  if (!last) return python ? NDARRAY_MEMBERS : EXPR_ARRAY_MEMBERS; // `(...).`
  if (chain.length === 1 && (last === paramName || EVAL_PRED_NAMES.has(last))) return FIELDS;
  if (python && chain.length === 1 && (last === 'np' || last === 'numpy')) return [...NP_FUNCTIONS, ...NP_MODULES];
  const isEvalPred = (n: string) => n === paramName || EVAL_PRED_NAMES.has(n);
  // `inputs.`, `eval_pred.inputs.` at a batch_eval_metrics stop: the batch mapping's keys (attribute access), then its methods.
  if (scope.inputKeys && last === 'inputs' && (chain.length === 1 || (chain.length === 2 && isEvalPred(chain[0])))) {
    const keys = scope.inputKeys.map((label): Item => ({ label, type: 'property', detail: 'a key of the batch mapping' }));
    return [...keys, ...(python ? BATCH_ENCODING_METHODS : ['keys']).map((label): Item => ({ label, type: 'method' }))];
  }
  // `predictions.`, `eval_pred.label_ids.`: an array.
  if (FIELD_NAMES.has(last) && (chain.length === 1 || (chain.length === 2 && isEvalPred(chain[0])))) return python ? NDARRAY_MEMBERS : EXPR_ARRAY_MEMBERS;
  return [];
}
