# A transcription of the preprocess_logits_for_metrics that transformers' examples define, in NumPy (torch's
# argmax(dim=-1) and np.argmax(axis=-1) agree: the first maximum wins, NaN counts as the maximum), so the
# built-in presets (src/core/loop/accumulate.ts) can be checked against the function users copy.
# Usage: preprocess_reference.py PRESET DIR
#   reads DIR/in_{k}.npy (k = 0, 1, ...; one file: a tensor; several: a tuple, in order)
#   writes DIR/out.npy
import os, sys, glob
import numpy as np


def run_clm_preprocess_logits_for_metrics(logits, labels):
    # examples/pytorch/language-modeling/run_clm.py (run_mlm.py has the same function), torch -> NumPy
    if isinstance(logits, tuple):
        # Depending on the model and config, logits may contain extra tensors,
        # like past_key_values, but logits always come first
        logits = logits[0]
    return logits.argmax(axis=-1)


PRESETS = {'argmax': run_clm_preprocess_logits_for_metrics}

preset, d = sys.argv[1], sys.argv[2]
n = len(glob.glob(os.path.join(d, 'in_*.npy')))
parts = [np.load(os.path.join(d, f'in_{k}.npy')) for k in range(n)]
logits = parts[0] if n == 1 else tuple(parts)
np.save(os.path.join(d, 'out.npy'), np.asarray(PRESETS[preset](logits, None)).astype(np.int64))
