// The one place that picks a task family for a run, and the only file in loop/ that imports src/core/generate:
// causal LMs and seq2seq exports (and --task causal-lm / seq2seq-lm) get a generative family, everything
// else an encoder head. Each family supplies its batch and forward steps to the driver (driver.ts).
import { EvalpredError } from '../errors';
import { openCausalLmFamily } from '../generate/causalLmFamily';
import { generativeTaskOf } from '../generate/detect';
import { openSeq2SeqFamily } from '../generate/seq2seqFamily';
import { openEncoderFamily } from './encoderFamily';
import { RunSettings } from './settings';
import type { Tensor } from '../tensor/tensor';
import { FamilyContext, TaskFamily } from './types';

export type AnyFamily = TaskFamily<{ size: number; inputIds: Tensor }>;

export async function openFamily(settings: RunSettings, ctx: FamilyContext): Promise<AnyFamily> {
  const generative = generativeTaskOf(settings.model, ctx.config, settings.task);
  if (generative === 'seq2seq-lm') return await openSeq2SeqFamily(settings, ctx);
  if (generative === 'causal-lm') return await openCausalLmFamily(settings, ctx);
  if (settings.predictWithGenerate) {
    throw new EvalpredError(
      `${settings.model}: --predict-with-generate needs a generative model: a seq2seq export (encoder_model.onnx with decoder_model.onnx ` +
        `or decoder_model_merged.onnx, as optimum-cli export onnx --task text2text-generation-with-past writes them) or a decoder-only LM ` +
        `(config.json architectures …ForCausalLM / …LMHeadModel); this folder has neither.`,
      { file: settings.model },
    );
  }
  return openEncoderFamily(settings, ctx);
}
