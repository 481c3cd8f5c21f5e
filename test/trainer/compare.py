"""Compare what the real Trainer handed compute_metrics (trainer.pkl, from test/trainer/cases.py) with the
EvalPrediction evalpred cached for the same case (read with evalpred's own cache reader, src/python/evalpred).

    python compare.py CASE_DIR EVALPRED_CACHE EVALPRED_METRICS_JSON

Integers must be equal, floats within 1e-4 (ONNX Runtime against PyTorch), and structure, shapes, dtypes and
the -100 padding identical. Prints one JSON object: {"ok": bool, "problems": [...], "summary": {...}}.
"""
import json
import os
import pickle
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "python"))
from evalpred.cache import read_batch_inputs, read_fields  # noqa: E402

FLOAT_TOL = 1e-4


def node_of(v):
    """evalpred's cache node (array / tuple / list / None) -> the tree shape cases.py pickles."""
    if v is None:
        return None
    if isinstance(v, tuple):
        return ("tuple", [node_of(x) for x in v])
    if isinstance(v, list):
        return ("list", [node_of(x) for x in v])
    return np.asarray(v)


def describe(t):
    if t is None:
        return "None"
    if isinstance(t, tuple):
        return "%s(%s)" % (t[0], ", ".join(describe(x) for x in t[1]))
    return "%s%s" % (t.dtype, list(t.shape))


def describe_mapping(m):
    return "None" if m is None else "{%s}" % ", ".join("%s: %s" % (k, describe(v)) for k, v in m[1])


def compare_mapping(real, ours, where, problems):
    """A batch mapping ("mapping", [(key, array)...]) against evalpred's [(key, array)...]: same keys, same order, same arrays."""
    if real is None or ours is None:
        if (real is None) != (ours is None):
            problems.append("%s: Trainer gives %s, evalpred %s" % (where, describe_mapping(real), "None" if ours is None else [k for k, _ in ours]))
        return
    real_keys, our_keys = [k for k, _ in real[1]], [k for k, _ in ours]
    if real_keys != our_keys:
        problems.append("%s: Trainer's batch holds the keys %r, evalpred's %r" % (where, real_keys, our_keys))
    theirs = dict(real[1])
    for k, v in ours:
        if k in theirs:
            compare(theirs[k], node_of(v), "%s[%r]" % (where, k), problems)


def compare(real, ours, where, problems):
    if real is None or ours is None:
        if (real is None) != (ours is None):
            problems.append("%s: Trainer gives %s, evalpred %s" % (where, describe(real), describe(ours)))
        return
    if isinstance(real, tuple) or isinstance(ours, tuple):
        if not (isinstance(real, tuple) and isinstance(ours, tuple)) or real[0] != ours[0] or len(real[1]) != len(ours[1]):
            problems.append("%s: Trainer gives %s, evalpred %s" % (where, describe(real), describe(ours)))
            return
        for i, (a, b) in enumerate(zip(real[1], ours[1])):
            compare(a, b, "%s[%d]" % (where, i), problems)
        return
    if real.dtype != ours.dtype or real.shape != ours.shape:
        problems.append("%s: Trainer gives %s, evalpred %s" % (where, describe(real), describe(ours)))
        return
    if real.dtype.kind in "iub":
        bad = np.argwhere(real != ours)
        if len(bad):
            i = tuple(bad[0])
            problems.append("%s: %d of %d integers differ; first at %s: Trainer %s, evalpred %s" % (
                where, len(bad), real.size, list(map(int, i)), real[i].item(), ours[i].item()))
        return
    pad_r, pad_o = real == -100, ours == -100
    if (pad_r != pad_o).any():
        i = tuple(np.argwhere(pad_r != pad_o)[0])
        problems.append("%s: -100 padding differs; first at %s: Trainer %s, evalpred %s" % (
            where, list(map(int, i)), real[i].item(), ours[i].item()))
        return
    fin = np.isfinite(real) & np.isfinite(ours)
    if (np.isfinite(real) != np.isfinite(ours)).any():
        problems.append("%s: non-finite values differ" % where)
    diff = np.abs(real.astype(np.float64) - ours.astype(np.float64))
    diff[~fin] = 0
    if diff.size and diff.max() > FLOAT_TOL:
        i = tuple(np.argwhere(diff == diff.max())[0])
        problems.append("%s: floats differ by up to %.3g at %s: Trainer %r, evalpred %r" % (
            where, diff.max(), list(map(int, i)), real[i].item(), ours[i].item()))


def main():
    case_dir, cache, metrics_file = sys.argv[1:4]
    with open(os.path.join(case_dir, "trainer.pkl"), "rb") as f:
        real = pickle.load(f)
    manifest, fields = read_fields(cache)
    problems = []
    summary = {}
    with open(metrics_file) as f:
        ours_metrics = json.load(f)
    if "calls" in real:
        # batch_eval_metrics: call i of the real Trainer against entry i of every per-batch field of the cache,
        # and the calls evalpred made (the probe's last result) against the real ones.
        calls = real["calls"]
        ours_calls = [node_of(x) for x in (fields.get("predictions") or [])]
        if len(ours_calls) != len(calls):
            problems.append("Trainer called compute_metrics %d times, evalpred's cache holds %d batches" % (len(calls), len(ours_calls)))
        # inputs is the whole batch mapping: evalpred's cache keeps it under batch_inputs (docs/cache-format.md#batch-inputs)
        ours_inputs = fields.get("inputs")
        ours_mappings = read_batch_inputs(cache, manifest, fields)
        if ours_mappings is None and ours_inputs is not None:
            ours_mappings = [[("input_ids", x)] for x in ours_inputs]
        for i, call in enumerate(calls[: len(ours_calls)]):
            for name in ("predictions", "label_ids", "losses"):
                ours_field = fields.get(name)
                compare(call[name], None if ours_field is None else node_of(ours_field[i]), "call %d: %s" % (i, name), problems)
            compare_mapping(call["inputs"], None if ours_mappings is None else ours_mappings[i], "call %d: inputs" % i, problems)
        # What the metric itself got under evalpred (probe_metrics.py): the keys in order and the mapping's behaviour.
        probe = os.path.join(case_dir, "evalpred-batch-inputs.json")
        seen = json.load(open(probe)) if os.path.exists(probe) else None
        real_seen = [None if c["inputs"] is None else {"keys": [k for k, _ in c["inputs"][1]], "access": c["inputs_access"]} for c in calls]
        if any(x is not None for x in real_seen) and seen != real_seen:
            problems.append("compute_metrics' inputs: Trainer's calls got %r, evalpred's %r" % (real_seen, seen))
        if [c["compute_result"] for c in calls] != [False] * (len(calls) - 1) + [True]:
            problems.append("Trainer's compute_result flags: %r" % [c["compute_result"] for c in calls])
        if ours_metrics.get("eval_calls") != float(len(calls)) or ours_metrics.get("eval_last") != 1.0:
            problems.append("evalpred's metrics come from call %r (last %r), Trainer's from call %d" % (
                ours_metrics.get("eval_calls"), ours_metrics.get("eval_last"), len(calls)))
        for name in ("predictions", "label_ids", "losses"):
            summary[name] = "per call: " + ", ".join(describe(c[name]) for c in calls)
        summary["inputs"] = "per call: " + ", ".join(describe_mapping(c["inputs"]) for c in calls)
    for name in ("predictions", "label_ids", "inputs", "losses"):
        if "calls" in real:
            break
        ours = node_of(fields.get(name))
        compare(real[name], ours, name, problems)
        summary[name] = describe(real[name])
    real_loss = real["metrics"].get("eval_loss")
    our_loss = ours_metrics.get("eval_loss")
    if (real_loss is None) != (our_loss is None):
        problems.append("eval_loss: Trainer %r, evalpred %r" % (real_loss, our_loss))
    elif real_loss is not None and abs(real_loss - our_loss) > FLOAT_TOL:
        problems.append("eval_loss: Trainer %r, evalpred %r" % (real_loss, our_loss))
    summary["eval_loss"] = real_loss
    # What a metric function sees of the object itself (probe_metrics.py under the evalPredictionProfile's
    # stand-in, no transformers in that interpreter) against the real class.
    if ours_metrics.get("eval_elements") != real["elements"]:
        problems.append("EvalPrediction yields %r elements under evalpred, %r under Trainer" % (ours_metrics.get("eval_elements"), real["elements"]))
    summary["elements"] = real["elements"]
    # run_qa with a doc stride: what compute_metrics got is post_processing_function's lists (probe_metrics.py wrote
    # evalpred's into the case folder); the answers must be the same strings, the references the same values.
    if "qa_eval_pred" in real:
        mine = os.path.join(case_dir, "evalpred-qa-eval-pred.json")
        if not os.path.exists(mine):
            problems.append("compute_metrics under evalpred did not get post-processed QA lists")
        else:
            with open(mine) as f:
                ours_qa = json.load(f)
            theirs = json.loads(json.dumps(real["qa_eval_pred"]))
            for key in ("predictions", "label_ids"):
                if ours_qa[key] != theirs[key]:
                    diff = [i for i, (a, b) in enumerate(zip(theirs[key], ours_qa[key])) if a != b]
                    first = diff[0] if diff else min(len(theirs[key]), len(ours_qa[key]))
                    problems.append("EvalPrediction.%s (post-processed) differs at %d: Trainer %r, evalpred %r" % (
                        key, first, theirs[key][first:first + 1], ours_qa[key][first:first + 1]))
        summary["qa_examples"] = len(real["qa_eval_pred"]["predictions"])
    print(json.dumps({"ok": not problems, "problems": problems, "summary": summary}))


if __name__ == "__main__":
    main()
