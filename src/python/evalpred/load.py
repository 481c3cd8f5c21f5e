"""Open evalpred caches from Python: notebooks, scripts, `python -m evalpred`.

    import evalpred
    ep = evalpred.load(".evalpred/cache/3f2a…")      # the EvalPrediction, memory-mapped
    ep.meta["num_samples"], ep.meta["producer"]
    compute_metrics(ep)

    for step in evalpred.load_series("evalpred-dump"):   # a training run captured with capture()
        print(step["step"], step["metrics"], compute_metrics(evalpred.load(step["path"])))
"""
import os

from . import eval_prediction
from .cache import CacheError, read_fields, read_json
from .capture import SERIES_FILE, SERIES_FORMAT


def load(cache, profile=None):
    """The cache's EvalPrediction (transformers' own class when importable, else the stand-in of `profile`),
    with read-only memory-mapped arrays and `.meta`: the manifest without the array list."""
    manifest, fields = read_fields(cache)
    ep, kind, used, _ = eval_prediction.build(fields, profile)
    meta = {k: v for k, v in manifest.items() if k != "eval_prediction"}
    meta.update(path=os.path.abspath(cache), eval_prediction_class=kind, profile=used)
    try:
        ep.meta = meta
    except AttributeError:  # the <=4.18 NamedTuple takes no attributes
        pass
    return ep


def load_series(root):
    """The steps of a captured training run, in order: dicts with step, epoch, metrics (as logged) and path."""
    index_path, index = read_json(root, SERIES_FILE, "an evalpred series")
    if not isinstance(index, dict) or index.get("format") != SERIES_FORMAT or not isinstance(index.get("steps"), list):
        raise CacheError('%s is not an evalpred series index (expected "format": "%s")' % (index_path, SERIES_FORMAT))
    steps = []
    for s in index["steps"]:
        name = s.get("dir") if isinstance(s, dict) else None
        if not isinstance(name, str) or os.path.basename(name) != name or name in ("", ".", ".."):
            raise CacheError("%s: a step names no folder of its own (%r)" % (index_path, name))
        steps.append(dict(s, path=os.path.join(os.path.abspath(root), name)))
    return steps
