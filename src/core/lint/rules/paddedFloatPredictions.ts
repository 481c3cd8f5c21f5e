// -100.0 in float predictions of 3+ axes is the padding Trainer adds across batches, not a score.
import type { FloatPredictionRule } from './perFloatPrediction';

export const paddedFloatPredictions: FloatPredictionRule = {
  ids: ['padded-float-predictions'],
  check(name, t, s) {
    if (s.minus100Count <= 0 || t.ndim < 3) return undefined;
    return {
      id: 'padded-float-predictions',
      severity: 'info',
      message: `${name} has ${s.minus100Count} values of exactly -100.0: positions padded across batches. Softmax or argmax over them is meaningless.`,
      fix: 'Mask positions where label_ids == -100 before computing metrics.',
    };
  },
};
