# The metric the cross-check runs under evalpred: it reports what a compute_metrics sees of the EvalPrediction
# object itself (how many elements it yields, whether it has the losses attribute), for compare.py. Under
# --doc-stride (QuestionAnsweringTrainer's post-processed answers) it also writes those lists to the working
# folder (the case's), for compare.py to set against the real post_processing_function's. Under batch_eval_metrics
# it is called once per batch (compute_result True on the last) and also reports the calls.
import json

_calls = []
_mappings = []


def mapping_access(m):
    """What a metric may do with a batch mapping besides m[key]: which of these work (BatchEncoding: all)."""
    key = next(iter(m.keys()))
    checks = {"attribute": lambda: getattr(m, key) is m[key], "get": lambda: m.get(key) is m[key],
              "in": lambda: key in m, "len": lambda: len(m) == len(list(m.keys())),
              "dict": lambda: isinstance(m, dict), "to": lambda: callable(getattr(m, "to", None))}
    out = {}
    for name, check in checks.items():
        try:
            out[name] = bool(check())
        except Exception:
            out[name] = False
    return out


def compute_metrics(eval_pred, compute_result=None):
    if isinstance(eval_pred.predictions, list) and eval_pred.predictions and isinstance(eval_pred.predictions[0], dict):
        with open("evalpred-qa-eval-pred.json", "w") as f:
            json.dump({"predictions": eval_pred.predictions, "label_ids": eval_pred.label_ids}, f)
    out = {"elements": len(list(iter(eval_pred))), "has_losses": int(hasattr(eval_pred, "losses"))}
    if compute_result is None:
        return out
    _calls.append(compute_result)
    out.update(calls=float(len(_calls)), last=1.0 if compute_result else 0.0)
    inputs = getattr(eval_pred, "inputs", None)
    if inputs is not None:
        # the batch mapping as this call got it: its keys in order, and what works on it (compare.py sets both
        # against the real Trainer's)
        _mappings.append({"keys": list(inputs.keys()), "access": mapping_access(inputs)})
        with open("evalpred-batch-inputs.json", "w") as f:
            json.dump(_mappings, f)
    if compute_result:
        _calls.clear()
        _mappings.clear()
    return out
