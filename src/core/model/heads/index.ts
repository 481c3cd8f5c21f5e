// Task heads: how one ONNX run becomes Trainer's (logits, loss) for a task, named like transformers'
// pipelines. The loop calls them through TaskHead; headFor picks one from config.json or the outputs.
import { EvalpredError } from '../../errors';
import { Tensor, TensorNode } from '../../tensor/tensor';
import { ModelConfig } from '../config';
import type { ValueInfo } from '../session';
import { CausalLmHead } from './causalLm';
import { QuestionAnsweringHead } from './questionAnswering';
import { Seq2SeqLmHead } from './seq2seq';
import { SequenceClassificationHead } from './sequenceClassification';
import { TokenClassificationHead } from './tokenClassification';

export type Task = 'sequence-classification' | 'token-classification' | 'question-answering';
/** Generative models run in src/core/generate (their own loop): decoder-only LMs and encoder-decoders. */
export type GenerativeTask = 'causal-lm' | 'seq2seq-lm';
export interface BatchLabels { node: TensorNode | null }  // Trainer's labels for this batch: a Tensor, or {tuple:[start,end]} for QA
export interface TaskHead {
  readonly task: Task;
  /** find_labels(): 'labels' or ['start_positions','end_positions']. */
  readonly labelNames: string[];
  /** Trainer's logits from ONNX outputs: order as the PyTorch ModelOutput would (logits; start_logits, end_logits),
   *  drop ignore_keys (present.* / past_key_values) and 'loss', then unwrap a length-1 result (spec §3.3, §3.4). */
  logitsFrom(outputs: Record<string, Tensor>, outputNames: readonly string[]): TensorNode;
  /** The model's own loss for this batch (float32 mean), or null when it cannot be reproduced exactly. */
  batchLoss(logits: TensorNode, labels: TensorNode): number | null;
  /** What the emulation does differently from PyTorch, or decided for the user (extra outputs kept, outputs dropped). */
  readonly notes: string[];
}

const SUFFIXES: readonly [string, Task][] = [
  ['ForSequenceClassification', 'sequence-classification'],
  ['ForTokenClassification', 'token-classification'],
  ['ForQuestionAnswering', 'question-answering'],
];
// Causal LMs and encoder-decoders are recognised by generativeTaskOf (src/core/generate/detect.ts) before the
// classification loop; their heads come from generativeHeadFor below.

/**
 * The head for this model: `override` if given, else config.architectures[0]'s suffix, else the outputs
 * (start_logits + end_logits -> QA; logits of rank 3 -> token classification, rank 2 -> sequence
 * classification; the ranks come from `outputInfo`, the session's output metadata, when passed).
 */
export function headFor(config: ModelConfig, outputNames: readonly string[], override?: Task, outputInfo?: readonly ValueInfo[]): TaskHead {
  const task = override ?? detectTask(config, outputNames, outputInfo);
  const layout = outputLayout(config, outputNames, task);
  if (task === 'question-answering') return new QuestionAnsweringHead(layout);
  if (task === 'token-classification') return new TokenClassificationHead(layout);
  return new SequenceClassificationHead(layout, config);
}

/** A head for the generative loop: the same contract as TaskHead, with a generative task name. */
export interface GenerativeHead extends Omit<TaskHead, 'task'> {
  readonly task: GenerativeTask;
}

/** The head of a causal LM (logits; loss with the shift) or an encoder-decoder (logits + encoder states; loss without). */
export function generativeHeadFor(config: ModelConfig, outputNames: readonly string[], task: GenerativeTask): GenerativeHead {
  if (task === 'causal-lm') return new CausalLmHead(outputLayout(config, outputNames, task));
  return new Seq2SeqLmHead();
}

function detectTask(config: ModelConfig, outputNames: readonly string[], outputInfo?: readonly ValueInfo[]): Task {
  const arch = config.architectures[0];
  const where = config.configFile ?? 'the model folder (no config.json)';
  if (arch) {
    for (const [suffix, task] of SUFFIXES) if (arch.endsWith(suffix)) return task;
    throw new EvalpredError(
      `${where}: architectures[0] is ${arch}, which is not a task evalpred runs; it runs …ForSequenceClassification, ` +
        `…ForTokenClassification and …ForQuestionAnswering models here (causal LMs and seq2seq exports go through the generation loop) (the model's outputs: ${outputNames.join(', ') || 'none'}).`,
      { file: config.configFile ?? undefined },
    );
  }
  if (outputNames.includes('start_logits') && outputNames.includes('end_logits')) return 'question-answering';
  const rank = outputInfo?.find((o) => o.name === 'logits')?.dims?.length;
  if (outputNames.includes('logits') && rank === 3) return 'token-classification';
  if (outputNames.includes('logits') && rank === 2) return 'sequence-classification';
  throw new EvalpredError(
    `${where}: cannot tell the task: config.json names no architectures and the ONNX outputs are ` +
      `${outputNames.map((n) => `${n}${rankOf(n, outputInfo)}`).join(', ') || 'none'}. Add "architectures" (e.g. ` +
      `["BertForSequenceClassification"]) to config.json or choose the task explicitly.`,
    { file: config.configFile ?? undefined },
  );
}

function rankOf(name: string, info?: readonly ValueInfo[]): string {
  const dims = info?.find((o) => o.name === name)?.dims;
  return dims ? ` [${dims.join(', ')}]` : '';
}

/** Which outputs form the logits, in what order, and which are dropped (spec §3.3-3.4). */
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

const MAIN_OUTPUTS: Record<Task | GenerativeTask, string[]> = {
  'sequence-classification': ['logits'],
  'token-classification': ['logits'],
  'question-answering': ['start_logits', 'end_logits'],
  'causal-lm': ['logits'],
  'seq2seq-lm': ['logits'],
};

function isIgnored(name: string, ignoreKeys: readonly string[]): boolean {
  if (name === 'loss') return true;
  for (const key of ignoreKeys) {
    if (name === key || name.startsWith(`${key}.`) || name.startsWith(`${key}_`)) return true;
    // ONNX exports name the returned cache present.* (past_key_values.* are the cache inputs).
    if (key === 'past_key_values' && (name.startsWith('present') || name.startsWith('past_key_values'))) return true;
  }
  return false;
}

export function outputLayout(config: ModelConfig, outputNames: readonly string[], task: Task | GenerativeTask): OutputLayout {
  const notes: string[] = [];
  const dropped = outputNames.filter((n) => isIgnored(n, config.keys_to_ignore_at_inference));
  const kept = outputNames.filter((n) => !dropped.includes(n));
  const wanted = MAIN_OUTPUTS[task];
  let main = wanted.filter((n) => kept.includes(n));
  if (main.length !== wanted.length) {
    if (task === 'question-answering') {
      throw new EvalpredError(
        `${config.configFile ?? 'the model'}: a question-answering model must output start_logits and end_logits; this ONNX model ` +
          `outputs ${outputNames.join(', ') || 'nothing'}.`,
        { file: config.configFile ?? undefined },
      );
    }
    if (!kept.length) {
      throw new EvalpredError(`${config.configFile ?? 'the model'}: the ONNX model has no output left to use as logits (outputs: ${outputNames.join(', ') || 'none'}).`, {
        file: config.configFile ?? undefined,
      });
    }
    main = [kept[0]];
    notes.push(`the ONNX model has no output named "logits"; its first output "${kept[0]}" is used as the logits.`);
  }
  const extra = kept.filter((n) => !main.includes(n));
  if (extra.length) {
    notes.push(
      `the ONNX model also outputs ${extra.join(', ')}; they follow ${main.join(', ')} in predictions, making it a tuple ` +
        `(spec §3.4). The PyTorch model returns them only when asked (e.g. output_hidden_states), so Trainer may have seen fewer.`,
    );
  }
  if (dropped.length) notes.push(`outputs ${dropped.join(', ')} are left out of predictions, as Trainer drops loss and ignore_keys (${config.keys_to_ignore_at_inference.join(', ') || 'none'}).`);
  return { task, main, extra, dropped, notes };
}

/** The logits node from a run, in layout order, unwrapped when it holds one tensor. */
export function logitsInOrder(layout: OutputLayout, outputs: Record<string, Tensor>): TensorNode {
  const names = [...layout.main, ...layout.extra];
  const parts = names.map((n) => {
    const t = outputs[n];
    if (!t) throw new Error(`the model run returned no output "${n}" (outputs: ${Object.keys(outputs).join(', ')})`);
    return t;
  });
  return parts.length === 1 ? parts[0] : { tuple: parts };
}

/** The i-th main tensor from a logits node built by logitsInOrder. */
export function mainTensor(logits: TensorNode, i: number): Tensor {
  if (logits instanceof Tensor) {
    if (i === 0) return logits;
  } else if ('tuple' in logits) {
    const t = logits.tuple[i];
    if (t instanceof Tensor) return t;
  }
  throw new Error(`logits node has no tensor at position ${i}`);
}
