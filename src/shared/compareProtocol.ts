// The messages between the extension host and the compare view (two caches of one dataset side by side), typed
// once for both sides like src/shared/protocol.ts. The changed samples travel in windows (`getChanged`).
import { ParamChecks, ReplyMessage, RequestMessage, isRequest } from './messaging';

export interface MetricDelta {
  key: string;
  a?: number | string;
  b?: number | string;
  /** b - a when both are numbers. */
  delta?: number;
}

/** One sample whose correctness differs between the runs; also one line of `evalpred compare --out` JSONL. */
export interface ChangedSample {
  index: number;
  /** fixed: wrong in A, right in B; broken: right in A, wrong in B. */
  change: 'fixed' | 'broken';
  text: string;
  label?: string;
  prediction_a: string;
  prediction_b: string;
  /** num_return_sequences n > 1: each run's n decoded sequences, best first (prediction_a / _b are the first). */
  sequences_a?: string[];
  sequences_b?: string[];
  correct_a: boolean;
  correct_b: boolean;
  loss_a?: number;
  loss_b?: number;
}

export interface CompareOverview {
  /** The two cache folders. */
  a: string;
  b: string;
  task: string;
  numSamples: number;
  metrics: MetricDelta[];
  /** Samples right in each (of those with a known correctness). */
  correct: { a: number; b: number; known: number };
  fixed: number;
  broken: number;
  notes: string[];
}

export type ChangeFilter = 'all' | 'fixed' | 'broken';

export const CHANGE_FILTERS: readonly ChangeFilter[] = ['all', 'fixed', 'broken'];

export type CompareRequests = {
  /** Changed samples [start, start + count) of those matching the filter and the search text, in sample order. */
  getChanged: { params: { change: ChangeFilter; search?: string; start: number; count: number }; result: { start: number; total: number; rows: ChangedSample[] } };
};

export type ToCompareView = { type: 'init'; overview: CompareOverview; hostState?: Record<string, unknown> } | { type: 'error'; message: string } | ReplyMessage;

export type FromCompareView = { type: 'ready' } | RequestMessage<CompareRequests>;

const isIndex = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;

export const COMPARE_PARAM_CHECKS: ParamChecks<CompareRequests> = {
  getChanged: (p) => CHANGE_FILTERS.includes(p.change as ChangeFilter) && isIndex(p.start) && isIndex(p.count) && (p.search === undefined || typeof p.search === 'string'),
};

/** Narrow an unknown message from the compare view (untrusted, like every webview message). */
export function isFromCompareView(m: unknown): m is FromCompareView {
  if (m && typeof m === 'object' && (m as { type?: unknown }).type === 'ready') return true;
  return isRequest(m, COMPARE_PARAM_CHECKS);
}
