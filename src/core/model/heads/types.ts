// The contracts of the task heads: what the loop asks of a head, and how a head reads an ONNX run's outputs.
// Types only, so every head file and the dispatcher (index.ts) can share them without importing each other.
import type { ClassifierTaskName, GenerativeTaskName } from '../../tasks';
import type { Tensor, TensorNode } from '../../tensor/tensor';

export type Task = ClassifierTaskName;
/** Generative models (decoder-only LMs and encoder-decoders): their batch and forward steps live in src/core/generate. */
export type GenerativeTask = GenerativeTaskName;
export interface BatchLabels { node: TensorNode | null }  // Trainer's labels for this batch: a Tensor, or {tuple:[start,end]} for QA
export interface TaskHead {
  readonly task: Task;
  /** find_labels(): 'labels' or ['start_positions','end_positions']. */
  readonly labelNames: string[];
  /** Trainer's logits from ONNX outputs: order as the PyTorch ModelOutput would (logits; start_logits, end_logits),
   *  drop ignore_keys (present.* / past_key_values) and 'loss', then unwrap a length-1 result (docs/trainer-semantics.md#predictions-from-model-outputs). */
  logitsFrom(outputs: Record<string, Tensor>, outputNames: readonly string[]): TensorNode;
  /** The model's own loss for this batch (float32 mean), or null when it cannot be reproduced exactly. */
  batchLoss(logits: TensorNode, labels: TensorNode): number | null;
  /** What the emulation does differently from PyTorch, or decided for the user (extra outputs kept, outputs dropped). */
  readonly notes: string[];
}

/** A head for the generative loop: the same contract as TaskHead, with a generative task name. */
export interface GenerativeHead extends Omit<TaskHead, 'task'> {
  readonly task: GenerativeTask;
}

/** Which outputs form the logits, in what order, and which are dropped (docs/trainer-semantics.md#predictions-from-model-outputs). */
export interface OutputLayout {
  task: Task | GenerativeTask;
  /** ModelOutput fields of the head, in field order (present in the graph). */
  main: string[];
  /** Graph outputs beyond the main ones, kept after them in graph order. */
  extra: string[];
  /** Graph outputs dropped: 'loss' and ignore_keys (present.* for past_key_values). */
  dropped: string[];
  notes: string[];
}
