"""Top-level ``symgrad.<name>`` functions that serve both users: given a Tensor they act like
``torch.<name>`` (recording history); given arrays or tracers they act like ``np.<name>``."""
import symgrad.core.ops as ops
from symgrad.eager.tensor import Tensor
from symgrad.eager.tensor_methods import FUNCTIONS as TENSOR_FUNCTIONS

ARRAY_FUNCTIONS = {
    "exp": ops.exp, "log": ops.log, "sqrt": ops.sqrt, "tanh": ops.tanh, "sin": ops.sin,
    "cos": ops.cos, "abs": ops.absolute, "sum": ops.sum, "mean": ops.mean, "max": ops.amax,
    "clamp": ops.clip, "reshape": ops.reshape, "matmul": ops.matmul, "where": ops.where,
    "add": ops.add, "sub": ops.subtract, "mul": ops.multiply, "div": ops.true_divide,
    "pow": ops.power,
}


def _either(name):
    tensor_function = TENSOR_FUNCTIONS.get(name)
    array_function = ARRAY_FUNCTIONS.get(name)

    def function(*args, **kwargs):
        if tensor_function is not None and (
                array_function is None or any(isinstance(a, Tensor) for a in args)):
            return tensor_function(*args, **kwargs)
        return array_function(*args, **kwargs)
    function.__name__ = name
    function.__doc__ = (f"``torch.{name}`` on Tensors, ``np.{name}`` on arrays and tracers.")
    return function


PUBLIC = {name: _either(name) for name in set(TENSOR_FUNCTIONS) | set(ARRAY_FUNCTIONS)}
