// raw logits used where the metric expects probabilities (a 0.5 threshold, ROC AUC, log loss, Brier).
import { lineOf } from '../context';
import type { FloatPredictionRule } from './perFloatPrediction';

export const logitsNotProbabilities: FloatPredictionRule = {
  ids: ['logits-not-probabilities'],
  check(name, _t, s, { src }) {
    const probLine = lineOf(src, /(>=?\s*0\.5\b|roc_auc|log_loss|brier)/);
    if (!probLine || s.min === null || s.max === null || (s.min >= 0 && s.max <= 1)) return undefined;
    return {
      id: 'logits-not-probabilities',
      severity: 'warning',
      message: `${name} ranges from ${s.min.toPrecision(3)} to ${s.max.toPrecision(3)}: these are raw logits, not probabilities.`,
      fix: 'Apply softmax (or sigmoid for multi-label) before thresholds or probability metrics.',
      line: probLine,
      reference: 'https://github.com/huggingface/transformers/issues/10960',
    };
  },
};
