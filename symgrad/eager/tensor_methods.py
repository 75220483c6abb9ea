"""Tensor operators, methods and ``symgrad.<op>`` functions with PyTorch's names.

Each is one call of :func:`symgrad.eager.tensor.apply` with a module-level symgrad function and
hashable static params, so the tape's structural key (and the compiled backward) is reused
from one training step to the next.
"""
import numpy as np

import symgrad.core.ops as ops
from symgrad.core.ops.registry import FRONTS
from symgrad.eager.conversion import cast
from symgrad.eager.dtypes import TYPE_NAMES, default_float
from symgrad.eager.promotion import is_scalar, numpy_result_type, unweak
from symgrad.eager.dims import normalize_dim
from symgrad.eager.joining import joining_functions, joining_methods
from symgrad.eager.masks import consumed_dims, is_mask, mask_functions, mask_methods, mask_positions
from symgrad.eager.dim_reductions import reduction_functions, reduction_methods
from symgrad.eager.fused_arithmetic import fused_functions, fused_methods
from symgrad.eager.rearranging import rearranging_functions, rearranging_methods
from symgrad.eager.scattering import scattering_methods
from symgrad.eager.counting import counting_functions, counting_methods
from symgrad.eager.combining import combining_functions, combining_methods
from symgrad.eager.in_place import fill_diagonal_, in_place_methods
from symgrad.eager.selection import selection_methods
from symgrad.eager.softmax import log_softmax, softmax
from symgrad.eager.tensor import Tensor, _value_of, apply


# -- module-level functions the tape replays (their identity is part of the cache key) -------
def addmm(bias, a, b):
    return ops.add(ops.matmul(a, b), bias)


def reshape(x, shape):
    return ops.reshape(x, shape)


def permute(x, dims):
    return ops.transpose(x, dims)


def index(x, key):
    return ops.getitem(x, key)


INDEX_OPERAND = "index operand"   # where an integer index array sits in an indexing key


def index_by_arrays(x, *arrays, template):
    """``x[key]``, the key's integer index arrays given as operands (fed to the compiled
    backward, so new indices every step keep one tape structure)."""
    given = iter(arrays)
    return ops.getitem(x, tuple(next(given) if part == INDEX_OPERAND else part
                                for part in template))


def _split_index_arrays(key, shape):
    """(template, integer arrays) of a key holding index tensors, arrays or lists; a boolean
    mask becomes the index arrays of its True elements (one per dim it covers)."""
    parts = [_value_of(part) for part in (key if isinstance(key, tuple) else (key,))]
    template, arrays, dim = [], [], 0
    for position, value in enumerate(parts):
        if isinstance(value, (list, range)):
            value = np.asarray(value)
        if is_mask(value):
            positions = mask_positions(value, dim, shape)
            template += [INDEX_OPERAND] * len(positions)
            arrays += positions
        elif hasattr(value, "aval") or (isinstance(value, np.ndarray) and value.dtype.kind in "iu"):
            template.append(INDEX_OPERAND)
            arrays.append(value)
        else:
            template.append(value)
        dim = len(shape) - sum(map(consumed_dims, parts[position + 1:])) if value is Ellipsis \
            else dim + consumed_dims(value)
    return tuple(template), arrays


def _mean(self, dim=None, keepdim=False, dtype=None):
    """``mean``: of float tensors only, as in PyTorch (``dtype=`` casts first)."""
    source = self if dtype is None else cast(self, dtype)
    if not source.dtype.is_floating_point and not source.dtype.is_complex:
        kind = TYPE_NAMES.get(source.dtype, "Tensor")[:-len("Tensor")]
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either "
                           f"a floating point or complex dtype. Got: {kind}")
    return _reduction(ops.mean, "MeanBackward")(source, dim, keepdim)


def _dims(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _reduction(function, name):
    def method(self, dim=None, keepdim=False):
        return apply(name + ("0" if dim is None else "1"), function, self,
                     axis=_dims(dim), keepdims=bool(keepdim))
    return method


def torch_operands(args):
    """``args`` cast to PyTorch's result dtype (:mod:`symgrad.eager.promotion`) where
    numpy's would differ, and that dtype; other arguments (not operands) pass unchanged."""
    if not all(isinstance(a, (Tensor, np.ndarray)) or is_scalar(a) for a in args):
        return args, None
    target = numpy_result_type(args)
    return [cast(a, target) if isinstance(a, Tensor) else unweak(a) for a in args], target


def promoted(grad_fn, function):
    """``function`` (an elementwise front) on Tensors with PyTorch's promotion: integer
    operands give the default float dtype where the result is a float (``/``, ``exp``)."""
    def call(*args):
        operands, target = torch_operands(args)
        out = apply(grad_fn, function, *operands)
        if target is not None and target.kind in "biu" and out._value.dtype == np.float64:
            return cast(out, default_float())
        return out
    return call


def _elementwise(front):
    return any(isinstance(f, np.ufunc) for f in front.faces.numpy)


# PyTorch's keyword names for the numpy ones of the front functions (x.cumsum(dim=0))
TORCH_KEYWORDS = {"dim": "axis", "keepdim": "keepdims"}


def _torch_call(front):
    """The front called on Tensors: its result, with the front's grad_fn."""
    if _elementwise(front):
        return promoted(front.faces.grad_fn, front.function)

    def call(*args, **kwargs):
        kwargs = {TORCH_KEYWORDS.get(k, k): v for k, v in kwargs.items()}
        return apply(front.faces.grad_fn, front.function, *args, **kwargs)
    return call


def _recorded(front):
    """``Tensor.<name>`` of a front function."""
    call = _torch_call(front)
    return lambda self, *args, **kwargs: call(self, *args, **kwargs)


def _recorded_flipped(front):
    call = _torch_call(front)
    return lambda self, other: call(other, self)


def _unrecorded(front):
    """A comparison: a Tensor of the result, no history (there is no gradient)."""
    function = front.function

    def compare(self, *other):       # binary (x < y, x & y) or unary (~x)
        operands, _ = torch_operands([self, *other])
        return Tensor(function(*(_value_of(o) for o in operands)))
    return compare


def face_methods():
    """Tensor's operators and methods from the faces of every front function."""
    methods = {}
    for front in FRONTS:
        faces = front.faces
        if faces.operator:
            methods[f"__{faces.operator}__"] = (_recorded(front) if faces.grad_fn
                                                else _unrecorded(front))
        if faces.reflected:
            methods[f"__r{faces.operator}__"] = _recorded_flipped(front)
        methods.update(dict.fromkeys(faces.tensor, _recorded(front)))
    return methods


def _view(self, *shape):
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    size = self.numel()
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if shape.count(-1) > 1:
        raise RuntimeError(f"view {list(shape)}: only one dimension can be inferred")
    if -1 in shape and known == 0 and size == 0:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} "
                           "because the unspecified dimension size -1 can be any value and "
                           "is ambiguous")
    if (known == 0 or size % known != 0) if -1 in shape else known != size:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}")
    shape = tuple(size // known if d == -1 else int(d) for d in shape)
    return apply("ViewBackward0", reshape, self, shape=shape)


def _torch_dims(self, dims, function):
    return tuple(normalize_dim(d, self.shape, function) for d in dims)


def _flatten(self, start_dim=0, end_dim=-1):
    start, end = _torch_dims(self, (start_dim, end_dim), "flatten()")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    middle = int(np.prod(self.shape[start:end + 1], dtype=np.int64))
    return _view(self, self.shape[:start] + (middle,) + self.shape[end + 1:])


def _permute(self, *dims):
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
    return apply("PermuteBackward0", permute, self, dims=_torch_dims(self, dims, "permute()"))


def _t(self):
    if self.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return apply("TBackward0", permute, self, dims=tuple(reversed(range(self.ndim))))


def _clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
    name = "ClampMinBackward0" if max is None else "ClampMaxBackward0" if min is None else "ClampBackward1"
    # the bounds are operands, so a bound that changes every step keeps one tape structure
    return apply(name, ops.clip, self, min, max)


def _getitem(self, key):
    template, arrays = _split_index_arrays(key, tuple(self.shape))
    try:
        if arrays:
            return apply("IndexBackward0", index_by_arrays, self, *arrays, template=template)
        key = _value_of(key)
        return apply("SliceBackward0" if isinstance(key, (slice, tuple)) else "SelectBackward0",
                     index, self, key=key)
    except IndexError as error:     # numpy's words for PyTorch's: "dimension", not "axis"
        raise IndexError(str(error).replace(" for axis ", " for dimension ")) from None


def check_matmul_shapes(a, b):
    """PyTorch's error for 2-D operands whose inner sizes differ (the one users search)."""
    if len(a.shape) == 2 and len(np.shape(b)) == 2 and a.shape[1] != np.shape(b)[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} "
                           f"and {np.shape(b)[0]}x{np.shape(b)[1]})")


def _checked_matmul(method):
    def matmul(self, other):
        check_matmul_shapes(self, other)
        return method(self, other)
    return matmul


def _whole_extremum(function, name):
    """``x.max()``: the largest element (its gradient split among ties, as PyTorch's)."""
    return lambda self: apply(name, function, self, axis=None, keepdims=False)


def _moment(function, name):
    """``Tensor.var``/``Tensor.std``: PyTorch's ``unbiased=True`` (or ``correction``) default."""
    def method(self, dim=None, unbiased=True, keepdim=False, *, correction=None):
        return apply(name, function, self, axis=_dims(dim),
                     ddof=ops.torch_correction(unbiased, correction), keepdims=bool(keepdim))
    return method


def logsumexp_function(x, dim, keepdim=False):
    return apply("LogsumexpBackward0", ops.logsumexp, x, axis=_dims(dim), keepdims=bool(keepdim))


def _diagonal(self, offset=0, dim1=0, dim2=1):
    return apply("DiagonalBackward0", ops.diagonal, self, offset=int(offset), axis1=dim1,
                 axis2=dim2)


def _select(self, dim, index):
    dim = normalize_dim(dim, self.shape, "select()")
    return self[(slice(None),) * dim + (index,)]


def _scan(function, name):
    """``Tensor.cumsum``/``cumprod``: PyTorch's ``(dim, *, dtype=None)``."""
    def method(self, dim, *, dtype=None):
        source = self if dtype is None else cast(self, dtype)
        return apply(name, function, source, axis=normalize_dim(dim, self.shape, name))
    return method


def _nan_to_num(self, nan=0.0, posinf=None, neginf=None):
    return apply("NanToNumBackward0", ops.nan_to_num, self, nan=nan, posinf=posinf,
                 neginf=neginf)


COMPARISONS = {"lt": "__lt__", "le": "__le__", "gt": "__gt__", "ge": "__ge__", "eq": "__eq__",
               "ne": "__ne__"}


# Methods whose PyTorch signature differs from the front function's (dim/keepdim, views,
# casts, devices); they take precedence over the faces.
FACE_METHODS = face_methods()
DOOR_METHODS = {
    **{name: _checked_matmul(FACE_METHODS[name]) for name in ("__matmul__", "matmul", "mm")},
    "sum": _reduction(ops.sum, "SumBackward"), "mean": _mean,
    "prod": _reduction(ops.prod, "ProdBackward"),
    **selection_methods(_whole_extremum(ops.amax, "MaxBackward1"),
                        _whole_extremum(ops.amin, "MinBackward1")),
    "var": _moment(ops.var, "VarBackward0"), "std": _moment(ops.std, "StdBackward0"),
    **joining_methods(), "clamp": _clamp, "clip": _clamp, "view": _view, "softmax": softmax,
    "log_softmax": log_softmax, "logsumexp": logsumexp_function, "diagonal": _diagonal,
    "select": _select, "cumsum": _scan(ops.cumsum, "CumsumBackward0"),
    "cumprod": _scan(ops.cumprod, "CumprodBackward0"), "nan_to_num": _nan_to_num, **{name: FACE_METHODS[dunder] for name, dunder in COMPARISONS.items()},
    "reshape": _view, "flatten": _flatten, "permute": _permute, "t": _t, "__getitem__": _getitem,
    **mask_methods(), **rearranging_methods(), **fused_methods(), **reduction_methods(),
    **scattering_methods(), **counting_methods(), **combining_methods(),
    "unsqueeze": lambda self, dim: _view(self, ops.expand_dims(np.empty(self.shape, np.int8), dim).shape),
    "squeeze": lambda self, dim=None: _view(self, np.squeeze(np.empty(self.shape, np.int8), dim).shape),
}
METHODS = {**FACE_METHODS, **DOOR_METHODS}
for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
METHODS.update(in_place_methods(), fill_diagonal_=fill_diagonal_)
for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
Tensor.__hash__ = object.__hash__


# -- torch-style functions ------------------------------------------------------------------------
def addmm_function(bias, a, b):
    return apply("AddmmBackward0", addmm, bias, a, b)


def _as_function(method):
    return lambda x, *args, **kwargs: method(x, *args, **kwargs)


def _torch_functions():
    """``torch.<name>`` for Tensors: the method of that name, else the front recorded with
    its grad_fn; the functions that are only Tensor methods in symgrad's door too."""
    functions = {}
    for front in FRONTS:
        for name in front.faces.torch:
            if name in METHODS:
                functions[name] = _as_function(METHODS[name])
            elif front.faces.grad_fn:
                functions[name] = _torch_call(front)
    for name in ("clamp", "flatten", "t", "permute", "unsqueeze", "squeeze", "neg", "argmax",
                 "argmin", "sort", "topk", "gather", "index_select", "softmax", "log_softmax"):
        functions[name] = _as_function(METHODS[name])
    return {**functions, **joining_functions(), "addmm": addmm_function,
            "logsumexp": logsumexp_function, **mask_functions(), **rearranging_functions(),
            **fused_functions(), **reduction_functions(), **scattering_methods(),
            **counting_functions(), **combining_functions()}


FUNCTIONS = _torch_functions()
