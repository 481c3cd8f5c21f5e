# The metric the cross-check runs under evalpred: it reports what a compute_metrics sees of the EvalPrediction
# object itself (how many elements it yields, whether it has the losses attribute), for compare.py. Under
# --doc-stride (QuestionAnsweringTrainer's post-processed answers) it also writes those lists to the working
# folder (the case's), for compare.py to set against the real post_processing_function's.
import json


def compute_metrics(eval_pred):
    if isinstance(eval_pred.predictions, list) and eval_pred.predictions and isinstance(eval_pred.predictions[0], dict):
        with open("evalpred-qa-eval-pred.json", "w") as f:
            json.dump({"predictions": eval_pred.predictions, "label_ids": eval_pred.label_ids}, f)
    return {"elements": len(list(iter(eval_pred))), "has_losses": int(hasattr(eval_pred, "losses"))}
