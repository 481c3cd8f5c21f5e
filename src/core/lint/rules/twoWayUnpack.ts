// `preds, labels = eval_pred` once inputs or losses are included: EvalPrediction iterates over 3 or 4 fields.
import { lineOf } from '../context';
import type { LintRule } from '../types';

export const twoWayUnpack: LintRule = {
  ids: ['two-way-unpack'],
  check({ evalPred: ep, src }) {
    const unpackLine = lineOf(src, /^\s*\(?\s*\w+\s*,\s*\w+\s*\)?\s*=\s*eval_pred\s*(#.*)?$/);
    if (!unpackLine || !(ep.inputs || ep.losses)) return [];
    return [{
      id: 'two-way-unpack',
      severity: 'warning',
      message: `"x, y = eval_pred" raises "ValueError: too many values to unpack (expected 2)" because ${[ep.inputs ? 'inputs' : '', ep.losses ? 'losses' : ''].filter(Boolean).join(' and ')} are included.`,
      fix: 'Use the attributes (eval_pred.predictions, eval_pred.label_ids) or "preds, labels, *_ = eval_pred".',
      line: unpackLine,
      reference: 'https://github.com/huggingface/transformers/pull/16461',
    }];
  },
};
