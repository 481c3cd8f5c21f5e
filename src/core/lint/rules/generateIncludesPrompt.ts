// a decoder-only model's generate() returns prompt + continuation.
import type { LintRule } from '../types';

export const generateIncludesPrompt: LintRule = {
  ids: ['generate-includes-prompt'],
  check({ settings, task, src }) {
    if (!settings?.predictWithGenerate || task !== 'causal-lm') return [];
    const handled = /inputs?\.shape\s*\[\s*-?1\s*\]|prompt_len|input_len|prompt_length/.test(src);
    return [{
      id: 'generate-includes-prompt',
      severity: handled ? 'info' : 'warning',
      message: 'for a decoder-only model generate() returns the prompt followed by the new tokens: each prediction row starts with its (padded) input ids, so decoded predictions repeat the prompt.',
      fix: 'Cut the prompt off before decoding: include inputs (--include-for-metrics inputs) and take predictions[:, inputs.shape[1]:] (with left padding every prompt has that width).',
      reference: 'https://github.com/huggingface/transformers/issues/32095',
    }];
  },
};
