// An ONNX run's outputs in Trainer's order: which outputs form the logits, which are dropped (loss,
// ignore_keys), and the logits node built from them. Shared by every head (layoutHead.ts) and headFor.
import { EvalpredError } from '../../errors';
import { Tensor, TensorNode } from '../../tensor/tensor';
import { ModelConfig } from '../config';
import type { GenerativeTask, OutputLayout, Task } from './types';

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
        `(docs/trainer-semantics.md#onnx-outputs). The PyTorch model returns them only when asked (e.g. output_hidden_states), so Trainer may have seen fewer.`,
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
