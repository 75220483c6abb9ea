"""Top-level ``symgrad.<name>`` functions that serve both users: given a Tensor they act like
``torch.<name>`` (recording history); given arrays or tracers they act like ``np.<name>``."""
import symgrad.core.tracer_faces  # noqa: F401  (every front function and its faces)
from symgrad.core.ops.registry import FRONTS
from symgrad.eager.in_place import written_to
from symgrad.eager.tensor import Tensor
from symgrad.eager.tensor_methods import FUNCTIONS as TENSOR_FUNCTIONS

ARRAY_FUNCTIONS = {name: front.function for front in FRONTS for name in front.faces.torch}


def _holds_tensor(value):
    """A Tensor, or a list or tuple of them (``torch.cat([a, b])``)."""
    if isinstance(value, (list, tuple)):
        return any(isinstance(v, Tensor) for v in value)
    return isinstance(value, Tensor)


def _either(name):
    tensor_function = TENSOR_FUNCTIONS.get(name)
    array_function = ARRAY_FUNCTIONS.get(name)

    def function(*args, **kwargs):
        if tensor_function is not None and (
                array_function is None or any(_holds_tensor(a) for a in args)):
            out = kwargs.pop("out", None)
            result = tensor_function(*args, **kwargs)
            return result if out is None else written_to(out, result, name)
        return array_function(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = (f"``torch.{name}`` on Tensors, ``np.{name}`` on arrays and tracers.")
    return function


PUBLIC = {name: _either(name) for name in set(TENSOR_FUNCTIONS) | set(ARRAY_FUNCTIONS)}
__all__ = sorted(PUBLIC)


def __getattr__(name):
    """``from symgrad.public_functions import exp`` and ``import *`` read ``PUBLIC``."""
    try:
        return PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
