"""``torch.jit.script`` / ``torch.jit.trace`` as pass-through: symgrad traces and compiles on its
own, so a scripted or traced function or module is the function or module itself. They hang
on ``symgrad.jit`` (``torch.jit.script``), which is symgrad's own compiling decorator.

>>> import symgrad as torch
>>> torch.jit.script(abs) is abs
True
"""
import symgrad.api as api


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """``obj`` itself (a function, module or class)."""
    return obj


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None,
          check_tolerance=1e-5, strict=True, **_kwargs):
    """``func`` itself (a function or module); it still runs on any input, unlike a trace."""
    return func


def _unchanged(fn=None, *_args, **_kwargs):
    """The function itself, for both ``@torch.jit.ignore`` and ``@torch.jit.ignore(drop=True)``."""
    return fn if fn is not None else (lambda function: function)


def is_scripting():
    return False


def is_tracing():
    return False


for _function in (script, trace, is_scripting, is_tracing):
    setattr(api.jit, _function.__name__, _function)
for _name in ("ignore", "unused", "export", "interface", "trace_module"):
    setattr(api.jit, _name, _unchanged)
api.jit.ScriptModule = object
