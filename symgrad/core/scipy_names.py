"""How scipy's functions meet traced values: scipy.special's ufuncs (looked up by name, so
that importing symgrad does not import scipy) and what to say when scipy's Python code fails
on a traced value."""
import sys


def is_scipy_ufunc(ufunc):
    """Whether ``ufunc`` is one of scipy.special's (numpy's ufuncs are looked up first)."""
    special = sys.modules.get("scipy.special")
    return special is not None and getattr(special, ufunc.__name__, None) is ufunc


def inside_scipy_hint():
    """Why a scipy function failed on a traced value: it was called by a name imported from
    scipy, which symgrad does not replace while tracing (the module's attribute it does)."""
    frame, outermost = sys._getframe(1), None
    while frame is not None:
        if "/scipy/" in frame.f_code.co_filename.replace("\\", "/"):
            outermost = frame
        frame = frame.f_back
    if outermost is None:
        return ""
    module = outermost.f_globals.get("__name__", "scipy").split(".")
    public = ".".join(part for part in module if not part.startswith("_"))
    function = outermost.f_code.co_name
    return (f" (inside scipy's {function}, which scipy computes on numpy arrays: while "
            f"tracing, symgrad replaces {public}.{function} looked up in its module, so write "
            f"{public}.{function}(...) rather than a name imported with 'from {public} import "
            f"{function}', or call symgrad.{public}.{function})")
