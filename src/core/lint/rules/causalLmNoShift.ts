// causal-LM accuracy compares position t of the predictions with label t, but logits at t predict token t+1.
import { ELEMENTWISE_COMPARE, lineOf } from '../context';
import type { LintRule } from '../types';

/** The one-token shift of run_clm's compute_metrics: preds[:, :-1] against labels[:, 1:]. */
const SHIFT_SLICE = /\[\s*(?::|\.\.\.)\s*,\s*(?::\s*-1|1\s*:)\s*\]/;

export const causalLmNoShift: LintRule = {
  ids: ['causal-lm-no-shift'],
  check({ settings, task, src }) {
    if (task !== 'causal-lm' || settings?.predictWithGenerate) return [];
    const compareLine = lineOf(src, ELEMENTWISE_COMPARE);
    if (!compareLine || SHIFT_SLICE.test(src)) return [];
    return [{
      id: 'causal-lm-no-shift',
      severity: 'warning',
      message: 'a causal LM\'s prediction at position t is for the token at t+1, but the metric compares predictions and labels at the same positions, so accuracy is scored against the current token.',
      fix: 'Shift as run_clm does: labels = labels[:, 1:]; preds = preds[:, :-1] (then mask labels == -100).',
      line: compareLine,
      reference: 'https://github.com/huggingface/transformers/pull/15473',
    }];
  },
};
