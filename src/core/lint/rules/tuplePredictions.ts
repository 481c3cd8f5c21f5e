// a tuple of predictions (several outputs, e.g. a seq2seq model's encoder states) handed to argmax. Quiet under
// run_qa's doc stride, where compute_metrics gets the post-processed answers, never the (start, end) tuple.
import { Tensor } from '../../tensor/tensor';
import { lineOf } from '../context';
import type { LintRule } from '../types';

export const tuplePredictions: LintRule = {
  ids: ['tuple-predictions'],
  check({ evalPred: { predictions: preds }, src, settings }) {
    if (!preds || preds instanceof Tensor || !('tuple' in preds) || settings?.docStride !== undefined) return [];
    const argmaxLine = lineOf(src, /argmax\s*\(\s*(preds|predictions|logits|eval_pred\.predictions)\b/);
    return [{
      id: 'tuple-predictions',
      severity: argmaxLine ? 'warning' : 'info',
      message: `predictions is a tuple of ${preds.tuple.length} arrays (${preds.tuple.map((n) => (n instanceof Tensor ? n.toString() : 'nested')).join(', ')}), not one array.`,
      fix: 'Take the logits first: logits = eval_pred.predictions[0] (or logits, *_ = eval_pred.predictions).',
      line: argmaxLine,
      reference: 'https://github.com/huggingface/transformers/issues/7247',
    }];
  },
};
