// nothing sets a length, so GenerationConfig's default max_length 20 cuts outputs off.
import type { LintRule } from '../types';

export const generationCapped20: LintRule = {
  ids: ['generation-capped-20'],
  check({ settings: s = {}, generation: gen }) {
    if (!s.predictWithGenerate || !gen) return [];
    if (s.generationMaxLength !== undefined || s.maxNewTokens !== undefined || (gen.maxLength ?? 20) !== 20 || gen.maxNewTokens != null) return [];
    return [{
      id: 'generation-capped-20',
      severity: 'warning',
      message: 'generation is capped at 20 tokens: neither generation_max_length nor max_new_tokens is set and the model\'s generation_config keeps the default max_length 20, so longer outputs are cut off (and score low).',
      fix: 'Set generation_max_length (--generation-max-length) or max_new_tokens (--max-new-tokens), or max_length in generation_config.json.',
      reference: 'https://github.com/huggingface/transformers/issues/10032',
    }];
  },
};
