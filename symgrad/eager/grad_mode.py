"""Whether eager Tensor ops record history: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

>>> import symgrad as torch
>>> with torch.no_grad():
...     torch.is_grad_enabled()
False
"""
import contextlib
import functools
import threading

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enabled", True)


class set_grad_enabled(contextlib.ContextDecorator):
    """Context manager (and decorator) that turns history recording on or off."""

    def __init__(self, mode):
        self.mode = bool(mode)

    def __enter__(self):
        self.previous = is_grad_enabled()
        _state.enabled = self.mode

    def __exit__(self, *exc):
        _state.enabled = self.previous
        return False


no_grad = functools.partial(set_grad_enabled, False)
enable_grad = functools.partial(set_grad_enabled, True)


class inference_mode(set_grad_enabled):  # noqa: N801 - PyTorch's name
    """``torch.inference_mode()``: as ``no_grad`` (``inference_mode(False)`` records again)."""

    def __init__(self, mode=True):
        super().__init__(not mode)
