// QA labels come as a pair (start_positions, end_positions).
import { Tensor } from '../../tensor/tensor';
import type { LintRule } from '../types';

export const tupleLabels: LintRule = {
  ids: ['tuple-labels'],
  check({ evalPred: { labelIds: l } }) {
    if (!l || l instanceof Tensor || !('tuple' in l)) return [];
    return [{
      id: 'tuple-labels',
      severity: 'info',
      message: `label_ids is a tuple of ${l.tuple.length} arrays (one per label name, e.g. start_positions and end_positions).`,
      fix: 'Unpack it: start_labels, end_labels = eval_pred.label_ids.',
      reference: 'https://github.com/huggingface/transformers/issues/8390',
    }];
  },
};
