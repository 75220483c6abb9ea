"""Why symgrad compiles: ``SYMGRAD_LOG_COMPILES=1`` logs every compile with its reason, and a
function compiled more than ``MAX_COMPILES`` times warns once, naming what keeps changing.

Log lines go to the ``symgrad.compile`` logger (with ``SYMGRAD_LOG_COMPILES=1``, to stderr
as ``symgrad: ...``): which function and why (new function, new shapes or dtypes and of which
argument, a tape structure used again, a new training step), then what the disk cache did
(hit, or miss and why, and how long numba took).

>>> history = CompileHistory("grad(loss)")
>>> history.record(["x"], [((3,), "<f8")])
'new function'
>>> history.record(["x"], [((4,), "<f8")])
'new shapes/dtypes: x float64[3] -> float64[4]'
"""
import collections
import logging
import sys
import warnings
import weakref
from symgrad.core.settings import log_compiles

LOG = logging.getLogger("symgrad.compile")
MAX_COMPILES = 8
_configured = []


def configure():
    """With ``SYMGRAD_LOG_COMPILES`` set (not 0), send the compile log to stderr."""
    if _configured:
        return
    _configured.append(True)
    if not log_compiles():
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("symgrad: %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def log_compile(kind, what, reason):
    configure()
    LOG.info("compiling %s %s: %s", kind, what, reason)


def log_eviction(what, cache, bound):
    """Say that ``what`` left the bounded ``cache`` because more than ``bound`` are in use."""
    configure()
    LOG.info("evicting %s from the %s: more than %s in use", what, cache, bound)


def describe_leaf(signature):
    """``float32[64,1000]``, ``int scalar`` or ``static 3``, from staging.leaf_signature."""
    if signature[0] == "scalar":
        return f"Python {signature[1]}"
    if signature[0] == "static":
        return f"static value {signature[1]!r}"
    shape, dtype = signature
    import numpy as np
    return f"{np.dtype(dtype).name}[{','.join(str(d) for d in shape)}]"


def _change(old, new):
    """('shape'|'dtype'|'value'|'type', text) for one leaf that changed."""
    if old[0] in ("scalar", "static") or new[0] in ("scalar", "static"):
        what = "value" if old[0] == new[0] == "static" else "type"
    else:
        what = "shape" if old[0] != new[0] else "dtype"
    return what, f"{describe_leaf(old)} -> {describe_leaf(new)}"


class CompileHistory:
    """The compiles of one function: the reason of each, and a warning once there are more
    than ``MAX_COMPILES``, naming the arguments whose shapes, dtypes or values keep changing."""

    def __init__(self, what):
        self.what = what
        self.compiles = 0
        self.last = None
        self.seen = set()
        self.changes = collections.Counter()    # (argument, 'shape'|'dtype'|...) -> count
        self.warned = False

    def record(self, names, signature, structure=None, warn=True):
        """The reason for this compile; warns when there have been too many (unless
        ``warn`` is false: the reference backend compiles nothing)."""
        self.compiles += 1 if warn else 0
        signature, key = list(signature), (structure, tuple(signature))
        if self.last is None:
            reason = "new function"
        elif key in self.seen:
            reason = ("same signature as an earlier compile: the transformation was made anew "
                      f"(create {self.what} once and reuse it)")
            self.changes[("the transformation", "made anew")] += 1
        elif self.last[0] != structure or len(self.last[2]) != len(signature):
            reason = "new argument structure (pytree of the arguments changed)"
            self.changes[("the arguments", "structure")] += 1
        else:
            texts = []
            for name, old, new in zip(names, self.last[2], signature):
                if old != new:
                    what, text = _change(old, new)
                    self.changes[(name, what)] += 1
                    texts.append(f"{name} {text}")
            reason = "new shapes/dtypes: " + "; ".join(texts)
        self.last = (structure, names, signature)
        self.seen.add(key)
        if warn and self.compiles > MAX_COMPILES and not self.warned:
            self.warned = True
            warnings.warn(self.warning(), RuntimeWarning, stacklevel=5)   # the caller's line
        return reason

    def warning(self):
        top = ", ".join(f"{name} ({what}, {count} times)"
                        for (name, what), count in self.changes.most_common(3))
        return (f"symgrad: {self.what} has been compiled {self.compiles} times (more than "
                f"{MAX_COMPILES}); what keeps changing: {top or 'nothing recorded'}. Every new "
                "shape, dtype or static value traces and compiles again: keep shapes fixed "
                "(pad or bucket batches), pass changing numbers as arrays, and create each "
                "transformed function once. SYMGRAD_LOG_COMPILES=1 logs every compile.")


_HISTORIES = weakref.WeakKeyDictionary()    # function -> {kind: CompileHistory}
_PINNED = {}                                 # the same, for functions without weak references


def history_for(kind, fn):
    """The compile history of ``fn`` under one transformation kind. It belongs to the
    function object, so a transformation made anew for every call is counted too."""
    try:
        histories = _HISTORIES.setdefault(fn, {})
    except TypeError:
        histories = _PINNED.setdefault(id(fn), (fn, {}))[1]
    history = histories.get(kind)
    if history is None:
        history = histories[kind] = CompileHistory(f"{kind}({getattr(fn, '__name__', 'fn')})")
    return history
