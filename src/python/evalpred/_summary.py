"""NumPy arrays as evalpred's Variables view shows tensors, for a metric paused in debugpy (README "Debugging
your metric"): `int64[4, 12]` with shape, dtype, statistics and, where the values are token ids of this
model, the decoded text.

This is the Python side of one definition: the statistics are src/core/tensor/stats.ts's `tensorStats` (finite
values only, NaN and ±inf counted apart, population std) and the line is src/core/expr/values.ts's
`statisticsText`; test/unit/pySummary.test.ts runs both on the same arrays and pins the text equal.
The pydevd hooks that put these summaries in the Variables view are in ._pydevd_summaries.
"""
import decimal

import numpy as np

#: Arrays up to this many elements get their statistics in the value line; larger ones when expanded.
EAGER_STATS = 1_000_000
#: Rows listed under an array (more are reached by evaluating a slice in the Debug Console).
ROWS_SHOWN = 100
#: Rows of a 2-d token-id array decoded under "decoded".
ROWS_DECODED = 1000

_ROUND6 = decimal.Context(prec=6, rounding=decimal.ROUND_HALF_UP)

# What the worker says about the run being debugged: the model folder (its tokenizer decodes token ids) and
# whether predictions/labels are token ids (predict_with_generate); inputs always are.
_view = {"model": None, "token_ids": False, "inputs": None, "tokenizer": None, "tokenizer_dir": None}


def configure(model, token_ids, inputs):
    """Set by the worker before each debugged metric run (evalpred_worker.py `_run`)."""
    _view["model"] = model or None
    _view["token_ids"] = bool(token_ids)
    if hasattr(inputs, "keys") and "input_ids" in inputs:  # batch_eval_metrics' batch mapping: its input ids
        inputs = inputs["input_ids"]
    _view["inputs"] = inputs if isinstance(inputs, np.ndarray) else None


def js_number(x):
    """JavaScript's String(x) for a finite float (what formatNumber in src/core/expr/values.ts prints)."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    d = decimal.Decimal(repr(abs(float(x)))).normalize()  # repr: the shortest digits that round-trip, as JS
    _, digits, exp = d.as_tuple()
    s = "".join(map(str, digits))
    k = len(s)
    n = exp + k  # value = 0.s × 10^n
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * (-n) + s
    else:
        e = n - 1
        out = s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))
    return sign + out


def _six(x):
    """formatNumber(Number(x.toPrecision(6))): six significant digits, ties away from zero as JS rounds."""
    if x is None:
        return "n/a"
    return js_number(float(_ROUND6.create_decimal(float(x))))


def stats(a):
    """tensorStats of src/core/tensor/stats.ts for a NumPy array (same keys, same meaning)."""
    a = np.asarray(a)
    v = a.astype(np.float64, copy=False).ravel() if a.dtype.kind in "biuf" else np.asarray([], np.float64)
    nan = int(np.count_nonzero(np.isnan(v))) if a.dtype.kind == "f" else 0
    pos = int(np.count_nonzero(v == np.inf)) if a.dtype.kind == "f" else 0
    neg = int(np.count_nonzero(v == -np.inf)) if a.dtype.kind == "f" else 0
    finite = v[np.isfinite(v)] if (nan or pos or neg) else v
    has = finite.size > 0
    return {
        "count": int(a.size),
        "min": float(finite.min()) if has else None,
        "max": float(finite.max()) if has else None,
        "mean": float(finite.mean()) if has else None,
        "std": float(finite.std()) if has else None,
        "nanCount": nan,
        "posInfCount": pos,
        "negInfCount": neg,
        "minus100Count": int(np.count_nonzero(finite == -100)),
        "zeroCount": int(np.count_nonzero(finite == 0)),
    }


def stats_text(s):
    """statisticsText of src/core/expr/values.ts: 'min 0, max 3, mean 1.5, std 1.11803, -100 ×2'."""
    parts = ["min " + _six(s["min"]), "max " + _six(s["max"]), "mean " + _six(s["mean"]), "std " + _six(s["std"])]
    if s["nanCount"]:
        parts.append("NaN ×%d" % s["nanCount"])
    if s["posInfCount"] + s["negInfCount"]:
        parts.append("inf ×%d" % (s["posInfCount"] + s["negInfCount"]))
    if s["minus100Count"]:
        parts.append("-100 ×%d" % s["minus100Count"])
    return ", ".join(parts)


def type_text(a):
    """Tensor.toString of src/core/tensor/tensor.ts: 'float32[872, 2]'."""
    return "%s[%s]" % (a.dtype.name, ", ".join(str(n) for n in a.shape))


def shape_text(shape):
    return "(%d,)" % shape[0] if len(shape) == 1 else "(%s)" % ", ".join(str(n) for n in shape)


class Statistics:
    """The `statistics` child: its line as the value, its fields as children."""

    def __init__(self, a):
        self.fields = stats(a)

    def __repr__(self):
        return stats_text(self.fields)


def _tokenizer():
    model = _view["model"]
    if not model:
        return None
    if _view["tokenizer_dir"] != model:
        _view["tokenizer_dir"] = model
        try:
            from .tokenizer import load_tokenizer

            _view["tokenizer"] = load_tokenizer(model)
        except Exception:  # noqa: BLE001 - no tokenizer: arrays are shown without decoded text
            _view["tokenizer"] = None
    return _view["tokenizer"]


def token_ids(a):
    """The tokenizer, when `a` holds token ids of this model: an integer array of generated ids or labels
    (predict_with_generate) or a view of the inputs, every value a vocabulary id or -100 padding."""
    if not isinstance(a, np.ndarray) or a.dtype.kind not in "iu" or a.ndim not in (1, 2) or a.size == 0:
        return None
    inputs = _view["inputs"]
    if not _view["token_ids"] and not (inputs is not None and np.may_share_memory(a, inputs)):
        return None
    tok = _tokenizer()
    if tok is None:
        return None
    ids = a[a != -100]
    if ids.size and (ids.min() < 0 or ids.max() >= len(tok)):
        return None
    return tok


def decode_row(tok, row):
    """One row as the extension decodes it (src/debug/variables.ts decodeRow): -100 dropped, special tokens skipped."""
    return tok.decode([int(x) for x in row if x >= 0], skip_special_tokens=True)


def value_line(a):
    """The array's value in the Variables view."""
    head = type_text(a)
    if a.ndim == 0:
        return "%s %s" % (head, a.item())
    tok = token_ids(a) if a.ndim == 1 else None
    if tok is not None:
        return "%s %r" % (head, decode_row(tok, a))
    if a.size <= EAGER_STATS and a.dtype.kind in "biuf":
        return "%s  %s" % (head, stats_text(stats(a)))
    return head


def children(a):
    """(name, value, evaluate-name suffix) under an array: shape, dtype, statistics, decoded, then rows."""
    out = [("shape", a.shape, ".shape"), ("dtype", a.dtype, ".dtype")]
    if a.dtype.kind in "biuf":
        out.append(("statistics", Statistics(a), None))
    tok = token_ids(a)
    if tok is not None:
        if a.ndim == 1:
            out.append(("decoded", decode_row(tok, a), None))
        else:
            out.append(("decoded", [decode_row(tok, r) for r in a[:ROWS_DECODED]], None))
    if a.ndim >= 1:
        n = a.shape[0]
        for i in range(min(n, ROWS_SHOWN)):
            out.append(("[%d]" % i, a[i], "[%d]" % i))
        if n > ROWS_SHOWN:
            out.append(("…", "%d more rows: evaluate a slice such as [%d:%d] in the Debug Console"
                        % (n - ROWS_SHOWN, ROWS_SHOWN, min(n, 2 * ROWS_SHOWN)), None))
    return out

