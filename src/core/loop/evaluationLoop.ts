// The evaluation loop with Trainer semantics (spec §1 LOOP), as a runtime that reports through callbacks
// (the mock-debug split: this file knows nothing of DAP, workers or the CLI). It runs wherever it is
// created; runEvaluation() puts it in a worker thread because onnxruntime's run blocks its JS thread.
import { Dataset, loadDataset } from '../data';
import { EvalpredError } from '../errors';
import { ModelConfig, readModelConfig } from '../model/config';
import { TaskHead, headFor } from '../model/heads';
import { BUILDABLE_INPUTS, ModelSession, openModel } from '../model/session';
import { Tensor, TensorNode, EvalPredictionData } from '../tensor/tensor';
import { LoadedTokenizer, loadTokenizer } from '../text';
import { closeRunners, preprocessFn } from '../metrics/runMetrics';
import { generativeTaskOf } from '../generate/detect';
import { runGenerativeLoop } from '../generate/loop';
import { LoopContainer, argmaxPreprocess, flatLosses, nodeBytes, numpyMeanFloat32 } from './accumulate';
import { BatchContext, ColumnPlan, evalBatchCount, planColumns, prepareBatch } from './batches';
import { withLabelSmoothing } from '../model/labelSmoother';
import { RunSettings, TaskName } from './settings';

export interface LoopProgress {
  batch: number; // 1-based count of finished batches
  numBatches: number;
  samples: number;
  numSamples: number;
  elapsedMs: number;
}

export interface LoopHooks {
  progress?(p: LoopProgress): void;
  log?(line: string): void;
  /** Called after each batch; the loop waits for it (the debug adapter's "stop after batch N"). */
  afterBatch?(p: LoopProgress): Promise<void> | void;
  /** Checked between batches. */
  cancelled?(): boolean;
}

export interface LoopResult {
  evalPred: EvalPredictionData;
  numSamples: number;
  /** float(np.mean(losses)) as Trainer reports eval_loss, or null when no loss could be computed. */
  evalLoss: number | null;
  task: TaskName;
  runtimeSeconds: number;
  /** Where the runtime went: tokenization and collation, onnxruntime, and the rest (loss, accumulation). */
  timings: { tokenizeMs: number; inferenceMs: number; otherMs: number };
  numSteps: number;
  notes: string[];
  /** For views and decoding: id2label, tokenizer folder, column plan. */
  info: { id2label?: Record<number, string>; columns: ColumnPlan; maxLength: number; modelInputs: string[]; modelOutputs: string[] };
}

export class CancelledError extends Error {
  constructor() {
    super('evaluation cancelled');
    this.name = 'CancelledError';
  }
}


const FULL_LOGITS_WARN_BYTES = 2 * 1024 ** 3;

export async function runLoop(settings: RunSettings, hooks: LoopHooks = {}): Promise<LoopResult> {
  const log = hooks.log ?? (() => {});
  const notes: string[] = [];
  const config: ModelConfig = readModelConfig(settings.model);
  // Causal LMs and seq2seq exports (and --predict-with-generate) have their own loop (src/core/generate).
  const generative = generativeTaskOf(settings.model, config, settings.task);
  if (generative) return runGenerativeLoop(settings, generative, hooks);
  if (settings.predictWithGenerate) {
    throw new EvalpredError(
      `${settings.model}: --predict-with-generate needs a generative model: a seq2seq export (encoder_model.onnx with decoder_model.onnx ` +
        `or decoder_model_merged.onnx, as optimum-cli export onnx --task text2text-generation-with-past writes them) or a decoder-only LM ` +
        `(config.json architectures …ForCausalLM / …LMHeadModel); this folder has neither.`,
      { file: settings.model },
    );
  }
  const session: ModelSession = await openModel(settings.model);
  try {
    // A generative --task was taken by generativeTaskOf above; what is left names an encoder head.
    const task = settings.task === 'causal-lm' || settings.task === 'seq2seq-lm' ? undefined : settings.task;
    const head: TaskHead = withLabelSmoothing(headFor(config, session.outputNames, task, session.outputs), settings.labelSmoothingFactor);
    notes.push(...session.notes, ...head.notes);
    const tok: LoadedTokenizer = await loadTokenizer(settings.model);
    const ds: Dataset = await loadDataset(settings.dataset, { split: settings.split });
    const numRows = settings.maxSamples !== undefined ? Math.min(settings.maxSamples, ds.numRows) : ds.numRows;
    const plan = planColumns(ds, head.task, settings);
    notes.push(...plan.notes);
    const maxLength = resolveMaxLength(settings, tok, config, notes);
    // The tokenizer gives input_ids/attention_mask/token_type_ids; the session fills position_ids and
    // refuses (naming it) any other input.
    const fromTokenizer = session.inputNames.filter((n) => n === 'input_ids' || n === 'attention_mask' || n === 'token_type_ids');
    if (!session.inputNames.includes('input_ids')) {
      throw new EvalpredError(
        `${session.modelFile}: the model has no input_ids input (inputs: ${session.inputNames.join(', ')}); evalpred feeds ` +
          `text models and builds ${[...BUILDABLE_INPUTS].join(', ')}.`,
        { file: session.modelFile },
      );
    }
    const ctx: BatchContext = { ds, tok, config, plan, inputNames: fromTokenizer, maxLength };
    const B = settings.batchSize;
    if (!Number.isInteger(B) || B < 1) throw new EvalpredError(`batch size must be a positive integer, got ${B}`);
    const numBatches = evalBatchCount(numRows, B, settings.dataloaderDropLast);
    const concat = settings.evalDoConcatBatches;
    const preds = new LoopContainer('predictions', concat);
    const labels = new LoopContainer('label_ids', concat);
    const inputs = new LoopContainer('inputs', concat);
    const losses = new LoopContainer('losses', concat);
    let lossesOk = true;
    const wantInputs = settings.includeForMetrics.includes('inputs');
    // preprocess_logits_for_metrics from the metric file wins over the built-in argmax (spec §5).
    const userPreprocess = settings.metrics ? await preprocessFn(settings.metrics) : null;
    if (userPreprocess) notes.push(`predictions were reduced per batch by the preprocess_logits_for_metrics in ${settings.metrics}`);
    log(`evaluating ${numRows} samples in ${numBatches} batches of ${B} (${head.task}, max length ${maxLength})`);
    const t0 = performance.now();
    let tokenizeMs = 0;
    let inferenceMs = 0;
    let warnedSize = false;
    for (let b = 0; b < numBatches; b++) {
      if (hooks.cancelled?.()) throw new CancelledError();
      const start = b * B;
      const end = Math.min(numRows, start + B);
      const tb = performance.now();
      const batch = prepareBatch(ctx, start, end);
      const tr = performance.now();
      const outputs = await session.run(batch.feeds);
      tokenizeMs += tr - tb;
      inferenceMs += performance.now() - tr;
      let logits = head.logitsFrom(outputs, session.outputNames);
      // Loss first: Trainer's prediction_step computes it from the raw outputs, before any preprocessing.
      if (batch.labels && lossesOk) {
        const loss = head.batchLoss(logits, batch.labels);
        if (loss === null) {
          lossesOk = false;
          notes.push(`Trainer would report eval_loss, but the ${head.task} head's loss cannot be reproduced exactly here; it is omitted.`);
        } else {
          // gather_for_metrics keeps n_s copies of the batch mean (B, truncated to r on the last batch): §4.4.
          losses.add(Tensor.full('float32', [batch.size], loss));
        }
      }
      if (wantInputs) inputs.add(batch.feeds.input_ids);
      if (userPreprocess) logits = await userPreprocess(logits, batch.labels);
      else if (settings.preprocess === 'argmax') logits = argmaxPreprocess(logits);
      preds.add(logits);
      if (batch.labels) labels.add(batch.labels);
      if (!warnedSize && b === 0 && !settings.preprocess) {
        const projected = (nodeBytes(logits) / batch.size) * numRows;
        if (projected > FULL_LOGITS_WARN_BYTES) {
          warnedSize = true;
          log(
            `warning: accumulating full logits will take about ${(projected / 1024 ** 3).toFixed(1)} GiB; ` +
              `--preprocess argmax keeps only the predicted ids (spec §5).`,
          );
        }
      }
      const p: LoopProgress = { batch: b + 1, numBatches, samples: end, numSamples: numRows, elapsedMs: performance.now() - t0 };
      hooks.progress?.(p);
      if (hooks.afterBatch) await hooks.afterBatch(p);
    }
    const runtimeSeconds = (performance.now() - t0) / 1000;
    if (userPreprocess) notes.push(...userPreprocess.notes); // e.g. NumPy arrays instead of torch tensors
    const timings = { tokenizeMs, inferenceMs, otherMs: runtimeSeconds * 1000 - tokenizeMs - inferenceMs };
    const lossNode = lossesOk ? losses.result() : null;
    const evalLoss = lossNode ? numpyMeanFloat32(flatLosses(lossNode)) : null;
    const evalPred: EvalPredictionData = {
      predictions: preds.result(),
      labelIds: labels.result(),
      inputs: wantInputs ? inputs.result() : null,
      losses: settings.includeForMetrics.includes('loss') ? lossNode : null,
    };
    return {
      evalPred,
      numSamples: numRows,
      evalLoss,
      task: head.task,
      runtimeSeconds,
      timings,
      numSteps: Math.ceil(numRows / B), // as Trainer.evaluate reports it: ceil(num_samples / batch size)
      notes,
      info: { id2label: config.id2label, columns: plan, maxLength, modelInputs: [...session.inputNames], modelOutputs: [...session.outputNames] },
    };
  } finally {
    await session.close();
    await closeRunners();
  }
}

/** --max-length, else the tokenizer's model_max_length capped by the model's max_position_embeddings. */
function resolveMaxLength(s: RunSettings, tok: LoadedTokenizer, config: ModelConfig, notes: string[]): number {
  const mpe = config.max_position_embeddings;
  if (s.maxLength !== undefined) {
    if (!Number.isInteger(s.maxLength) || s.maxLength < 1) throw new EvalpredError(`--max-length must be a positive integer, got ${s.maxLength}`);
    if (mpe && s.maxLength > mpe) notes.push(`--max-length ${s.maxLength} exceeds the model's max_position_embeddings ${mpe}`);
    return s.maxLength;
  }
  // Tokenizers without a limit report a huge sentinel (int(1e30)); treat anything absurd as unset.
  const tml = tok.modelMaxLength !== null && tok.modelMaxLength < 1e6 ? tok.modelMaxLength : undefined;
  const candidates = [tml, mpe].filter((v): v is number => typeof v === 'number' && v > 0);
  return candidates.length ? Math.min(...candidates) : 512;
}
