"""Reference for src/core/metrics/qaPostprocess.ts: transformers' examples/pytorch/question-answering/utils_qa.py
postprocess_qa_predictions (start/end logits only) and run_qa.py's post_processing_function, transcribed with
NumPy doing the arithmetic the original does (float32 logits, np.argsort, Python's stable sorted).

stdin: {"examples": [{"id", "context", "answers"}], "features": [{"example_id", "offset_mapping": [[s, e] | null]}],
        "start_logits": [[...]], "end_logits": [[...]], "version_2_with_negative", "n_best_size",
        "max_answer_length", "null_score_diff_threshold"}
stdout: {"predictions": [...], "label_ids": [...], "score_diffs": {id: float}}
"""
import collections
import json
import sys

import numpy as np


def postprocess(examples, features, start_all, end_all, v2, n_best, max_len, threshold):
    id_to_index = {ex["id"]: i for i, ex in enumerate(examples)}
    per_example = collections.defaultdict(list)
    for i, feat in enumerate(features):
        per_example[id_to_index[feat["example_id"]]].append(i)
    answers = collections.OrderedDict()
    diffs = collections.OrderedDict()
    for ei, ex in enumerate(examples):
        min_null = None
        prelim = []
        for fi in per_example[ei]:
            s, e = start_all[fi], end_all[fi]
            offsets = features[fi]["offset_mapping"]
            null_score = s[0] + e[0]
            if min_null is None or min_null["score"] > null_score:
                min_null = {"offsets": (0, 0), "score": null_score, "start_logit": s[0], "end_logit": e[0]}
            for si in np.argsort(s)[-1 : -n_best - 1 : -1].tolist():
                for ej in np.argsort(e)[-1 : -n_best - 1 : -1].tolist():
                    if si >= len(offsets) or ej >= len(offsets) or offsets[si] is None or offsets[ej] is None:
                        continue
                    if ej < si or ej - si + 1 > max_len:
                        continue
                    prelim.append({"offsets": (offsets[si][0], offsets[ej][1]), "score": s[si] + e[ej], "start_logit": s[si], "end_logit": e[ej]})
        if v2:
            prelim.append(min_null)
            null_score = min_null["score"]
        preds = sorted(prelim, key=lambda x: x["score"], reverse=True)[:n_best]
        if v2 and not any(p["offsets"] == (0, 0) for p in preds):
            preds.append(min_null)
        for p in preds:
            o = p.pop("offsets")
            p["text"] = ex["context"][o[0] : o[1]]
        if len(preds) == 0 or (len(preds) == 1 and preds[0]["text"] == ""):
            preds.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
        if not v2:
            answers[ex["id"]] = preds[0]["text"]
        else:
            i = 0
            while preds[i]["text"] == "":
                i += 1
            best = preds[i]
            diff = null_score - best["start_logit"] - best["end_logit"]
            diffs[ex["id"]] = float(diff)
            answers[ex["id"]] = "" if diff > threshold else best["text"]
    return answers, diffs


def main():
    req = json.load(sys.stdin)
    start = np.array(req["start_logits"], dtype=np.float32)
    end = np.array(req["end_logits"], dtype=np.float32)
    features = [{"example_id": f["example_id"], "offset_mapping": [tuple(o) if o is not None else None for o in f["offset_mapping"]]} for f in req["features"]]
    v2 = req["version_2_with_negative"]
    answers, diffs = postprocess(req["examples"], features, start, end, v2, req["n_best_size"], req["max_answer_length"], req["null_score_diff_threshold"])
    if v2:
        predictions = [{"id": k, "prediction_text": v, "no_answer_probability": 0.0} for k, v in answers.items()]
    else:
        predictions = [{"id": k, "prediction_text": v} for k, v in answers.items()]
    references = [{"id": ex["id"], "answers": ex["answers"]} for ex in req["examples"]]
    json.dump({"predictions": predictions, "label_ids": references, "score_diffs": diffs}, sys.stdout)


main()
