"""The exception classes for user mistakes found while tracing, differentiating or compiling.

Every one is a :class:`TracingError`. Where numpy raises a built-in exception for the same
mistake (``len()`` of a 0-d array is a TypeError, a write into a read-only view a
ValueError), symgrad's error is also that built-in, so ``except TypeError`` code written
for numpy keeps working.
"""


class TracingError(Exception):
    """A user's function cannot be traced as written; the message says what and where.

    >>> import numpy as np, symgrad as sg
    >>> try:
    ...     sg.grad(lambda x: np.ones(3) * x)(np.ones(2))
    ... except sg.TracingError as error:
    ...     print("cannot be broadcast" in str(error))
    True
    """


class TracingTypeError(TracingError, TypeError):
    """A value of the wrong type or dtype (where numpy raises TypeError)."""


class TracingValueError(TracingError, ValueError):
    """A value of the wrong shape, or a write numpy refuses (where numpy raises ValueError)."""


class TracingIndexError(TracingError, IndexError):
    """An index out of bounds or of the wrong kind (where numpy raises IndexError)."""


class TracingAttributeError(TracingError, AttributeError):
    """An ndarray attribute or method that traced arrays do not have (``hasattr`` is False)."""


class TracingMemoryError(TracingError, MemoryError):
    """An output too large for this machine's memory, found before compiling."""


class UnexpectedTracerError(TracingError):
    """A traced value used after its trace ended (kept in a global, a list, an attribute),
    as JAX's ``UnexpectedTracerError``."""
