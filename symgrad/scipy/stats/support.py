"""What the distributions share: ``-inf`` outside a density's support, as scipy gives."""
import numpy as np

import symgrad.core.ops as ops


def within(inside, value):
    """``value`` where ``inside``, ``-inf`` elsewhere (no gradient flows there)."""
    return ops.where(inside, value, -np.inf)


def standardized(x, loc, scale, low=0.0, high=None):
    """``(z, inside)``: ``(x - loc) / scale`` and where it lies in ``[low, high]``; ``z`` is
    moved inside elsewhere, so the density's formula stays finite (and its gradient 0)."""
    z = (x - loc) / scale
    inside = z >= low if high is None else (z >= low) & (z <= high)
    middle = low + 0.5 if high is None else (low + high) / 2
    return ops.where(inside, z, middle), inside


def scipy_rest(distribution):
    """A module ``__getattr__``: what symgrad does not trace (``rvs``, ``fit``, ...) is
    scipy's own method of ``scipy.stats.<distribution>``, for concrete values."""
    def rest(name):
        if name.startswith("__"):
            raise AttributeError(name)
        import scipy.stats
        return getattr(getattr(scipy.stats, distribution), name)
    return rest
