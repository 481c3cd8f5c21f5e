# transformers' LabelSmoother (trainer_pt_utils.py), transcribed from torch to NumPy, for the label smoothing
# that Trainer applies in evaluation when label_smoothing_factor > 0 (src/core/model/labelSmoother.ts).
# Usage: label_smoother_reference.py EPSILON SHIFT DIR [unshifted-count]
#   unshifted-count: transformers 5's num_items_in_batch = labels.ne(-100).sum() over the unshifted labels
#   (what Trainer passes for a causal LM class without a ForCausalLM loss_type, such as GPT2LMHeadModel)
#   reads DIR/batch{b}_logits.npy and DIR/batch{b}_labels.npy for b = 0, 1, ...
#   prints one line per batch: repr(float(loss))
import os, sys, glob
import numpy as np


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    z = x - m
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def label_smoother(logits, labels, epsilon, shift_labels=False, ignore_index=-100, num_items_in_batch=None):
    # logits = model_output["logits"] if isinstance(model_output, dict) else model_output[0]
    if shift_labels:
        logits = logits[..., :-1, :]
        labels = labels[..., 1:]
    log_probs = -log_softmax(logits.astype(np.float64))
    if labels.ndim == log_probs.ndim - 1:
        labels = labels[..., None]
    padding_mask = labels == ignore_index
    # In case the ignore_index is -100, the gather will fail, so we replace labels by 0. The padding_mask
    # will ignore them in any case.
    labels = np.clip(labels, 0, None)
    nll_loss = np.take_along_axis(log_probs, labels, axis=-1)
    smoothed_loss = log_probs.sum(axis=-1, keepdims=True)
    nll_loss[padding_mask] = 0.0
    smoothed_loss[padding_mask] = 0.0
    # Take the mean over the label dimensions, then divide by the number of active elements (i.e. not-padded):
    num_active_elements = padding_mask.size - padding_mask.sum()
    if num_items_in_batch is not None:  # transformers 5: the count Trainer passes replaces it
        num_active_elements = num_items_in_batch
    nll_loss = nll_loss.sum() / num_active_elements
    smoothed_loss = smoothed_loss.sum() / (num_active_elements * log_probs.shape[-1])
    return (1 - epsilon) * nll_loss + epsilon * smoothed_loss


eps, shift, d = float(sys.argv[1]), sys.argv[2] == '1', sys.argv[3]
unshifted_count = len(sys.argv) > 4 and sys.argv[4] == 'unshifted-count'
nb = len(glob.glob(os.path.join(d, 'batch*_logits.npy')))
for b in range(nb):
    lg = np.load(os.path.join(d, f'batch{b}_logits.npy'))
    lb = np.load(os.path.join(d, f'batch{b}_labels.npy'))
    count = int((lb != -100).sum()) if unshifted_count else None
    print(repr(float(np.float32(label_smoother(lg, lb, eps, shift, num_items_in_batch=count)))))
