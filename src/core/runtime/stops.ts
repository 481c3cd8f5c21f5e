// Where the runtime stands when it stops, and what that looks like as frames: the runtime's own stop
// objects (no DAP), which src/debug/session.ts only translates into stopped events and stack frames. A
// stop in the user's function from a real debugger (issue 10) becomes one more kind here.
import type { EvalpredError } from '../errors';
import type { LoopProgress } from '../loop/types';
import type { MetricLocation } from './metricLocation';
import { DEFAULT_PARAM } from '../metrics/metricFunction';
import type { BatchCall } from '../metrics/batchCalls';

export type RuntimeStop =
  | {
      kind: 'boundary';
      /**
       * entry: the first arrival; metrics: after `continue` ran the metric; restart: after restartFrame ran it;
       * call: under batch_eval_metrics, after `continue` ran one call that was not the last.
       */
      reason: 'entry' | 'metrics' | 'restart' | 'call';
      /** The metric function's definition, or null when the run has no metric file. */
      location: MetricLocation | null;
      /** Under batch_eval_metrics: the call the next `continue` makes (docs/trainer-semantics.md#batch_eval_metrics). */
      call?: BatchCall;
    }
  | { kind: 'batch'; progress: LoopProgress }
  | ({ kind: 'metricError' } & MetricErrorStop);

export interface MetricErrorStop {
  error: EvalpredError;
  /** The exception's type as the user's language names it ("ZeroDivisionError"), else the error's name. */
  typeName: string;
  /** Where the failure is: the user's line from the traceback, else the function definition. */
  location: MetricLocation | null;
  /** The user's traceback / stack text ('' when the error is about the returned value). */
  traceback: string;
  stdout: string;
  /** Under batch_eval_metrics: the call that failed. */
  call?: BatchCall;
}

/** One frame of the paused "stack", innermost first. */
export interface RuntimeFrame {
  name: string;
  /** The source file, when the frame has one (the user's metric file). */
  file?: string;
  /** 1-based. */
  line?: number;
  /** A frame that is context, not code (shown dimmed). */
  subtle?: boolean;
}

function frameAt(loc: MetricLocation | null, fallbackName: string, call?: BatchCall): RuntimeFrame {
  if (!loc || !loc.file) return { name: fallbackName };
  // batch_eval_metrics: the frame says which call it is, as the user's code sees it (compute_result=...).
  const args = call ? `${loc.param ?? DEFAULT_PARAM}, compute_result=${call.computeResult ? 'True' : 'False'}` : (loc.param ?? DEFAULT_PARAM);
  return { name: `${loc.name}(${args})${call ? ` [batch ${call.index + 1} of ${call.count}]` : ''}`, file: loc.file, line: loc.line };
}

export function framesOf(stop: RuntimeStop | undefined): RuntimeFrame[] {
  switch (stop?.kind) {
    case 'boundary':
      return [frameAt(stop.location, 'compute_metrics (built-in metrics)', stop.call)];
    case 'batch':
      return [{ name: `evaluation loop: after batch ${stop.progress.batch} of ${stop.progress.numBatches}` }];
    case 'metricError':
      return [frameAt(stop.location, 'compute_metrics', stop.call), { name: `Trainer.evaluate → ${stop.location?.name ?? 'compute_metrics'}(${stop.location?.param ?? DEFAULT_PARAM})`, subtle: true }];
    default:
      return [];
  }
}

/** The exception class named in a Python / JS error message ("ZeroDivisionError: division by zero"). */
export function exceptionTypeName(err: Error): string {
  return /\b([A-Z][A-Za-z]*(Error|Exception))\b/.exec(err.message)?.[1] ?? err.name;
}

export interface StopRequestAnswer {
  verified: boolean;
  message: string;
  /** The batch to stop after, for "batch N". */
  batch?: number;
}

/**
 * What a function breakpoint's name asks for: "batch N" stops after batch N; the metric function's name
 * (or compute_metrics / eval_pred / boundary) is the boundary, where evalpred always stops.
 */
export function stopRequest(name: string, metricFunction: string | undefined): StopRequestAnswer {
  const m = /^\s*batch\s+(\d+)\s*$/i.exec(name);
  if (m && Number(m[1]) >= 1) return { verified: true, message: `stop after batch ${m[1]}`, batch: Number(m[1]) };
  if (/^\s*(compute_metrics|computeMetrics|eval_pred|boundary)\s*$/.test(name) || name.trim() === metricFunction) {
    return { verified: true, message: 'evalpred always stops at the compute_metrics boundary' };
  }
  return { verified: false, message: `unknown function breakpoint "${name}": use "batch N" to stop after batch N` };
}
