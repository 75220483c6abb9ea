"""Logical and bitwise ops on boolean and integer arrays (no gradient): ``&``, ``|``, ``^``,
``~`` as numpy's ``bitwise_*``/``invert``, and ``np.logical_and/or/xor/not``.

>>> import numpy as np, symgrad as sg
>>> sg.jit(lambda x: np.where((x > 0) & ~(x > 2), x, 0.0))(np.array([-1.0, 1.0, 3.0]))
array([0., 1., 0.])
"""
import numpy as np

from symgrad.core.ops.common import apply, no_gradient, result_dtype
from symgrad.core.ops.elementwise import predicate_rule
from symgrad.core.ops.registry import Faces, declare, faced, front


def _integral_rule(*avals, **_params):
    """numpy's bitwise ufuncs: bool or integer operands of one dtype (the frontend casts)."""
    dtype = avals[0].dtype
    if dtype.kind not in "biu":
        raise TypeError(f"ufunc not supported for the input types: bitwise operations take "
                        f"boolean or integer arrays, got {dtype.name}")
    return np.broadcast_shapes(*(a.shape for a in avals)), dtype


def _bitwise(name, reference, template, operator):
    declare(name, _integral_rule, reference, [no_gradient] * 2, template, family="elementwise")
    faces = Faces(numpy=(reference,), operator=operator, reflected=True, tensor=(name,),
                  torch=(name,))
    return front(lambda x, y: apply(name, [x, y]), faces)


def _logical(name, reference, template, nin=2):
    declare(name, predicate_rule, reference, [no_gradient] * nin, template, family="elementwise")
    return front(lambda *values: apply(name, values),
                 Faces(numpy=(reference,), tensor=(name,), torch=(name,)))


bitwise_and = _bitwise("bitwise_and", np.bitwise_and, "{0} & {1}", "and")
bitwise_or = _bitwise("bitwise_or", np.bitwise_or, "{0} | {1}", "or")
bitwise_xor = _bitwise("bitwise_xor", np.bitwise_xor, "{0} ^ {1}", "xor")
logical_and = _logical("logical_and", np.logical_and, "({0} != 0) and ({1} != 0)")
logical_or = _logical("logical_or", np.logical_or, "({0} != 0) or ({1} != 0)")
logical_xor = _logical("logical_xor", np.logical_xor, "({0} != 0) != ({1} != 0)")
logical_not = _logical("logical_not", np.logical_not, "{0} == 0", nin=1)
declare("invert", _integral_rule, np.invert, [no_gradient], "~{0}", family="elementwise")


@faced(numpy=(np.invert,), operator="invert", tensor=("bitwise_not",),
       torch=("bitwise_not",))
def invert(x):
    """``~x``: logical not of booleans (Python's ``~True`` is -2), bitwise of integers."""
    if result_dtype(x) == np.bool_:
        return logical_not(x)
    return apply("invert", [x])
