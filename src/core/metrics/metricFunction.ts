// Where the user's metric function is defined, found once for everyone: the paused "stack frame" of the debug
// runtime (the function a run calls, 1-based line), and the extension's CodeLens and quick pick (every
// function that looks like a metric function, 0-based lines). One table of definition patterns serves both.

export interface MetricFunction {
  name: string;
  /** 0-based line of the definition. */
  line: number;
}

export interface MetricLocation {
  file: string;
  /** 1-based line of the definition (1 when it cannot be found). */
  line: number;
  /** Function name as it appears in the file. */
  name: string;
  /** The user's name for the EvalPrediction parameter (`eval_preds`, `p`, …); undefined when it has none (destructured). */
  param?: string;
}

/** What the docs and our expressions call the EvalPrediction when the user's function gives it no name. */
export const DEFAULT_PARAM = 'eval_pred';

/**
 * The first parameter of the function defined on 0-based line `defLine` (a signature may span lines):
 * `def compute_metrics(eval_preds)` -> eval_preds, `function computeMetrics(p: EvalPred)` -> p, a
 * destructured `({ predictions })` -> undefined. `self` is skipped (a method).
 */
export function metricParam(source: string, defLine: number): string | undefined {
  const text = source.split(/\r?\n/).slice(defLine, defLine + 6).join('\n');
  const arrow = /=\s*(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(text); // const f = p => ...
  if (arrow) return arrow[1];
  const open = text.indexOf('(');
  if (open < 0) return undefined;
  const params = text.slice(open + 1).split(/[,)]/).map((p) => p.trim());
  for (const p of params) {
    const m = /^\*{0,2}([A-Za-z_$][\w$]*)/.exec(p);
    if (!m) return undefined;
    if (m[1] === 'self') continue;
    return m[1];
  }
  return undefined;
}

/** The names a run looks for when no function is named (the runners call compute_metrics / computeMetrics). */
const CALLED_BY_DEFAULT = ['compute_metrics', 'computeMetrics'];
/** Names Trainer users give metric functions; the first match wins when no name is configured. */
const METRIC_NAMES = ['compute_metrics', 'computeMetrics', 'metrics_fn', 'compute_metric'];

const PY_ID = '[A-Za-z_]\\w*';
const JS_ID = '[A-Za-z_$][\\w$]*';
type Pattern = (name: string) => RegExp;

const PY_DEF: Pattern = (n) => new RegExp(`^\\s*(?:async\\s+)?def\\s+(${n})\\s*\\(`);
const JS_FUNCTION: Pattern = (n) => new RegExp(`\\bfunction\\s*\\*?\\s*(${n})\\s*[(<]`);
/** A binding whose value is a function or an arrow: what a listing may call a definition. */
const JS_FUNCTION_BINDING: Pattern = (n) =>
  new RegExp(`\\b(?:const|let|var)\\s+(${n})\\s*(?::[^=]+)?=\\s*(?:async\\s+)?(?:function\\b|\\([^)]*\\)\\s*(?::[^=]+)?=>|${JS_ID}\\s*=>)`);
/** Looser forms, trusted only when the name is known: any binding, a method, a CommonJS export. */
const JS_BY_NAME: Pattern[] = [
  JS_FUNCTION,
  (n) => new RegExp(`\\b(?:const|let|var)\\s+(${n})\\s*(?::[^=]+)?=`),
  (n) => new RegExp(`^\\s*(?:export\\s+)?(?:async\\s+)?(${n})\\s*\\(`),
  (n) => new RegExp(`\\bexports\\.(${n})\\s*=`),
];

export function isPythonFile(file: string): boolean {
  return /\.py$/i.test(file);
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Top-level-looking function definitions whose first parameter looks like an EvalPrediction (or that are named like a metric function). */
export function findMetricFunctions(text: string, file: string): MetricFunction[] {
  const py = isPythonFile(file);
  const patterns = py ? [PY_DEF(PY_ID)] : [JS_FUNCTION(JS_ID), JS_FUNCTION_BINDING(JS_ID)];
  const out: MetricFunction[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    let name: string | undefined;
    for (const re of patterns) name ??= re.exec(l)?.[1];
    if (!name) return;
    const params = l.slice(l.indexOf(name) + name.length);
    if (METRIC_NAMES.includes(name) || /\(\s*(eval_?preds?|evalPreds?|p|pred|preds)\b/i.test(params)) out.push({ name, line: i });
  });
  return out;
}

/** The function a run would call: the configured name, else the usual names, else the only candidate. */
export function pickMetricFunction(fns: MetricFunction[], configured?: string): MetricFunction | undefined {
  if (configured) return fns.find((f) => f.name === configured);
  for (const n of METRIC_NAMES) {
    const f = fns.find((x) => x.name === n);
    if (f) return f;
  }
  return fns.length === 1 ? fns[0] : undefined;
}

function withParam(loc: MetricLocation, source: string, defLine: number): MetricLocation {
  const param = metricParam(source, defLine);
  return param ? { ...loc, param } : loc;
}

/** The definition line (1-based) of the function a run calls, or line 1 when it cannot be found. */
export function findMetricFunction(file: string, source: string, functionName?: string): MetricLocation {
  const names = functionName ? [functionName] : CALLED_BY_DEFAULT;
  const lines = source.split(/\r?\n/);
  const py = isPythonFile(file);
  for (const name of names) {
    for (const pattern of py ? [PY_DEF] : JS_BY_NAME) {
      const re = pattern(escape(name));
      const i = lines.findIndex((l) => re.test(l));
      if (i >= 0) return withParam({ file, line: i + 1, name }, source, i);
    }
  }
  if (!py && !functionName) {
    const i = lines.findIndex((l) => /\bexport\s+default\b/.test(l));
    if (i >= 0) return withParam({ file, line: i + 1, name: 'default export' }, source, i);
  }
  return { file, line: 1, name: functionName ?? (py ? 'compute_metrics' : 'computeMetrics') };
}

/**
 * Whether a metric file's text may define preprocess_logits_for_metrics (preprocessLogitsForMetrics in TS/JS).
 * A cheap text test, used for the cache key (such a function changes the predictions) and to avoid starting
 * Python for the usual file without one; the runner then checks that the function really exists.
 */
export function mentionsPreprocess(source: string): boolean {
  return /preprocess(LogitsForMetrics|_logits_for_metrics)/.test(source);
}
