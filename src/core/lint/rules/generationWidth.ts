// generate may produce rows wider than the width Seq2SeqTrainer pads each batch to (model.generation_config,
// not the per-call max_length), so batches differ in width and the concatenation fills -100 into predictions.
import type { LintRule } from '../types';

export const generationWidth: LintRule = {
  ids: ['generation-width'],
  check({ settings: s = {}, generation: gen }) {
    if (!s.predictWithGenerate || !gen) return [];
    const gcMax = gen.maxLength ?? 20;
    const padTarget = Math.max(gcMax, gen.maxNewTokens != null ? gen.maxNewTokens + 1 : 0);
    const cap = s.generationMaxLength ?? (s.maxNewTokens !== undefined ? s.maxNewTokens + 1 : undefined);
    if (cap === undefined || cap <= padTarget) return [];
    const asked = s.generationMaxLength !== undefined ? `generation_max_length ${s.generationMaxLength}` : `max_new_tokens ${s.maxNewTokens}`;
    return [{
      id: 'generation-width',
      severity: 'warning',
      message:
        `${asked} lets generate() produce rows up to ${cap} tokens, but Seq2SeqTrainer pads each batch only to model.generation_config.max_length (${gcMax}): ` +
        `batches come out with different widths and the concatenated predictions hold -100 past each batch's width (docs/trainer-semantics.md#the-decode-trap).`,
      fix: 'Replace -100 by the pad id before decoding (np.where(preds != -100, preds, tokenizer.pad_token_id)), or set model.generation_config.max_length to the same value.',
      reference: 'https://github.com/huggingface/transformers/issues/30361',
    }];
  },
};
