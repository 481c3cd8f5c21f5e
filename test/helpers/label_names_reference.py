# An independent reference for custom label_names on run_qa features (docs/trainer-semantics.md#which-batch-keys-are-labels),
# transcribed from transformers' code:
#   - examples/pytorch/question-answering/run_qa.py, prepare_train_features: each feature's start/end positions
#     (the tokenizer's output with padding="max_length" is given: input_ids, offset_mapping, sequence_ids);
#   - trainer.py, prediction_step: labels = nested_detach(tuple(inputs.get(name) for name in self.label_names)),
#     unwrapped when there is one name; has_labels needs every name;
#   - trainer_pt_utils.nested_concat (numpy_pad_and_concatenate) across batches, as evaluation_loop does;
#   - BertForQuestionAnswering's loss (positions clamped to [0, L], ignore_index L, mean of the two cross-entropies),
#     repeated per row and truncated on the last batch by gather_for_metrics, then np.mean in float32.
# Reads one JSON object on stdin, writes {"label_ids": ..., "eval_loss": ...} on stdout.
import json
import sys

import numpy as np


def prepare_train_positions(f, answers, cls_token_id, pad_on_right):
    input_ids = f["input_ids"]
    offsets = f["offset_mapping"]
    sequence_ids = f["sequence_ids"]
    if cls_token_id in input_ids:
        cls_index = input_ids.index(cls_token_id)
    else:
        cls_index = 0
    if len(answers["answer_start"]) == 0:
        return cls_index, cls_index
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    token_start_index = 0
    while sequence_ids[token_start_index] != (1 if pad_on_right else 0):
        token_start_index += 1
    token_end_index = len(input_ids) - 1
    while sequence_ids[token_end_index] != (1 if pad_on_right else 0):
        token_end_index -= 1
    if not (offsets[token_start_index][0] <= start_char and offsets[token_end_index][1] >= end_char):
        return cls_index, cls_index
    while token_start_index < len(offsets) and offsets[token_start_index][0] <= start_char:
        token_start_index += 1
    start = token_start_index - 1
    while offsets[token_end_index][1] >= end_char:
        token_end_index -= 1
    return start, token_end_index + 1


def atleast_1d(x):
    return x if x.ndim > 0 else x[None]


def numpy_pad_and_concatenate(array1, array2, padding_index=-100):
    array1, array2 = atleast_1d(array1), atleast_1d(array2)
    if len(array1.shape) == 1 or array1.shape[1] == array2.shape[1]:
        return np.concatenate((array1, array2), axis=0)
    new_shape = (array1.shape[0] + array2.shape[0], max(array1.shape[1], array2.shape[1])) + array1.shape[2:]
    result = np.full_like(array1, padding_index, shape=new_shape)
    result[: array1.shape[0], : array1.shape[1]] = array1
    result[array1.shape[0]:, : array2.shape[1]] = array2
    return result


def nested_concat(a, b):
    if isinstance(a, (list, tuple)):
        return type(a)(nested_concat(x, y) for x, y in zip(a, b))
    return numpy_pad_and_concatenate(a, b)


def ce(logits, target, ignore):
    keep = target != ignore
    z = logits[keep].astype(np.float64)
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    return (lse - z[np.arange(z.shape[0]), target[keep]]).mean()


def main():
    req = json.load(sys.stdin)
    pad_on_right = req.get("pad_on_right", True)
    start_positions, end_positions = [], []
    for f in req["features"]:
        s, e = prepare_train_positions(f, req["examples"][f["example"]]["answers"], req["cls_token_id"], pad_on_right)
        start_positions.append(s)
        end_positions.append(e)
    columns = {"start_positions": np.array(start_positions, dtype=np.int64), "end_positions": np.array(end_positions, dtype=np.int64)}
    start_logits = np.array(req["start_logits"], dtype=np.float32)
    end_logits = np.array(req["end_logits"], dtype=np.float32)
    B, N = req["batch_size"], len(start_positions)
    label_ids, losses = None, []
    for b0 in range(0, N, B):
        inputs = {k: v[b0:b0 + B] for k, v in columns.items()}
        labels = tuple(inputs.get(name) for name in req["label_names"])
        if len(labels) == 1:
            labels = labels[0]
        label_ids = labels if label_ids is None else nested_concat(label_ids, labels)
        # the model's loss reads its own arguments, whatever label_names says
        L = start_logits.shape[1]
        sp = np.clip(inputs["start_positions"], 0, L)
        ep = np.clip(inputs["end_positions"], 0, L)
        loss = np.float32((np.float32(ce(start_logits[b0:b0 + B], sp, L)) + np.float32(ce(end_logits[b0:b0 + B], ep, L))) / 2)
        losses.append(np.repeat(loss, B)[: min(B, N - b0)])
    as_json = (lambda x: [a.tolist() for a in x]) if isinstance(label_ids, tuple) else (lambda x: x.tolist())
    print(json.dumps({"label_ids": as_json(label_ids), "tuple": isinstance(label_ids, tuple),
                      "eval_loss": float(np.mean(np.concatenate(losses).astype(np.float32)))}))


main()
