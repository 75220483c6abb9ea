"""scipy.special's functions that neither ``math`` nor numba offer, for one float64 element:
``special_polygamma(n, x)`` (digamma for ``n = 0``), ``special_i0``, ``special_i1``.

polygamma moves ``x`` up by the recurrence ``psi_n(x) = psi_n(x + 1) - (-1)^n n! / x^(n+1)``
until the asymptotic series (Bernoulli numbers ``B_2k``) is accurate to float64, as Cephes
does. The Bessel functions sum their power series, whose terms are all positive (no
cancellation), until a term no longer changes the sum.
"""
import math

import numba

BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6)   # B_2 ... B_14


@numba.njit(cache=True)
def special_polygamma(n, x):
    sign = 1.0 if n % 2 == 1 else -1.0            # (-1)^(n+1)
    if x <= 0 and x == math.floor(x):             # the poles, as scipy
        return sign * math.inf if x == 0 else math.nan
    factorial = math.gamma(n + 1.0)
    shifted = 0.0
    while x < 20.0 + n:
        shifted += sign * factorial / x ** (n + 1)
        x += 1.0
    if n == 0:
        series = math.log(x) - 0.5 / x
        power = x * x
        for k in range(len(BERNOULLI)):
            series -= BERNOULLI[k] / (2 * (k + 1) * power)
            power *= x * x
        return series + shifted
    series = math.gamma(n) / x ** n + factorial / (2 * x ** (n + 1))
    for k in range(len(BERNOULLI)):
        two_k = 2.0 * (k + 1)
        series += (BERNOULLI[k] * math.exp(math.lgamma(two_k + n) - math.lgamma(two_k + 1.0))
                   / x ** (two_k + n))
    return sign * series + shifted


@numba.njit(cache=True)
def bessel_series(x, order):
    """The sum over k of (x^2 / 4)^k / (k! (k + order)!), for I_0 and I_1."""
    quarter_square = x * x / 4
    term = total = 1.0
    k = 0.0
    while term > 1e-17 * total:
        k += 1.0
        term *= quarter_square / (k * (k + order))
        total += term
    return total


@numba.njit(cache=True)
def special_i0(x):
    return bessel_series(x, 0.0)


@numba.njit(cache=True)
def special_i1(x):
    return x / 2 * bessel_series(x, 1.0)
