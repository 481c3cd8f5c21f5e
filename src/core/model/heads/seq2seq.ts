// …ForConditionalGeneration (T5, BART) evaluated with plain teacher forcing (Trainer, or Seq2SeqTrainer with
// predict_with_generate=False): predictions = (logits [n, T, V], encoder_last_hidden_state [n, S, H]), the
// tuple the PyTorch ModelOutput gives once past_key_values are dropped (docs/trainer-semantics.md#worked-examples); loss = cross-entropy of
// the decoder logits against labels with no shift (the decoder inputs are the shifted labels), -100 ignored.
import { Tensor, TensorNode } from '../../tensor/tensor';
import { crossEntropy, isIntegerDType } from '../loss';
import type { GenerativeHead, OutputLayout } from './types';
import { mainTensor } from './layout';

export class Seq2SeqLmHead implements GenerativeHead {
  readonly task = 'seq2seq-lm' as const;
  readonly labelNames = ['labels'];
  readonly notes: string[];

  constructor(layout?: OutputLayout) {
    this.notes = layout ? [...layout.notes] : [];
  }

  /** From the decoder's outputs plus the encoder's last_hidden_state (pass it as outputs.encoder_last_hidden_state). */
  logitsFrom(outputs: Record<string, Tensor>, _outputNames: readonly string[]): TensorNode {
    const logits = outputs.logits;
    const enc = outputs.encoder_last_hidden_state;
    return enc ? { tuple: [logits, enc] } : logits;
  }

  batchLoss(logits: TensorNode, labels: TensorNode): number | null {
    if (!(labels instanceof Tensor) || !isIntegerDType(labels)) return null;
    return crossEntropy(mainTensor(logits, 0), labels);
  }
}
