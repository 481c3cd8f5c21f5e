// Messages between runEvaluation() (host) and the loop worker (dist/loopWorker.js).
import { WireEvalPred } from '../tensor/transfer';
import { LoopProgress, LoopRecord } from '../loop/types';
import { RunSettings } from '../loop/settings';
import type { MetricRunnersOptions } from '../metrics/runMetrics';

export type ToWorker =
  | { type: 'start'; settings: RunSettings; pauseAfterBatches: number[]; runners?: MetricRunnersOptions; spoolDir?: string }
  | { type: 'cancel' }
  | { type: 'resume' };

export type FromWorker =
  | { type: 'progress'; progress: LoopProgress }
  | { type: 'log'; line: string }
  | { type: 'paused'; progress: LoopProgress }
  | { type: 'done'; result: LoopRecord; evalPred: WireEvalPred }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; userError: boolean; stack?: string };
