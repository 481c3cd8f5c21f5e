"""Dump the EvalPrediction a real Trainer passes to compute_metrics, in evalpred's cache format.

    trainer = Trainer(..., compute_metrics=capture(compute_metrics, "evalpred-dump"))

- `trainer.evaluate()` (or any call outside training) writes one cache at `evalpred-dump/` (the latest wins).
- Evaluations during `trainer.train()` (eval_steps / each epoch) write a series: one cache per call in
  `evalpred-dump/step-<global_step>/`, with the step, epoch and the metrics your function returned, and
  `evalpred-dump/series.json` listing them in order (docs/cache-format.md, "Series").
- Only global rank 0 writes (torch.distributed, accelerate and torchrun's RANK agree on it); every rank still
  calls your function, as Trainer does.
- Under `batch_eval_metrics=True` every batch is kept and the whole evaluation is written when Trainer passes
  `compute_result=True`, one list entry per call (docs/trainer-semantics.md#batch_eval_metrics), so a rerun replays the
  calls; `inputs` (the batch mapping there) keeps its `input_ids`.
A failing dump only warns: the training run must not die because of the debugging aid.
"""
import datetime
import functools
import os
import re
import sys
import warnings

import numpy as np

from .cache import FIELDS, CacheError, check_target, read_json, read_manifest, to_numpy, write_cache, write_json

SERIES_FORMAT = "evalpred-series/1"
SERIES_FILE = "series.json"

# TrainingArguments that change what compute_metrics receives (docs/fidelity.md); recorded with each dump.
_ARGS_OF_INTEREST = (
    "per_device_eval_batch_size", "eval_do_concat_batches", "include_for_metrics", "include_inputs_for_metrics",
    "batch_eval_metrics", "label_names", "label_smoothing_factor", "dataloader_drop_last", "eval_accumulation_steps",
    "predict_with_generate", "generation_max_length", "generation_num_beams", "eval_strategy", "evaluation_strategy",
    "eval_steps", "seed", "output_dir", "remove_unused_columns", "prediction_loss_only",
)


def global_rank():
    """The process's global rank: torch.distributed when initialised, else the launcher's environment, else 0."""
    td = sys.modules.get("torch.distributed")
    try:
        if td is not None and td.is_available() and td.is_initialized():
            return int(td.get_rank())
    except Exception:  # noqa: BLE001 - a half-initialised process group: fall back to the environment
        pass
    for var in ("RANK", "PMI_RANK", "OMPI_COMM_WORLD_RANK"):
        if os.environ.get(var, "").strip().isdigit():
            return int(os.environ[var])
    return 0


def find_trainer(max_depth=12):
    """The Trainer whose evaluation loop called us (found on the call stack), or None for a plain call."""
    frame = sys._getframe(2)
    for _ in range(max_depth):
        if frame is None:
            return None
        obj = frame.f_locals.get("self")
        if obj is not None and hasattr(obj, "args") and hasattr(obj, "state") and hasattr(obj, "compute_metrics"):
            return obj
        frame = frame.f_back
    return None


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    if hasattr(v, "value") and isinstance(getattr(v, "value"), (str, int)):  # enums (IntervalStrategy, …)
        return v.value
    return str(v)


def trainer_info(trainer):
    """Step, epoch, whether it is training, and the TrainingArguments that shape the EvalPrediction."""
    if trainer is None:
        return {}
    state, args = trainer.state, trainer.args
    seen = {}
    for name in _ARGS_OF_INTEREST:
        if hasattr(args, name):
            seen[name] = _jsonable(getattr(args, name))
    return {
        "step": getattr(state, "global_step", None),
        "epoch": _jsonable(getattr(state, "epoch", None)),
        "in_train": bool(getattr(trainer, "is_in_train", False)),
        "trainer": type(trainer).__name__,
        "args": seen,
    }


def metrics_json(metrics):
    """What the user's function returned, as JSON (NumPy/torch scalars to numbers, like Trainer's denumpify)."""
    def conv(v):
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, np.generic):
            return v.item()
        if hasattr(v, "item") and hasattr(v, "numel"):
            try:
                return v.item() if v.numel() == 1 else str(v)
            except Exception:  # noqa: BLE001
                return str(v)
        if isinstance(v, float) and (v != v or v in (float("inf"), float("-inf"))):
            return str(v)
        return v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
    return conv(metrics)


def _fields_of(eval_pred):
    fields = {k: getattr(eval_pred, k, None) for k in FIELDS}
    if fields["predictions"] is None and isinstance(eval_pred, (tuple, list)):
        fields["predictions"], fields["label_ids"] = eval_pred[0], eval_pred[1]
    # batch_eval_metrics hands the whole batch mapping as inputs; a cache keeps the input ids, as without it.
    if isinstance(fields["inputs"], dict) or hasattr(fields["inputs"], "keys"):
        fields["inputs"] = fields["inputs"].get("input_ids") if "input_ids" in fields["inputs"] else None
    return fields


_BATCH_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _batch_mapping_of(eval_pred):
    """batch_eval_metrics' inputs, the whole batch mapping, as (key, NumPy array) pairs in its order
    (docs/cache-format.md#batch-inputs); None when it is not a mapping holding input_ids. Keys whose value is
    not an array (None, strings) are left out, as a cache holds arrays only."""
    inputs = getattr(eval_pred, "inputs", None)
    if inputs is None or not hasattr(inputs, "keys") or "input_ids" not in inputs:
        return None
    items = []
    for k in list(inputs.keys()):
        v = inputs[k]
        if not isinstance(k, str) or not _BATCH_KEY.match(k) or v is None or isinstance(v, (str, bytes)):
            continue
        try:
            a = to_numpy(v)
        except Exception:  # noqa: BLE001
            continue
        if a.dtype.kind in "biuf":
            items.append((k, a))
    return items


def _batch_inputs_of(mappings):
    """write_cache's batch_inputs from each call's mapping, when every call had one with the same keys."""
    if not mappings or any(m is None for m in mappings):
        return None
    keys = [k for k, _ in mappings[0]]
    if any([k for k, _ in m] != keys for m in mappings):
        return None
    return keys, "input_ids", {k: [dict(m)[k] for m in mappings] for k in keys if k != "input_ids"}


def _numpy_tree(v):
    if v is None:
        return None
    if isinstance(v, (tuple, list)):
        return type(v)(_numpy_tree(x) for x in v)
    return to_numpy(v)


def write_dump(eval_pred, dump_dir, extra=None):
    """Write `eval_pred` (an EvalPrediction, or a (predictions, label_ids) pair) to `dump_dir`, atomically.

    An existing `dump_dir` is replaced only when it is an evalpred cache; anything else raises CacheError.
    """
    return write_cache(dump_dir, _fields_of(eval_pred), extra)


class _Series:
    """One training run's evaluations: `dir/step-<N>/` caches and `dir/series.json` listing them."""

    def __init__(self, root):
        self.root = os.path.abspath(root)
        self.index_path = os.path.join(self.root, SERIES_FILE)

    def _index(self):
        if os.path.exists(self.index_path):
            _, index = read_json(self.root, SERIES_FILE, "an evalpred series")
            if index.get("format") != SERIES_FORMAT:
                raise CacheError("%s is not an evalpred series index" % self.index_path)
            return index
        if os.path.isdir(self.root) and os.listdir(self.root):
            # A single-evaluate dump of ours becomes the series' first step; anything else stays untouched.
            try:
                read_manifest(self.root)
            except CacheError:
                raise CacheError("%s is not empty and holds no evalpred series; choose another folder, evalpred "
                                 "never replaces files it did not write" % self.root) from None
            raise CacheError("%s holds a single evaluation dump; give the training run's capture another folder"
                             % self.root)
        return {"format": SERIES_FORMAT, "steps": []}

    def add(self, fields, info, metrics, batch_inputs=None):
        index = self._index()
        os.makedirs(self.root, exist_ok=True)
        call = len(index["steps"]) + 1
        step = info.get("step")
        base = "step-%d" % step if isinstance(step, int) else "call-%d" % call
        name, k = base, 2
        taken = {s["dir"] for s in index["steps"]}
        while name in taken or os.path.lexists(os.path.join(self.root, name)):
            name, k = "%s-%d" % (base, k), k + 1
        record = {
            "dir": name, "call": call, "step": step if isinstance(step, int) else None,
            "epoch": info.get("epoch"), "metrics": metrics_json(metrics) if metrics is not None else None,
            "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }
        write_cache(os.path.join(self.root, name), fields, {"capture": dict(record, args=info.get("args", {}))}, batch_inputs)
        index["steps"].append(record)
        if info.get("args"):
            index["trainer_args"] = info["args"]
        write_json(self.index_path, index)
        return os.path.join(self.root, name)


def capture(compute_metrics, dump_dir, series=None):
    """Wrap `compute_metrics`: dump each EvalPrediction it receives, then call it (see the module doc).

    series: None (default) writes a series for evaluations during `trainer.train()` and a single dump
    otherwise; True always writes a series (plain calls are numbered call-1, call-2, …); False never does.
    """
    pending = []  # batch_eval_metrics: the batches seen so far in this evaluation

    def warn(e):
        warnings.warn("evalpred.capture could not write %s: %s" % (dump_dir, e))

    @functools.wraps(compute_metrics)
    def wrapper(eval_pred, *args, **kwargs):
        if global_rank() != 0:
            return compute_metrics(eval_pred, *args, **kwargs)
        fields = batch_inputs = None
        try:
            trainer = find_trainer()
            info = trainer_info(trainer)
            fields = {k: _numpy_tree(v) for k, v in _fields_of(eval_pred).items()}
            if "compute_result" in kwargs:  # batch_eval_metrics: keep the batch, write on the last one
                pending.append((fields, _batch_mapping_of(eval_pred)))
                fields = None
                if kwargs["compute_result"]:
                    # Per-batch lists, as evalpred's own batch_eval_metrics caches: each call is replayed from its entry,
                    # with the whole batch mapping as its inputs when every call had one (docs/cache-format.md#batch-inputs).
                    fields = {k: [b[k] for b, _ in pending] if all(b[k] is not None for b, _ in pending) else None for k in FIELDS}
                    if fields["inputs"] is not None:
                        batch_inputs = _batch_inputs_of([m for _, m in pending])
                    # Said even when no Trainer was found: compute_result means batch_eval_metrics, and the manifest
                    # tells a rerun to replay the calls (src/core/metrics/batchCalls.ts).
                    info.setdefault("args", {}).update(captured_batches=len(pending), batch_eval_metrics=True)
                    pending.clear()
            as_series = series if series is not None else info.get("in_train", False)
            if fields is not None and not as_series:
                write_cache(dump_dir, fields, {"capture": {"step": info.get("step"), "epoch": info.get("epoch"),
                                                           "args": info.get("args", {})}} if info else None, batch_inputs)
                fields = None
            elif fields is not None:
                _Series(dump_dir)._index()  # refuse a foreign folder before the user's function runs
        except Exception as e:  # noqa: BLE001
            warn(e)
            fields = None
        def record(result):
            if fields is not None:
                try:
                    _Series(dump_dir).add(fields, info, result, batch_inputs)
                except Exception as e:  # noqa: BLE001
                    warn(e)

        try:
            result = compute_metrics(eval_pred, *args, **kwargs)
        except BaseException:
            record(None)  # the step is kept (that is when it is needed most), with no logged metrics
            raise
        record(result)
        return result

    return wrapper


__all__ = ["capture", "write_dump", "global_rank", "find_trainer", "check_target"]
