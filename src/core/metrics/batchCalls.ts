// batch_eval_metrics (docs/trainer-semantics.md#batch_eval_metrics): Trainer calls compute_metrics once per batch,
// compute_metrics(EvalPrediction(that batch's logits, labels, inputs?, losses?), compute_result=is_last_step), and
// evaluate() reports only the last call's result. A cache made for it keeps every field per batch (list nodes,
// docs/cache-format.md#nodes), so each call can be replayed from the cache: call i gets entry i of every field.
import { EvalpredError } from '../errors';
import type { CacheManifest } from '../cache/manifest';

/** One compute_metrics call of batch_eval_metrics: 0-based batch index, the number of calls, and the flag. */
export interface BatchCall {
  index: number;
  count: number;
  /** Trainer's is_last_step (accelerate's end_of_dataloader): true on the last call only. */
  computeResult: boolean;
}

type Node = object;
const isList = (n: Node | null | undefined): n is { list: Node[] } => !!n && 'list' in n && Array.isArray((n as { list: unknown }).list);

/**
 * Whether the run that made this cache used batch_eval_metrics: `evalpred run`'s settings, or the TrainingArguments
 * a capture recorded (evalpred.capture keeps one list entry per call; older captures concatenated them).
 */
export function recordedBatchEvalMetrics(manifest: CacheManifest): boolean {
  const s = (manifest.producer as { settings?: { batchEvalMetrics?: unknown } } | undefined)?.settings;
  if (s?.batchEvalMetrics === true) return true;
  const captured = (manifest as { capture?: { args?: { batch_eval_metrics?: unknown } } }).capture?.args?.batch_eval_metrics === true;
  return captured && isList(manifest.eval_prediction.predictions);
}

/**
 * How many times Trainer calls compute_metrics: once per batch that has both logits and labels. The fields
 * must be per-batch lists; a cache of concatenated arrays has lost the batch boundaries (and holds -100
 * padding between batches that no single batch had), so it cannot be replayed call by call.
 */
export function batchCallCount(fields: { predictions: Node | null; labels: Node | null }, cacheDir: string): number {
  const { predictions, labels } = fields;
  if (!labels) return 0; // no batch had labels: Trainer never calls compute_metrics
  if (!isList(predictions) || !isList(labels)) {
    throw new EvalpredError(
      `${cacheDir}: batch_eval_metrics calls compute_metrics once per batch, but this cache holds predictions concatenated across batches, ` +
        `so the batches cannot be told apart. Run the evaluation again with --batch-eval-metrics (or --no-concat) to keep each batch.`,
      { file: cacheDir },
    );
  }
  if (labels.list.length !== predictions.list.length) {
    throw new EvalpredError(
      `${cacheDir}: only ${labels.list.length} of ${predictions.list.length} batches have labels, so the batch_eval_metrics calls cannot be matched ` +
        `to their predictions (Trainer skips the batches without labels). Check the label column (--label-column).`,
      { file: cacheDir },
    );
  }
  return predictions.list.length;
}

/** The calls in order: compute_result is true on the last one only. */
export function batchCalls(count: number): BatchCall[] {
  return Array.from({ length: count }, (_, index) => ({ index, count, computeResult: index === count - 1 }));
}

/** Entry `index` of a per-batch field (null stays null). */
export function batchEntry<N extends Node>(node: N | null, index: number, name: string): N | null {
  if (!node) return null;
  if (!isList(node) || index >= node.list.length) {
    throw new EvalpredError(`the prediction cache's ${name} has no entry for batch ${index + 1}; it was changed after it was written. Run the evaluation again.`, { tensor: name });
  }
  return node.list[index] as N;
}

/** The four fields of one call, under the given key names (the cache's label_ids or the core's labelIds). */
export function batchFields<N extends Node>(fields: Record<string, N | null>, index: number): Record<string, N | null> {
  return Object.fromEntries(Object.entries(fields).map(([k, n]) => [k, batchEntry(n, index, k)]));
}

/** A short text for the console: "compute_metrics call 2 of 5 (batch 2, compute_result=False)". */
export function describeBatchCall(call: BatchCall, language: 'py' | 'js' = 'py'): string {
  const flag = language === 'py' ? (call.computeResult ? 'True' : 'False') : String(call.computeResult);
  return `batch ${call.index + 1} of ${call.count}, compute_result=${flag}`;
}
