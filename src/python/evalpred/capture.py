"""Dump the EvalPrediction a real Trainer passes to compute_metrics, in evalpred's cache format."""
import datetime
import functools
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np

FORMAT = "evalpred-cache/1"


def _to_numpy(x):
    # batch_eval_metrics hands torch tensors on the device; everything else is already NumPy.
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def _write_node(value, name, folder, digest):
    if value is None:
        return None
    if isinstance(value, tuple):
        return {"tuple": [_write_node(v, "%s_%d" % (name, i), folder, digest) for i, v in enumerate(value)]}
    if isinstance(value, list):
        return {"list": [_write_node(v, "%s_%d" % (name, i), folder, digest) for i, v in enumerate(value)]}
    if isinstance(value, dict):
        raise TypeError("%s is a dict (preprocess_logits_for_metrics returned one?); evalpred caches hold arrays, "
                        "tuples and lists only" % name)
    arr = np.ascontiguousarray(_to_numpy(value))
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if arr.dtype == object:
        raise TypeError("%s holds Python objects (dtype=object), which evalpred cannot cache" % name)
    fname = name + ".npy"
    np.save(os.path.join(folder, fname), arr, allow_pickle=False)
    digest.update(name.encode())
    digest.update(str(arr.dtype).encode() + str(arr.shape).encode())
    digest.update(arr.tobytes())
    return {"npy": fname}


def _num_samples(node_value):
    v = node_value
    while isinstance(v, (tuple, list)) and v:
        if isinstance(v, list):  # per-batch list: sum the batches' rows
            return sum(_num_samples(b) or 0 for b in v)
        v = v[0]
    shape = getattr(v, "shape", None)
    return int(shape[0]) if shape else None


def write_dump(eval_pred, dump_dir):
    """Write `eval_pred` (an EvalPrediction, or a (predictions, label_ids) pair) to `dump_dir`, atomically."""
    fields = {}
    for k in ("predictions", "label_ids", "inputs", "losses"):
        fields[k] = getattr(eval_pred, k, None)
    if fields["predictions"] is None and isinstance(eval_pred, (tuple, list)):
        fields["predictions"], fields["label_ids"] = eval_pred[0], eval_pred[1]
    dump_dir = os.path.abspath(dump_dir)
    parent = os.path.dirname(dump_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".evalpred-capture-", dir=parent)
    try:
        digest = hashlib.sha256()
        nodes = {k: _write_node(v, k, tmp, digest) for k, v in fields.items()}
        n = _num_samples(fields["label_ids"]) if fields["label_ids"] is not None else _num_samples(fields["predictions"])
        tf = sys.modules.get("transformers")
        manifest = {
            "format": FORMAT,
            "num_samples": n,
            "key": "capture-" + digest.hexdigest()[:32],
            "producer": {
                "tool": "evalpred.capture",
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "transformers": getattr(tf, "__version__", None),
            },
            "eval_prediction": nodes,
        }
        with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
        # Replace any previous dump: move it aside, rename the new one in, then delete the old one.
        old = None
        if os.path.exists(dump_dir):
            old = dump_dir + ".old-%d" % os.getpid()
            os.rename(dump_dir, old)
        os.rename(tmp, dump_dir)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dump_dir


def capture(compute_metrics, dump_dir):
    """Wrap `compute_metrics`: dump each EvalPrediction to `dump_dir` (the latest call wins), then call it.

    A failing dump only warns: the training run must not die because of the debugging aid.
    """

    @functools.wraps(compute_metrics)
    def wrapper(eval_pred, *args, **kwargs):
        try:
            write_dump(eval_pred, dump_dir)
        except Exception as e:  # noqa: BLE001
            warnings.warn("evalpred.capture could not write %s: %s: %s" % (dump_dir, type(e).__name__, e))
        return compute_metrics(eval_pred, *args, **kwargs)

    return wrapper
