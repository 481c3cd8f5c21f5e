// The evaluation loop for generative models (called by runLoop when generativeTaskOf says so):
//   seq2seq-lm  Seq2SeqTrainer (run_summarization / run_translation): inputs from a text column or template,
//               labels = tokenizer(text_target) truncated to --max-target-length and padded with -100
//               (DataCollatorForSeq2Seq). With --predict-with-generate the predictions are generated ids padded
//               to model.generation_config's width with the tokenizer's pad id, labels likewise (spec §6.2);
//               otherwise (logits, encoder_last_hidden_state). Loss: teacher-forced decoder pass, no shift;
//               plain gather, so every batch adds B copies (spec §4.4, §6.6).
//   causal-lm   Trainer on a decoder-only model: labels = input_ids with pad positions -100
//               (DataCollatorForLanguageModeling(mlm=False)); predictions = logits [N, L, V] or their argmax;
//               loss with the one-token shift; gather_for_metrics (n_s copies); perplexity = exp(eval_loss).
import { Dataset, loadDataset, renderTemplate, requireField } from '../data';
import { EvalpredError } from '../errors';
import { LoopContainer, argmaxPreprocess, flatLosses, nodeBytes, numpyMeanFloat32 } from '../loop/accumulate';
import { evalBatchCount, type ColumnPlan } from '../loop/batches';
import { withLabelSmoothing } from '../model/labelSmoother';
import { CancelledError, LoopHooks, LoopProgress, LoopResult } from '../loop/evaluationLoop';
import { RunSettings, TaskName } from '../loop/settings';
import { closeRunners, preprocessFn } from '../metrics/runMetrics';
import { readModelConfig } from '../model/config';
import { GenerativeTask, generativeHeadFor } from '../model/heads';
import { Tensor, TensorNode } from '../tensor/tensor';
import { Encoded, LoadedTokenizer, collate, loadTokenizer, padLabels } from '../text';
import { CausalLmModel } from './causalModel';
import { effectiveConfig, readGenerationConfig, trainerPadWidth } from './generationConfig';
import { generateCausal, generateSeq2Seq } from './generate';
import { Seq2SeqModel, shiftTokensRight } from './seq2seqModel';

const SOURCE_GUESSES = ['document', 'article', 'source', 'input', 'question', 'text', 'sentence', 'content'];
const TARGET_GUESSES = ['summary', 'highlights', 'target', 'answer', 'labels', 'label', 'output'];

/** Right-pad [n, w] int64 to `width` with `value` (Seq2SeqTrainer._pad_tensors_to_max_len). */
export function padToWidth(t: Tensor, width: number, value: number): Tensor {
  const [n, w] = t.shape;
  if (w >= width) return t;
  const out = Tensor.full('int64', [n, width], value);
  const s = t.data as BigInt64Array, d = out.data as BigInt64Array;
  for (let r = 0; r < n; r++) d.set(s.subarray(r * w, (r + 1) * w), r * width);
  return out;
}

/** DataCollatorForLanguageModeling(mlm=False): labels = input_ids with every pad id set to -100 (also an eos used as pad). */
export function causalLabels(inputIds: Tensor, padTokenId: number): Tensor {
  const out = Tensor.full('int64', inputIds.shape);
  const s = inputIds.data as BigInt64Array, d = out.data as BigInt64Array;
  const pad = BigInt(padTokenId);
  for (let i = 0; i < s.length; i++) d[i] = s[i] === pad ? -100n : s[i];
  return out;
}

function planText(ds: Dataset, s: RunSettings, task: GenerativeTask, notes: string[]): { text?: string; template?: string; label?: string } {
  const has = (c?: string) => c !== undefined && ds.columns.includes(c.split(/[.[]/)[0]);
  if (s.textColumn && !has(s.textColumn)) requireField(ds, 0, s.textColumn);
  if (s.labelColumn && !has(s.labelColumn)) requireField(ds, 0, s.labelColumn);
  let text = s.textColumn;
  if (!text && !s.textTemplate) {
    text = (task === 'causal-lm' ? ['text', 'content', 'document', 'sentence'] : SOURCE_GUESSES).find((c) => has(c));
    if (!text) {
      throw new EvalpredError(
        `${ds.source}: no text column given and none of the usual names is among the columns ${ds.columns.join(', ')}. ` +
          `Pass --text-column or --text-template (e.g. 'question: {question} context: {context}').`,
        { file: ds.source },
      );
    }
    notes.push(`text column: ${text} (guessed from the column names)`);
  }
  let label: string | undefined;
  if (task === 'seq2seq-lm') {
    label = s.labelColumn ?? TARGET_GUESSES.find((c) => has(c));
    if (!s.labelColumn && label) notes.push(`target column: ${label} (guessed)`);
    if (!label) notes.push(`no target column (looked for ${TARGET_GUESSES.join(', ')}): no labels, no eval_loss, compute_metrics is not called. Pass --label-column.`);
  }
  return { text, template: s.textTemplate, label };
}

function asText(v: unknown, ds: Dataset, row: number, column: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new EvalpredError(`${ds.source}, row ${row}, column "${column}": expected text, found ${v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v}.`, {
    file: ds.source,
    row,
    column,
  });
}

export async function runGenerativeLoop(settings: RunSettings, task: GenerativeTask, hooks: LoopHooks = {}): Promise<LoopResult> {
  const log = hooks.log ?? (() => {});
  const notes: string[] = [];
  const config = readModelConfig(settings.model);
  const tok: LoadedTokenizer = await loadTokenizer(settings.model);
  notes.push(...tok.notes);
  const ds = await loadDataset(settings.dataset, { split: settings.split });
  const numRows = settings.maxSamples !== undefined ? Math.min(settings.maxSamples, ds.numRows) : ds.numRows;
  const cols = planText(ds, settings, task, notes);
  const tml = tok.modelMaxLength !== null && tok.modelMaxLength < 1e6 ? tok.modelMaxLength : undefined;
  const maxLength = settings.maxLength ?? tml ?? 512;
  const maxTarget = settings.maxTargetLength ?? maxLength;
  const B = settings.batchSize;
  if (!Number.isInteger(B) || B < 1) throw new EvalpredError(`batch size must be a positive integer, got ${B}`);
  const numBatches = evalBatchCount(numRows, B, settings.dataloaderDropLast);
  const concat = settings.evalDoConcatBatches;
  const preds = new LoopContainer('predictions', concat);
  const labelsC = new LoopContainer('label_ids', concat);
  const inputsC = new LoopContainer('inputs', concat);
  const lossesC = new LoopContainer('losses', concat);
  const wantInputs = settings.includeForMetrics.includes('inputs');
  const userPreprocess = settings.metrics ? await preprocessFn(settings.metrics) : null;
  if (userPreprocess) notes.push(`predictions were reduced per batch by the preprocess_logits_for_metrics in ${settings.metrics}`);
  const generate = !!settings.predictWithGenerate;
  if (generate && task === 'causal-lm') {
    notes.push(
      'decoder-only generate(): each prediction row starts with its prompt (padding included), then the new tokens (spec §6.2 step 3, pitfall 14); ' +
        'labels are the prompt ids with pad -> -100 (DataCollatorForLanguageModeling), padded like the predictions.',
    );
    if (tok.padSide === 'right') notes.push('the tokenizer pads on the right: transformers warns that decoder-only generation wants padding_side="left"; rows are generated as given.');
  }
  if (generate && (userPreprocess || settings.preprocess)) {
    notes.push('with --predict-with-generate the preprocessor receives generated token ids, not logits (spec §6.5, pitfall 15).');
  }

  const encodeRow = (i: number): Encoded => {
    const text = cols.template ? renderTemplate(cols.template, ds, i) : asText(requireField(ds, i, cols.text!), ds, i, cols.text!);
    return tok.encode(text, undefined, { maxLength, align: false });
  };

  let seq: Seq2SeqModel | null = null;
  let clm: CausalLmModel | null = null;
  try {
    let modelInputs: string[];
    let modelOutputs: string[];
    const gcModel = readGenerationConfig(settings.model);
    if (task === 'seq2seq-lm') {
      seq = await Seq2SeqModel.open(settings.model);
      modelInputs = [...seq.encoder.inputNames];
      modelOutputs = [...seq.decoder.outputNames];
      notes.push(`seq2seq export, ${seq.files.layout} layout${seq.hasCache ? ', decoding with the KV cache' : ' without past key values (no decoder_with_past_model.onnx): every step re-runs the prefix'}`);
      notes.push(`losses follow Seq2SeqTrainer: plain gather, so the last batch adds ${B} copies of its loss (spec §4.4).`);
    } else {
      clm = await CausalLmModel.open(settings.model);
      modelInputs = [...clm.session.inputNames];
      modelOutputs = [...clm.session.outputNames];
      notes.push('labels = input_ids with pad tokens set to -100, as DataCollatorForLanguageModeling(mlm=False) builds them; position t of the logits predicts label t+1.');
    }
    const head = withLabelSmoothing(generativeHeadFor(config, modelOutputs, task), settings.labelSmoothingFactor);
    const genArgs = { maxLength: settings.generationMaxLength, maxNewTokens: settings.maxNewTokens, numBeams: settings.numBeams };
    // decoder-only: max_new_tokens counts from each batch's prompt width, so that config is made per batch
    const gc = effectiveConfig(gcModel, genArgs, 1);
    if (generate && gcModel.unsupported.length) {
      notes.push(`${gcModel.source} sets ${gcModel.unsupported.join(', ')}, which evalpred does not apply: generated ids may differ from transformers'.`);
    }
    if (generate) {
      log(`generating with ${gc.numBeams > 1 ? `beam search (${gc.numBeams} beams)` : 'greedy search'}, ${gc.maxNewTokens !== null ? `${gc.maxNewTokens} new tokens at most` : `max length ${gc.maxLength}`} (model generation_config max_length ${gcModel.maxLength})`);
      if (settings.generationMaxLength === undefined && settings.maxNewTokens === undefined && gcModel.maxNewTokens === null && gcModel.maxLength === 20) {
        notes.push('generation is capped at max_length 20 (the GenerationConfig default): pass --generation-max-length or --max-new-tokens (pitfall 16).');
      }
    }
    let lossOk = true;
    let warned = false;
    log(`evaluating ${numRows} samples in ${numBatches} batches of ${B} (${task}${generate ? ', predict_with_generate' : ''})`);
    const t0 = performance.now();
    let tokenizeMs = 0;
    let inferenceMs = 0;
    for (let b = 0; b < numBatches; b++) {
      if (hooks.cancelled?.()) throw new CancelledError();
      const start = b * B;
      const end = Math.min(numRows, start + B);
      const tk = performance.now();
      const encs: Encoded[] = [];
      for (let i = start; i < end; i++) encs.push(encodeRow(i));
      const col = collate(encs, { padTokenId: tok.padTokenId, padSide: tok.padSide, names: ['input_ids', 'attention_mask'] });
      const ids = col.feeds.input_ids, mask = col.feeds.attention_mask;
      let logits: TensorNode;
      let labels: Tensor | null = null;
      let loss: number | null = null;
      if (seq && cols.label) {
        const rows: number[][] = [];
        for (let i = start; i < end; i++) rows.push(tok.encode(asText(requireField(ds, i, cols.label), ds, i, cols.label), undefined, { maxLength: maxTarget, align: false }).ids);
        labels = padLabels(rows, Math.max(...rows.map((r) => r.length)), tok.padSide, -100);
      }
      const ti = performance.now();
      tokenizeMs += ti - tk;
      if (seq) {
        const enc = await seq.encode(ids, mask);
        let decLogits: Tensor | null = null;
        if (labels) {
          // the model shifts labels with model.config's decoder_start_token_id and pad_token_id (T5 _shift_right, BART shift_tokens_right)
          const rawStart = config.raw.decoder_start_token_id;
          const start = typeof rawStart === 'number' ? rawStart : (gcModel.decoderStartTokenId ?? config.pad_token_id ?? 0);
          decLogits = await seq.forward(shiftTokensRight(labels, config.pad_token_id ?? tok.padTokenId, start), enc);
          loss = head.batchLoss(decLogits, labels);
        }
        if (generate) {
          const gen = await generateSeq2Seq(seq, ids, mask, gc);
          logits = padToWidth(gen, trainerPadWidth(gcModel, gen.shape[1]), tok.padTokenId);
          if (labels) labels = padToWidth(labels, trainerPadWidth(gcModel, labels.shape[1]), tok.padTokenId);
        } else {
          if (!decLogits) {
            throw new EvalpredError(
              `${ds.source}: without --predict-with-generate a seq2seq model is evaluated by teacher forcing, which needs targets: pass --label-column (the target text column).`,
              { file: ds.source },
            );
          }
          logits = head.logitsFrom({ logits: decLogits, encoder_last_hidden_state: enc.hidden }, modelOutputs);
        }
      } else {
        const out = await clm!.forward(ids, mask);
        logits = head.logitsFrom(out, modelOutputs);
        labels = causalLabels(ids, tok.padTokenId);
        loss = head.batchLoss(logits, labels);
        if (generate) {
          const gcBatch = effectiveConfig(gcModel, genArgs, ids.shape[1]);
          const gen = await generateCausal(clm!, ids, mask, gcBatch);
          logits = padToWidth(gen, trainerPadWidth(gcModel, gen.shape[1]), tok.padTokenId);
          labels = padToWidth(labels, trainerPadWidth(gcModel, labels.shape[1]), tok.padTokenId);
        }
      }
      inferenceMs += performance.now() - ti;
      if (labels && lossOk) {
        if (loss === null) {
          lossOk = false;
          notes.push(`Trainer would report eval_loss, but the ${task} loss cannot be reproduced here; it is omitted.`);
        } else lossesC.add(Tensor.full('float32', [seq || generate ? B : end - start], loss)); // Seq2SeqTrainer: plain gather
      }
      if (wantInputs) inputsC.add(ids);
      if (userPreprocess) logits = await userPreprocess(logits, labels);
      else if (settings.preprocess === 'argmax') logits = argmaxPreprocess(logits);
      if (!warned && b === 0 && !generate && !settings.preprocess && !userPreprocess) {
        warned = true;
        const projected = Math.round((nodeBytes(logits) / (end - start)) * numRows);
        log(
          `warning: predictions hold full logits: about ${projected} bytes (${(projected / 1024 ** 2).toFixed(1)} MiB) for ${numRows} samples ` +
            `(N x sequence x vocab floats, more where batches are wider); --preprocess argmax keeps only the predicted ids (spec §5, pitfall 4).`,
        );
      }
      preds.add(logits);
      if (labels) labelsC.add(labels);
      const p: LoopProgress = { batch: b + 1, numBatches, samples: end, numSamples: numRows, elapsedMs: performance.now() - t0 };
      hooks.progress?.(p);
      if (hooks.afterBatch) await hooks.afterBatch(p);
    }
    const runtimeSeconds = (performance.now() - t0) / 1000;
    const predNode = preds.result(), labelNode = labelsC.result();
    const pw = widthOf(predNode), lw = widthOf(labelNode);
    if (generate && pw !== null && lw !== null && pw !== lw) {
      notes.push(
        `predictions are ${pw} tokens wide and label_ids ${lw}: compare them row by row after decoding, not element-wise ` +
          `(spec §6.4, pitfall 13); both hold -100 where a batch was narrower than the widest.`,
      );
    }
    if (userPreprocess) notes.push(...userPreprocess.notes); // e.g. NumPy arrays instead of torch tensors
    const lossNode = lossOk ? lossesC.result() : null;
    const evalLoss = lossNode ? numpyMeanFloat32(flatLosses(lossNode)) : null;
    if (evalLoss !== null && task === 'causal-lm') notes.push(`perplexity = exp(eval_loss) = ${Math.exp(evalLoss)} (as run_clm reports it)`);
    const plan: ColumnPlan = { task, text: cols.text, template: cols.template, label: cols.label, notes: [] };
    return {
      evalPred: {
        predictions: predNode,
        labelIds: labelNode,
        inputs: wantInputs ? inputsC.result() : null,
        losses: settings.includeForMetrics.includes('loss') ? lossNode : null,
      },
      numSamples: numRows,
      evalLoss,
      // TaskName (settings.ts) does not list the generative tasks yet; consumers compare the string.
      task,
      runtimeSeconds,
      timings: { tokenizeMs, inferenceMs, otherMs: runtimeSeconds * 1000 - tokenizeMs - inferenceMs },
      numSteps: Math.ceil(numRows / B), // as Trainer.evaluate reports it: ceil(num_samples / batch size)
      notes,
      info: { columns: plan, maxLength, modelInputs, modelOutputs },
    };
  } finally {
    await seq?.close();
    await clm?.close();
    await closeRunners();
  }
}

function widthOf(node: TensorNode | null): number | null {
  return node instanceof Tensor && node.ndim === 2 ? node.shape[1] : null;
}

