# The metric the cross-check runs under evalpred: it reports what a compute_metrics sees of the EvalPrediction
# object itself (how many elements it yields, whether it has the losses attribute), for compare.py. Under
# --doc-stride (QuestionAnsweringTrainer's post-processed answers) it also writes those lists to the working
# folder (the case's), for compare.py to set against the real post_processing_function's. Under batch_eval_metrics
# it is called once per batch (compute_result True on the last) and also reports the calls.
import json

_calls = []


def compute_metrics(eval_pred, compute_result=None):
    if isinstance(eval_pred.predictions, list) and eval_pred.predictions and isinstance(eval_pred.predictions[0], dict):
        with open("evalpred-qa-eval-pred.json", "w") as f:
            json.dump({"predictions": eval_pred.predictions, "label_ids": eval_pred.label_ids}, f)
    out = {"elements": len(list(iter(eval_pred))), "has_losses": int(hasattr(eval_pred, "losses"))}
    if compute_result is None:
        return out
    _calls.append(compute_result)
    out.update(calls=float(len(_calls)), last=1.0 if compute_result else 0.0)
    if compute_result:
        _calls.clear()
    return out
