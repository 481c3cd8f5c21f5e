// eval_pred.losses repeats each batch's mean loss per example (docs/trainer-semantics.md).
import type { LintRule } from '../types';

export const lossesAreBatchMeans: LintRule = {
  ids: ['losses-are-batch-means'],
  check({ evalPred, src }) {
    if (!evalPred.losses || !/\blosses\b/.test(src)) return [];
    return [{
      id: 'losses-are-batch-means',
      severity: 'info',
      message: 'eval_pred.losses holds each batch\'s mean loss repeated once per example, not per-example losses.',
      fix: 'Use it for averages only (e.g. perplexity = exp(mean)).',
    }];
  },
};
