// The evaluation loop's contracts in one place: what its caller passes (hooks), what it returns, and what a
// task family (encoder heads here in loop/, seq2seq and causal LM in src/core/generate) supplies to the one
// driver (driver.ts). The families in generate/ implement TaskFamily structurally, without importing this file,
// so the imports only go down: generate -> model, text, data; loop -> generate through families.ts alone.
import type { Dataset } from '../data';
import type { ModelConfig } from '../model/config';
import type { Tensor, TensorNode, EvalPredictionData } from '../tensor/tensor';
import type { LoadedTokenizer } from '../text';
import type { ColumnPlan } from './batches';
import type { FeaturesCacheTarget } from '../textFeatures/featuresKey';
import type { QaRecord } from './qaFeatures';
import type { TaskName } from './settings';

export interface LoopProgress {
  batch: number; // 1-based count of finished batches
  numBatches: number;
  samples: number;
  numSamples: number;
  elapsedMs: number;
}

/** preprocess_logits_for_metrics as a per-batch call; `notes` holds remarks for the run's notes. */
export type BatchPreprocess = ((logits: TensorNode, labels: TensorNode | null) => Promise<TensorNode>) & { readonly notes: string[] };

export interface LoopHooks {
  progress?(p: LoopProgress): void;
  log?(line: string): void;
  /** Called after each batch; the loop waits for it (the debug adapter's "stop after batch N"). */
  afterBatch?(p: LoopProgress): Promise<void> | void;
  /** Checked between batches. */
  cancelled?(): boolean;
  /** The metric file's preprocess_logits_for_metrics, from whoever owns the metric runners (they also close
   *  them: the loop never does). It wins over the built-in --preprocess argmax. */
  preprocess?: BatchPreprocess | null;
  /**
   * Read once ready() has resolved. Stream the accumulated arrays to this folder (a reserved cache write's temp folder) as the batches come,
   * so memory stays O(batch) (spool.ts); the result's tensors are then file-backed .npy files named as the
   * cache names them. Without it the arrays accumulate in memory.
   */
  spoolDir?: string;
  /** Free bytes where spoolDir is (diskSpace.ts's freeBytes; tests put a fake here). */
  freeBytes?(dir: string): number;
  /** Accumulated bytes between two free-space checks during the run (diskWatch.ts's CHECK_EVERY_BYTES; tests set it small). */
  diskCheckEveryBytes?: number;
  /** Awaited once the model, tokenizer and dataset are open, before the first batch: the caller may still be
   *  deciding (hashing for the prediction cache) whether the run is needed. Rejecting it cancels the run. */
  ready?(): Promise<void>;
  /** Where tokenized features are cached between runs and the hash of their inputs (docs/cache-format.md#tokenized-features),
   *  asked once ready() has resolved (as spoolDir is read); none: not cached. */
  featuresCache?(): FeaturesCacheTarget | undefined;
}

/** For views and decoding: id2label, the column plan, the lengths and the model's input and output names. */
export interface LoopInfo {
  id2label?: Record<number, string>;
  columns: ColumnPlan;
  maxLength: number;
  modelInputs: string[];
  modelOutputs: string[];
  /** Trainer's label_names for this run: what label_ids holds, in order (a tuple when several). */
  labelNames?: string[];
  /** The onnxruntime execution provider the model actually ran on (--device, or CPU after a fallback). */
  executionProvider?: string;
  /** generate()'s num_return_sequences when above 1: predictions hold this many rows per sample. */
  numReturnSequences?: number;
}

export interface LoopResult {
  evalPred: EvalPredictionData;
  numSamples: number;
  /** float(np.mean(losses)) as Trainer reports eval_loss, or null when no loss could be computed. */
  evalLoss: number | null;
  task: TaskName;
  runtimeSeconds: number;
  /** Where the runtime went: tokenization and collation, onnxruntime, and the rest (loss, accumulation). */
  timings: { tokenizeMs: number; inferenceMs: number; otherMs: number };
  numSteps: number;
  notes: string[];
  info: LoopInfo;
  /** Extractive QA with a doc stride: examples, features and post-processing options (stored beside the arrays, not in the manifest). */
  qa?: QaRecord;
  /**
   * The input text of the dataset's first FIRST_ROW_TEXTS rows, as the loop read them (text column or template),
   * for a summary's first samples without reading the dataset a second time. Not in the manifest.
   */
  firstRowTexts?: string[];
}

/** How many of the dataset's first rows a run hands back the text of (LoopResult.firstRowTexts). */
export const FIRST_ROW_TEXTS = 5;

/** What a run leaves beside the EvalPrediction (the cache manifest's "loop" record, the worker's reply). */
export interface LoopRecord extends Omit<LoopResult, 'evalPred' | 'qa' | 'firstRowTexts'> {}

export class CancelledError extends Error {
  constructor() {
    super('evaluation cancelled');
    this.name = 'CancelledError';
  }
}

/** What the driver has loaded before a family opens its model: shared by every family. */
export interface FamilyContext {
  config: ModelConfig;
  tok: LoadedTokenizer;
  ds: Dataset;
  numRows: number;
  /** --max-length, validated, else the tokenizer's limit capped by max_position_embeddings (driver.ts). */
  maxLength: number;
  /** Whether predictions are reduced per batch (built-in argmax or the metric file's preprocess). */
  reduced: boolean;
  /** The run's notes, in order: a family appends what it decides for the user. */
  notes: string[];
  log(line: string): void;
  /** LoopHooks.featuresCache. */
  featuresCache?(): FeaturesCacheTarget | undefined;
}

/** One batch after the family's forward step: Trainer's prediction_step outputs before any preprocessing. */
export interface FamilyForward {
  logits: TensorNode;
  labels: TensorNode | null;
  /** The model's loss for the batch (float32 mean), or null when it cannot be reproduced exactly. */
  loss: number | null;
  /** How many copies of the loss the gather keeps: n_s (gather_for_metrics) or B (Seq2SeqTrainer's plain gather). */
  lossCopies: number;
  /**
   * The batch as Trainer's dataloader yields it (the collator's keys in its order: the tokenizer's outputs, the
   * raw labels, decoder_input_ids for seq2seq): batch_eval_metrics' `inputs` (docs/trainer-semantics.md#batch_eval_metrics).
   */
  batchMapping?: Record<string, Tensor>;
}

/**
 * A task family once its model is open: the batch step (tokenize and collate rows [start, end)) and the forward
 * step (run the model, Trainer's logits, labels and loss). The driver owns everything else.
 */
export interface TaskFamily<Batch extends { size: number; inputIds: Tensor }> {
  readonly task: TaskName;
  readonly info: LoopInfo;
  /** Extra words for the "evaluating N samples" log line (e.g. ", predict_with_generate"). */
  readonly describe: string;
  /** Predictions are full logits (not generated ids) worth a size warning above this many projected bytes. */
  readonly fullLogitsWarnBytes: number | null;
  /** What the loop runs over when it is not the dataset rows: run_qa's features (windows of each context). */
  readonly numItems?: number;
  /** Extractive QA with a doc stride: what the post-processing needs beside the logits (qaFeatures.ts). */
  readonly qa?: QaRecord;
  /** The label keys of a batch, in the order forward() returns them (default ["labels"]; QA: start and end positions). */
  readonly labelKeys?: readonly string[];
  /** May wait: the rows can still be tokenizing ahead in another thread (src/core/textFeatures/feeder.ts). */
  batch(start: number, end: number): Batch | Promise<Batch>;
  /** Batches whose forward() may run at once (the model's inference lanes, docs/architecture.md#inference-lanes);
   *  default 1. The driver still takes their results in order. */
  readonly concurrency?: number;
  /** `wantLoss` is false once a loss turned out irreproducible: the family may skip computing it. `index`: the
   *  batch's number from 0 (with concurrency above 1, forwards can finish out of order). */
  forward(batch: Batch, wantLoss: boolean, index: number): Promise<FamilyForward>;
  /** Notes once every batch is in (e.g. perplexity, width mismatches). */
  finish?(r: { predictions: TensorNode | null; labelIds: TensorNode | null; evalLoss: number | null }): string[];
  close(): Promise<void>;
}
