"""The one exception class for user mistakes found while tracing, differentiating or compiling."""


class TracingError(Exception):
    """A user's function cannot be traced as written; the message says what and where.

    >>> import numpy as np, symgrad as sg
    >>> try:
    ...     sg.grad(lambda x: np.ones(3) * x)(np.ones(2))
    ... except sg.TracingError as error:
    ...     print("could not broadcast" in str(error))
    True
    """
