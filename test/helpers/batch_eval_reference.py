# An independent transcription of Trainer.evaluation_loop's batch_eval_metrics path (transformers 4.57 and 5.x,
# trainer.py; one process, so gather is the identity except accelerate's gather_for_metrics, which keeps the
# first r = N mod B rows of the last batch), then Trainer.evaluate's post-processing without the speed fields.
# Fed the per-batch model outputs evalpred's loop produced, from a folder:
#   batch{b}_logits.npy, batch{b}_labels.npy, batch{b}_input_ids.npy (optional)
# Usage: batch_eval_reference.py DIR BATCH_SIZE NUM_SAMPLES INCLUDE(inputs,loss|-) METRIC_FILE
# Prints what compute_metrics printed, then a line "METRICS <json>".
import importlib.util, json, os, sys
import numpy as np

d, B, N, include, metric_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
include_for_metrics = [] if include == "-" else include.split(",")


class EvalPrediction:
    # transformers.trainer_utils.EvalPrediction (4.46 and later)
    def __init__(self, predictions, label_ids, inputs=None, losses=None):
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs
        self.losses = losses
        self.elements = (self.predictions, self.label_ids)
        if self.inputs is not None:
            self.elements += (self.inputs,)
        if self.losses is not None:
            self.elements += (self.losses,)

    def __iter__(self):
        return iter(self.elements)

    def __getitem__(self, idx):
        if idx < 0 or idx >= len(self.elements):
            raise IndexError("tuple index out of range")
        return self.elements[idx]


def cross_entropy(logits, labels):
    # the model's loss: mean cross-entropy over the batch, in float32 as torch reports it
    z = logits.astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    return np.float32((lse - z[np.arange(z.shape[0]), labels]).mean())


def denumpify_detensorize(metrics):
    if isinstance(metrics, (list, tuple)):
        return type(metrics)(denumpify_detensorize(m) for m in metrics)
    elif isinstance(metrics, dict):
        return type(metrics)({k: denumpify_detensorize(v) for k, v in metrics.items()})
    elif isinstance(metrics, np.generic):
        return metrics.item()
    return metrics


spec = importlib.util.spec_from_file_location("user_metric", metric_file)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
compute_metrics = mod.compute_metrics

nb = len([f for f in os.listdir(d) if f.endswith("_logits.npy")])
all_losses = []
metrics = None
for step in range(nb):
    logits = np.load(os.path.join(d, "batch%d_logits.npy" % step))
    labels = np.load(os.path.join(d, "batch%d_labels.npy" % step))
    ids_path = os.path.join(d, "batch%d_input_ids.npy" % step)
    inputs = {"input_ids": np.load(ids_path)} if os.path.exists(ids_path) else None
    is_last_step = step == nb - 1  # accelerate's gradient_state.end_of_dataloader
    losses = np.repeat(cross_entropy(logits, labels), B)  # losses.repeat(batch_size)
    if is_last_step and N % B:
        losses = losses[: N % B]  # gather_for_metrics drops the duplicated samples of the last batch
    all_losses.append(losses)
    batch_kwargs = {}
    batch_kwargs["losses"] = losses if "loss" in include_for_metrics else None
    batch_kwargs["inputs"] = inputs if "inputs" in include_for_metrics else None
    metrics = compute_metrics(EvalPrediction(predictions=logits, label_ids=labels, **batch_kwargs), compute_result=is_last_step)

if metrics is None:
    metrics = {}
metrics = denumpify_detensorize(metrics)
metrics["eval_loss"] = np.concatenate(all_losses).mean().item()
for key in list(metrics.keys()):
    if not key.startswith("eval_"):
        metrics["eval_" + key] = metrics.pop(key)
sys.stdout.flush()
print("METRICS " + json.dumps(metrics))
