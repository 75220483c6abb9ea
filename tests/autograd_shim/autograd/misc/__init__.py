"""autograd.misc: flatten and the optimizers."""
from autograd.misc.flatten import flatten  # noqa: F401


def const_graph(fun, *args, **kwargs):
    """autograd's const_graph: ``fun`` with some arguments fixed, traced once and replayed
    (symgrad.jit)."""
    import functools

    import autograd
    import symgrad as sg
    return sg.jit(functools.partial(fun, *args, **kwargs), backend=autograd.BACKEND)
