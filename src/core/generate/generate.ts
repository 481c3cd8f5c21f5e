// model.generate(input_ids, attention_mask, **gen_kwargs) for an encoder-decoder export: encode once, expand
// rows for beams, start every row at decoder_start_token_id, then greedy or beam search over a (cached) stepper.
import { EvalpredError } from '../errors';
import { Tensor } from '../tensor/tensor';
import { GenerationConfig } from './generationConfig';
import { beamSearch, greedySearch } from './search';
import { CausalLmModel } from './causalModel';
import { Seq2SeqModel } from './seq2seqModel';
import { repeatRows } from './stepper';

export interface GenerateOptions {
  /** Reuse past key values (default true; false re-runs the decoder on the whole prefix every step). */
  useCache?: boolean;
}

/** Generated ids [n, T] int64, column 0 = decoder_start_token_id, as generate() returns them. */
export async function generateSeq2Seq(model: Seq2SeqModel, inputIds: Tensor, attentionMask: Tensor, gc: GenerationConfig, opts: GenerateOptions = {}): Promise<Tensor> {
  if (gc.decoderStartTokenId === null) {
    throw new EvalpredError(
      `generation needs decoder_start_token_id (or bos_token_id) in generation_config.json or config.json (${gc.source}); T5 uses 0 (pad), BART 2 (eos).`,
    );
  }
  const enc = await model.encode(inputIds, attentionMask);
  const n = inputIds.shape[0];
  const prompts = Array.from({ length: n }, () => [gc.decoderStartTokenId as number]);
  if (gc.numBeams > 1) {
    const expanded = { hidden: repeatRows(enc.hidden, gc.numBeams), mask: repeatRows(enc.mask, gc.numBeams) };
    return beamSearch(model.stepper(expanded, opts.useCache ?? true), prompts, gc);
  }
  return greedySearch(model.stepper(enc, opts.useCache ?? true), prompts, gc);
}

/**
 * model.generate(input_ids, attention_mask) for a decoder-only export: the output starts with the prompt
 * (padding included), then the new tokens (see docs/trainer-semantics.md#generation-padding; lint generate-includes-prompt). `gc` must already count the
 * prompt in max_length (effectiveConfig(..., promptLength = prompt width)).
 */
export async function generateCausal(model: CausalLmModel, inputIds: Tensor, attentionMask: Tensor, gc: GenerationConfig, opts: GenerateOptions = {}): Promise<Tensor> {
  const prompts = inputIds.toArray() as number[][];
  const k = gc.numBeams;
  const withPrompt = { ...gc, promptLength: inputIds.shape[1] };
  if (k > 1) return beamSearch(model.stepper(repeatRows(attentionMask, k), opts.useCache ?? true), prompts, withPrompt);
  return greedySearch(model.stepper(attentionMask, opts.useCache ?? true), prompts, withPrompt);
}
