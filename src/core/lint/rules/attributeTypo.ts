// eval_pred.prediction / .labels / ...: attributes EvalPrediction does not have.
import { lineOf } from '../context';
import type { LintRule } from '../types';

const RIGHT: Record<string, string> = { prediction: 'predictions', labels: 'label_ids', label: 'label_ids', label_id: 'label_ids', input: 'inputs', loss: 'losses' };

export const attributeTypo: LintRule = {
  ids: ['attribute-typo'],
  check({ src }) {
    const typo = src.match(/eval_pred\.(prediction|labels|label|label_id|input|loss)\b/);
    if (!typo) return [];
    return [{
      id: 'attribute-typo',
      severity: 'warning',
      message: `eval_pred.${typo[1]} does not exist on EvalPrediction (AttributeError).`,
      fix: `Use eval_pred.${RIGHT[typo[1]]}.`,
      line: lineOf(src, new RegExp(`eval_pred\\.${typo[1]}\\b`)),
      reference: 'https://github.com/huggingface/transformers/issues/24034',
    }];
  },
};
