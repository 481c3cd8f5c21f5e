// no labels: Trainer never calls compute_metrics and reports no eval_loss. Not so under run_qa's doc stride, where
// QuestionAnsweringTrainer scores the post-processed answers against the dataset's.
import type { LintRule } from '../types';

export const noLabels: LintRule = {
  ids: ['no-labels'],
  check({ evalPred: ep, settings }) {
    if (ep.labelIds || !ep.predictions || settings?.docStride !== undefined) return [];
    return [{
      id: 'no-labels',
      severity: 'warning',
      message: 'label_ids is None: Trainer would not call compute_metrics at all and would report no eval_loss.',
      fix: 'Make sure the dataset has the label column the model expects ("labels"/"label"), or set label_names in TrainingArguments.',
      reference: 'https://github.com/huggingface/transformers/issues/21553',
    }];
  },
};
