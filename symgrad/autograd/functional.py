"""``torch.autograd.functional``: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp`` and ``vhp``
of a function of Tensors, on symgrad's transforms (symgrad.jacobians, symgrad.api.vjp,
symgrad.forward_mode.jvp, symgrad.products.hvp): the function is traced once per input
signature and compiled, with PyTorch's argument and result structure (a Tensor for one input,
tuples for several).

>>> import symgrad as torch
>>> from symgrad.autograd.functional import jacobian
>>> jacobian(lambda x: x ** 2, torch.tensor([1.0, 2.0])).tolist()
[[2.0, 0.0], [0.0, 4.0]]
"""
from dataclasses import dataclass

import numpy as np

from symgrad.tree_util import tree_map
from symgrad.api import vjp as array_vjp
from symgrad.forward_mode import jvp as array_jvp
from symgrad.jacobians import hessian as array_hessian, jacobian as array_jacobian
from symgrad.products import hvp as array_hvp
from symgrad.eager.tensor import Tensor, _value_of


@dataclass(frozen=True)
class OnTensors:
    """``func`` of Tensors as a function of arrays (traced values pass through as Tensors);
    equal for the same ``func``, so the transforms' caches find it again."""
    func: object
    packed: bool = False         # one argument: the tuple of the inputs

    def __call__(self, *arrays):
        arrays = arrays[0] if self.packed else arrays
        out = self.func(*(Tensor(a) if not isinstance(a, Tensor) else a for a in arrays))
        return tree_map(_value_of, out)


def _inputs(inputs):
    single = isinstance(inputs, Tensor) or not isinstance(inputs, (tuple, list))
    inputs = (inputs,) if single else tuple(inputs)
    return single, tuple(np.asarray(_value_of(t)) for t in inputs)


def _tensors(tree):
    return tree_map(lambda a: Tensor(np.asarray(a)), tree)


def _unsupported(create_graph, strict):
    if create_graph:
        raise NotImplementedError("create_graph=True is not supported by symgrad's "
                                  "autograd.functional; nest symgrad.jacobian/hessian instead")
    if strict:
        raise NotImplementedError("strict=True is not supported by symgrad's "
                                  "autograd.functional")


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """d func(inputs) / d inputs: ``out.shape + in.shape`` per (output, input) pair."""
    _unsupported(create_graph, strict)
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    single, values = _inputs(inputs)
    argnums = 0 if single else tuple(range(len(values)))
    return _tensors(array_jacobian(OnTensors(func), argnums=argnums)(*values))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func``: a Tensor for one input, a tuple of tuples for more."""
    _unsupported(create_graph, strict)
    single, values = _inputs(inputs)
    argnums = 0 if single else tuple(range(len(values)))
    return _tensors(array_hessian(OnTensors(func), argnums=argnums)(*values))


def _seed(v, out, what):
    if v is not None:
        v = v if isinstance(v, (tuple, list)) else (v,)
        values = tuple(np.asarray(_value_of(t)) for t in v)
        return values if isinstance(out, tuple) else values[0]
    if isinstance(out, tuple) or np.size(out) != 1:
        raise RuntimeError(f"The vector v can only be None if the user-provided function "
                           f"returns a single Tensor with a single element.")
    return np.ones(np.shape(out), np.asarray(out).dtype)


def _as_given(single, tree):
    return _tensors(tree[0] if single else tuple(tree))


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``."""
    _unsupported(create_graph, strict)
    single, values = _inputs(inputs)
    out, pullback = array_vjp(OnTensors(func), *values)
    return _tensors(out), _as_given(single, pullback(_seed(v, out, "vjp")))


def _tangents(v, values):
    """``v`` as arrays of the inputs' dtypes; ones when ``v`` is None, which PyTorch allows
    only for a single one-element input."""
    if v is None:
        if any(np.size(a) != 1 for a in values):
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        return tuple(np.ones_like(a) for a in values)
    v = (v,) if isinstance(v, Tensor) else tuple(v)
    return tuple(np.asarray(_value_of(t), a.dtype) for t, a in zip(v, values))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``."""
    _unsupported(create_graph, strict)
    single, values = _inputs(inputs)
    tangents = _tangents(v, values)
    out, tangent_out = array_jvp(OnTensors(func), values, tangents)
    return _tensors(out), _tensors(tangent_out)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` of a scalar ``func``."""
    _unsupported(create_graph, strict)
    single, values = _inputs(inputs)
    tangents = _tangents(v, values)
    packed = OnTensors(func, packed=True)
    out = packed(values)
    product = array_hvp(packed, (values,), (tangents,))
    return _tensors(out), _as_given(single, product)


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)``: ``H v`` (the Hessian of a twice differentiable function is
    symmetric)."""
    return hvp(func, inputs, v, create_graph, strict)
