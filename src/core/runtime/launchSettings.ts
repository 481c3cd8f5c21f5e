// The debug adapter's launch attributes: RunSettings in camelCase (docs/architecture.md#the-debug-adapter) plus
// `stopOnBatch`, `cwd` and the metric runner's `python` and `metricTimeoutSeconds`. One table drives validation, and package.json's launch schema is tested against
// it, so the three cannot drift. Every bad value is an EvalpredError naming the attribute.
import path from 'node:path';
import { EvalpredError } from '../errors';
import { EVAL_PREDICTION_PROFILES, RunSettings, withDefaults } from '../loop/settings';
import { SAMPLING_OPTIONS, SAMPLING_REFUSAL, idLists } from '../generate/generationConfig';
import { DEVICES } from '../model/session';
import { TASK_NAMES } from '../tasks';
import { RuntimeIO } from './io';

type Kind =
  | { type: 'path'; must?: 'file' | 'dir' | 'any'; exists?: boolean }
  | { type: 'string' }
  | { type: 'enum'; values: readonly string[] }
  | { type: 'int'; min: number }
  | { type: 'number'; min: number; max?: number }
  | { type: 'command' }
  | { type: 'bool' }
  | { type: 'idLists' }
  | { type: 'list'; values: readonly string[] }
  | { type: 'names' };

export interface FieldSpec {
  kind: Kind;
  description: string;
}

/** Every RunSettings field (the Record makes tsc fail when settings.ts grows a field we do not describe). */
export const RUN_SETTINGS_FIELDS: Record<keyof RunSettings, FieldSpec> = {
  model: { kind: { type: 'path', must: 'dir', exists: true }, description: 'Model folder: model.onnx, config.json and tokenizer.json (as saved by optimum / save_pretrained).' },
  dataset: { kind: { type: 'path', must: 'any', exists: true }, description: 'Evaluation dataset: .jsonl, .json, .csv, .tsv, .parquet, .arrow, or a datasets save_to_disk folder.' },
  split: { kind: { type: 'string' }, description: 'Split to read from a DatasetDict folder (e.g. "validation").' },
  batchSize: { kind: { type: 'int', min: 1 }, description: 'per_device_eval_batch_size (default 8).' },
  maxLength: { kind: { type: 'int', min: 1 }, description: 'Truncate inputs to this many tokens (default: the tokenizer\'s model_max_length).' },
  textColumn: { kind: { type: 'string' }, description: 'Column holding the input text (dotted paths reach nested fields).' },
  textPairColumn: { kind: { type: 'string' }, description: 'Second text column for sentence-pair tasks.' },
  textTemplate: { kind: { type: 'string' }, description: "Build the input from a template, e.g. 'question: {question} context: {context}'." },
  labelColumn: { kind: { type: 'string' }, description: 'Column holding the label (class id or name, tag list, answers).' },
  maxTargetLength: { kind: { type: 'int', min: 1 }, description: 'Truncate target (label) sequences to this many tokens.' },
  includeForMetrics: { kind: { type: 'list', values: ['inputs', 'loss'] }, description: 'TrainingArguments.include_for_metrics: add "inputs" and/or "loss" to the EvalPrediction.' },
  preprocess: { kind: { type: 'enum', values: ['argmax'] }, description: 'Built-in preprocess_logits_for_metrics: "argmax" is run_clm.py\'s (the first member of a tuple, then argmax(-1)): predicted ids instead of logits.' },
  predictWithGenerate: { kind: { type: 'bool' }, description: 'Seq2SeqTrainingArguments.predict_with_generate: predictions are generated ids.' },
  generationMaxLength: { kind: { type: 'int', min: 1 }, description: 'generation_max_length for generate().' },
  maxNewTokens: { kind: { type: 'int', min: 1 }, description: 'max_new_tokens for generate().' },
  numBeams: { kind: { type: 'int', min: 1 }, description: 'num_beams for generate().' },
  numReturnSequences: { kind: { type: 'int', min: 1 }, description: 'num_return_sequences for generate() (beam search): predictions get N x n rows, each input\'s n best together.' },
  repetitionPenalty: { kind: { type: 'number', min: 0 }, description: 'repetition_penalty for generate() (1 = off).' },
  noRepeatNgramSize: { kind: { type: 'int', min: 0 }, description: 'no_repeat_ngram_size for generate() (0 = off).' },
  badWordsIds: { kind: { type: 'idLists' }, description: 'bad_words_ids for generate(): token id sequences never generated, e.g. [[5], [7, 8]].' },
  metrics: { kind: { type: 'path', must: 'file', exists: true }, description: 'Your metric file: a .py defining compute_metrics(eval_pred), or .ts/.js exporting computeMetrics(evalPred).' },
  function: { kind: { type: 'string' }, description: 'Name of the metric function in the metric file (default compute_metrics / computeMetrics).' },
  cache: { kind: { type: 'path', must: 'dir', exists: false }, description: 'Prediction cache folder. Alone (without model and dataset) it opens an existing cache.' },
  task: { kind: { type: 'enum', values: TASK_NAMES }, description: 'Task head (default: from the model\'s config.json).' },
  evalDoConcatBatches: { kind: { type: 'bool' }, description: 'TrainingArguments.eval_do_concat_batches (default true).' },
  maxSamples: { kind: { type: 'int', min: 1 }, description: 'Evaluate only the first N rows (a quick look at a large dataset).' },
  labelSmoothingFactor: {
    kind: { type: 'number', min: 0, max: 1 },
    description: "TrainingArguments.label_smoothing_factor: eval_loss (and eval_pred.losses) from Trainer's LabelSmoother, as in evaluation with Trainer.",
  },
  labelNames: {
    kind: { type: 'names' },
    description:
      'TrainingArguments.label_names: the batch keys taken as labels, in order; several make label_ids a tuple (default: the model\'s, "labels", or "start_positions", "end_positions" for QA). With docStride it labels the features as run_qa\'s prepare_train_features does.',
  },
  dataloaderDropLast: { kind: { type: 'bool' }, description: 'TrainingArguments.dataloader_drop_last: drop the last incomplete batch, as Trainer\'s eval dataloader does.' },
  batchEvalMetrics: {
    kind: { type: 'bool' },
    description: 'TrainingArguments.batch_eval_metrics: compute_metrics(eval_pred, compute_result) is called once per batch with that batch\'s arrays, compute_result true on the last; the last call\'s result is the metrics. The session stops before each call.',
  },
  evalPredictionProfile: {
    kind: { type: 'enum', values: EVAL_PREDICTION_PROFILES },
    description: 'EvalPrediction a .py compute_metrics gets when transformers is not importable, and the Trainer whose causal-LM eval_loss is imitated: "current" (v4.46+, 5.x), "v4.57" (the current class; a causal LM\'s eval_loss divided by its unshifted label count), "v4.19-4.45" (no losses) or "<=4.18" (a NamedTuple).',
  },
  docStride: {
    kind: { type: 'int', min: 0 },
    description: "Extractive QA as run_qa.py evaluates it: contexts cut into overflowing windows sharing this many tokens, and compute_metrics given the post-processed answers ([{id, prediction_text}] and [{id, answers}]).",
  },
  padToMaxLength: { kind: { type: 'bool' }, description: 'With docStride: run_qa\'s pad_to_max_length (default true): every feature padded to the max length; false pads each batch to its longest feature.' },
  maxAnswerLength: { kind: { type: 'int', min: 1 }, description: 'With docStride: the longest answer in tokens (run_qa max_answer_length, default 30).' },
  nBestSize: { kind: { type: 'int', min: 1 }, description: 'With docStride: start and end candidates per feature (run_qa n_best_size, default 20).' },
  version2WithNegative: { kind: { type: 'bool' }, description: 'With docStride: SQuAD v2, where a question may have no answer (run_qa version_2_with_negative).' },
  nullScoreDiffThreshold: { kind: { type: 'number', min: -1e9 }, description: 'With docStride and version2WithNegative: predict the null answer when its score minus the best answer\'s exceeds this (default 0).' },
  device: { kind: { type: 'enum', values: DEVICES }, description: 'onnxruntime execution provider: "cpu" (default), "cuda", "coreml" or "dml"; one this build or platform lacks falls back to the CPU with a note. The manifest records the provider used.' },
};

export const LAUNCH_EXTRA_FIELDS: Record<'stopOnBatch' | 'cwd' | 'python' | 'metricTimeoutSeconds' | 'metricMemoryLimitMb', FieldSpec> = {
  stopOnBatch: { kind: { type: 'list', values: [] }, description: 'Also stop after these 1-based batch numbers (like function breakpoints "batch 12").' },
  cwd: { kind: { type: 'path', must: 'dir', exists: true }, description: 'Folder that relative paths and the default cache (.evalpred/cache) are resolved against.' },
  python: {
    kind: { type: 'command' },
    description: 'Python interpreter for a .py metric file (needs NumPy; transformers is used when importable). Default: the evalpred.pythonPath setting, else the interpreter selected in the Python extension, else the first python3 on PATH with NumPy.',
  },
  metricTimeoutSeconds: {
    kind: { type: 'number', min: 1 },
    description: 'Stop a metric function that runs longer than this many seconds. Default: the evalpred.metricTimeoutSeconds setting (60).',
  },
  metricMemoryLimitMb: {
    kind: { type: 'int', min: 64 },
    description: 'Memory limit of the metric process in MB, enforced by the OS; a metric that needs more is stopped with an error. Default: half of physical memory.',
  },
};

export interface LaunchSettings {
  /** Full RunSettings when a model and dataset are given; with only `cache`, model/dataset are ''. */
  run: RunSettings;
  /** Open this cache without a model run. */
  cacheOnly: boolean;
  stopOnBatch: number[];
  cwd: string;
  /** The interpreter for Python metric files (absolute path, or a command name found on PATH); undefined: python3. */
  python?: string;
  /** Metric run time limit in ms; undefined: the runner's default. */
  metricTimeoutMs?: number;
  /** Memory limit of the metric processes in MB; undefined: half of physical memory. */
  metricMemoryLimitMb?: number;
  /** Non-fatal remarks (unknown attributes) to print. */
  warnings: string[];
}

/** Keys a client adds to every configuration; never reported as unknown. */
const CLIENT_KEYS = new Set(['type', 'request', 'name', 'noDebug', 'preLaunchTask', 'postDebugTask', 'internalConsoleOptions', 'presentation', 'debugServer']);

function fail(field: string, why: string): never {
  throw new EvalpredError(`launch configuration: "${field}" ${why}`, { column: field });
}

function nearest(name: string, options: string[]): string | undefined {
  const lower = name.toLowerCase().replace(/[_-]/g, '');
  return options.find((o) => o.toLowerCase() === lower);
}

export function parseLaunchArgs(args: Record<string, unknown>, io: RuntimeIO): LaunchSettings {
  const warnings: string[] = [];
  const all: Record<string, FieldSpec> = { ...RUN_SETTINGS_FIELDS, ...LAUNCH_EXTRA_FIELDS };
  for (const k of Object.keys(args)) {
    if (k in all || k.startsWith('__') || CLIENT_KEYS.has(k)) continue;
    // sampling gets the reason, not "unknown attribute" (docs/trainer-semantics.md#generation-options)
    if (SAMPLING_OPTIONS.some((o) => o.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) === k) && args[k] !== undefined && args[k] !== null && args[k] !== false) {
      fail(k, `asks for sampling: ${SAMPLING_REFUSAL}. evalpred evaluates with greedy search or beam search ("numBeams").`);
    }
    const near = nearest(k, Object.keys(all));
    warnings.push(`launch configuration: unknown attribute "${k}" ignored${near ? ` (did you mean "${near}"?)` : ''}`);
  }
  let cwd = process.cwd();
  if (args.cwd !== undefined) {
    if (typeof args.cwd !== 'string' || !args.cwd) fail('cwd', `must be a folder path, got ${JSON.stringify(args.cwd)}`);
    cwd = path.resolve(args.cwd);
    if (!io.isDirectory(cwd)) fail('cwd', `is ${cwd}, which is not an existing folder`);
  }
  const out: Record<string, unknown> = {};
  const cacheOnly = args.cache !== undefined && args.model === undefined && args.dataset === undefined;
  for (const [field, spec] of Object.entries(RUN_SETTINGS_FIELDS)) {
    const v = args[field];
    if (v === undefined || v === null) continue;
    out[field] = checkValue(field, v, spec.kind, cwd, io, cacheOnly);
  }
  if (!cacheOnly) {
    const missing = (['model', 'dataset'] as const).filter((f) => out[f] === undefined);
    if (missing.length) {
      fail(
        missing[0],
        `is missing: a launch needs ${missing.map((m) => `"${m}"`).join(' and ')} (${RUN_SETTINGS_FIELDS[missing[0]].description}) — or only "cache" to open an existing prediction cache.`,
      );
    }
  } else if (!io.exists(path.join(out.cache as string, 'manifest.json'))) {
    fail('cache', `is ${out.cache}, which holds no manifest.json; with no "model" and "dataset", "cache" must be an existing prediction cache`);
  }
  const stopOnBatch: number[] = [];
  if (args.stopOnBatch !== undefined) {
    const v = args.stopOnBatch;
    const list = typeof v === 'number' ? [v] : v;
    if (!Array.isArray(list) || !list.every((n) => Number.isInteger(n) && n >= 1)) fail('stopOnBatch', `must be a list of batch numbers (1, 2, ...), got ${JSON.stringify(v)}`);
    stopOnBatch.push(...(list as number[]));
  }
  const python = args.python === undefined || args.python === null ? undefined : (checkValue('python', args.python, LAUNCH_EXTRA_FIELDS.python.kind, cwd, io, cacheOnly) as string);
  const timeout = args.metricTimeoutSeconds;
  const metricTimeoutMs = timeout === undefined || timeout === null ? undefined : (checkValue('metricTimeoutSeconds', timeout, LAUNCH_EXTRA_FIELDS.metricTimeoutSeconds.kind, cwd, io, cacheOnly) as number) * 1000;
  const memory = args.metricMemoryLimitMb;
  const metricMemoryLimitMb =
    memory === undefined || memory === null ? undefined : (checkValue('metricMemoryLimitMb', memory, LAUNCH_EXTRA_FIELDS.metricMemoryLimitMb.kind, cwd, io, cacheOnly) as number);
  const run = withDefaults({ model: '', dataset: '', ...(out as Partial<RunSettings>) });
  return { run, cacheOnly, stopOnBatch, cwd, python, metricTimeoutMs, metricMemoryLimitMb, warnings };
}

function checkValue(field: string, v: unknown, kind: Kind, cwd: string, io: RuntimeIO, cacheOnly: boolean): unknown {
  const got = `got ${JSON.stringify(v)} (${Array.isArray(v) ? 'a list' : typeof v})`;
  switch (kind.type) {
    case 'string':
      if (typeof v !== 'string') fail(field, `must be a string, ${got}`);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !kind.values.includes(v)) fail(field, `must be one of ${kind.values.map((x) => `"${x}"`).join(', ')}, ${got}`);
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < kind.min) fail(field, `must be an integer >= ${kind.min}, ${got}`);
      return v;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || v < kind.min || (kind.max !== undefined && v > kind.max)) {
        fail(field, `must be a number >= ${kind.min}${kind.max !== undefined ? ` and <= ${kind.max}` : ''}, ${got}`);
      }
      return v;
    case 'command': {
      // Checked at launch, not at the first metric run: a wrong interpreter should fail before a long evaluation.
      if (typeof v !== 'string' || !v.trim()) fail(field, `must be an interpreter path or command name, ${got}`);
      const cmd = (v as string).trim();
      if (cmd.includes('/') || cmd.includes(path.sep)) {
        const abs = path.resolve(cwd, cmd);
        if (!io.exists(abs)) fail(field, `is ${abs}, which does not exist: point it at a Python 3 interpreter that has NumPy (or remove it to use python3 on PATH)`);
        if (io.isDirectory(abs)) fail(field, `is ${abs}, which is a folder: point it at the interpreter itself (e.g. ${path.join(abs, 'bin', 'python')})`);
        return abs;
      }
      if (!onPath(cmd, io)) fail(field, `is "${cmd}", which is not a command on PATH: give the interpreter's full path (a Python 3 that has NumPy)`);
      return cmd;
    }
    case 'idLists':
      return idLists(v, `launch configuration: "${field}"`, { column: field });
    case 'bool':
      if (typeof v !== 'boolean') fail(field, `must be true or false, ${got}`);
      return v;
    case 'list': {
      const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && kind.values.includes(x))) {
        fail(field, `must be a list of ${kind.values.map((x) => `"${x}"`).join(', ')}, ${got}`);
      }
      return list;
    }
    case 'names': {
      const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(x))) fail(field, `must be a list of batch key names (e.g. ["start_positions", "end_positions"]), ${got}`);
      return list;
    }
    case 'path': {
      if (typeof v !== 'string' || !v) fail(field, `must be a path, ${got}`);
      const abs = path.resolve(cwd, v as string);
      const mustExist = kind.exists || (field === 'cache' && cacheOnly);
      if (mustExist && !io.exists(abs)) fail(field, `is ${abs}, which does not exist`);
      if (io.exists(abs)) {
        if (kind.must === 'dir' && !io.isDirectory(abs)) fail(field, `is ${abs}, which is a file; it must be a folder`);
        if (kind.must === 'file' && io.isDirectory(abs)) fail(field, `is ${abs}, which is a folder; it must be a file`);
      }
      return abs;
    }
  }
}

function onPath(cmd: string, io: RuntimeIO): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((d) => d && io.exists(path.join(d, cmd)) && !io.isDirectory(path.join(d, cmd)));
}

/** An option as each front end names it: the `evalpred run` flag and the launch.json attribute. */
export interface OptionName {
  flag: string;
  attribute: string;
  /** What the flag means in launch.json when it stands for a value (--no-concat: "evalDoConcatBatches": false). */
  inLaunch?: string;
}

/**
 * Every option that has both a CLI flag and a launch attribute (docs/architecture.md#the-debug-adapter). Messages
 * from src/core are written once, naming flags; the CLI prints them as they are and every VS Code surface (the
 * debug adapter's errors, stops, notes and lints, the prediction view's notes, the extension's messages) shows
 * them through inLaunchTerms. test/unit/launchTerms.test.ts checks this table against the CLI's flags and the
 * launch schema, and that every flag src/core names is here or known to be CLI-only.
 */
export const OPTION_NAMES: readonly OptionName[] = [
  ...(Object.keys(RUN_SETTINGS_FIELDS) as (keyof RunSettings)[])
    .filter((k) => k !== 'cache' && k !== 'evalDoConcatBatches' && k !== 'padToMaxLength')
    .map((attribute) => ({ flag: `--${attribute.replace(/[A-Z]|\d+/g, (c) => `-${c.toLowerCase()}`)}`, attribute })),
  { flag: '--out', attribute: 'cache' },
  { flag: '--no-concat', attribute: 'evalDoConcatBatches', inLaunch: '"evalDoConcatBatches": false' },
  { flag: '--no-pad-to-max-length', attribute: 'padToMaxLength', inLaunch: '"padToMaxLength": false' },
  { flag: '--memory-limit-mb', attribute: 'metricMemoryLimitMb' },
  { flag: '--python', attribute: 'python' },
];

const LAUNCH_TEXT_OF_FLAG = new Map(OPTION_NAMES.map((o) => [o.flag, o.inLaunch ?? `"${o.attribute}"`]));

/**
 * A message built for the CLI (naming flags such as --label-column) in the words of launch.json: each flag of
 * OPTION_NAMES becomes its attribute ("labelColumn"); flags only the CLI has stay as they are.
 */
export function inLaunchTerms(message: string): string {
  return message.replace(/(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*\b/g, (flag) => LAUNCH_TEXT_OF_FLAG.get(flag) ?? flag);
}
