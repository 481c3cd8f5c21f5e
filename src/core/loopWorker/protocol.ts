// Messages between runEvaluation() (host) and the loop worker (dist/loopWorker.js).
import { WireEvalPred } from '../tensor/transfer';
import { LoopProgress, LoopRecord } from '../loop/types';
import { RunSettings } from '../loop/settings';
import type { MetricRunnersOptions } from '../metrics/runMetrics';
import type { FeaturesCacheTarget } from '../textFeatures/featuresKey';

export type ToWorker =
  | { type: 'start'; settings: RunSettings; pauseAfterBatches: number[]; runners?: MetricRunnersOptions; spoolDir?: string; featuresCache?: FeaturesCacheTarget; gated?: boolean }
  /** After a gated start: the host decided the run is needed, and where it goes (a cancel says it is not). */
  | { type: 'go'; spoolDir?: string; featuresCache?: FeaturesCacheTarget }
  | { type: 'cancel' }
  | { type: 'resume' };

export type FromWorker =
  | { type: 'progress'; progress: LoopProgress }
  | { type: 'log'; line: string }
  | { type: 'paused'; progress: LoopProgress }
  | { type: 'done'; result: LoopRecord; evalPred: WireEvalPred }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; userError: boolean; stack?: string };
