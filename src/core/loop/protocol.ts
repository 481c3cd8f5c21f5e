// Messages between runEvaluation() (host) and the loop worker (dist/loopWorker.js).
import { WireEvalPred } from '../tensor/transfer';
import { LoopProgress, LoopResult } from './evaluationLoop';
import { RunSettings } from './settings';

export type ToWorker =
  | { type: 'start'; settings: RunSettings; pauseAfterBatches: number[] }
  | { type: 'cancel' }
  | { type: 'resume' };

export type FromWorker =
  | { type: 'progress'; progress: LoopProgress }
  | { type: 'log'; line: string }
  | { type: 'paused'; progress: LoopProgress }
  | { type: 'done'; result: Omit<LoopResult, 'evalPred'>; evalPred: WireEvalPred }
  | { type: 'cancelled' }
  | { type: 'error'; message: string; userError: boolean; stack?: string };
