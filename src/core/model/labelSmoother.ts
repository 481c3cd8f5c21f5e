// TrainingArguments.label_smoothing_factor: Trainer then pops "labels" from the batch and computes the loss
// with transformers' LabelSmoother (trainer_pt_utils.py) instead of the model's own loss, in evaluation too
// (prediction_step -> compute_loss). Heads whose labels are not "labels" (extractive QA's start/end
// positions) keep the model's loss, as Trainer does. Checked against a NumPy transcription of LabelSmoother
// (test/helpers/label_smoother_reference.py); see docs/fidelity.md.
import { EvalpredError } from '../errors';
import { Tensor, TensorNode } from '../tensor/tensor';
import { activeLabels, isIntegerDType } from './loss';

/**
 * LabelSmoother(epsilon)(model_output, labels, shift_labels):
 *   log_probs = -log_softmax(logits); nll = log_probs gathered at the label; smoothed = sum of log_probs over
 *   the classes; both zeroed where labels == -100; nll.sum() / n_active, smoothed.sum() / (n_active * C);
 *   loss = (1 - epsilon) * nll + epsilon * smoothed.
 * `logits` is model_output[0] ([n, C] or [n, L, C]); shiftLabels (causal LMs) drops the last position of the
 * logits and the first of the labels. Sums run in float64 and round once to float32 (torch sums in float32;
 * the two agree to about 1e-7 relative). All labels ignored gives NaN (0/0), as torch.
 */
export function labelSmoothedLoss(logitsNode: TensorNode, labels: Tensor, epsilon: number, shiftLabels: boolean, divisor?: number): number {
  const logits = firstTensor(logitsNode);
  if (!isIntegerDType(labels)) {
    throw new EvalpredError(
      `label_smoothing_factor: Trainer's LabelSmoother gathers the log-probability of each label, which needs integer class ids; ` +
        `label_ids are ${labels} (regression or multi-label targets), where torch's gather raises "Expected dtype int64 for index". ` +
        `Drop --label-smoothing-factor for this model.`,
      { tensor: 'label_ids' },
    );
  }
  const C = logits.shape[logits.ndim - 1];
  const lead = logits.shape.slice(0, -1);
  // labels.dim() == log_probs.dim() - 1 -> unsqueeze(-1): one label per row of C classes
  if (labels.ndim !== lead.length || labels.shape.some((d, i) => d !== lead[i])) {
    throw new EvalpredError(
      `label_smoothing_factor: logits ${logits} and label_ids ${labels} do not line up (LabelSmoother needs one label per row of ${C} classes).`,
      { tensor: 'label_ids' },
    );
  }
  const L = lead.length >= 2 ? lead[lead.length - 1] : 1;
  const outer = lead.length >= 2 ? lead.slice(0, -1).reduce((a, b) => a * b, 1) : lead[0] ?? 1;
  const x = logits.dtype === 'float32' || logits.dtype === 'float64' ? (logits.data as Float32Array) : null;
  const read = (i: number) => (x ? x[i] : logits.at(i));
  let nll = 0;
  let smooth = 0;
  let active = 0;
  for (let o = 0; o < outer; o++) {
    // shift_labels: logits[..., :-1, :] against labels[..., 1:]
    for (let t = 0; t < (shiftLabels ? L - 1 : L); t++) {
      const y = labels.at(o * L + t + (shiftLabels ? 1 : 0));
      const base = (o * L + t) * C;
      if (y === -100) continue;
      if (y < 0 || y >= C) {
        throw new EvalpredError(
          `label ${y} in label_ids is outside the model's ${C} classes [0, ${C - 1}] (and is not -100); torch's gather would raise "index out of bounds".`,
          { tensor: 'label_ids' },
        );
      }
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, read(base + c));
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(read(base + c) - m);
      const lse = m + Math.log(s);
      // -log_softmax = lse - x; summed over the classes: C * lse - sum(x)
      let sx = 0;
      for (let c = 0; c < C; c++) sx += read(base + c);
      nll += lse - read(base + y);
      smooth += C * lse - sx;
      active++;
    }
  }
  if (shiftLabels && L < 2) return NaN;
  // transformers 5.x: num_items_in_batch, when Trainer passes one, replaces the active count (the divisor).
  const d = divisor ?? active;
  return Math.fround((1 - epsilon) * (nll / d) + epsilon * (smooth / (d * C)));
}

function firstTensor(node: TensorNode): Tensor {
  if (node instanceof Tensor) return node;
  const first = 'tuple' in node ? node.tuple[0] : node.list[0];
  if (first instanceof Tensor) return first;
  throw new EvalpredError('label_smoothing_factor: the model output has no logits tensor first (LabelSmoother reads model_output[0]).', { tensor: 'predictions' });
}

interface LossHead {
  readonly labelNames: string[];
  batchLoss(logits: TensorNode, labels: TensorNode): number | null;
}

/**
 * The head with Trainer's loss under label_smoothing_factor = epsilon: LabelSmoother where the labels are
 * "labels" (shifted for causal LMs, whose model class is in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES), the model's
 * own loss otherwise. epsilon undefined or 0 (Trainer's default: no label_smoother) returns the head as is.
 */
export function withLabelSmoothing<H extends LossHead & { readonly task: string }>(
  head: H,
  epsilon: number | undefined,
  /** For a causal LM: divide by every label that is not -100, unshifted (causalLossCountsAllLabels). */
  countAllLabels = false,
): H {
  if (!epsilon) return head;
  if (!(epsilon > 0 && epsilon <= 1)) {
    throw new EvalpredError(`label_smoothing_factor must be a number in [0, 1] (the share of the loss spread over all classes), got ${epsilon}.`, {
      column: 'labelSmoothingFactor',
    });
  }
  if (!head.labelNames.includes('labels')) return head;
  const shift = head.task === 'causal-lm';
  const smoothed = Object.create(head) as H;
  (smoothed as LossHead).batchLoss = (logits: TensorNode, labels: TensorNode) =>
    labels instanceof Tensor ? labelSmoothedLoss(logits, labels, epsilon, shift, shift && countAllLabels ? activeLabels(labels, false) : undefined) : head.batchLoss(logits, labels);
  return smoothed;
}
