"""``symgrad.lax``: the names JAX users find in ``jax.lax``.

>>> import numpy as np, symgrad as sg
>>> sg.grad(lambda x: x * sg.lax.stop_gradient(x), backend="reference")(2.0)
array(2.)
"""
from symgrad.control_flow import cond, fori_loop, scan, switch, while_loop
from symgrad.core.ops.custom import stop_gradient

__all__ = ["cond", "fori_loop", "scan", "stop_gradient", "switch", "while_loop"]
