"""evalpred's Python side (NumPy only; transformers is used when importable, never required).

    from evalpred import capture                     # in the training script
    trainer = Trainer(..., compute_metrics=capture(compute_metrics, "evalpred-dump"))

    import evalpred                                  # in a notebook or script
    ep = evalpred.load("evalpred-dump")              # the EvalPrediction, memory-mapped

    python -m evalpred metrics evalpred-dump metrics.py   # rerun a metric without Node
"""
from .cache import CacheError
from .capture import capture, write_dump
from .load import load, load_series
from .tokenizer import load_tokenizer

__version__ = "0.1.0"
__all__ = ["capture", "write_dump", "load", "load_series", "load_tokenizer", "CacheError", "__version__"]
