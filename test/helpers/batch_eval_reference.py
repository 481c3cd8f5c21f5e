# An independent transcription of Trainer.evaluation_loop's batch_eval_metrics path (transformers 4.57 and 5.x,
# trainer.py; one process, so gather is the identity except accelerate's gather_for_metrics, which keeps the
# first r = N mod B rows of the last batch), then Trainer.evaluate's post-processing without the speed fields.
# Fed the per-batch model outputs evalpred's loop produced, from a folder:
#   batch{b}_logits.npy, batch{b}_labels.npy, and optionally batch{b}_features.json: the batch's rows as the
#   tokenizer returned them (unpadded, its key order) with their "label", plus collator.json ({"pad_token_id",
#   "padding_side"}); inputs is then the batch DataCollatorWithPadding builds from them (transcribed below).
# Usage: batch_eval_reference.py DIR BATCH_SIZE NUM_SAMPLES INCLUDE(inputs,loss|-) METRIC_FILE
# Prints what compute_metrics printed, then a line "METRICS <json>".
import collections, importlib.util, json, os, sys
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


class BatchEncoding(collections.UserDict):
    # transformers.tokenization_utils_base.BatchEncoding as tokenizer.pad returns it: a UserDict with attribute access
    def __getattr__(self, item):
        try:
            return self.data[item]
        except KeyError:
            raise AttributeError


def data_collator_with_padding(features, pad_token_id, padding_side):
    """DataCollatorWithPadding(tokenizer): tokenizer.pad(features, padding=True, return_tensors="pt"), keys in the
    first feature's order, every row padded to the longest (input_ids with the pad id, token_type_ids and
    attention_mask with 0), then "label" renamed "labels" (moved last). int64 arrays for torch's int64 tensors."""
    batch = {key: [f[key] for f in features] for key in features[0].keys()}
    width = max(len(ids) for ids in batch["input_ids"])
    pads = {"input_ids": pad_token_id, "token_type_ids": 0, "attention_mask": 0, "special_tokens_mask": 1}

    def pad(row, value):
        fill = [value] * (width - len(row))
        return fill + list(row) if padding_side == "left" else list(row) + fill

    out = {k: np.array([pad(r, pads[k]) for r in rows] if k in pads else rows, dtype=np.int64) for k, rows in batch.items()}
    out = BatchEncoding(out)
    if "label" in out:
        out["labels"] = out["label"]
        del out["label"]
    return out


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
    feats_path = os.path.join(d, "batch%d_features.json" % step)
    inputs = None
    if os.path.exists(feats_path):
        with open(feats_path) as f, open(os.path.join(d, "collator.json")) as g:
            collator = json.load(g)
            inputs = data_collator_with_padding(json.load(f), collator["pad_token_id"], collator["padding_side"])
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
