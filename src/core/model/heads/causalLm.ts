// …ForCausalLM / …LMHeadModel (pipeline "text-generation") evaluated with Trainer: logits [n, L, V] are the
// predictions; the model's own loss scores the logits at position t against the label at t+1 (the last
// position has no target), ignoring -100, averaged over the counted tokens in float32 (docs/trainer-semantics.md#losses-we-compute).
import { Tensor, TensorNode } from '../../tensor/tensor';
import { crossEntropy, isIntegerDType } from '../loss';
import type { GenerativeHead, OutputLayout } from './types';
import { mainTensor } from './layout';
import { LayoutHead } from './layoutHead';

export class CausalLmHead extends LayoutHead implements GenerativeHead {
  readonly task = 'causal-lm' as const;
  readonly labelNames = ['labels'];

  batchLoss(logits: TensorNode, labels: TensorNode): number | null {
    if (!(labels instanceof Tensor) || !isIntegerDType(labels)) return null;
    return shiftedCrossEntropy(mainTensor(logits, 0), labels);
  }
}

/** ForCausalLMLoss: logits[:, :-1] against labels[:, 1:], ignore -100. */
export function shiftedCrossEntropy(logits: Tensor, labels: Tensor): number {
  const [n, L, V] = logits.shape;
  if (L < 2) return NaN; // nothing to predict: torch's mean over zero targets
  const x = Tensor.full(logits.dtype, [n, L - 1, V]);
  const y = Tensor.full('int64', [n, L - 1]);
  const xs = logits.data as Float32Array, xd = x.data as Float32Array;
  for (let r = 0; r < n; r++) {
    xd.set(xs.subarray(r * L * V, (r * L + L - 1) * V), r * (L - 1) * V);
    for (let t = 0; t < L - 1; t++) y.set(r * (L - 1) + t, labels.at(r * labels.shape[1] + t + 1));
  }
  return crossEntropy(x, y);
}
