// The causal-LM family: Trainer on a decoder-only export. Labels = input_ids with pad positions -100
// (DataCollatorForLanguageModeling(mlm=False)); predictions = logits [N, L, V] or their argmax, or with
// --predict-with-generate the prompt followed by the generated ids; loss with the one-token shift;
// gather_for_metrics (n_s copies); perplexity = exp(eval_loss). The loop driver (src/core/loop/driver.ts) runs the batches.
import { GenerativeHead, generativeHeadFor } from '../model/heads';
import { CausalLmHead, causalLossCountsAllLabels } from '../model/heads/causalLm';
import { withLabelSmoothing } from '../model/labelSmoother';
import { Tensor, TensorNode } from '../tensor/tensor';
import { CausalLmModel } from './causalModel';
import { GenerativeContext, GenerativeSettings, GenerativeSetup, PromptBatch, generatedWidthNote, padToWidth } from './familySetup';
import { defaultNewTokens, effectiveConfig, trainerPadWidth } from './generationConfig';
import { generateCausal } from './generate';

/** DataCollatorForLanguageModeling(mlm=False): labels = input_ids with every pad id set to -100 (also an eos used as pad). */
export function causalLabels(inputIds: Tensor, padTokenId: number): Tensor {
  const out = Tensor.full('int64', inputIds.shape);
  const s = inputIds.data as BigInt64Array, d = out.data as BigInt64Array;
  const pad = BigInt(padTokenId);
  for (let i = 0; i < s.length; i++) d[i] = s[i] === pad ? -100n : s[i];
  return out;
}

export async function openCausalLmFamily(settings: GenerativeSettings, ctx: GenerativeContext): Promise<CausalLmFamily> {
  const setup = new GenerativeSetup(settings, 'causal-lm', ctx);
  const model = await CausalLmModel.open(settings.model, { device: settings.device });
  try {
    return new CausalLmFamily(setup, model);
  } catch (e) {
    await model.close();
    throw e;
  }
}

export class CausalLmFamily {
  readonly task = 'causal-lm' as const;
  readonly info;
  readonly describe: string;
  /** Full LM logits are N x L x vocab floats: always said, unless the predictions are generated ids. */
  readonly fullLogitsWarnBytes: number | null;
  private readonly head: GenerativeHead;
  /** generate() calls so far (transformers 5's first batch differs: defaultNewTokens). */
  private generated = 0;

  constructor(
    private readonly setup: GenerativeSetup,
    private readonly model: CausalLmModel,
  ) {
    const { notes, config } = setup.ctx;
    const modelOutputs = [...model.session.outputNames];
    notes.push('labels = input_ids with pad tokens set to -100, as DataCollatorForLanguageModeling(mlm=False) builds them; position t of the logits predicts label t+1.');
    const head = generativeHeadFor(config, modelOutputs, 'causal-lm');
    const profile = setup.settings.evalPredictionProfile, arch = config.architectures[0];
    if (head instanceof CausalLmHead) head.countAllLabels = causalLossCountsAllLabels(profile, arch, false);
    this.head = withLabelSmoothing(head, setup.settings.labelSmoothingFactor, causalLossCountsAllLabels(profile, arch, true));
    setup.announceGeneration();
    this.describe = setup.generate ? ', predict_with_generate' : '';
    this.fullLogitsWarnBytes = setup.generate ? null : 0;
    this.info = { columns: setup.columnPlan(), maxLength: setup.ctx.maxLength, modelInputs: [...model.session.inputNames], modelOutputs, executionProvider: model.session.provider, ...setup.returnsPerSample() };
  }

  batch(start: number, end: number): PromptBatch {
    return this.setup.batch(start, end, false);
  }

  async forward(batch: PromptBatch, _wantLoss: boolean): Promise<{ logits: TensorNode; labels: Tensor; loss: number | null; lossCopies: number; batchMapping: Record<string, Tensor> }> {
    const { tok } = this.setup.ctx;
    const { gcModel, genArgs, generate } = this.setup;
    const ids = batch.inputIds;
    const out = await this.model.forward(ids, batch.attentionMask);
    let logits: TensorNode = this.head.logitsFrom(out, this.info.modelOutputs);
    let labels = causalLabels(ids, tok.padTokenId);
    // DataCollatorForLanguageModeling(mlm=False)'s batch, as batch_eval_metrics hands it over
    const batchMapping: Record<string, Tensor> = { input_ids: ids, attention_mask: batch.attentionMask, labels };
    const loss = this.head.batchLoss(logits, labels);
    if (generate) {
      // max_new_tokens counts from this batch's prompt width, so the generation config is made per batch
      const { config } = this.setup.ctx;
      const positions = config.max_position_embeddings ?? (typeof config.raw.n_positions === 'number' ? config.raw.n_positions : undefined);
      const gcBatch = effectiveConfig(gcModel, genArgs, ids.shape[1], positions, defaultNewTokens(this.setup.settings.evalPredictionProfile, gcModel, this.generated++));
      const gen = await generateCausal(this.model, ids, batch.attentionMask, gcBatch);
      logits = padToWidth(gen, trainerPadWidth(gcModel, gen.shape[1]), tok.padTokenId);
      labels = padToWidth(labels, trainerPadWidth(gcModel, labels.shape[1]), tok.padTokenId);
    }
    // gather_for_metrics keeps n_s copies; generate's plain gather keeps B (as the loop always did)
    return { logits, labels, loss, lossCopies: generate ? this.setup.settings.batchSize : batch.size, batchMapping };
  }

  finish(r: { predictions: TensorNode | null; labelIds: TensorNode | null; evalLoss: number | null }): string[] {
    const notes = generatedWidthNote(this.setup.generate, r.predictions, r.labelIds);
    if (r.evalLoss !== null) notes.push(`perplexity = exp(eval_loss) = ${Math.exp(r.evalLoss)} (as run_clm reports it)`);
    return notes;
  }

  close(): Promise<void> {
    this.setup.close();
    return this.model.close();
  }
}
