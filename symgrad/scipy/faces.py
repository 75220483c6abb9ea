"""How symgrad.scipy's functions stand in for scipy's own."""
import functools

from symgrad.core.numpy_namespace import during_tracing_in, original_attribute
from symgrad.core.ops.construction import holds_tracers


def scipy_face(module_name, attribute):
    """Decorator: the function is ``<module_name>.<attribute>`` on traced values (also while a
    trace runs, in scipy's namespace), and scipy's own function on anything else."""
    def register(function):
        @functools.wraps(function)
        def either(*args, **kwargs):
            if holds_tracers([*args, *kwargs.values()]):
                return function(*args, **kwargs)
            return original_attribute(module_name, attribute)(*args, **kwargs)
        return during_tracing_in(module_name, attribute)(either)
    return register
