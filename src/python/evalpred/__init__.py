"""evalpred helpers for real Trainer runs (NumPy only; transformers is never imported here).

    from evalpred import capture
    trainer = Trainer(..., compute_metrics=capture(compute_metrics, "evalpred-dump"))

The wrapper writes the EvalPrediction it receives as an evalpred cache folder (manifest.json + .npy)
and then calls your function; load the folder with `evalpred import evalpred-dump --out CACHE`.
"""
from .capture import capture, write_dump

__all__ = ["capture", "write_dump"]
