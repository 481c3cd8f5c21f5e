"""evalpred's long-lived Python metric worker.

Protocol: one JSON object per line on stdin (requests) and on the original stdout (replies). The real
stdout file descriptor is kept private for the protocol and fd 1 is pointed at stderr, so nothing the
user's code (or a C library) prints can corrupt it; during a call sys.stdout/sys.stderr are captured
and returned with the reply.

Request:  {"id": 1, "op": "run", "file": "/abs/metrics.py", "function": null, "cache": "/abs/cache",
           "arrays": {"predictions": <checked node>, "label_ids": ..., "inputs": ..., "losses": ...},
           "profile": null|"current"|"v4.57"|"v4.19-4.45"|"<=4.18",
           "batch": null|{"index": 0, "count": 3, "compute_result": false, "main_input": "input_ids"}}
          With "batch" (batch_eval_metrics) the nodes are that batch's entries and the function is called as
          fn(eval_pred, compute_result=...) with torch tensors when torch is importable.
          checked node: {"array": {"file": "/resolved/x.npy", "where": "eval_prediction.predictions", "descr": "<f4",
          "shape": [n, k]}} | {"tuple": [...]} | {"list": [...]} | null. Node validated manifest.json and every file
          (src/core/cache/reader.ts); the worker never reads the manifest and re-checks each file it maps.
          Cache damage replies with error type "CacheDamage".
Request:  {"id": 3, "op": "load", "cache": ..., "arrays": ...}   (tests) -> {"id": 3, "ok": true, "arrays": [{where, descr, shape}]}
Reply:    {"id": 1, "ok": true, "result": <described>, "stdout": "...", "duration_ms": 1.2, "eval_prediction": "transformers"|"stand-in",
           "profile": <profile used>, "warnings": [...], "preprocess_tensors": null|"torch"|"numpy",
           "batch_tensors": null|"torch"|"numpy" (what a batch_eval_metrics call got),
           "sources": [the metric file, then the modules it imported from its folder] (what --watch watches)}
          {"id": 1, "ok": false, "error": {"type": ..., "message": ..., "traceback": ..., "file": ..., "line": ...}, "stdout": ...}

Request:  {"id": 2, "op": "preprocess", "file": "/abs/metrics.py", "dir": "/tmp/evalpred-batch-x", "probe": false,
           "logits": <node>, "labels": <node>|null}      node: {"npy": "name.npy"} | {"tuple": [node...]} | {"list": [...]}
Reply:    {"id": 2, "ok": true, "defined": true, "tensors": "torch"|"numpy", "python": "...", "result": <node>|null, "stdout": ...}
          One batch of preprocess_logits_for_metrics (docs/trainer-semantics.md#preprocess_logits_for_metrics): the batch arrives as .npy files in `dir` (no JSON
          lists), the function gets torch tensors when torch is importable (as in Trainer), and its return value goes
          back as .npy files in `dir`. With "probe": true only `defined` and `tensors` are answered.
"""
import time

# When the interpreter reached this script; with the marks below it goes to a debugging host as the worker's
# start-up timeline (src/debug/startupTimeline.ts).
_MARKS = {"python started": time.time() * 1000}

import io  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import traceback
import typing  # noqa: E402
import importlib.util  # noqa: E402

_proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

# Output a call may print before the rest is counted, not kept (the host says "… N bytes more not shown").
_OUTPUT_CAP = int(os.environ.get("EVALPRED_OUTPUT_CAP") or 1024 * 1024)


class _CappedOutput(io.TextIOBase):
    """sys.stdout/sys.stderr during a call: keeps the first _OUTPUT_CAP bytes of what the metric prints."""

    def __init__(self):
        self._parts = []
        self._bytes = 0
        self._dropped = 0

    def writable(self):
        return True

    def write(self, s):
        if not isinstance(s, str):
            s = str(s)
        room = _OUTPUT_CAP - self._bytes
        if room <= 0:
            self._dropped += len(s.encode("utf-8", "replace"))
            return len(s)
        b = s.encode("utf-8", "replace")
        if len(b) <= room:
            self._parts.append(s)
            self._bytes += len(b)
        else:
            kept = b[:room].decode("utf-8", "ignore")
            self._parts.append(kept)
            self._bytes = _OUTPUT_CAP
            self._dropped += len(b) - len(kept.encode("utf-8"))
        return len(s)

    def getvalue(self):
        text = "".join(self._parts)
        if self._dropped:
            text += "\n\u2026 %d bytes more not shown\n" % self._dropped
        return text


def _contain():
    """The OS-enforced memory limit (RLIMIT_AS: the limit on top of what the worker itself maps at start,
    inherited by anything the metric spawns) and, on Linux, becoming a child subreaper so processes the
    metric double-forks stay our descendants and the host can end them after the run (docs: README "Trust")."""
    limit_mb = os.environ.get("EVALPRED_MEMORY_LIMIT_MB")
    if limit_mb:
        try:
            import resource

            base = 0
            try:
                with open("/proc/self/status") as f:
                    for line in f:
                        if line.startswith("VmSize:"):
                            base = int(line.split()[1]) * 1024
            except OSError:
                pass
            cap = base + int(limit_mb) * 1024 * 1024
            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            if hard != resource.RLIM_INFINITY:
                cap = min(cap, hard)
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
        except (ImportError, ValueError, OSError):
            pass  # no rlimits here (Windows): the host's timeout still applies
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
        except Exception:
            pass


def _reap():
    """Collect the exit status of processes an earlier call left (the host killed them); never blocks."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except (ChildProcessError, OSError):
            return
        if pid == 0:
            return


def _send(obj):
    _proto.write(json.dumps(obj, allow_nan=False) + "\n")
    _proto.flush()


def _conda_prefix():
    """sys.prefix when this interpreter is a conda environment (it has conda-meta/), else None: the host then
    also offers `conda install -p PREFIX ...` for a missing module."""
    return sys.prefix if os.path.isdir(os.path.join(sys.prefix, "conda-meta")) else None


try:
    import numpy as np
except Exception as e:  # reported to the host, which tells the user how to install it
    _send({"event": "fatal", "reason": "numpy", "message": "%s: %s" % (type(e).__name__, e), "python": sys.executable,
           "conda": _conda_prefix()})
    sys.exit(3)

_MARKS["numpy imported"] = time.time() * 1000
_contain()


# The EvalPrediction stand-ins and the choice between them and transformers' own class live in the package
# (one definition for the worker, evalpred.load and `python -m evalpred`; docs/trainer-semantics.md).
from evalpred import eval_prediction as _ep  # noqa: E402  (the package sits beside this script)

EvalPrediction = _ep.EvalPrediction
PROFILES = _ep.PROFILES


class CacheDamage(Exception):
    """A cache array that cannot be used as Node checked it: reported as damage of the cache, never as an
    error in the user's metric file."""


# The cache dtype allow-list, identical to NPY_DESCRS in src/core/tensor/dtype.ts (a unit test compares them):
# the exact descr strings numpy.save writes for float16/32/64, int8/16/32/64, uint8 and bool, either byte order.
_CACHE_DTYPES = frozenset(["<f2", "<f4", "<f8", "|i1", "|u1", "<i2", "<i4", "<i8", "|b1",
                           ">f2", ">f4", ">f8", ">i2", ">i4", ">i8"])
_MAX_HEADER_SIZE = 10000
_MAX_NDIM = 64


def _npy_header(f, size):
    """(descr, shape, data offset) of an open .npy file, refusing what the TS reader (src/core/tensor/npy.ts)
    refuses: other dtypes, Fortran order, odd header keys, and data that is not exactly shape x itemsize."""
    import ast
    import re

    head = f.read(12)
    if len(head) < 10 or head[:6] != b"\x93NUMPY":
        raise CacheDamage("does not start with the NumPy magic")
    major = head[6]
    if major == 1:
        hlen, start = head[8] | (head[9] << 8), 10
    elif major in (2, 3) and len(head) >= 12:
        hlen, start = int.from_bytes(head[8:12], "little"), 12
    else:
        raise CacheDamage("has .npy format version %d.%d" % (major, head[7]))
    if hlen > _MAX_HEADER_SIZE:
        raise CacheDamage("has a %d-byte header, more than NumPy accepts" % hlen)
    f.seek(start)
    raw = f.read(hlen)
    if len(raw) < hlen:
        raise CacheDamage("is truncated inside its header")
    try:
        text = raw.decode("utf8" if major == 3 else "latin1")
        try:
            d = ast.literal_eval(text)
        except SyntaxError:
            if major > 2:
                raise
            d = ast.literal_eval(re.sub(r"(\d+)[lL]\b", r"\1", text))  # Python 2 longs, as numpy accepts
    except Exception:
        raise CacheDamage("has a header that is not a Python dict literal")
    if not isinstance(d, dict) or set(d.keys()) != {"descr", "fortran_order", "shape"}:
        raise CacheDamage("has a header without exactly 'descr', 'fortran_order' and 'shape'")
    shape, fortran, descr = d["shape"], d["fortran_order"], d["descr"]
    if fortran is not False:
        raise CacheDamage("is stored in Fortran order" if fortran is True else "has an invalid 'fortran_order'")
    if (not isinstance(shape, tuple) or len(shape) > _MAX_NDIM
            or not all(type(x) is int and 0 <= x < 2**53 for x in shape)):
        raise CacheDamage("has an invalid 'shape' %r" % (shape,))
    if not isinstance(descr, str) or descr not in _CACHE_DTYPES:
        raise CacheDamage("holds dtype %r, which evalpred does not read" % (descr,))
    count = 1
    for x in shape:
        count *= x
    nbytes = count * int(descr[2:])
    if nbytes >= 2**53:
        raise CacheDamage("declares a shape that is too large")
    if size != start + hlen + nbytes:
        raise CacheDamage("declares %d bytes of data after a %d-byte header, but the file has %d bytes"
                          % (nbytes, start + hlen, size))
    return descr, shape, start + hlen


def _load_checked_array(spec):
    """Memory-map one cache array at the resolved path Node checked (src/core/cache/reader.ts), checking it
    again here: regular file (opened without blocking, so a FIFO cannot hang us), header as Node read it."""
    import stat as _stat

    path = spec["file"]
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not _stat.S_ISREG(st.st_mode):
            raise CacheDamage("is not a regular file")
        descr, shape, offset = _npy_header(f, st.st_size)
        if spec.get("descr") is not None and (descr != spec["descr"] or list(shape) != list(spec["shape"])):
            raise CacheDamage("changed after it was checked (it now holds %s %r)" % (descr, shape))
        dt = np.dtype(descr)
        count = 1
        for x in shape:
            count *= x
        if count == 0:
            return np.empty(shape, dtype=dt)
        # Copy-on-write map: no read of the whole file, yet in-place edits work as on Trainer's arrays and
        # never reach the cache. asarray drops the memmap subclass (Trainer hands plain ndarrays).
        mm = np.memmap(f, dtype=dt, mode="c", offset=offset, shape=shape if shape else (1,))
        return np.asarray(mm).reshape(shape)


def _load_node(node, cache):
    """Arrays as Node sends them: {"array": {"file", "where", "descr", "shape"}} | {"tuple": [...]} | {"list": [...]}
    | {"value": ...} (a plain JSON value, e.g. QuestionAnsweringTrainer's post-processed predictions).
    The worker never reads manifest.json: Node validated it and resolved every path."""
    if node is None:
        return None
    if "value" in node:  # plain values Node computed (run_qa's post-processed answers): used as they are
        return node["value"]
    if "array" in node:
        spec = node["array"]
        try:
            return _load_checked_array(spec)
        except CacheDamage as e:
            why = str(e)
        except Exception as e:  # noqa: BLE001 - an OS or NumPy error reading the file is damage too
            why = "cannot be read (%s)" % (getattr(e, "strerror", None) or type(e).__name__)
        raise CacheDamage("the prediction cache %s is damaged: %s (%s) %s. Run the evaluation again (or import the "
                          "dump again) to rebuild it." % (cache, spec.get("where", "?"), os.path.basename(spec["file"]), why))
    if "tuple" in node:
        return tuple(_load_node(n, cache) for n in node["tuple"])
    if "list" in node:
        return [_load_node(n, cache) for n in node["list"]]
    raise CacheDamage("the prediction cache %s is damaged: a node that is not array/tuple/list" % (cache,))


def _load_eval_pred(arrays, cache, requested=None, batch=None):
    """(eval_pred, kind, profile used, warnings). `arrays` are the checked nodes Node sends; `requested` None
    means "the default": the installed transformers' class, else the `current` stand-in. `batch` (one call of
    batch_eval_metrics, docs/trainer-semantics.md#batch_eval_metrics): Node already picked that batch's entries; Trainer hands
    them over as torch tensors straight from the loop, and `inputs` is the whole batch mapping."""
    fields = {k: _load_node(arrays.get(k), cache) for k in ("predictions", "label_ids", "inputs", "losses")}
    if batch is not None:
        torch = _torch()
        if torch is not None:
            fields = {k: _to_torch(v, torch) for k, v in fields.items()}
        if fields["inputs"] is not None:
            # The whole batch mapping when the cache keeps it (docs/cache-format.md#batch-inputs): the main input is
            # `inputs`, every other key its own arrays; else the main input alone.
            b = arrays.get("batch_inputs")
            if b:
                others = {k: _load_node(n, cache) for k, n in b["arrays"].items()}
                if torch is not None:
                    others = {k: _to_torch(v, torch) for k, v in others.items()}
                items = [(k, fields["inputs"] if k == b["main"] else others[k]) for k in b["keys"]]
            else:
                items = [(batch.get("main_input") or "input_ids", fields["inputs"])]
            fields["inputs"] = _ep.batch_mapping(items)
    return _ep.build(fields, requested)


def _to_torch(v, torch):
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v)
    if isinstance(v, tuple):
        return tuple(_to_torch(x, torch) for x in v)
    if isinstance(v, list):
        return [_to_torch(x, torch) for x in v]
    return v


def _batch_call(fn, ep, batch):
    """compute_metrics(EvalPrediction(...), compute_result=is_last_step), after the check Trainer.__init__ makes."""
    import inspect

    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {"compute_result": None}
    if "compute_result" not in params:
        raise ValueError(
            "When using `batch_eval_metrics`, your `compute_metrics` function must take a `compute_result` boolean argument "
            "which will be triggered after the last batch of the eval set to signal that the summary statistics should be "
            "returned by the function.")
    return fn(ep, compute_result=bool(batch["compute_result"]))


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


def _error_reply(req, e, path, buf, note=None):
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
    if note:
        msg += " (%s)" % note
    err = {"type": type(e).__name__, "message": msg, "traceback": "".join(te.format()),
           "file": fr_file, "line": fr_line, "memory": isinstance(e, MemoryError)}
    if isinstance(e, ModuleNotFoundError) and e.name:
        # What to install, and into which interpreter (the host writes the pip / conda line).
        err.update(module=e.name.split(".")[0], python=sys.executable, conda=_conda_prefix())
    return {"id": req["id"], "ok": False, "stdout": buf.getvalue(), "error": err}


def _damage_reply(req, e, buf):
    return {"id": req["id"], "ok": False, "stdout": buf.getvalue(), "error": {
        "type": "CacheDamage", "message": str(e), "traceback": "", "file": None, "line": None}}


def _load_op(req):
    """Load checked arrays without running anything (the cache fuzz compares this reader with the TS one)."""
    buf = io.StringIO()
    try:
        out = []

        def walk(node, where):
            if isinstance(node, np.ndarray):
                out.append({"where": where, "descr": node.dtype.str, "shape": list(node.shape)})
            elif isinstance(node, (tuple, list)):
                for i, c in enumerate(node):
                    walk(c, "%s[%d]" % (where, i))

        for k in ("predictions", "label_ids", "inputs", "losses"):
            walk(_load_node(req["arrays"].get(k), req["cache"]), k)
        return {"id": req["id"], "ok": True, "arrays": out}
    except CacheDamage as e:
        return _damage_reply(req, e, buf)


def _missing(req, path, buf, names, mod):
    found = sorted(k for k, x in vars(mod).items() if callable(x) and not k.startswith("_") and getattr(x, "__module__", None) == mod.__name__)
    return {"id": req["id"], "ok": False, "stdout": buf.getvalue(), "error": {
        "type": "MissingFunction",
        "message": "no function %s in %s; functions defined there: %s" % (
            " or ".join(names), os.path.basename(path), ", ".join(found) or "(none)"),
        "traceback": "", "file": path, "line": None}}


PREPROCESS_NAMES = ("preprocess_logits_for_metrics", "preprocessLogitsForMetrics")


def _preprocess_fn(mod):
    return next((getattr(mod, n) for n in PREPROCESS_NAMES if callable(getattr(mod, n, None))), None)


def _reached(files, metric, done):
    """Tell the debugger which of its breakpoint files this run has imported (the others stay unverified, with
    that reason), the metric file always: before the function runs, and again when it is done (imports made
    inside it)."""
    files = list(files or []) + [metric]
    loaded = set()
    for m in list(sys.modules.values()):
        f = getattr(m, "__file__", None)
        if isinstance(f, str):
            loaded.add(os.path.normcase(os.path.abspath(f)))
    _send({"event": "reached", "done": done,
           "files": [f for f in files if os.path.normcase(os.path.abspath(f)) in loaded]})


def _run(req):
    path = os.path.abspath(req["file"])
    buf = _CappedOutput()
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
                return _missing(req, path, buf, names, mod)
            try:
                ep, kind, profile, warnings = _load_eval_pred(req["arrays"], req["cache"], req.get("profile"), req.get("batch"))
            except CacheDamage as e:
                return _damage_reply(req, e, buf)
            view = req.get("debug_view")
            if view is not None:
                from evalpred import _summary  # what the paused frame's Variables show (README "Debugging your metric")

                _summary.configure(view.get("model"), view.get("tokenIds"), getattr(ep, "inputs", None))
                _reached(view.get("files"), path, False)
            try:
                value = _batch_call(fn, ep, req["batch"]) if req.get("batch") is not None else fn(ep)
            finally:
                if view is not None:
                    _reached(view.get("files"), path, True)
            result = _describe(_denumpify(value))
            # Cheap (no import): tells the host whether this file's preprocessor would see torch tensors here.
            pre = None
            if _preprocess_fn(mod) is not None:
                pre = "torch" if _torch_spec() else "numpy"
        finally:
            sys.stdout, sys.stderr = old_out, old_err
        batch_tensors = None
        if req.get("batch") is not None:
            batch_tensors = "torch" if _torch() is not None else "numpy"
        return {"id": req["id"], "ok": True, "result": result, "stdout": buf.getvalue(),
                "duration_ms": (time.perf_counter() - t0) * 1000, "eval_prediction": kind,
                "profile": profile, "warnings": warnings, "preprocess_tensors": pre, "batch_tensors": batch_tensors,
                "sources": [path] + sorted(_modules[path][2]) if path in _modules else [path]}
    except BaseException as e:  # noqa: BLE001 - everything goes back to the host
        if isinstance(e, KeyboardInterrupt):
            raise
        return _error_reply(req, e, path, buf)


def _evaluate(req):
    """One Debug Console line at the compute_metrics boundary (README "Debugging your metric"): Python in the
    metric module's namespace, the EvalPrediction bound to the function's own parameter name (and to
    eval_pred), NumPy as np. An expression answers its value; a statement runs and answers what it printed."""
    path = os.path.abspath(req["file"])
    buf = _CappedOutput()
    old_out, old_err = sys.stdout, sys.stderr
    try:
        sys.stdout = sys.stderr = buf
        try:
            mod = _load_user_module(path)
            try:
                ep = _load_eval_pred(req["arrays"], req["cache"], req.get("profile"), req.get("batch"))[0]
            except CacheDamage as e:
                return _damage_reply(req, e, buf)
            ns = dict(vars(mod))
            ns.setdefault("np", np)
            if req.get("batch") is not None:
                ns["compute_result"] = bool(req["batch"]["compute_result"])
            ns["eval_pred"] = ep
            ns[req.get("param") or "eval_pred"] = ep
            try:
                code = compile(req["expression"], "<debug console>", "eval")
                statement = False
            except SyntaxError:
                code = compile(req["expression"], "<debug console>", "exec")
                statement = True
            value = eval(code, ns)
        finally:
            sys.stdout, sys.stderr = old_out, old_err
        with np.printoptions(threshold=200, edgeitems=3):
            text = "" if statement else repr(value)
        limit = 20000
        if len(text) > limit:
            text = text[:limit] + " … (%d characters more)" % (len(text) - limit)
        return {"id": req["id"], "ok": True, "value": text, "type": "" if statement else type(value).__name__,
                "stdout": buf.getvalue()}
    except BaseException as e:  # noqa: BLE001 - the user's error goes back to the console
        if isinstance(e, KeyboardInterrupt):
            raise
        return _error_reply(req, e, path, buf)


# ---- preprocess_logits_for_metrics, one batch per request (docs/trainer-semantics.md#preprocess_logits_for_metrics) ----

_torch_mod = False  # False: not tried yet; None: not importable


def _torch_spec():
    if os.environ.get("EVALPRED_NO_TORCH"):
        return False
    if _torch_mod is not False:
        return _torch_mod is not None
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):
        return False


def _torch():
    """torch when importable (Trainer hands torch tensors to the preprocessor), else None. Imported once."""
    global _torch_mod
    if _torch_mod is False:
        _torch_mod = None
        if not os.environ.get("EVALPRED_NO_TORCH"):
            try:
                import torch

                _torch_mod = torch
            except Exception:
                _torch_mod = None
    return _torch_mod


def _read_batch_node(d, node, torch):
    if node is None:
        return None
    if "npy" in node:
        a = np.load(os.path.join(d, node["npy"]), allow_pickle=False)
        return torch.from_numpy(a) if torch is not None else a
    if "tuple" in node:
        return tuple(_read_batch_node(d, n, torch) for n in node["tuple"])
    if "list" in node:
        return [_read_batch_node(d, n, torch) for n in node["list"]]
    raise ValueError("batch node %r is not npy/tuple/list" % (node,))


# What the host's .npy reader takes (src/core/tensor/dtype.ts), in NumPy's little-endian spelling.
_WIRE_DTYPES = {"<f2", "<f4", "<f8", "|i1", "|u1", "<i2", "<i4", "<i8", "|b1"}


class PreprocessResultError(Exception):
    pass


def _as_array(v, where):
    if isinstance(v, np.ndarray):
        a = v
    elif isinstance(v, np.generic):
        a = np.asarray(v)
    elif hasattr(v, "numpy") and callable(getattr(v, "numpy")):  # a torch tensor (or alike)
        t = v
        if hasattr(t, "detach"):
            t = t.detach()
        if hasattr(t, "cpu"):
            t = t.cpu()
        a = np.asarray(t.numpy())
    else:
        raise PreprocessResultError(
            "preprocess_logits_for_metrics returned %s at %s; it must return a tensor (or a tuple of tensors) per batch, "
            "as Trainer accumulates it into predictions" % (type(v).__name__, where))
    if a.dtype.byteorder == ">":
        a = a.astype(a.dtype.newbyteorder("<"))
    if a.dtype.str not in _WIRE_DTYPES:
        raise PreprocessResultError(
            "preprocess_logits_for_metrics returned a %s array at %s; evalpred accumulates float16/32/64, int8/16/32/64, "
            "uint8 and bool: convert it (e.g. .astype(np.int64))" % (a.dtype, where))
    return np.ascontiguousarray(a)


def _write_result(d, prefix, v, counter, where="the top level"):
    if isinstance(v, dict):
        raise PreprocessResultError(
            "preprocess_logits_for_metrics returned a dict; evalpred keeps tensors and tuples of tensors: return a tuple")
    if isinstance(v, (tuple, list)):
        # Trainer concatenates lists like tuples (nested_concat keeps the type); the cache format has tuples.
        return {"tuple": [_write_result(d, prefix, x, counter, "%s[%d]" % ("the result" if where == "the top level" else where, i))
                          for i, x in enumerate(v)]}
    a = _as_array(v, where)
    name = "%s-out-%d.npy" % (prefix, counter[0])
    counter[0] += 1
    np.save(os.path.join(d, name), a, allow_pickle=False)
    return {"npy": name}


def _preprocess(req):
    path = os.path.abspath(req["file"])
    buf = _CappedOutput()
    old_out, old_err = sys.stdout, sys.stderr
    torch = None
    try:
        sys.stdout = sys.stderr = buf
        try:
            mod = _load_user_module(path)
            fn = _preprocess_fn(mod)
            torch = _torch()
            tensors = "torch" if torch is not None else "numpy"
            reply = {"id": req["id"], "ok": True, "defined": fn is not None, "tensors": tensors,
                     "python": sys.executable, "result": None}
            if req.get("probe"):
                return dict(reply, stdout=buf.getvalue())
            if fn is None:
                return _missing(req, path, buf, list(PREPROCESS_NAMES), mod)
            d = req["dir"]
            logits = _read_batch_node(d, req["logits"], torch)
            labels = _read_batch_node(d, req.get("labels"), torch)
            out = fn(logits, labels)
            if out is None:
                raise PreprocessResultError(
                    "preprocess_logits_for_metrics returned None; it must return the reduced logits (e.g. logits.argmax(dim=-1))")
            reply["result"] = _write_result(d, "%d" % req["id"], out, [0])
        finally:
            sys.stdout, sys.stderr = old_out, old_err
        return dict(reply, stdout=buf.getvalue())
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        if isinstance(e, PreprocessResultError):
            return {"id": req["id"], "ok": False, "stdout": buf.getvalue(), "error": {
                "type": "BadPreprocessResult", "message": str(e), "traceback": "", "file": path, "line": None}}
        note = None
        if torch is None and not isinstance(e, SyntaxError):
            note = "preprocess_logits_for_metrics received NumPy arrays because torch is not importable in %s" % sys.executable
        return _error_reply(req, e, path, buf, note)


def main():
    # Requests come on the real stdin; user code gets one that says it has no terminal (input() would read the
    # protocol), and breakpoint() stops in the debugger when one is attached instead of starting pdb on it.
    requests = sys.stdin
    from evalpred import _debugpy

    sys.stdin = _debugpy.NoInput()
    attached = [False]
    sys.breakpointhook = _debugpy.breakpoint_hook(lambda: attached[0])
    if os.environ.get("EVALPRED_DEBUGPY"):
        port, why = _debugpy.start(_MARKS)
        attached[0] = port is not None
        _send({"event": "debugpy", "port": port, "marks": _MARKS} if port is not None else {"event": "debugpy", "error": why})
    _send({"event": "ready", "python": sys.executable, "numpy": np.__version__})
    for line in requests:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        _reap()
        if req.get("op") == "run":
            _send(_run(req))
        elif req.get("op") == "preprocess":
            _send(_preprocess(req))
        elif req.get("op") == "load":
            _send(_load_op(req))
        elif req.get("op") == "evaluate":
            _send(_evaluate(req))
        elif req.get("op") == "ping":
            _send({"id": req["id"], "ok": True})


if __name__ == "__main__":
    main()
