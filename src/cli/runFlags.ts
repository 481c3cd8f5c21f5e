// The `run` flags, one entry per RunSettings field (kept in step with src/core/loop/settings.ts by a test).
import fs from 'node:fs';
import path from 'node:path';
import { EvalpredError } from '../core/errors';
import { EVAL_PREDICTION_PROFILES } from '../core/loop/settings';
import { defaultMemoryLimitMb } from '../core/metrics/containment';
import { DEVICES } from '../core/model/session';
import { TASK_NAMES } from '../core/tasks';
import { FlagSpec, Parsed } from './args';

/** The metric process's memory limit (issue 9: contained metric processes); `run` and `metrics` take it. */
export const MEMORY_LIMIT_FLAG: FlagSpec = {
  name: 'memory-limit-mb',
  type: 'int',
  min: 64,
  help: `memory limit of the metric process in MB (default: half of physical memory, here ${defaultMemoryLimitMb()})`,
};

export function memoryLimitFromFlags(p: Parsed): number | undefined {
  const v = p.flags[MEMORY_LIMIT_FLAG.name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 64) {
    throw new EvalpredError(`--memory-limit-mb must be a whole number of megabytes >= 64, got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** The interpreter for .py metrics (issue 13): --python, else $EVALPRED_PYTHON, else the first python3 on PATH with NumPy. */
export const PYTHON_FLAG: FlagSpec = {
  name: 'python',
  type: 'string',
  help: 'Python interpreter for a .py metric (default: $EVALPRED_PYTHON, else the first python3 on PATH that has NumPy)',
};

/**
 * --python as given: a path (anything with a slash) must name an existing file, checked here so a typo is
 * one clear line before any model runs; a bare name (python3.11) is looked up on PATH when the worker starts.
 */
export function pythonFromFlags(p: Parsed, cwd = process.cwd()): string | undefined {
  const v = p.flags[PYTHON_FLAG.name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v.trim()) throw new EvalpredError(`--python needs the path of a Python interpreter, got ${JSON.stringify(v)}.`);
  if (!/[\\/]/.test(v)) return v;
  const abs = path.resolve(cwd, v);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new EvalpredError(`--python ${v}: there is no such file (${abs}). Give a Python 3 interpreter that has NumPy, e.g. --python /usr/bin/python3 or --python .venv/bin/python.`, { file: abs });
  }
  if (st.isDirectory()) {
    throw new EvalpredError(`--python ${v} is a folder; give the interpreter inside it (${path.join(v, process.platform === 'win32' ? 'Scripts\\python.exe' : 'bin/python')}).`, { file: abs });
  }
  return abs;
}

export const RUN_FLAGS: FlagSpec[] = [
  { name: 'model', type: 'string', help: 'folder with model.onnx, config.json and tokenizer.json' },
  { name: 'dataset', type: 'string', help: 'jsonl/json/csv/parquet file, or a datasets save_to_disk folder' },
  { name: 'out', type: 'string', help: 'cache folder to write (default .evalpred/cache/<key>)' },
  { name: 'split', type: 'string', help: 'split of a dataset folder (default validation, then test)' },
  { name: 'batch-size', type: 'int', help: 'per_device_eval_batch_size (default 8)' },
  { name: 'max-length', type: 'int', help: 'truncation length (default: tokenizer model_max_length capped by the model)' },
  { name: 'text-column', type: 'string', help: 'text column (dotted paths allowed: a.b[0])' },
  { name: 'text-pair-column', type: 'string', help: 'second text column (pairs; QA context)' },
  { name: 'text-template', type: 'string', help: "template such as 'question: {question} context: {context}'" },
  { name: 'label-column', type: 'string', help: 'label column' },
  { name: 'max-target-length', type: 'int', help: 'target truncation length (generation)' },
  { name: 'include-for-metrics', type: 'list', help: 'inputs,loss' },
  { name: 'preprocess', type: 'string', help: "argmax: run_clm.py's preprocess_logits_for_metrics (a tuple's first member, then argmax(-1))" },
  { name: 'predict-with-generate', type: 'bool', help: 'Seq2Seq: generated ids as predictions' },
  { name: 'generation-max-length', type: 'int', help: 'generation max_length' },
  { name: 'max-new-tokens', type: 'int', help: 'generation max_new_tokens' },
  { name: 'num-beams', type: 'int', help: 'beam width' },
  { name: 'num-return-sequences', type: 'int', help: 'generate() num_return_sequences: n best beams per input, predictions get N x n rows' },
  { name: 'repetition-penalty', type: 'number', help: 'generate() repetition_penalty (1 = off)' },
  { name: 'no-repeat-ngram-size', type: 'int', min: 0, help: 'generate() no_repeat_ngram_size (0 = off)' },
  { name: 'bad-words-ids', type: 'string', help: "generate() bad_words_ids as JSON, e.g. '[[5], [7, 8]]'" },
  { name: 'metrics', type: 'string', help: 'metric file (.ts/.js/.py) defining compute_metrics' },
  { name: 'function', type: 'string', help: 'metric function name' },
  { name: 'eval-prediction-profile', type: 'string', help: `${EVAL_PREDICTION_PROFILES.join(' | ')}: the EvalPrediction a .py metric gets without transformers` },
  { name: 'task', type: 'string', help: `${TASK_NAMES.join(' | ')} (default: from the model folder)` },
  { name: 'no-concat', type: 'bool', help: 'eval_do_concat_batches=False: per-batch lists' },
  { name: 'label-smoothing-factor', type: 'number', help: "label_smoothing_factor: eval_loss from Trainer's LabelSmoother (0 to 1)" },
  { name: 'label-names', type: 'list', help: 'TrainingArguments.label_names: batch keys taken as labels (start_positions,end_positions); with --doc-stride, labels the features' },
  { name: 'dataloader-drop-last', type: 'bool', help: 'dataloader_drop_last=True: drop the last incomplete batch' },
  { name: 'batch-eval-metrics', type: 'bool', help: 'batch_eval_metrics=True: compute_metrics(eval_pred, compute_result) once per batch' },
  { name: 'doc-stride', type: 'int', min: 0, help: "extractive QA as run_qa.py: contexts cut into windows sharing N tokens, answers post-processed" },
  { name: 'no-pad-to-max-length', type: 'bool', help: 'with --doc-stride: pad each batch to its longest feature (run_qa pad_to_max_length=False)' },
  { name: 'max-answer-length', type: 'int', help: 'with --doc-stride: longest answer in tokens (default 30)' },
  { name: 'n-best-size', type: 'int', help: 'with --doc-stride: start/end candidates per feature (default 20)' },
  { name: 'version-2-with-negative', type: 'bool', help: 'with --doc-stride: SQuAD v2, a null answer is possible' },
  { name: 'null-score-diff-threshold', type: 'number', help: 'with --doc-stride and SQuAD v2: predict null when its score beats the best by more (default 0)' },
  { name: 'device', type: 'string', help: `${DEVICES.join(' | ')}: onnxruntime execution provider (default cpu; unavailable: CPU with a note)` },
  { name: 'max-samples', type: 'int', help: 'evaluate only the first N rows' },
  { name: 'refresh', type: 'bool', help: 'ignore a matching cache and run the model again' },
  { name: 'json', type: 'bool', help: 'print only the metrics JSON on stdout (no summary on stderr)' },
  MEMORY_LIMIT_FLAG,
  PYTHON_FLAG,
];
