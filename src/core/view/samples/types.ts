// The types shared by the per-sample table (index.ts) and its per-task row files.
import type { Dataset } from '../../data';
import type { LoadedTokenizer } from '../../text';
import type { EvalPredictionData } from '../../tensor/tensor';
import type { RowView, TaskKind } from '../../../shared/protocol';
import type { QaEvalPrediction } from '../../metrics/qaPostprocess';

export interface SampleSource {
  evalPred: EvalPredictionData;
  task: TaskKind;
  id2label?: Record<number, string>;
  /** The evaluated dataset, for each sample's text (and QA answers). */
  dataset?: Dataset;
  textColumn?: string;
  pairColumn?: string;
  template?: string;
  labelColumn?: string;
  /** For decoding `inputs` when there is no dataset text, QA spans and generated ids. */
  tokenizer?: LoadedTokenizer;
  /** Why there is no tokenizer (e.g. the cache's model folder has moved): shown where decoded text would be. */
  noTokenizerReason?: string;
  /** Trainer's label_names when the run set them: what label_ids holds, in order (default: the task's label keys). */
  labelNames?: string[];
  /** A doc-stride QA cache's post-processed answers and references: the table has one row per example. */
  qa?: QaEvalPrediction;
  /** predict_with_generate: predictions are generated ids, not aligned with the labels. */
  generated?: boolean;
  /** generate()'s num_return_sequences: prediction rows per sample (each input's n best together, best first). */
  numReturnSequences?: number;
}

/** The typed per-sample columns every task fills (NONE / -1 / NaN where a value does not apply). */
export interface SampleColumns {
  readonly n: number;
  readonly predId: Int32Array;
  readonly goldId: Int32Array;
  /** 1 correct, 0 wrong, -1 unknown (no labels). */
  readonly correct: Int8Array;
  readonly confidence: Float64Array;
  readonly loss: Float64Array;
}

/** What the per-task files get: the source, the columns to fill, label names and the sample texts. */
export interface TaskContext {
  src: SampleSource;
  cols: SampleColumns;
  labels: string[];
  name(id: number): string;
  text(i: number): string;
  /** Said once in the view's notes (e.g. why decoded columns are missing). */
  note(message: string): void;
}

/** One task family's rows: fills the columns when built, then describes rows on demand. */
export interface TaskRows {
  /** Sets prediction, label and tokens of a row (the common fields are already set). */
  describe(i: number, v: RowView): void;
  /** Text besides the input that the search box matches (decoded prediction and label); must be cheap. */
  searchable?(i: number): string;
  hasGold?(i: number, id: number): boolean;
  hasPredicted?(i: number, id: number): boolean;
  hasPair?(i: number, g: number, p: number): boolean;
  tokenPairs?(): Generator<[number, number]>;
  /** Per-sample metrics (each sample's contribution, NaN where it has none), filled when the rows are built. */
  scores?: Score[];
  /** num_return_sequences n > 1: each row describes its n sequences (RowView.sequences). */
  sequencesPerSample?: number;
}

/** One per-sample metric column: its name (accuracy, exact_match, f1, token_accuracy) and a value per sample. */
export interface Score {
  name: string;
  values: Float64Array;
}

/** The correctness column as a 0/1 metric (NaN where correctness is unknown): accuracy, exact match. */
export function correctScore(name: string, correct: Int8Array): Score {
  return { name, values: Float64Array.from(correct, (c) => (c === -1 ? NaN : c)) };
}
