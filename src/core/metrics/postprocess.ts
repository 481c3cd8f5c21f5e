// Trainer's post-processing of what compute_metrics returned (docs/trainer-semantics.md#the-metrics-dictionary): the result must be a mapping of
// string keys to numbers; then `eval_loss`, the `eval_` prefix and speed metrics, in Trainer's order.
// Both runners describe the raw result in the same tagged form (`Described`) so the rules live here once:
// the Python worker denumpifies first (np.float32(0.3) -> 0.30000001192092896, as `.item()` does).
import { EvalpredError, ErrorPlace } from '../errors';

/** A value returned by a metric function, described by the runner that ran it. */
export type Described =
  | { type: 'number'; value: number | 'NaN' | 'Infinity' | '-Infinity' }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'none' }
  | { type: 'mapping'; typeName?: string; entries: Array<[Described, Described]> }
  /** Anything else: list, tuple, ndarray, Tensor, object... `typeName` as the user knows it, `repr` short. */
  | { type: 'other'; typeName: string; repr: string };

/** Metric values after post-processing: numbers (NaN/±Infinity kept), booleans, or nested mappings. */
export type MetricValue = number | boolean | { [k: string]: MetricValue };
export type Metrics = Record<string, MetricValue>;

export interface FinalizeOptions {
  /** Trainer's `metric_key_prefix`, default "eval". */
  prefix?: string;
  /** Mean of the loss vector, when the loop collected losses (docs/trainer-semantics.md#the-metrics-dictionary step 3). */
  trainerLoss?: number;
  /** Speed metrics (§8.2 step 6): seconds the evaluation took, samples, and eval batch size. */
  speed?: { runtimeS: number; numSamples: number; batchSize: number };
  /** For messages: the metric file. */
  file?: string;
  /**
   * QuestionAnsweringTrainer's order (run_qa with a doc stride, trainer_qa.py): the user's keys are prefixed first and
   * the loop's metrics (eval_loss, then the speed ones) update the dict after them, so Trainer's eval_loss wins over a
   * user's `loss` (docs/trainer-semantics.md#the-metrics-dictionary).
   */
  questionAnswering?: boolean;
}

export interface Finalized {
  metrics: Metrics;
  warnings: string[];
}

export function finalizeMetrics(raw: Described, opts: FinalizeOptions = {}): Finalized {
  const prefix = opts.prefix ?? 'eval';
  const where = opts.file ? `${opts.file}: ` : '';
  const place: ErrorPlace = opts.file ? { file: opts.file } : {};
  const warnings: string[] = [];
  if (raw.type !== 'mapping') {
    throw new EvalpredError(
      `${where}compute_metrics returned ${describeForHumans(raw)}; it must return a dict (an object in JS) ` +
        `mapping metric names to numbers, e.g. {"accuracy": 0.91}. Trainer would fail here too ` +
        `(it calls .keys() on the result).`,
      place,
    );
  }
  // Keep the insertion order in an array: JS objects would move integer-like keys to the front.
  const ordered: Array<[string, MetricValue]> = [];
  for (const [k, v] of raw.entries) {
    if (k.type !== 'string') {
      throw new EvalpredError(
        `${where}compute_metrics returned a key that is not a string: ${describeForHumans(k)}. ` +
          `Trainer prefixes every key with "${prefix}_" (str.startswith), so keys must be strings.`,
        place,
      );
    }
    ordered.push([k.value, convertValue(v, k.value, where, place, warnings, `${prefix}_${k.value}`)]);
  }
  // §8.2 step 3: Trainer's loss is assigned after the user's keys (a user `eval_loss` is overwritten)...
  if (opts.trainerLoss !== undefined && !opts.questionAnswering) upsert(ordered, `${prefix}_loss`, opts.trainerLoss);
  // ... step 5: then every key not already prefixed is popped and re-inserted prefixed, at the end, so a
  // user key `loss` becomes `eval_loss` and overrides Trainer's value (spec O15).
  for (const [k] of [...ordered]) {
    if (k.startsWith(`${prefix}_`)) continue;
    const i = ordered.findIndex(([key]) => key === k);
    const [, v] = ordered.splice(i, 1)[0];
    upsert(ordered, `${prefix}_${k}`, v);
  }
  if (opts.trainerLoss !== undefined && opts.questionAnswering) upsert(ordered, `${prefix}_loss`, opts.trainerLoss);
  if (opts.speed) {
    const { runtimeS, numSamples, batchSize } = opts.speed;
    upsert(ordered, `${prefix}_runtime`, round(runtimeS, 4));
    if (runtimeS > 0) {
      upsert(ordered, `${prefix}_samples_per_second`, round(numSamples / runtimeS, 3));
      upsert(ordered, `${prefix}_steps_per_second`, round(Math.ceil(numSamples / batchSize) / runtimeS, 3));
    }
  }
  const metrics: Metrics = {};
  for (const [k, v] of ordered) metrics[k] = v;
  return { metrics, warnings };
}

function upsert(list: Array<[string, MetricValue]>, key: string, v: MetricValue): void {
  const i = list.findIndex(([k]) => k === key);
  if (i >= 0) list[i][1] = v;
  else list.push([key, v]);
}

/** Python's round() on a float (half-to-even on the binary value; close enough via toFixed's exact decimal). */
function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

function convertValue(
  v: Described,
  key: string,
  where: string,
  place: ErrorPlace,
  warnings: string[],
  shownKey: string,
): MetricValue {
  switch (v.type) {
    case 'number': {
      const n = typeof v.value === 'number' ? v.value : v.value === 'NaN' ? NaN : v.value === 'Infinity' ? Infinity : -Infinity;
      if (!Number.isFinite(n)) {
        warnings.push(
          `${shownKey} is ${formatNumber(n)}: kept as the string "${formatNumber(n)}" in JSON output ` +
            `(Trainer writes a bare ${formatNumber(n)} token that strict JSON parsers reject); ` +
            `often a division by zero or an empty class.`,
        );
      }
      return n;
    }
    case 'bool':
      return v.value;
    case 'mapping': {
      // Nested dicts are legal in Trainer (untouched by the prefix, JSON-serializable): keep them.
      const out: { [k: string]: MetricValue } = {};
      for (const [k2, v2] of v.entries) {
        const name = k2.type === 'string' ? k2.value : describeForHumans(k2);
        out[name] = convertValue(v2, `${key}.${name}`, where, place, warnings, `${shownKey}.${name}`);
      }
      return out;
    }
    default:
      throw new EvalpredError(
        `${where}compute_metrics returned ${describeForHumans(v)} for key "${key}"; metric values must be numbers. ` +
          `Trainer would crash when it writes the metrics to JSON (trainer_state.json) or compares them. ` +
          (v.type === 'other' && /ndarray|Tensor|array/i.test(v.typeName)
            ? `Reduce it to one number (e.g. float(x.mean()) / x.item()), or return one key per element.`
            : `Return a number (float(...)).`),
        { ...place, tensor: key },
      );
  }
}

function formatNumber(n: number): string {
  return Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity';
}

/** "a list: [0.5, 0.3]", "None", "a str: 'abc'". */
export function describeForHumans(d: Described): string {
  switch (d.type) {
    case 'number':
      return `a number (${d.value})`;
    case 'bool':
      return `a bool (${d.value})`;
    case 'string':
      return `a string: ${JSON.stringify(d.value.length > 80 ? d.value.slice(0, 77) + '...' : d.value)}`;
    case 'none':
      return 'None/undefined';
    case 'mapping':
      return `a ${d.typeName ?? 'mapping'}`;
    default: {
      const article = /^([aeiou]|nd)/i.test(d.typeName) ? 'an' : 'a'; // "an ndarray"
      return `${article} ${d.typeName}: ${d.repr.length > 120 ? d.repr.slice(0, 117) + '...' : d.repr}`;
    }
  }
}

/** JSON for printing metrics: NaN/±Infinity become the strings "NaN"/"Infinity"/"-Infinity" (visible, parseable). */
export function metricsToJson(metrics: Metrics, indent?: number): string {
  return JSON.stringify(metrics, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? formatNumber(v) : v), indent);
}

// ---- errors from the user's function: hints for the well-known traps (docs/trainer-semantics.md#pitfalls) ----

/** An error raised inside the user's metric function, with their file/line and the full traceback. */
export class MetricFunctionError extends EvalpredError {
  /** The full traceback / stack text (already source-mapped for TS). */
  readonly traceback: string;
  /** What the function printed before failing. */
  readonly stdout: string;
  constructor(message: string, place: ErrorPlace, traceback: string, stdout = '') {
    super(message, place);
    this.traceback = traceback;
    this.stdout = stdout;
  }
}

const ATTRIBUTE_TYPOS: Record<string, [py: string, js: string]> = {
  prediction: ['predictions', 'predictions'],
  preds: ['predictions', 'predictions'],
  logits: ['predictions', 'predictions'],
  labels: ['label_ids', 'labelIds (or label_ids)'],
  label: ['label_ids', 'labelIds (or label_ids)'],
  label_id: ['label_ids', 'labelIds (or label_ids)'],
  labelId: ['label_ids', 'labelIds (or label_ids)'],
  input: ['inputs', 'inputs'],
  input_ids: ['inputs', 'inputs'],
  loss: ['losses', 'losses'],
};

/** A sentence pointing at the fix for a known trap, or '' (errorType e.g. "OverflowError", message without it). */
export function hintFor(errorType: string, message: string, lang: 'py' | 'js'): string {
  if (/out of range integral type conversion|integral type|out of range.*(token|id)|negative.*(token|id)/i.test(message) ||
      (errorType === 'OverflowError' && /decode/i.test(message))) {
    return (
      'This is the -100 decode trap: label_ids (and predictions padded across batches) hold -100, which a ' +
      'tokenizer cannot decode. Replace it with the pad id before decoding: ' +
      (lang === 'py'
        ? '`labels = np.where(labels != -100, labels, tokenizer.pad_token_id)`.'
        : 'map every -100 to the pad token id before calling decode.')
    );
  }
  const attr = /has no attribute '(\w+)'/.exec(message) ?? /has no property '(\w+)'/.exec(message);
  if (attr && ATTRIBUTE_TYPOS[attr[1]]) {
    const right = ATTRIBUTE_TYPOS[attr[1]][lang === 'py' ? 0 : 1];
    return `EvalPrediction has \`${right}\`, not \`${attr[1]}\` (fields: predictions, label_ids, inputs, losses).`;
  }
  if (/unexpected keyword argument 'dim'/.test(message)) {
    return 'NumPy takes axis=, not dim= (torch): evalpred hands NumPy arrays where Trainer would hand torch tensors when torch is not importable in the chosen interpreter; write argmax(-1), or install torch there.';
  }
  if (/missing 1 required positional argument: 'compute_result'/.test(message)) {
    return 'Trainer passes compute_result only under batch_eval_metrics: add --batch-eval-metrics, or give compute_result a default (compute_result=True).';
  }
  if (/too many values to unpack \(expected 2/.test(message)) {
    return (
      'eval_pred yields more than two items because inputs and/or losses were included (include_for_metrics): ' +
      'write `preds, labels, *_ = eval_pred` or use `eval_pred.predictions` and `eval_pred.label_ids`.'
    );
  }
  return '';
}
