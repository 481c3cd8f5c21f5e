// Task heads: how one ONNX run becomes Trainer's (logits, loss) for a task, named like transformers'
// pipelines. The loop calls them through TaskHead; headFor picks one from config.json or the outputs.
import { EvalpredError } from '../../errors';
import { CLASSIFIER_ARCHITECTURE_SUFFIXES } from '../../tasks';
import { ModelConfig } from '../config';
import type { ValueInfo } from '../session';
import { CausalLmHead } from './causalLm';
import { QuestionAnsweringHead } from './questionAnswering';
import { Seq2SeqLmHead } from './seq2seq';
import { SequenceClassificationHead } from './sequenceClassification';
import { TokenClassificationHead } from './tokenClassification';
import { outputLayout } from './layout';
import type { GenerativeHead, GenerativeTask, Task, TaskHead } from './types';

export type { BatchLabels, GenerativeHead, GenerativeTask, OutputLayout, Task, TaskHead } from './types';
export { logitsInOrder, mainTensor, outputLayout } from './layout';

const SUFFIXES = CLASSIFIER_ARCHITECTURE_SUFFIXES;
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

