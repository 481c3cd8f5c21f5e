"""`python -m evalpred metrics CACHE metrics.py`: rerun a compute_metrics on a cache without Node.

CACHE may be one cache, or a series captured during training (a folder with series.json): then every step
is rerun and a table shows each metric as logged and as recomputed.
"""
import argparse
import importlib.util
import json
import math
import os
import sys
import traceback

from .cache import CacheError
from .capture import metrics_json
from .load import load, load_series


def _load_function(path, name):
    if not os.path.isfile(path):
        raise SystemExit("evalpred: error: metric file %s does not exist" % path)
    spec = importlib.util.spec_from_file_location("evalpred_user_metrics", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        spec.loader.exec_module(module)
    except Exception:  # noqa: BLE001
        raise SystemExit("evalpred: error: %s could not be imported:\n%s" % (path, _user_traceback(path)))
    for candidate in ([name] if name else ["compute_metrics", "computeMetrics"]):
        fn = getattr(module, candidate, None)
        if callable(fn):
            return fn
    raise SystemExit("evalpred: error: %s defines no function %s" % (path, name or "compute_metrics"))


def _user_traceback(path):
    """The traceback from the user's file on, without evalpred's own frames."""
    etype, value, tb = sys.exc_info()
    frames = traceback.extract_tb(tb)
    real = os.path.realpath(path)
    start = next((i for i, f in enumerate(frames) if os.path.realpath(f.filename) == real), 0)
    return "".join(traceback.format_list(frames[start:]) + traceback.format_exception_only(etype, value)).rstrip()


def trainer_keys(metrics, prefix="eval"):
    """Trainer.evaluate's post-processing: JSON numbers, and every key prefixed `eval_`."""
    if not isinstance(metrics, dict):
        raise TypeError("compute_metrics returned %s, not a dict of metric names to numbers" % type(metrics).__name__)
    out = {}
    for k, v in metrics_json(metrics).items():
        out[k if k.startswith(prefix + "_") else "%s_%s" % (prefix, k)] = v
    return out


def _run(fn, cache, path):
    try:
        return trainer_keys(fn(load(cache))), None
    except CacheError as e:
        return None, str(e)
    except Exception:  # noqa: BLE001 - the user's error, shown at their line
        return None, _user_traceback(path)


def _fmt(v):
    if isinstance(v, float):
        return "nan" if math.isnan(v) else "%.4f" % v
    return "-" if v is None else str(v)


def _series(args, fn):
    rows = []
    for step in load_series(args.cache):
        logged = trainer_keys(step["metrics"]) if isinstance(step.get("metrics"), dict) else {}
        recomputed, error = _run(fn, step["path"], args.metrics)
        rows.append({"step": step.get("step"), "call": step.get("call"), "epoch": step.get("epoch"),
                     "logged": logged, "recomputed": recomputed, "error": error})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 1 if any(r["error"] for r in rows) else 0
    keys = []
    for r in rows:
        for k in list(r["logged"]) + list(r["recomputed"] or {}):
            if k not in keys:
                keys.append(k)
    print("%-8s %-28s %12s %12s %12s" % ("step", "metric", "logged", "recomputed", "change"))
    for r in rows:
        label = str(r["step"] if r["step"] is not None else "call %s" % r["call"])
        if r["error"]:
            print("%-8s error: %s" % (label, r["error"].replace("\n", "\n         ")))
            continue
        for k in keys:
            a, b = r["logged"].get(k), r["recomputed"].get(k)
            diff = b - a if isinstance(a, (int, float)) and isinstance(b, (int, float)) else None
            print("%-8s %-28s %12s %12s %12s" % (label, k, _fmt(a), _fmt(b), _fmt(diff) if diff is not None else ""))
    return 1 if any(r["error"] for r in rows) else 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m evalpred", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("metrics", help="rerun a compute_metrics on a cache or a captured series")
    m.add_argument("cache", help="a cache folder, or a series folder (with series.json)")
    m.add_argument("metrics", help="the metric file (a .py defining compute_metrics)")
    m.add_argument("--function", help="the function's name (default compute_metrics)")
    m.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    fn = _load_function(args.metrics, args.function)
    try:
        if os.path.isfile(os.path.join(args.cache, "series.json")):
            return _series(args, fn)
        metrics, error = _run(fn, args.cache, args.metrics)
    except CacheError as e:
        print("evalpred: error: %s" % e, file=sys.stderr)
        return 2
    if error:
        print("evalpred: error: %s" % error, file=sys.stderr)
        return 1
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
