// NaN or infinity in float predictions (an fp16 export overflowing, most often).
import type { FloatPredictionRule } from './perFloatPrediction';

export const nonFinite: FloatPredictionRule = {
  ids: ['non-finite'],
  check(name, _t, s) {
    if (!s.nanCount && !s.posInfCount && !s.negInfCount) return undefined;
    return {
      id: 'non-finite',
      severity: 'warning',
      message: `${name} holds ${s.nanCount} NaN and ${s.posInfCount + s.negInfCount} infinite values.`,
      fix: 'Check the model export (fp16 overflow) and mask them before averaging.',
    };
  },
};
