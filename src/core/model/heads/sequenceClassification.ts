// …ForSequenceClassification (pipeline "text-classification"): logits [n, num_labels]; the loss follows the
// problem type as the PyTorch heads decide it (docs/trainer-semantics.md#losses-we-compute).
import { Tensor, TensorNode } from '../../tensor/tensor';
import { ModelConfig, ProblemType } from '../config';
import { bceWithLogits, crossEntropy, isIntegerDType, mse } from '../loss';
import type { OutputLayout, TaskHead } from './types';
import { mainTensor } from './layout';
import { LayoutHead } from './layoutHead';

export class SequenceClassificationHead extends LayoutHead implements TaskHead {
  readonly task = 'sequence-classification' as const;
  readonly labelNames = ['labels'];
  /** transformers writes the problem type it infers on the first batch into model.config, so it sticks for the rest. */
  private problemType: ProblemType | undefined;

  constructor(layout: OutputLayout, config: ModelConfig) {
    super(layout);
    this.problemType = config.problem_type;
  }

  /** The problem type used so far (undefined until the first batch when config.json has none). */
  get currentProblemType(): ProblemType | undefined {
    return this.problemType;
  }

  batchLoss(logits: TensorNode, labels: TensorNode): number | null {
    if (!(labels instanceof Tensor)) return null;
    const x = mainTensor(logits, 0);
    const numLabels = x.shape[x.ndim - 1];
    if (this.problemType === undefined) {
      // BertForSequenceClassification.forward: num_labels == 1 -> regression; long/int labels -> single label; else multi.
      if (numLabels === 1) this.problemType = 'regression';
      else if (labels.dtype === 'int64' || labels.dtype === 'int32') this.problemType = 'single_label_classification';
      else this.problemType = 'multi_label_classification';
    }
    switch (this.problemType) {
      case 'regression':
        // MSELoss on integer labels raises in torch ("Found dtype Long but expected Float"): no loss to reproduce.
        if (isIntegerDType(labels) || labels.dtype === 'bool') return null;
        return mse(x, labels, { squeeze: numLabels === 1 });
      case 'single_label_classification':
        if (!isIntegerDType(labels)) return null; // torch's CrossEntropyLoss would reject float class ids
        return crossEntropy(x.reshape([x.size / numLabels, numLabels]), labels);
      case 'multi_label_classification':
        // BCEWithLogitsLoss needs float targets shaped exactly like the logits; torch raises otherwise.
        if (isIntegerDType(labels) || labels.shape.join() !== x.shape.join()) return null;
        return bceWithLogits(x, labels);
    }
  }
}
