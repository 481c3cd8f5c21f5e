// …ForQuestionAnswering (pipeline "question-answering"): (start_logits [n, L], end_logits [n, L]);
// labels are (start_positions, end_positions); loss clamps positions and averages both ends (docs/trainer-semantics.md#losses-we-compute).
import { Tensor, TensorNode } from '../../tensor/tensor';
import { isIntegerDType, qaLoss } from '../loss';
import type { TaskHead } from './types';
import { mainTensor } from './layout';
import { LayoutHead } from './layoutHead';

export class QuestionAnsweringHead extends LayoutHead implements TaskHead {
  readonly task = 'question-answering' as const;
  readonly labelNames = ['start_positions', 'end_positions'];

  batchLoss(logits: TensorNode, labels: TensorNode): number | null {
    if (labels instanceof Tensor || !('tuple' in labels) || labels.tuple.length !== 2) return null;
    const [sp, ep] = labels.tuple;
    if (!(sp instanceof Tensor) || !(ep instanceof Tensor) || !isIntegerDType(sp) || !isIntegerDType(ep)) return null;
    return qaLoss(mainTensor(logits, 0), mainTensor(logits, 1), sp, ep);
  }
}
