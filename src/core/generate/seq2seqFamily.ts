// The seq2seq family: Seq2SeqTrainer (run_summarization / run_translation) on an optimum encoder-decoder export.
// Inputs come from a text column or template; labels = tokenizer(text_target) truncated to --max-target-length
// and padded with -100 (DataCollatorForSeq2Seq). With --predict-with-generate the predictions are generated ids
// padded to model.generation_config's width with the tokenizer's pad id, labels likewise (docs/trainer-semantics.md#generation-padding); otherwise
// (logits, encoder_last_hidden_state). Loss: teacher-forced decoder pass, no shift; plain gather, so every batch
// adds B copies (docs/trainer-semantics.md#loss-averaging). The loop driver (src/core/loop/driver.ts) runs the batches.
import { EvalpredError } from '../errors';
import { GenerativeHead, generativeHeadFor } from '../model/heads';
import { withLabelSmoothing } from '../model/labelSmoother';
import { Tensor, TensorNode } from '../tensor/tensor';
import { GenerativeContext, GenerativeSettings, GenerativeSetup, PromptBatch, generatedWidthNote, padToWidth } from './familySetup';
import { GenerationConfig, defaultNewTokens, effectiveConfig, trainerPadWidth } from './generationConfig';
import { generateSeq2Seq } from './generate';
import { Seq2SeqModel, shiftTokensRight } from './seq2seqModel';

export async function openSeq2SeqFamily(settings: GenerativeSettings, ctx: GenerativeContext): Promise<Seq2SeqFamily> {
  const setup = new GenerativeSetup(settings, 'seq2seq-lm', ctx);
  const model = await Seq2SeqModel.open(settings.model, { device: settings.device });
  try {
    return new Seq2SeqFamily(setup, model);
  } catch (e) {
    await model.close();
    throw e;
  }
}

export class Seq2SeqFamily {
  readonly task = 'seq2seq-lm' as const;
  readonly info;
  readonly describe: string;
  /** Generated ids are not logits; teacher-forced logits are [N, T, V] and always worth the warning. */
  readonly fullLogitsWarnBytes: number | null;
  private readonly head: GenerativeHead;
  private readonly gc: GenerationConfig;
  /** generate() calls so far (transformers 5's first batch differs: defaultNewTokens). */
  private generated = 0;

  constructor(
    private readonly setup: GenerativeSetup,
    private readonly model: Seq2SeqModel,
  ) {
    const { notes, config } = setup.ctx;
    const modelOutputs = [...model.decoder.outputNames];
    notes.push(`seq2seq export, ${model.files.layout} layout${model.hasCache ? ', decoding with the KV cache' : ' without past key values (no decoder_with_past_model.onnx): every step re-runs the prefix'}`);
    notes.push(`losses follow Seq2SeqTrainer: plain gather, so the last batch adds ${setup.settings.batchSize} copies of its loss (docs/trainer-semantics.md#loss-averaging).`);
    this.head = withLabelSmoothing(generativeHeadFor(config, modelOutputs, 'seq2seq-lm'), setup.settings.labelSmoothingFactor);
    this.gc = setup.announceGeneration();
    this.describe = setup.generate ? ', predict_with_generate' : '';
    this.fullLogitsWarnBytes = setup.generate ? null : 0;
    this.info = { columns: setup.columnPlan(), maxLength: setup.ctx.maxLength, modelInputs: [...model.encoder.inputNames], modelOutputs, executionProvider: model.encoder.provider, ...setup.returnsPerSample() };
  }

  batch(start: number, end: number): PromptBatch {
    return this.setup.batch(start, end, true);
  }

  async forward(batch: PromptBatch, _wantLoss: boolean): Promise<{ logits: TensorNode; labels: Tensor | null; loss: number | null; lossCopies: number; batchMapping: Record<string, Tensor> }> {
    const { config, tok, ds } = this.setup.ctx;
    const { gcModel } = this.setup;
    let labels = batch.labels;
    let loss: number | null = null;
    const enc = await this.model.encode(batch.inputIds, batch.attentionMask);
    let decLogits: Tensor | null = null;
    // DataCollatorForSeq2Seq(model=...)'s batch: input_ids, attention_mask, labels, decoder_input_ids (batch_eval_metrics' inputs)
    const batchMapping: Record<string, Tensor> = { input_ids: batch.inputIds, attention_mask: batch.attentionMask };
    if (labels) {
      // the model shifts labels with model.config's decoder_start_token_id and pad_token_id (T5 _shift_right, BART shift_tokens_right)
      const rawStart = config.raw.decoder_start_token_id;
      const start = typeof rawStart === 'number' ? rawStart : (gcModel.decoderStartTokenId ?? config.pad_token_id ?? 0);
      const decoderInputIds = shiftTokensRight(labels, config.pad_token_id ?? tok.padTokenId, start);
      batchMapping.labels = labels;
      batchMapping.decoder_input_ids = decoderInputIds;
      decLogits = await this.model.forward(decoderInputIds, enc);
      loss = this.head.batchLoss(decLogits, labels);
    }
    let logits: TensorNode;
    if (this.setup.generate) {
      const { settings, genArgs } = this.setup;
      const gc = defaultNewTokens(settings.evalPredictionProfile, gcModel, this.generated++)
        ? effectiveConfig(gcModel, genArgs, 1, config.max_position_embeddings, true)
        : this.gc;
      const gen = await generateSeq2Seq(this.model, batch.inputIds, batch.attentionMask, gc);
      logits = padToWidth(gen, trainerPadWidth(gcModel, gen.shape[1]), tok.padTokenId);
      if (labels) labels = padToWidth(labels, trainerPadWidth(gcModel, labels.shape[1]), tok.padTokenId);
    } else {
      if (!decLogits) {
        throw new EvalpredError(
          `${ds.source}: without --predict-with-generate a seq2seq model is evaluated by teacher forcing, which needs targets: pass --label-column (the target text column).`,
          { file: ds.source },
        );
      }
      logits = this.head.logitsFrom({ logits: decLogits, encoder_last_hidden_state: enc.hidden }, this.info.modelOutputs);
    }
    // Seq2SeqTrainer: plain gather, B copies even on the last batch
    return { logits, labels, loss, lossCopies: this.setup.settings.batchSize, batchMapping };
  }

  finish(r: { predictions: TensorNode | null; labelIds: TensorNode | null }): string[] {
    return generatedWidthNote(this.setup.generate, r.predictions, r.labelIds);
  }

  close(): Promise<void> {
    this.setup.close();
    return this.model.close();
  }
}
