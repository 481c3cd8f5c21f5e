// The settings of one evaluation run: the CLI flags and the debug adapter's launch attributes in camelCase
// (README.md "Command line", "Launch configuration"). One type, so the CLI parser, the launch schema and the cache key agree.

export type IncludeForMetrics = 'inputs' | 'loss';
export type Preprocess = 'argmax';
/** Which transformers EvalPrediction a Python compute_metrics gets without transformers installed (docs/trainer-semantics.md#the-evalprediction-object). */
export const EVAL_PREDICTION_PROFILES = ['current', 'v4.57', 'v4.19-4.45', '<=4.18'] as const;
export type EvalPredictionProfile = (typeof EVAL_PREDICTION_PROFILES)[number];
import type { TaskName } from '../tasks';
import type { Device } from '../model/session';
export type { ClassifierTaskName, TaskName } from '../tasks';

export interface RunSettings {
  model: string;
  dataset: string;
  split?: string;
  batchSize: number;
  maxLength?: number;
  textColumn?: string;
  textPairColumn?: string;
  textTemplate?: string;
  labelColumn?: string;
  maxTargetLength?: number;
  includeForMetrics: IncludeForMetrics[];
  preprocess?: Preprocess;
  predictWithGenerate?: boolean;
  generationMaxLength?: number;
  maxNewTokens?: number;
  numBeams?: number;
  /** generate() options beyond Seq2SeqTrainingArguments' (evaluate(**gen_kwargs); docs/trainer-semantics.md#generation-options). */
  numReturnSequences?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  badWordsIds?: number[][];
  metrics?: string;
  function?: string;
  /** Cache folder; default .evalpred/cache/<key> under the working directory. */
  cache?: string;
  /** Extensions of the contract: */
  task?: TaskName;
  evalDoConcatBatches: boolean;
  /** Limit the number of evaluated rows (for a quick look at a large dataset). */
  maxSamples?: number;
  /** EvalPrediction profile for Python metric files (default: installed transformers, else current). */
  evalPredictionProfile?: EvalPredictionProfile;
  /** TrainingArguments.label_smoothing_factor: the loss becomes LabelSmoother's (src/core/model/labelSmoother.ts). */
  labelSmoothingFactor?: number;
  /**
   * TrainingArguments.label_names: the batch keys taken as labels (docs/trainer-semantics.md#which-batch-keys-are-labels);
   * several give label_ids as a tuple. Default: the model's (labels; start_positions, end_positions for QA). With
   * docStride it also labels the features as run_qa's prepare_train_features does.
   */
  labelNames?: string[];
  /** TrainingArguments.dataloader_drop_last: the last incomplete eval batch is dropped too. */
  dataloaderDropLast?: boolean;
  /**
   * TrainingArguments.batch_eval_metrics (docs/trainer-semantics.md#batch_eval_metrics): compute_metrics is called once per batch with
   * compute_result true on the last; the cache keeps every field per batch so each call can be replayed.
   */
  batchEvalMetrics?: boolean;
  /**
   * Extractive QA as run_qa.py evaluates it (docs/trainer-semantics.md#question-answering-with-doc-stride): contexts cut into
   * overflowing windows sharing docStride tokens, the loop over those features, compute_metrics given the post-processed answers.
   */
  docStride?: number;
  /** run_qa's pad_to_max_length (default true with docStride): every feature padded to the max length. */
  padToMaxLength?: boolean;
  maxAnswerLength?: number;
  nBestSize?: number;
  version2WithNegative?: boolean;
  nullScoreDiffThreshold?: number;
  /** onnxruntime execution provider to ask for (README.md "Devices"); unavailable: CPU with a note. Default cpu. */
  device?: Device;
}

export const DEFAULT_BATCH_SIZE = 8; // per_device_eval_batch_size

export function withDefaults(partial: Partial<RunSettings> & Pick<RunSettings, 'model' | 'dataset'>): RunSettings {
  const given = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as typeof partial;
  return { batchSize: DEFAULT_BATCH_SIZE, includeForMetrics: [], evalDoConcatBatches: true, ...given };
}

/** The settings that change what the loop produces (and so the cache key). Metric choice does not. */
export function loopKeySettings(s: RunSettings): Record<string, unknown> {
  const { metrics: _m, function: _f, cache: _c, model: _model, dataset: _d, evalPredictionProfile: p, batchEvalMetrics: perBatch, ...rest } = s;
  // A profile other than the default also changes a causal LM's eval_loss (causalLossCountsAllLabels), so it
  // keys the cache; the default stays out so that existing keys do not move.
  // batch_eval_metrics keeps the batches apart in the cache; false (the default) stays out, as if never given.
  const keyed = perBatch ? { ...rest, batchEvalMetrics: true } : rest;
  return p && p !== 'current' ? { ...keyed, lossProfile: p } : keyed;
}
