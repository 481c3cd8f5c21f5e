// preprocess_logits_for_metrics under predict_with_generate receives generated ids, not logits.
import { lineOf } from '../context';
import type { LintRule } from '../types';

export const preprocessUnderGenerate: LintRule = {
  ids: ['preprocess-under-generate'],
  check({ settings: s = {}, src }) {
    if (!s.predictWithGenerate) return [];
    const preLine = lineOf(src, /\b(def\s+preprocess_logits_for_metrics|preprocessLogitsForMetrics)\b/);
    if (!preLine && !s.preprocess) return [];
    return [{
      id: 'preprocess-under-generate',
      severity: 'warning',
      message: `${preLine ? 'preprocess_logits_for_metrics' : `--preprocess ${s.preprocess}`} runs under predict_with_generate, where it receives the generated token ids [batch, tokens] (int64), not logits: an argmax over the last axis returns one position per row.`,
      fix: 'Drop the preprocessor for generate runs (generated ids are already small), or return the ids unchanged when they are not floating point.',
      line: preLine,
      reference: 'https://github.com/huggingface/transformers/issues/23100',
    }];
  },
};
