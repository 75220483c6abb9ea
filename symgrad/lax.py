"""``symgrad.lax``: the names JAX users find in ``jax.lax``.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: x * sg.lax.stop_gradient(x), backend="reference")(2.0)
array(2.)
"""
from symgrad.core.ops.custom import stop_gradient

__all__ = ["stop_gradient"]
