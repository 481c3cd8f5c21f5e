"""Token ids and offsets from transformers' fast tokenizer, for the offsets cross-check (realTrainer.crosscheck.ts).

Usage: offsets.py REQUEST.json  where REQUEST is {"dirs": [tokenizer folder, ...], "inputs": [[text, pair or null], ...]}.
Prints {folder: [[input_ids, offset_mapping], ...]} as JSON.
"""
import json
import sys
import warnings

warnings.filterwarnings("ignore")
import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

transformers.logging.set_verbosity_error()

req = json.load(open(sys.argv[1], encoding="utf-8"))
out = {}
for d in req["dirs"]:
    tok = AutoTokenizer.from_pretrained(d)
    rows = []
    for text, pair in req["inputs"]:
        enc = tok(text, pair, return_offsets_mapping=True) if pair is not None else tok(text, return_offsets_mapping=True)
        rows.append([enc["input_ids"], [list(o) for o in enc["offset_mapping"]]])
    out[d] = rows
print(json.dumps(out))
