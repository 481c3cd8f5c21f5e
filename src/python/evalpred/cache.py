"""Read and write evalpred prediction caches from Python (NumPy only).

A cache is a folder: `manifest.json` plus one `.npy` file per array (docs/cache-format.md). Writing is
atomic (a temporary folder beside the target, then a rename), and an existing folder is replaced only when
it is one of ours: a manifest with our format tag and nothing but the files that manifest lists. Reading
trusts nothing in the manifest: every array must be a regular file inside the cache folder (after resolving
links), hold a plain numeric dtype, and is memory-mapped, never unpickled.
"""
import datetime
import hashlib
import json
import os
import shutil
import stat
import tempfile

import numpy as np

FORMAT = "evalpred-cache/1"
MANIFEST = "manifest.json"
FIELDS = ("predictions", "label_ids", "inputs", "losses")
# Nesting deeper than this is not something a model returns; refusing it keeps readers off the stack limit
# (the same bound as every other reader of a cache, docs/cache-format.md).
MAX_DEPTH = 32
# The dtypes every evalpred reader accepts (src/core/tensor/dtype.ts NPY_DESCRS, the worker's _CACHE_DTYPES).
CACHE_DTYPES = frozenset(np.dtype(t).str.lstrip("<>|") for t in
                         ("bool", "int8", "uint8", "int16", "int32", "int64", "float16", "float32", "float64"))
# What capture writes for the few other numeric dtypes a Trainer may hand over: widened without loss where it can.
_WIDEN = {"uint16": "int32", "uint32": "int64", "uint64": "int64", "longdouble": "float64"}


class CacheError(Exception):
    """A cache (or a folder we were asked to write into) that is not what it should be; says which and why."""


def to_numpy(x):
    """A torch tensor (on any device, bfloat16 included) or array-like -> a NumPy array."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):
        x = x.detach().cpu()
        if str(getattr(x, "dtype", "")) == "torch.bfloat16":
            x = x.float()
        return x.numpy()
    return np.asarray(x)


# ---- writing ----

def _write_node(value, name, folder, digest, depth=0):
    if value is None:
        return None
    if depth > MAX_DEPTH:
        raise CacheError("%s is nested more than %d levels deep" % (name, MAX_DEPTH))
    if isinstance(value, (tuple, list)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_write_node(v, "%s_%d" % (name, i), folder, digest, depth + 1) for i, v in enumerate(value)]}
    if isinstance(value, dict):
        raise CacheError("%s is a dict (preprocess_logits_for_metrics returned one?); evalpred caches hold arrays, "
                         "tuples and lists only" % name)
    arr = np.ascontiguousarray(to_numpy(value))
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if _key(arr.dtype) not in CACHE_DTYPES:
        wider = _WIDEN.get(arr.dtype.name) or ("float64" if arr.dtype == np.longdouble else None)
        if wider is None:
            raise CacheError("%s has dtype %s, which evalpred cannot cache (booleans, int8-64, uint8 and float16-64)"
                             % (name, arr.dtype))
        if arr.dtype.name == "uint64" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            raise CacheError("%s is uint64 with values above int64's range, which evalpred cannot cache" % name)
        arr = arr.astype(wider)
    fname = name + ".npy"
    np.save(os.path.join(folder, fname), arr, allow_pickle=False)
    digest.update(name.encode())
    digest.update(str(arr.dtype).encode() + str(arr.shape).encode())
    digest.update(arr.tobytes())
    return {"npy": fname}


def _node_files(node, out):
    if node is None:
        return out
    if "npy" in node:
        out.append(node["npy"])
    for kind in ("tuple", "list"):
        for child in node.get(kind, ()):
            _node_files(child, out)
    return out


def _rows(value):
    v = value
    while isinstance(v, (tuple, list)) and v:
        if isinstance(v, list):  # per-batch list: sum the batches' rows
            return sum(_rows(b) or 0 for b in v)
        v = v[0]
    shape = getattr(v, "shape", None)
    return int(shape[0]) if shape else None


def is_ours(folder):
    """True when `folder` is an evalpred cache holding nothing but the files its manifest lists."""
    try:
        with open(os.path.join(folder, MANIFEST), encoding="utf-8") as f:
            manifest = json.load(f)
        listed = set()
        for k in FIELDS:
            listed.update(_node_files(manifest["eval_prediction"].get(k), []))
        for node in ((manifest.get("batch_inputs") or {}).get("lists") or {}).values():
            listed.update(_node_files(node, []))
        if manifest.get("format") != FORMAT:
            return False
        return set(os.listdir(folder)) <= listed | {MANIFEST}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def check_target(folder):
    """Raise CacheError unless writing a cache at `folder` loses nothing: it is absent, an empty folder, or ours."""
    if not os.path.lexists(folder):
        return
    if os.path.islink(folder) or not os.path.isdir(folder):
        raise CacheError("%s exists and is not a folder; evalpred writes a cache only where it loses nothing" % folder)
    entries = os.listdir(folder)
    if entries and not is_ours(folder):
        foreign = sorted(entries)[:3]
        raise CacheError("%s is not empty and is not an evalpred cache (it holds %s%s); choose another folder, "
                         "evalpred never replaces files it did not write"
                         % (folder, ", ".join(foreign), ", …" if len(entries) > 3 else ""))


def write_cache(folder, fields, extra=None, batch_inputs=None):
    """Write the four EvalPrediction fields (arrays, tuples, lists or None) as a cache at `folder`, atomically.

    `extra` is merged into the manifest (e.g. {"capture": {...}}). `batch_inputs` (batch_eval_metrics' batch
    mappings, docs/cache-format.md#batch-inputs): (keys in order, main key, {other key: list of per-batch arrays});
    the main key's arrays are fields["inputs"]. Returns the folder's absolute path.
    """
    folder = os.path.abspath(folder)
    check_target(folder)
    parent = os.path.dirname(folder)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".evalpred-capture-", dir=parent)
    old = None
    try:
        digest = hashlib.sha256()
        nodes = {k: _write_node(fields.get(k), k, tmp, digest) for k in FIELDS}
        if nodes["predictions"] is None:
            raise CacheError("the EvalPrediction has no predictions")
        batch_node = None
        if batch_inputs is not None:
            keys, main, lists = batch_inputs
            batch_node = {"keys": list(keys), "main": main,
                          "lists": {k: _write_node(list(lists[k]), "batch_inputs_%s" % k, tmp, digest) for k in keys if k != main}}
        n = _rows(fields.get("label_ids")) if fields.get("label_ids") is not None else _rows(fields.get("predictions"))
        import sys

        tf = sys.modules.get("transformers")
        manifest = {
            "format": FORMAT,
            "num_samples": n if n is not None else 0,
            "key": "capture-" + digest.hexdigest()[:32],
            "producer": {
                "tool": "evalpred.capture",
                "time": datetime.datetime.now(datetime.timezone.utc).isoformat(),
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "transformers": getattr(tf, "__version__", None),
            },
            "eval_prediction": nodes,
        }
        if batch_node is not None:
            manifest["batch_inputs"] = batch_node
        manifest.update(extra or {})
        with open(os.path.join(tmp, MANIFEST), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2, default=str)
        # Replace a previous cache of ours: move it aside, rename the new one in, then delete the old one.
        if os.path.lexists(folder):
            check_target(folder)  # again: it may have changed while the arrays were written
            if os.listdir(folder):
                old = tempfile.mkdtemp(prefix=".evalpred-old-", dir=parent)
                os.rename(folder, os.path.join(old, "cache"))
            else:
                os.rmdir(folder)
        os.rename(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old and os.path.isdir(os.path.join(old, "cache")) and not os.path.lexists(folder):
            os.rename(os.path.join(old, "cache"), folder)
        raise
    if old:
        shutil.rmtree(old, ignore_errors=True)
    return folder


def write_json(path, obj):
    """Write JSON next to `path` and rename it in, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=".evalpred-", suffix=".json", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, default=str)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---- reading ----

def read_json(folder, name, what):
    """(path, parsed JSON) of `folder/name`; a missing or unreadable file is a CacheError saying `folder` is not `what`."""
    path = os.path.join(folder, name)
    try:
        with open(path, encoding="utf-8") as f:
            return path, json.load(f)
    except FileNotFoundError:
        raise CacheError("%s is not %s: it has no %s" % (folder, what, name)) from None
    except (OSError, ValueError) as e:
        raise CacheError("%s cannot be read: %s" % (path, e)) from None


def read_manifest(cache):
    path, manifest = read_json(cache, MANIFEST, "an evalpred cache")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CacheError('%s is not an evalpred cache manifest (expected "format": "%s")' % (path, FORMAT))
    if not isinstance(manifest.get("eval_prediction"), dict):
        raise CacheError('%s has no "eval_prediction" object' % path)
    return manifest


def _key(dtype):
    return dtype.str.lstrip("<>|") if dtype.names is None else None


def _read_header(f, version):
    """(shape, fortran_order, dtype) through NumPy's public readers: NumPy 2.4 removed the private
    `_read_array_header` (found by the real-Trainer cross-check, docs/testing.md)."""
    fmt = np.lib.format
    if version == (1, 0):
        return fmt.read_array_header_1_0(f)
    if version == (2, 0):
        return fmt.read_array_header_2_0(f)
    private = getattr(fmt, "_read_array_header", None)  # 3.0 (UTF-8 field names) has no public reader
    if private is None:
        raise ValueError(".npy format version %d.%d is not readable with this NumPy" % version)
    return private(f, version)


def _array(cache, real_root, name, where):
    if not isinstance(name, str) or not name:
        raise CacheError("%s: %s names no file" % (cache, where))
    path = os.path.realpath(os.path.join(real_root, name))
    if os.path.commonpath([path, real_root]) != real_root:
        raise CacheError("%s: %s points outside the cache folder (%s)" % (cache, where, name))
    try:
        st = os.stat(path)
    except OSError:
        raise CacheError("%s: %s is missing (%s)" % (cache, where, name)) from None
    if not stat.S_ISREG(st.st_mode):
        raise CacheError("%s: %s (%s) is not a regular file" % (cache, where, name))
    # The header first: a dtype we do not hold (objects would need unpickling) or a size the file does not
    # have is cache damage, said as such, before NumPy maps anything.
    try:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            shape, _, dtype = _read_header(f, version)
            offset = f.tell()
    except Exception as e:  # noqa: BLE001 - NumPy's own words, but named as cache damage
        raise CacheError("%s: %s (%s) is damaged: %s" % (cache, where, name, str(e).split("\n")[0])) from None
    if _key(dtype) not in CACHE_DTYPES or dtype.hasobject:
        raise CacheError("%s: %s (%s) has dtype %s; evalpred caches hold booleans, int8-64, uint8 and float16-64 "
                         "(never Python objects, which would need unpickling)" % (cache, where, name, dtype))
    expected = offset + int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    if expected != st.st_size:
        raise CacheError("%s: %s (%s) is damaged: its header declares %s %s (%d bytes with the header) but the "
                         "file has %d bytes" % (cache, where, name, dtype, tuple(shape), expected, st.st_size))
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise CacheError("%s: %s (%s) is damaged: %s" % (cache, where, name, str(e).split("\n")[0])) from None


def _read_node(cache, real_root, node, where, depth=0):
    if node is None:
        return None
    if depth > MAX_DEPTH or not isinstance(node, dict):
        raise CacheError("%s: %s is not an array, tuple or list node" % (cache, where))
    if "npy" in node:
        return _array(cache, real_root, node["npy"], where)
    for kind, make in (("tuple", tuple), ("list", list)):
        if isinstance(node.get(kind), list):
            return make(_read_node(cache, real_root, c, "%s[%d]" % (where, i), depth + 1) for i, c in enumerate(node[kind]))
    raise CacheError("%s: %s is not an array, tuple or list node" % (cache, where))


def read_fields(cache):
    """(manifest, {field: memory-mapped array | tuple | list | None}) of the cache at `cache`."""
    cache = os.path.abspath(cache)
    manifest = read_manifest(cache)
    root = os.path.realpath(cache)
    ep = manifest["eval_prediction"]
    fields = {k: _read_node(cache, root, ep.get(k), k) for k in FIELDS}
    if fields["predictions"] is None:
        raise CacheError("%s holds no predictions" % cache)
    return manifest, fields


def read_batch_inputs(cache, manifest, fields):
    """batch_eval_metrics' batch mappings (docs/cache-format.md#batch-inputs): one list of (key, array) pairs per
    batch, in the collator's key order, or None when the cache keeps the main input alone (then each batch's
    mapping is {"input_ids": fields["inputs"][i]})."""
    b = manifest.get("batch_inputs")
    if b is None:
        return None
    try:
        keys, main, lists = list(b["keys"]), b["main"], b["lists"]
        if main not in keys or set(lists) != set(keys) - {main} or not isinstance(fields.get("inputs"), list):
            raise TypeError
    except (TypeError, KeyError, AttributeError):
        raise CacheError("%s: batch_inputs is not {\"keys\", \"main\", \"lists\"} over a per-batch inputs list" % cache) from None
    root = os.path.realpath(os.path.abspath(cache))
    arrays = {k: _read_node(cache, root, lists[k], "batch_inputs.lists.%s" % k) for k in lists}
    batches = fields["inputs"]
    if any(not isinstance(a, list) or len(a) != len(batches) for a in arrays.values()):
        raise CacheError("%s: batch_inputs lists do not have one entry per batch of inputs" % cache)
    return [[(k, batches[i] if k == main else arrays[k][i]) for k in keys] for i in range(len(batches))]
