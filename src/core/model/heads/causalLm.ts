// …ForCausalLM / …LMHeadModel (pipeline "text-generation") evaluated with Trainer: logits [n, L, V] are the
// predictions; the model's own loss scores the logits at position t against the label at t+1 (the last
// position has no target), ignoring -100, averaged over the counted tokens in float32 (docs/trainer-semantics.md#losses-we-compute).
import { Tensor, TensorNode } from '../../tensor/tensor';
import { activeLabels, classCount, crossEntropyRows, isIntegerDType } from '../loss';
import type { GenerativeHead, OutputLayout } from './types';
import { mainTensor } from './layout';
import { LayoutHead } from './layoutHead';

export class CausalLmHead extends LayoutHead implements GenerativeHead {
  readonly task = 'causal-lm' as const;
  readonly labelNames = ['labels'];
  /** Trainer divides the summed loss by every label that is not -100, the unshifted count (causalLossCountsAllLabels). */
  countAllLabels = false;

  batchLoss(logits: TensorNode, labels: TensorNode): number | null {
    if (!(labels instanceof Tensor) || !isIntegerDType(labels)) return null;
    const mean = shiftedCrossEntropy(mainTensor(logits, 0), labels);
    return this.countAllLabels ? Math.fround((mean * activeLabels(labels, true)) / activeLabels(labels, false)) : mean;
  }
}

/**
 * Whether Trainer's evaluation loss for this causal LM is the summed shifted cross-entropy divided by the
 * UNSHIFTED count of labels (one token per row too many, so a smaller eval_loss), as the real Trainer does
 * (checked against it, test/trainer): prediction_step passes num_items_in_batch = labels.ne(-100).sum() since
 * transformers 4.57 (profile "v4.57": the model's own loss; LabelSmoother takes no count there). 5.x counts
 * labels[..., 1:] only when the class's loss_type maps to ForCausalLMLoss (a name with ForCausalLM or
 * ForConditionalGeneration); GPT-2's …LMHeadModel classes have no loss_type and still over-count, in the
 * model's loss and in LabelSmoother alike (profile "current"). Older profiles: the plain mean.
 * docs/trainer-semantics.md#losses-we-compute.
 */
export function causalLossCountsAllLabels(profile: string | undefined, architecture: string | undefined, smoothing: boolean): boolean {
  const p = profile ?? 'current';
  if (p === 'v4.57') return !smoothing;
  if (p !== 'current') return false;
  return !/ForCausalLM|ForConditionalGeneration/.test(architecture ?? '');
}

/** ForCausalLMLoss: logits[:, :-1] against labels[:, 1:], ignore -100. */
export function shiftedCrossEntropy(logits: Tensor, labels: Tensor): number {
  const [n, L] = logits.shape;
  const V = classCount(logits);
  if (L < 2) return NaN; // nothing to predict: torch's mean over zero targets
  // Target k = r * (L - 1) + t is position t of row r: logits [r, t, :], label [r, t + 1]. Read in place.
  const W = labels.shape[1];
  return crossEntropyRows(
    logits,
    n * (L - 1),
    (k) => (Math.floor(k / (L - 1)) * L + (k % (L - 1))) * V,
    (k) => labels.at(Math.floor(k / (L - 1)) * W + (k % (L - 1)) + 1),
  );
}
