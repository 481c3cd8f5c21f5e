"""evalpred's long-lived Python metric worker.

Protocol: one JSON object per line on stdin (requests) and on the original stdout (replies). The real
stdout file descriptor is kept private for the protocol and fd 1 is pointed at stderr, so nothing the
user's code (or a C library) prints can corrupt it; during a call sys.stdout/sys.stderr are captured
and returned with the reply.

Request:  {"id": 1, "op": "run", "file": "/abs/metrics.py", "function": null, "cache": "/abs/cache"}
Reply:    {"id": 1, "ok": true, "result": <described>, "stdout": "...", "duration_ms": 1.2, "eval_prediction": "transformers"|"stand-in"}
          {"id": 1, "ok": false, "error": {"type": ..., "message": ..., "traceback": ..., "file": ..., "line": ...}, "stdout": ...}
"""
import io
import json
import math
import os
import sys
import time
import traceback
import importlib.util

_proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr


def _send(obj):
    _proto.write(json.dumps(obj, allow_nan=False) + "\n")
    _proto.flush()


try:
    import numpy as np
except Exception as e:  # reported to the host, which tells the user how to install it
    _send({"event": "fatal", "reason": "numpy", "message": "%s: %s" % (type(e).__name__, e), "python": sys.executable})
    sys.exit(3)


class EvalPrediction:
    """Stand-in for transformers.trainer_utils.EvalPrediction (current profile, spec §2.1)."""

    def __init__(self, predictions, label_ids, inputs=None, losses=None):
        self.predictions = predictions
        self.label_ids = label_ids
        self.inputs = inputs
        self.losses = losses
        self.elements = (self.predictions, self.label_ids)
        if self.inputs is not None:
            self.elements += (self.inputs,)
        if self.losses is not None:
            self.elements += (self.losses,)

    def __iter__(self):
        return iter(self.elements)

    def __getitem__(self, idx):
        if idx < 0 or idx > len(self.elements) - 1:
            raise IndexError("tuple index out of range")
        return self.elements[idx]


_ep_class = None


def _eval_prediction_class():
    global _ep_class
    if _ep_class is None:
        if os.environ.get("EVALPRED_NO_TRANSFORMERS"):
            _ep_class = (EvalPrediction, "stand-in")
        else:
            try:
                from transformers.trainer_utils import EvalPrediction as HF

                _ep_class = (HF, "transformers")
            except Exception:
                _ep_class = (EvalPrediction, "stand-in")
    return _ep_class


def _load_node(cache, node):
    if node is None:
        return None
    if "npy" in node:
        # Copy-on-write map: no read of the whole file, yet in-place edits work as on Trainer's arrays and
        # never reach the cache. asarray drops the memmap subclass (Trainer hands plain ndarrays).
        return np.asarray(np.load(os.path.join(cache, node["npy"]), mmap_mode="c", allow_pickle=False))
    if "tuple" in node:
        return tuple(_load_node(cache, n) for n in node["tuple"])
    if "list" in node:
        return [_load_node(cache, n) for n in node["list"]]
    raise ValueError("manifest node %r is not npy/tuple/list" % (node,))


def _load_eval_pred(cache):
    with open(os.path.join(cache, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    ep = manifest["eval_prediction"]
    cls, kind = _eval_prediction_class()
    fields = {k: _load_node(cache, ep.get(k)) for k in ("predictions", "label_ids", "inputs", "losses")}
    if kind == "transformers":
        try:
            return cls(fields["predictions"], fields["label_ids"], inputs=fields["inputs"], losses=fields["losses"]), kind
        except TypeError:  # older transformers without `losses`
            return cls(fields["predictions"], fields["label_ids"], inputs=fields["inputs"]), kind
    return cls(**fields), kind


# ---- the user's module, reloaded when it (or a helper beside it) changed ----

_modules = {}  # file -> (stamp, module)


def _stamp(path):
    st = os.stat(path)
    return (st.st_mtime_ns, st.st_size)


def _local_modules(root):
    for name, mod in list(sys.modules.items()):
        f = getattr(mod, "__file__", None)
        if (f and os.path.abspath(f).startswith(root + os.sep) and not name.startswith("_evalpred_user_")
                and "site-packages" not in f and "dist-packages" not in f):
            yield name, f


def _load_user_module(path):
    root = os.path.dirname(path)
    entry = _modules.get(path)
    if entry is not None:
        stamp, mod, helpers = entry
        try:
            fresh = _stamp(path) == stamp and all(_stamp(f) == s for f, s in helpers.items())
        except OSError:
            fresh = False
        if fresh:
            return mod
    # Drop helper modules imported from the metric file's folder so edits to them are seen too.
    for name, _ in list(_local_modules(root)):
        del sys.modules[name]
    if root not in sys.path:
        sys.path.insert(0, root)
    name = "_evalpred_user_%d" % (abs(hash(path)),)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    stamp = _stamp(path)
    spec.loader.exec_module(mod)
    helpers = {}
    for _, f in _local_modules(root):
        try:
            helpers[f] = _stamp(f)
        except OSError:
            pass
    _modules[path] = (stamp, mod, helpers)
    return mod


# ---- result description (Trainer's denumpify_detensorize, then a tagged JSON form) ----


def _denumpify(v):
    if isinstance(v, (list, tuple)):
        return type(v)(_denumpify(x) for x in v)
    if isinstance(v, dict):
        return type(v)((k, _denumpify(x)) for k, x in v.items())
    if isinstance(v, np.generic):
        return v.item()
    if hasattr(v, "numel") and hasattr(v, "item") and callable(getattr(v, "numel")):
        try:
            if v.numel() == 1:
                return v.item()
        except Exception:
            pass
    return v


def _short(v):
    try:
        if isinstance(v, np.ndarray):
            return np.array2string(v, threshold=10, max_line_width=120).replace("\n", " ")
        r = repr(v)
    except Exception:
        r = object.__repr__(v)
    return r if len(r) <= 200 else r[:197] + "..."


def _describe(v, depth=0):
    if isinstance(v, bool):
        return {"type": "bool", "value": v}
    if isinstance(v, (int, float)):
        x = float(v)
        if math.isnan(x):
            return {"type": "number", "value": "NaN"}
        if math.isinf(x):
            return {"type": "number", "value": "Infinity" if x > 0 else "-Infinity"}
        return {"type": "number", "value": v if isinstance(v, float) or abs(v) < 2**53 else x}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if v is None:
        return {"type": "none"}
    if isinstance(v, dict) and depth < 8:
        return {"type": "mapping", "typeName": type(v).__name__, "entries": [[_describe(k, depth + 1), _describe(x, depth + 1)] for k, x in v.items()]}
    if isinstance(v, np.ndarray):
        tn = "ndarray (%s, shape %s)" % (v.dtype, tuple(v.shape))
    else:
        tn = type(v).__name__
    return {"type": "other", "typeName": tn, "repr": _short(v)}


def _user_frame(tb_exc, path):
    last = None
    for fr in tb_exc.stack:
        if os.path.abspath(fr.filename) == path:
            last = fr
    if last is None:  # else the last frame in the metric file's folder (a helper module)
        root = os.path.dirname(path) + os.sep
        for fr in tb_exc.stack:
            if os.path.abspath(fr.filename).startswith(root):
                last = fr
    return last


def _run(req):
    path = os.path.abspath(req["file"])
    buf = io.StringIO()
    old_out, old_err = sys.stdout, sys.stderr
    t0 = time.perf_counter()
    try:
        sys.stdout = sys.stderr = buf
        try:
            mod = _load_user_module(path)
            name = req.get("function")
            names = [name] if name else ["compute_metrics", "computeMetrics"]
            fn = next((getattr(mod, n) for n in names if callable(getattr(mod, n, None))), None)
            if fn is None:
                found = sorted(k for k, x in vars(mod).items() if callable(x) and not k.startswith("_") and getattr(x, "__module__", None) == mod.__name__)
                return {"id": req["id"], "ok": False, "stdout": buf.getvalue(), "error": {
                    "type": "MissingFunction",
                    "message": "no function %s in %s; functions defined there: %s" % (
                        " or ".join(names), os.path.basename(path), ", ".join(found) or "(none)"),
                    "traceback": "", "file": path, "line": None}}
            ep, kind = _load_eval_pred(req["cache"])
            result = _describe(_denumpify(fn(ep)))
        finally:
            sys.stdout, sys.stderr = old_out, old_err
        return {"id": req["id"], "ok": True, "result": result, "stdout": buf.getvalue(),
                "duration_ms": (time.perf_counter() - t0) * 1000, "eval_prediction": kind}
    except BaseException as e:  # noqa: BLE001 - everything goes back to the host
        if isinstance(e, KeyboardInterrupt):
            raise
        te = traceback.TracebackException.from_exception(e)
        fr = _user_frame(te, path)
        if isinstance(e, SyntaxError) and e.filename:
            fr_file, fr_line = os.path.abspath(e.filename), e.lineno
        else:
            fr_file, fr_line = (os.path.abspath(fr.filename), fr.lineno) if fr else (None, None)
        if isinstance(e, SyntaxError):
            msg = "%s: %s" % (type(e).__name__, e.msg) + ("\n    " + e.text.strip() if e.text else "")
        else:
            msg = "".join(te.format_exception_only()).strip()
        return {"id": req["id"], "ok": False, "stdout": buf.getvalue(), "error": {
            "type": type(e).__name__, "message": msg, "traceback": "".join(te.format()),
            "file": fr_file, "line": fr_line}}


def main():
    _send({"event": "ready", "python": sys.executable, "numpy": np.__version__})
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("op") == "run":
            _send(_run(req))
        elif req.get("op") == "ping":
            _send({"id": req["id"], "ok": True})


if __name__ == "__main__":
    main()
