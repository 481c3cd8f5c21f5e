"""The EvalPrediction a compute_metrics receives: transformers' own class when importable, else a stand-in.

The stand-ins reproduce the three shapes the class has had (docs/trainer-semantics.md, "EvalPrediction"):
`current` (v4.46+: inputs and losses), `v4.19-4.45` (inputs, no losses) and `<=4.18` (a NamedTuple).
Shared by the metric worker, `evalpred.load` and `python -m evalpred metrics`, so every entry point hands the
user's function the same object.
"""
import collections
import os
import sys
import typing


class EvalPrediction:
    """Stand-in for transformers.trainer_utils.EvalPrediction, v4.46 and later."""

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
        if idx < 0 or idx > len(self.elements) - 1:
            raise IndexError("tuple index out of range")
        return self.elements[idx]


class _EvalPredictionV419:
    """Stand-in for transformers v4.19-4.45: optional inputs, no losses; iteration and indexing look at
    `inputs` at call time (there is no `elements` tuple)."""

    def __init__(self, predictions, label_ids, inputs=None):
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs

    def __iter__(self):
        if self.inputs is not None:
            return iter((self.predictions, self.label_ids, self.inputs))
        else:
            return iter((self.predictions, self.label_ids))

    def __getitem__(self, idx):
        if idx < 0 or idx > 2:
            raise IndexError("tuple index out of range")
        if idx == 2 and self.inputs is None:
            raise IndexError("tuple index out of range")
        if idx == 0:
            return self.predictions
        elif idx == 1:
            return self.label_ids
        elif idx == 2:
            return self.inputs


# The user sees the class name in errors ("object of type 'EvalPrediction' has no len()"), so all are EvalPrediction.
_EvalPredictionV419.__name__ = _EvalPredictionV419.__qualname__ = "EvalPrediction"

# transformers <= 4.18: a NamedTuple, so len, negative indices, slices, _fields and _replace all work.
_EvalPredictionNT = typing.NamedTuple("EvalPrediction", [("predictions", typing.Any), ("label_ids", typing.Any)])

PROFILES = ("current", "v4.57", "v4.19-4.45", "<=4.18")
STAND_INS = {"current": EvalPrediction, "v4.57": EvalPrediction, "v4.19-4.45": _EvalPredictionV419, "<=4.18": _EvalPredictionNT}


def profile_of_class(cls):
    """Which profile an installed transformers' EvalPrediction behaves as (by its shape, not its version string)."""
    if isinstance(cls, type) and issubclass(cls, tuple):
        return "<=4.18"
    try:
        import inspect

        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return "current"
    return "current" if "losses" in params else "v4.19-4.45"


class BatchEncoding(collections.UserDict):
    """Stand-in for transformers.BatchEncoding, the batch mapping a tokenizer's pad (so DataCollatorWithPadding,
    DataCollatorForSeq2Seq, ...) returns and batch_eval_metrics hands over as `inputs`: keys in the collator's
    order, item and attribute access (`inputs["attention_mask"]`, `inputs.attention_mask`), `.to(device)`."""

    def __getattr__(self, item):
        if item == "data":  # not set yet (copy, pickle): never look it up in itself
            raise AttributeError(item)
        try:
            return self.data[item]
        except KeyError:
            raise AttributeError(item) from None

    def to(self, device, non_blocking=False):
        self.data = {k: v.to(device=device, non_blocking=non_blocking) if callable(getattr(v, "to", None)) else v
                     for k, v in self.data.items()}
        return self


def batch_mapping(items):
    """Trainer's batch for one batch_eval_metrics call (docs/trainer-semantics.md#batch_eval_metrics) from
    (key, value) pairs in the collator's order: transformers' BatchEncoding when transformers is what builds the
    EvalPrediction, else the stand-in."""
    cls = BatchEncoding
    if eval_prediction_class()[1] == "transformers":
        try:
            from transformers import BatchEncoding as cls  # noqa: N813
        except Exception:  # noqa: BLE001 - the stand-in does the same job
            cls = BatchEncoding
    return cls(dict(items))


_ep_class = None


def eval_prediction_class():
    """(class, "transformers" | "stand-in"). EVALPRED_NO_TRANSFORMERS=1 forces the stand-in."""
    global _ep_class
    if _ep_class is None:
        _ep_class = (EvalPrediction, "stand-in")
        if not os.environ.get("EVALPRED_NO_TRANSFORMERS"):
            try:
                from transformers.trainer_utils import EvalPrediction as HF

                _ep_class = (HF, "transformers")
            except Exception:
                pass
    return _ep_class


def build(fields, requested=None):
    """(eval_pred, kind, profile used, warnings) from a dict of the four fields.

    `requested` None means "the default": the installed transformers' class, else the `current` stand-in.
    """
    cls, kind = eval_prediction_class()
    warnings = []
    if kind == "transformers":
        profile = profile_of_class(cls)
        # v4.57 has the current class; it differs only in the loop's causal-LM loss (docs/trainer-semantics.md).
        if requested is not None and requested != profile and not (requested == "v4.57" and profile == "current"):
            tf = sys.modules.get("transformers")
            warnings.append(
                "transformers %s is importable in %s, so compute_metrics gets its own EvalPrediction (profile %s); "
                "the requested profile %s is not applied (it only shapes the stand-in used without transformers)."
                % (getattr(tf, "__version__", "?"), sys.executable, profile, requested))
    else:
        profile = requested or "current"
        cls = STAND_INS[profile]
    # Older EvalPrediction classes cannot carry what newer Trainers add: drop it, as that Trainer would never have it.
    dropped = [k for k in (("inputs", "losses") if profile == "<=4.18" else ("losses",) if profile == "v4.19-4.45" else ())
               if fields.get(k) is not None]
    if dropped:
        warnings.append(
            "the cache holds %s, but EvalPrediction of profile %s has no %s attribute, so compute_metrics does not get %s."
            % (" and ".join(dropped), profile, " or ".join(dropped), "them" if len(dropped) > 1 else "it"))
    p, l = fields.get("predictions"), fields.get("label_ids")
    if profile == "<=4.18":
        return cls(p, l), kind, profile, warnings
    if profile == "v4.19-4.45":
        return cls(p, l, inputs=fields.get("inputs")), kind, profile, warnings
    return cls(p, l, inputs=fields.get("inputs"), losses=fields.get("losses")), kind, profile, warnings
