// One evaluation as evaluate() (src/core/evaluate.ts) returns it, fresh or from the cache: what metrics,
// views and shells above read. Here, below metrics/, so they can name it without importing evaluate.ts.
import type { LoopRecord } from '../loop/types';
import type { EvalPredictionData } from '../tensor/tensor';
import type { CacheManifest } from './manifest';

export interface Evaluation {
  cacheDir: string;
  fromCache: boolean;
  manifest: CacheManifest;
  evalPred: EvalPredictionData;
  /** What the loop left in the manifest beside the contract fields, so a cached run can report like a fresh one. */
  loop: LoopRecord;
  /** A fresh run's first rows' input text (LoopResult.firstRowTexts); a cached one reads the dataset for them. */
  firstRowTexts?: string[];
}
