"""scipy's functions on traced values, as ``autograd.scipy`` offers them: ``symgrad.scipy.special``
(``logsumexp``, ``softmax``, ``log_softmax``, ``erf``, ``gammaln``, ``digamma``, ``polygamma``,
...) and ``symgrad.scipy.stats`` (``norm``, ``multivariate_normal``, ``t``, ``gamma``,
``beta``, ``chi2``, ``poisson``, ``dirichlet``: ``logpdf``/``pdf``, norm's ``cdf``/``sf`` and
their logs), ``symgrad.scipy.signal`` (``convolve``, with autograd's ``axes``/``dot_axes``) and
``symgrad.scipy.linalg`` (``solve_triangular``, ``cholesky``, ``cho_factor``/``cho_solve``, ...). While a function is traced, scipy's own ``scipy.special.logsumexp``,
``scipy.stats.norm.logpdf``, ... are these (in the scipy modules imported by then), so code
written against scipy traces unmodified; given no traced value they are scipy's. Importing
this package does not import scipy.

>>> import numpy as np, scipy.stats, symgrad as sg
>>> float(sg.grad(lambda mu: scipy.stats.norm.logpdf(1.0, mu, 2.0))(0.0))
0.25
"""
from symgrad.scipy import linalg, signal, special, stats  # noqa: F401
