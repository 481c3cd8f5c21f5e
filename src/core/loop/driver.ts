// The evaluation loop with Trainer semantics (docs/trainer-semantics.md#the-loop-in-one-page), one driver for every task family, as a runtime that
// reports through hooks (the mock-debug split: this file knows nothing of DAP, workers, metric runners or the CLI).
// It owns what every family shares: the containers, the preprocess, the loss, timing, progress, cancellation,
// pause hooks and the result; a family (families.ts picks it) supplies its batch and forward steps.
import { Dataset, loadDataset, rowInputText } from '../data';
import { EvalpredError } from '../errors';
import { ModelConfig, readModelConfig } from '../model/config';
import { BatchInputs, Tensor, TensorNode, EvalPredictionData } from '../tensor/tensor';
import { LoadedTokenizer, loadTokenizer } from '../text';
import { freeBytes, humanBytes } from '../tensor/diskSpace';
import { DiskWatch } from './diskWatch';
import { LoopContainer, argmaxPreprocess, flatLosses, nodeBytes, numpyMeanFloat32 } from './accumulate';
import { Accumulator, SpoolContainer, batchInputsFile, spillNode } from './spool';
import { evalBatchCount } from './batches';
import { inOrder } from './inOrder';
import { DEFAULT_LABEL_KEYS, checkLabelNames, selectLabels } from './labelNames';
import { openFamily } from './families';
import { RunSettings } from './settings';
import { CancelledError, FIRST_ROW_TEXTS, FamilyContext, LoopHooks, LoopProgress, LoopResult } from './types';

export async function runLoop(settings: RunSettings, hooks: LoopHooks = {}): Promise<LoopResult> {
  const log = hooks.log ?? (() => {});
  const notes: string[] = [];
  const config: ModelConfig = readModelConfig(settings.model);
  const B = settings.batchSize;
  if (!Number.isInteger(B) || B < 1) throw new EvalpredError(`batch size must be a positive integer, got ${B}`);
  if (settings.batchEvalMetrics && settings.docStride !== undefined) {
    throw new EvalpredError(
      '--batch-eval-metrics with --doc-stride: run_qa.py scores the answers post-processed over every feature of an example, which a ' +
        'per-batch compute_metrics never sees (QuestionAnsweringTrainer runs the loop without compute_metrics). Leave out one of the two.',
    );
  }
  const userPreprocess = hooks.preprocess ?? null;
  const tok: LoadedTokenizer = await loadTokenizer(settings.model);
  const ds = await loadDataset(settings.dataset, { split: settings.split });
  const numRows = settings.maxSamples !== undefined ? Math.min(settings.maxSamples, ds.numRows) : ds.numRows;
  const maxLength = resolveMaxLength(settings, tok, config, notes);
  const ctx: FamilyContext = { config, tok, ds, numRows, maxLength, reduced: !!userPreprocess || !!settings.preprocess, notes, log, featuresCache: hooks.featuresCache };
  const family = await openFamily(settings, ctx);
  const spools: SpoolContainer[] = [];
  try {
    await hooks.ready?.();
    // Trainer iterates over its eval dataset: the rows, or run_qa's features (several windows per row).
    const numItems = family.numItems ?? numRows;
    // label_names: which of the batch's label keys become label_ids, in which order (labelNames.ts).
    const labelKeys = family.labelKeys ?? DEFAULT_LABEL_KEYS;
    const labelNames = settings.labelNames;
    if (labelNames) checkLabelNames(labelNames, labelKeys, family.task);
    const numBatches = evalBatchCount(numItems, B, settings.dataloaderDropLast);
    // batch_eval_metrics never concatenates what compute_metrics sees: each call gets its own batch, so the
    // cache keeps every field per batch (docs/trainer-semantics.md#batch_eval_metrics).
    const concat = settings.evalDoConcatBatches && !settings.batchEvalMetrics;
    const spoolDir = hooks.spoolDir;
    // Fields named as the cache names them (docs/cache-format.md#layout): spooled, they are its files.
    const container = (name: string): Accumulator => {
      if (!spoolDir) return new LoopContainer(name, concat);
      const c = new SpoolContainer(name, concat, spoolDir);
      spools.push(c);
      return c;
    };
    const preds = container('predictions');
    const labels = container('label_ids');
    const inputs = container('inputs');
    // The loss copies stay in memory (N floats) for eval_loss; written to the cache only when included.
    const losses = new LoopContainer('losses', concat);
    let lossesOk = true;
    const wantInputs = settings.includeForMetrics.includes('inputs');
    // batch_eval_metrics hands each call the whole batch mapping as inputs: one more per-batch container for every
    // key besides the main input, whose batches are `inputs` (docs/trainer-semantics.md#batch_eval_metrics).
    const mapping = wantInputs && settings.batchEvalMetrics ? new BatchMappingContainers(MAIN_INPUT, container) : null;
    // preprocess_logits_for_metrics from the metric file wins over the built-in argmax (docs/trainer-semantics.md#preprocess_logits_for_metrics).
    if (userPreprocess) notes.push(`predictions were reduced per batch by the preprocess_logits_for_metrics in ${settings.metrics}`);
    log(`evaluating ${numItems}${numItems !== numRows ? ` features of ${numRows} examples` : ' samples'} in ${numBatches} batches of ${B} (${family.task}, max length ${family.info.maxLength}${family.describe})`);
    // Free space: checked before the first batch is written and again as the run goes (diskWatch.ts).
    const disk = spoolDir ? new DiskWatch(spoolDir, numItems, hooks.freeBytes ?? freeBytes, hooks.diskCheckEveryBytes) : undefined;
    const onDisk = () => spools.reduce((a, c) => a + c.diskBytes, 0);
    const t0 = performance.now();
    let tokenizeMs = 0;
    let inferenceMs = 0;
    // With inference lanes, several batches run at once; their results come here in order (inOrder.ts).
    const steps = inOrder(numBatches, family.concurrency ?? 1, async (b) => {
      // Checked as each batch starts (a cancelled run starts no more; one started is reported after those before it).
      if (hooks.cancelled?.()) throw new CancelledError();
      const end = Math.min(numItems, (b + 1) * B);
      const tb = performance.now();
      const batch = await family.batch(b * B, end);
      const tr = performance.now();
      const out = await family.forward(batch, lossesOk, b);
      // With batches in flight these overlap: their sum can exceed the loop's time.
      tokenizeMs += tr - tb;
      inferenceMs += performance.now() - tr;
      return { b, batch, out, end };
    });
    for await (const { b, batch, out, end } of steps) {
      // Loss first: Trainer's prediction_step computes it from the raw outputs, before any preprocessing.
      if (out.labels && lossesOk) {
        if (out.loss === null) {
          lossesOk = false;
          notes.push(`Trainer would report eval_loss, but the ${family.task} head's loss cannot be reproduced exactly here; it is omitted.`);
        } else {
          // gather_for_metrics keeps n_s copies of the batch mean (B, truncated to r on the last batch): docs/trainer-semantics.md#loss-averaging.
          losses.add(Tensor.full('float32', [out.lossCopies], out.loss));
        }
      }
      const labelIds = out.labels && labelNames ? selectLabels(out.labels, labelKeys, labelNames) : out.labels;
      let logits: TensorNode = out.logits;
      if (userPreprocess) logits = await userPreprocess(logits, labelIds);
      else if (settings.preprocess === 'argmax') logits = argmaxPreprocess(logits);
      // Checked against the free disk space before this batch is written (the first one: before anything is): docs/trainer-semantics.md#pitfalls.
      // batch_eval_metrics' whole batch mapping counts every key (the main input's bytes are among them)
      const inputBytes = mapping && out.batchMapping ? Object.values(out.batchMapping).reduce((n, t) => n + nodeBytes(t), 0) : nodeBytes(batch.inputIds);
      disk?.batch(batch.size, nodeBytes(logits) + nodeBytes(labelIds) + (wantInputs ? inputBytes : 0), onDisk);
      if (b === 0 && !userPreprocess && !settings.preprocess) noteFullLogits(nodeBytes(logits), batch.size, numItems, family.fullLogitsWarnBytes, disk?.lastFree, log);
      if (wantInputs) inputs.add(batch.inputIds);
      if (mapping && out.batchMapping) mapping.add(out.batchMapping, b);
      preds.add(logits);
      if (labelIds) labels.add(labelIds);
      const p: LoopProgress = { batch: b + 1, numBatches, samples: end, numSamples: numItems, elapsedMs: performance.now() - t0 };
      hooks.progress?.(p);
      if (hooks.afterBatch) await hooks.afterBatch(p);
    }
    // The last batches' spool writes may still be under way (spool.ts): on disk before anything reads them back.
    await Promise.all(spools.map((c) => c.settle()));
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
    const batchInputs = mapping?.result();
    if (batchInputs) evalPred.batchInputs = batchInputs;
    if (spoolDir && evalPred.losses) evalPred.losses = spillNode(spoolDir, evalPred.losses, 'losses');
    notes.push(...(family.finish?.({ predictions: evalPred.predictions, labelIds: evalPred.labelIds, evalLoss }) ?? []));
    // numSteps as Trainer.evaluate reports it: ceil(num_samples / batch size), also with dataloader_drop_last
    // Recorded only when set, so caches of default runs keep their manifest (the view falls back to the task's keys).
    const info = labelNames ? { ...family.info, labelNames: [...labelNames] } : family.info;
    const result: LoopResult = { evalPred, numSamples: numItems, evalLoss, task: family.task, runtimeSeconds, timings, numSteps: Math.ceil(numItems / B), notes, info };
    if (family.qa) result.qa = family.qa;
    const texts = firstRowTexts(ds, Math.min(numRows, FIRST_ROW_TEXTS), family.info.columns);
    if (texts) result.firstRowTexts = texts;
    return result;
  } catch (e) {
    // A failed or cancelled run (a disk that would fill among them) leaves no spool files behind; the folder
    // itself, and anything else in it, is the caller's (evaluate() removes its reserved temp folder).
    for (const c of spools) c.discard();
    throw e;
  } finally {
    await family.close();
  }
}

/** The key of Trainer's batch that is the model's main input (model.main_input_name), the concatenated `inputs` otherwise. */
const MAIN_INPUT = 'input_ids';

/**
 * Per-batch containers for the keys of the batch mapping besides the main input (their cache files are
 * batchInputsFile's, docs/cache-format.md#batch-inputs). Every batch must bring the same keys in the same order.
 */
class BatchMappingContainers {
  private keys: string[] | null = null;
  private readonly lists = new Map<string, Accumulator>();

  constructor(
    private readonly main: string,
    private readonly container: (name: string) => Accumulator,
  ) {}

  add(batch: Record<string, Tensor>, index: number): void {
    const keys = Object.keys(batch);
    if (!keys.includes(this.main)) throw new Error(`internal: the batch mapping of batch ${index + 1} has no ${this.main}`);
    if (this.keys === null) {
      if (index !== 0) return; // a family that gave no mapping for the first batch gives none
      this.keys = keys;
      for (const k of keys) if (k !== this.main) this.lists.set(k, this.container(batchInputsFile(k)));
    } else if (keys.join() !== this.keys.join()) {
      throw new Error(`internal: batch ${index + 1} has the keys ${keys.join(', ')}, batch 1 had ${this.keys.join(', ')}`);
    }
    for (const [k, c] of this.lists) c.add(batch[k]);
  }

  result(): BatchInputs | undefined {
    if (!this.keys) return undefined;
    return { keys: [...this.keys], main: this.main, lists: Object.fromEntries([...this.lists].map(([k, c]) => [k, c.result()!])) };
  }
}

/** The input text of rows [0, n) as the summary shows it (a list column joined by spaces), or undefined without a text column. */
function firstRowTexts(ds: Dataset, n: number, columns: { text?: string; template?: string }): string[] | undefined {
  if (!columns.text && !columns.template) return undefined;
  return Array.from({ length: n }, (_, i) => rowInputText(ds, i, columns));
}

/** --max-length, else the tokenizer's model_max_length capped by the model's max_position_embeddings. */
export function resolveMaxLength(s: RunSettings, tok: LoadedTokenizer, config: ModelConfig, notes: string[]): number {
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

/**
 * Full logits pile up N x (sequence x) classes floats: a note, once, from the first batch, above the family's
 * threshold, with the projected size and (when the arrays stream to disk) the free space there.
 */
function noteFullLogits(bytes: number, batchSize: number, numRows: number, threshold: number | null, free: number | undefined, log: (line: string) => void): void {
  if (threshold === null) return;
  const projected = Math.round((bytes / batchSize) * numRows);
  if (projected <= threshold) return;
  const room = free === undefined ? '' : free === Infinity ? ' on disk' : ` on disk, where ${free} bytes (${humanBytes(free)}) are free`;
  log(
    `note: predictions hold full logits: about ${projected} bytes (${humanBytes(projected)}) for ${numRows} samples${room} ` +
      `(more where later batches are wider); --preprocess argmax keeps only the predicted ids (see docs/trainer-semantics.md#preprocess_logits_for_metrics).`,
  );
}
