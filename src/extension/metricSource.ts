// Reading a metric file and metric results as text: where the metric functions are defined (for the
// CodeLens and the quick pick), a one-line summary of the last metrics, and the expression under the
// cursor for hovers. Pure functions; no `vscode` import.
import type { MetricsRecord } from '../shared/dapProtocol';

export { findMetricFunctions, isPythonFile, metricParam, pickMetricFunction } from '../core/metrics/metricFunction';
export type { MetricFunction } from '../core/metrics/metricFunction';
import { isPythonFile } from '../core/metrics/metricFunction';
import { formatDecimal } from '../shared/format';

export type { MetricsRecord };

// Trainer's bookkeeping keys: never the number a person means by "the metric".
const BOOKKEEPING = /^(eval_|test_)?(runtime|samples_per_second|steps_per_second|epoch|jit_compilation_time)$/;

/** "accuracy 0.8131": the first real metric (loss only when nothing else), prefix dropped, 4 decimals. */
export function summarizeMetrics(m: MetricsRecord | undefined): string | undefined {
  if (!m) return undefined;
  const numeric = Object.entries(m).filter(([k, v]) => typeof v === 'number' && !BOOKKEEPING.test(k));
  const pick = numeric.find(([k]) => !/(^|_)loss$/.test(k)) ?? numeric[0];
  if (!pick) return undefined;
  const [k, v] = pick as [string, number];
  return `${k.replace(/^(eval|test)_/, '')} ${formatDecimal(v)}`;
}

/** Python names people give the parts of an EvalPrediction -> the field the adapter's expressions know. */
export const NAME_ALIASES: Record<string, 'eval_pred' | 'predictions' | 'label_ids' | 'inputs' | 'losses'> = {
  eval_pred: 'eval_pred',
  evalPred: 'eval_pred',
  p: 'eval_pred',
  predictions: 'predictions',
  preds: 'predictions',
  logits: 'predictions',
  label_ids: 'label_ids',
  labelIds: 'label_ids',
  labels: 'label_ids',
  references: 'label_ids',
  inputs: 'inputs',
  input_ids: 'inputs',
  losses: 'losses',
};

/**
 * The expression to evaluate when hovering at `character` in `line`: a dotted name with index suffixes
 * (`eval_pred.predictions[3]`), aliases mapped to the adapter's names (`labels[0]` -> `label_ids[0]`).
 * Returns the 0-based [start, end) of the hovered text as well.
 */
export function expressionAt(line: string, character: number, param?: string): { expression: string; start: number; end: number } | undefined {
  const re = /[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[[^\]\n]*\])*/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    const start = m.index;
    const end = start + m[0].length;
    if (character < start || character > end) continue;
    // Keep the segments that start at or before the cursor: hovering `eval_pred` in
    // `eval_pred.predictions[3]` asks for eval_pred, hovering `predictions` for eval_pred.predictions.
    const seg = /\.[A-Za-z_]\w*|\[[^\]\n]*\]/g;
    let text = /^[A-Za-z_]\w*/.exec(m[0])![0];
    seg.lastIndex = text.length;
    for (let s = seg.exec(m[0]); s && start + s.index <= character; s = seg.exec(m[0])) text = m[0].slice(0, s.index + s[0].length);
    const root = /^[A-Za-z_]\w*/.exec(text)![0];
    // The user's own parameter name (eval_preds, pred, …) is the EvalPrediction too.
    const alias = root === param ? 'eval_pred' : NAME_ALIASES[root];
    if (!alias) return undefined;
    let expression = text;
    if (alias !== 'eval_pred') expression = alias + text.slice(root.length);
    else if (root !== 'eval_pred') expression = 'eval_pred' + text.slice(root.length);
    return { expression, start, end: start + text.length };
  }
  return undefined;
}

/**
 * 0-based [first, last] lines of the function defined at `defLine`: for Python up to the last line indented
 * deeper than the `def`; for JS/TS up to the brace that closes the first `{` (strings and comments are rare
 * enough in metric code that plain counting is good enough for placing inline values).
 */
export function functionRange(text: string, file: string, defLine: number): [number, number] {
  const lines = text.split(/\r?\n/);
  if (isPythonFile(file)) {
    const indent = (l: string) => /^\s*/.exec(l)![0].length;
    const base = indent(lines[defLine] ?? '');
    let last = defLine;
    let open = 0; // a multi-line signature: parentheses still open
    for (let i = defLine; i < lines.length; i++) {
      const l = lines[i];
      if (i > defLine && open <= 0 && l.trim() && !l.trim().startsWith('#') && indent(l) <= base) break;
      open += (l.match(/\(/g)?.length ?? 0) - (l.match(/\)/g)?.length ?? 0);
      if (l.trim()) last = i;
    }
    return [defLine, last];
  }
  let depth = 0;
  let seen = false;
  for (let i = defLine; i < lines.length; i++) {
    for (const c of lines[i]) {
      if (c === '{') (depth++, (seen = true));
      else if (c === '}') depth--;
    }
    if (seen && depth <= 0) return [defLine, i];
  }
  return [defLine, lines.length - 1];
}

/** First line (within [from, to]) where each EvalPrediction name appears, with its column. */
export function firstMentions(text: string, from: number, to: number, param?: string): Array<{ name: string; field: (typeof NAME_ALIASES)[string]; line: number; column: number }> {
  const lines = text.split(/\r?\n/);
  const seen = new Set<string>();
  const out: Array<{ name: string; field: (typeof NAME_ALIASES)[string]; line: number; column: number }> = [];
  for (let i = from; i <= to && i < lines.length; i++) {
    const code = lines[i].replace(/#.*$|\/\/.*$/, '');
    for (const m of code.matchAll(/(?<![\w.])([A-Za-z_]\w*)\b/g)) {
      const field = m[1] === param ? 'eval_pred' : NAME_ALIASES[m[1]];
      if (!field || seen.has(m[1]) || (m[1] === 'p' && i !== from)) continue; // `p` only as the parameter
      seen.add(m[1]);
      out.push({ name: m[1], field, line: i, column: m.index! });
    }
  }
  return out;
}
