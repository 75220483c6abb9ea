"""autograd.tracer's public pieces: ``isbox`` (is this a traced value) and ``primitive``."""
from symgrad import Tracer
from symgrad.extend import primitive  # noqa: F401


def isbox(x):
    return isinstance(x, Tracer)
