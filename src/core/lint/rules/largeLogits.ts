// full logits [N, L, V] accumulated: Trainer keeps them all on the accelerator and the host.
import { DTYPES } from '../../tensor/dtype';
import { isFloat } from '../context';
import type { LintRule } from '../types';

export const LARGE_LOGITS_BYTES = 1024 ** 3;

export const largeLogits: LintRule = {
  ids: ['large-logits'],
  check({ predTensors }) {
    const bytes = predTensors.reduce((a, [, t]) => a + t.size * DTYPES[t.dtype].itemSize, 0);
    const big = predTensors.find(([, t]) => t.ndim === 3 && isFloat(t));
    if (!big || bytes <= LARGE_LOGITS_BYTES) return [];
    return [{
      id: 'large-logits',
      severity: 'warning',
      message: `predictions take ${(bytes / 1024 ** 3).toFixed(1)} GiB: Trainer accumulates the full logits on the accelerator and the host.`,
      fix: 'Reduce them per batch with preprocess_logits_for_metrics (e.g. return logits.argmax(-1)), or --preprocess argmax here.',
      reference: 'https://github.com/huggingface/transformers/issues/8476',
    }];
  },
};
