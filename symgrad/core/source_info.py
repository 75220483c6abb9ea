"""Find where in the user's code an op was called: the first frame outside symgrad and numpy."""
import os
import sys

import numpy as np

_SKIPPED_DIRS = tuple(os.path.dirname(os.path.abspath(module.__file__)) + os.sep
                      for module in (sys.modules["symgrad"], np))
_COMPILER_DIR = os.path.join(os.path.dirname(_SKIPPED_DIRS[0].rstrip(os.sep)), "compiler") + os.sep


def is_internal(filename):
    path = os.path.abspath(filename)
    return path.startswith(_SKIPPED_DIRS) or path.startswith(_COMPILER_DIR) or filename.startswith("<frozen")


def user_frame():
    """The innermost frame that belongs to user code, or None."""
    frame = sys._getframe(1)
    while frame is not None and is_internal(frame.f_code.co_filename):
        frame = frame.f_back
    return frame


def user_location():
    """``"file.py:12"`` for the innermost user frame (empty string when there is none)."""
    frame = user_frame()
    if frame is None:
        return ""
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def describe_location(location):
    """A human line for an error message: the location and the source line itself."""
    if not location:
        return ""
    import linecache
    filename, _, line = location.rpartition(":")
    text = linecache.getline(filename, int(line)).strip()
    return f"\n  at {location}" + (f"\n    {text}" if text else "")
