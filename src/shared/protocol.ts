// Every message between the extension host and the prediction view, typed in one module that both sides
// import (hexeditor's shared/protocol.ts). No `vscode` and no Node imports: media/ bundles this for the
// browser. Rows travel in windows (the `getRows` request, answered by a reply with its `requestId`: src/shared/messaging.ts),
// never the whole table.

import type { TaskName } from '../core/tasks';
import { ParamChecks, ReplyMessage, RequestMessage, isRequest } from './messaging';

export type { ReplyMessage } from './messaging';

export const PROTOCOL_VERSION = 1;

/** The tasks the view shows per sample (every task of src/core/tasks.ts), or 'unknown'. */
export type TaskKind = TaskName | 'unknown';

/** One token of a token-classification sample: the word, the predicted tag and the gold tag. */
export interface TokenTag {
  token: string;
  pred: string;
  gold?: string;
  /** Index of the predicted tag in `Overview.labels` (for colour). */
  predId: number;
}

/**
 * One of the sequences generate() returned for a sample under num_return_sequences n (each input's n best
 * hypotheses, best first: docs/trainer-semantics.md#generation-options), scored against the sample's one label.
 */
export interface SequenceView {
  /** The decoded sequence, as compute_metrics' batch_decode gives it. */
  prediction: string;
  /** Decoder-only generate(): the new tokens alone, decoded (the row starts with its prompt). */
  continuation?: string;
  correct?: boolean;
  /** This sequence's value of each per-sample metric of `Overview.scoreColumns`, in that order (NaN: none). */
  scores?: number[];
}

/** One sample of the per-sample table, ready to show. Text fields are plain text (the view uses textContent). */
export interface RowView {
  /** Position in the evaluation set (dataset row / axis 0 of the arrays). */
  index: number;
  /** The input text: the dataset's text column, else the decoded `inputs`, else ''. */
  text: string;
  /** Predicted label name (argmax -> id2label), predicted span text for QA, tags joined for token classification. */
  prediction: string;
  /** Gold label name / answer text; undefined when there are no labels. */
  label?: string;
  correct?: boolean;
  /** max softmax probability (QA: p(start) * p(end); token classification: mean over labelled tokens). */
  confidence?: number;
  /** Cross-entropy of this sample (token classification: mean over labelled tokens; QA: (start + end) / 2). */
  loss?: number;
  tokens?: TokenTag[];
  /** This sample's contribution to each per-sample metric of `Overview.scoreColumns`, in that order (NaN: none). */
  scores?: number[];
  /** Decoder-only generate(): the new tokens of `prediction` alone, decoded (the row starts with its prompt). */
  continuation?: string;
  /**
   * num_return_sequences n > 1: the sample's n generated sequences, best first. The first is the row's own
   * prediction, correct, continuation and scores (what sorting, "Wrong only" and export's single columns use).
   */
  sequences?: SequenceView[];
}

/** A per-sample metric column: `score:accuracy`, `score:exact_match`, `score:f1`, `score:token_accuracy`. */
export type ScoreKey = `score:${string}`;

export type SortKey = 'index' | 'confidence' | 'loss' | ScoreKey;

/** The table's columns, in order; the per-sample metric columns follow `loss`. */
export type ColumnId = 'index' | 'text' | 'prediction' | 'label' | 'correct' | 'confidence' | 'loss' | ScoreKey;

export const BASE_COLUMNS: readonly ColumnId[] = ['index', 'text', 'prediction', 'label', 'correct', 'confidence', 'loss'];

export function isColumnId(v: unknown): v is ColumnId {
  return typeof v === 'string' && (BASE_COLUMNS.includes(v as ColumnId) || /^score:[a-z0-9_]+$/.test(v));
}

export type ExportFormat = 'csv' | 'jsonl';

/** What a copy puts on the clipboard: one cell, or a row as tab-separated values or as a JSON object. */
export type CopyWhat = 'cell' | 'row' | 'row-json';

export interface RowFilter {
  wrongOnly?: boolean;
  /** Gold label name. */
  gold?: string;
  /** Predicted label name. */
  predicted?: string;
  /** Case-insensitive substring of the text, prediction or label. */
  search?: string;
}

export interface RowQuery {
  filter: RowFilter;
  sort: { key: SortKey; descending: boolean };
}

export interface HistogramView {
  edges: number[];
  counts: number[];
}

/** One card per tensor (tuple and list members each get their own). */
export interface TensorCard {
  path: string;
  dtype: string;
  shape: number[];
  min: number | null;
  max: number | null;
  mean: number | null;
  nanCount: number;
  minus100Count: number;
  histogram: HistogramView;
}

/** counts[gold][predicted] over `labels`. */
export interface ConfusionView {
  labels: string[];
  counts: number[][];
}

export interface MetricsEntry {
  /** ISO time the metrics were computed. */
  time: string;
  metrics: Record<string, number>;
  /** Difference to the previous entry, for keys present in both. */
  deltas: Record<string, number>;
}

export interface LintView {
  id: string;
  severity: 'warning' | 'info';
  message: string;
  fix: string;
  line?: number;
}

export interface Overview {
  title: string;
  task: TaskKind;
  numSamples: number;
  /** What the table's label filters offer: id2label names in id order. */
  labels: string[];
  /** e.g. "predictions: tuple(float32[8, 3], float32[8, 4])". */
  structure: string[];
  cards: TensorCard[];
  confusion?: ConfusionView;
  metrics: MetricsEntry[];
  lints: LintView[];
  notes: string[];
  /** Per-sample metrics each row carries in `RowView.scores` (accuracy, exact_match and f1, token_accuracy), per task. */
  scoreColumns: string[];
  /** Columns no row has a value in (confidence and loss of generated ids): the table hides them until asked. */
  emptyColumns: ColumnId[];
  /** generate()'s num_return_sequences when above 1: every row carries that many ranked `sequences`. */
  sequencesPerSample?: number;
}

/** A raw array slice, as an ArrayBuffer: the bytes of `dtype` (little-endian), C order. */
export interface RawArray {
  path: string;
  dtype: 'float32' | 'float64' | 'int32' | 'int64' | 'uint8';
  shape: number[];
  buffer: ArrayBuffer;
}

export interface RowDetail {
  row: RowView;
  arrays: RawArray[];
}

// ------------------------------------------------------------------------------------------------ messages

/** What `getRows` answers: rows [start, start + rows.length) of the table under the query, of `total`. */
export interface RowsResult {
  start: number;
  total: number;
  rows: RowView[];
}

/** The costly parts of the overview: one pass over every array, asked for after the first rows are shown. */
export interface SummaryResult {
  cards: TensorCard[];
  confusion?: ConfusionView;
  lints: LintView[];
}

/** The prediction view's requests, each answered once (src/shared/messaging.ts matches replies by requestId). */
export type ViewRequests = {
  /** Rows [start, start + count) of the table under `query` (filtered, then sorted). */
  getRows: { params: { query: RowQuery; start: number; count: number }; result: RowsResult };
  getDetail: { params: { index: number }; result: RowDetail };
  /** Sent once the first rows are on screen: the cards, confusion matrix and lints cost one pass over every array. */
  getSummary: { params: Record<string, never>; result: SummaryResult };
  /** Put a cell or a row (of `columns`) on the clipboard, through the extension host. */
  copy: { params: { index: number; what: CopyWhat; columns: ColumnId[] }; result: { text: string } };
  /** Save the rows matching `query`, in its order, as CSV or JSON Lines with `columns`, to a file the user picks. */
  exportTable: { params: { query: RowQuery; format: ExportFormat; columns: ColumnId[] }; result: { file?: string; rows: number } };
};

export type ViewRequest = RequestMessage<ViewRequests>;

/** Events from the host (no reply expected); replies to requests travel as ReplyMessage. */
export type ToWebview =
  /** `hostState` is opaque to the view: it keeps it in its webview state so the panel serializer can restore the panel. */
  | { type: 'init'; overview: Overview; hostState?: Record<string, unknown> }
  | { type: 'metrics'; history: MetricsEntry[] }
  /** Something the view should show that answers no request (the panel could not load its cache). */
  | { type: 'error'; message: string }
  | ReplyMessage;

export type FromWebview = { type: 'ready' } | ViewRequest;

export const DEFAULT_QUERY: RowQuery = { filter: {}, sort: { key: 'index', descending: false } };

/** The most rows one `getRows` may ask for: windows, not the table. */
export const MAX_WINDOW = 2000;

const isIndex = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

export const VIEW_PARAM_CHECKS: ParamChecks<ViewRequests> = {
  getRows: (p) => isIndex(p.start) && isIndex(p.count) && !!p.query && typeof p.query === 'object',
  getDetail: (p) => Number.isInteger(p.index),
  getSummary: () => true,
  copy: (p) => Number.isInteger(p.index) && ['cell', 'row', 'row-json'].includes(p.what as string) && columnList(p.columns),
  exportTable: (p) => !!p.query && typeof p.query === 'object' && (p.format === 'csv' || p.format === 'jsonl') && columnList(p.columns),
};

function columnList(v: unknown): boolean {
  return Array.isArray(v) && v.length > 0 && v.length <= 64 && v.every(isColumnId);
}

/** Narrow an unknown message from the webview (it crosses a trust boundary: validate before use). */
export function isFromWebview(m: unknown): m is FromWebview {
  if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'ready') return true;
  return isRequest(m, VIEW_PARAM_CHECKS);
}
