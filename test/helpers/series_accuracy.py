"""NumPy's accuracy of each step of a captured series folder (argv[1]), as JSON {step dir: accuracy}.

The value the series view must plot for a fixed accuracy metric: read from the steps' own .npy files
(docs/cache-format.md), independently of evalpred's readers. Used by the webview test and the e2e test.
"""
import json
import os
import sys

import numpy as np

d = sys.argv[1]
out = {}
for s in json.load(open(os.path.join(d, "series.json")))["steps"]:
    m = json.load(open(os.path.join(d, s["dir"], "manifest.json")))["eval_prediction"]
    p = np.load(os.path.join(d, s["dir"], m["predictions"]["npy"]))
    y = np.load(os.path.join(d, s["dir"], m["label_ids"]["npy"]))
    out[s["dir"]] = float((p.argmax(-1) == y).mean())
print(json.dumps(out))
