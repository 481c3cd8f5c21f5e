// …ForTokenClassification (pipeline "token-classification"): logits [n, L, num_labels]; loss is
// cross-entropy over the positions whose label is not -100 (docs/trainer-semantics.md#losses-we-compute).
import { Tensor, TensorNode } from '../../tensor/tensor';
import { crossEntropy, isIntegerDType } from '../loss';
import type { TaskHead } from './types';
import { mainTensor } from './layout';
import { LayoutHead } from './layoutHead';

export class TokenClassificationHead extends LayoutHead implements TaskHead {
  readonly task = 'token-classification' as const;
  readonly labelNames = ['labels'];

  batchLoss(logits: TensorNode, labels: TensorNode): number | null {
    if (!(labels instanceof Tensor) || !isIntegerDType(labels)) return null;
    // loss_fct(logits.view(-1, num_labels), labels.view(-1)), ignore_index -100
    return crossEntropy(mainTensor(logits, 0), labels);
  }
}
