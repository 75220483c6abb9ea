"""scipy.special's functions that neither ``math`` nor numba offer, for one float64 element:
``special_polygamma(n, x)`` (digamma for ``n = 0``), ``special_i0``, ``special_i1``,
``special_erfinv``, ``special_erfcinv``, ``special_gammainc``, ``special_gammaincc``.

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


@numba.njit(cache=True)
def erfinv_guess(y, z):
    """A first erfinv of ``y = 1 - z``: Giles' single-precision polynomial, or in the far tail
    (``w > 5``) the asymptote ``x^2 = -log(z sqrt(pi) x)``, both refined by Newton steps."""
    w = -math.log(z * (1.0 + y))
    if w >= 5.0:
        minus_log_z = -math.log(z)
        return math.sqrt(minus_log_z - math.log(1.7724538509055159 * math.sqrt(minus_log_z)))
    w -= 2.5
    p = 2.81022636e-08
    for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
              -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
        p = c + p * w
    return p * y


@numba.njit(cache=True)
def erfinv_refined(y, z):
    """erfinv(y) for ``0 <= y < 1`` given ``z = 1 - y`` accurately too: Newton steps on
    ``erf(x) - y`` near 0, on ``log(erfc(x)) - log(z)`` near 1 (where ``y`` has lost ``z``'s
    digits and erfc falls off like exp(-x^2))."""
    x = erfinv_guess(y, z)
    for _ in range(6):
        slope = 1.1283791670955126 * math.exp(-x * x)
        if y < 0.5:
            x += (y - math.erf(x)) / slope
            continue
        tail = math.erfc(x)
        if tail == 0.0 or slope == 0.0:
            break
        x += (math.log(tail) - math.log(z)) * tail / slope
    return x


@numba.njit(cache=True)
def special_erfinv(y):
    if not -1.0 <= y <= 1.0:
        return math.nan
    if abs(y) == 1.0:
        return math.copysign(math.inf, y)
    return math.copysign(erfinv_refined(abs(y), 1.0 - abs(y)), y)


@numba.njit(cache=True)
def special_erfcinv(z):
    if not 0.0 <= z <= 2.0:
        return math.nan
    if z == 0.0 or z == 2.0:
        return math.inf if z == 0.0 else -math.inf
    return erfinv_refined(1.0 - z, z) if z <= 1.0 else -erfinv_refined(z - 1.0, 2.0 - z)


@numba.njit(cache=True)
def special_gammainc(a, x):
    """The regularized lower incomplete gamma function P(a, x): its power series below
    ``x = a + 1``, else 1 - the continued fraction of Q (modified Lentz), as Numerical
    Recipes' gser/gcf."""
    if not (a >= 0.0 and x >= 0.0):
        return math.nan
    if x == 0.0 or a == 0.0:
        return 0.0 if a > 0.0 else 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1.0:
        term = total = 1.0 / a
        n = a
        while abs(term) > abs(total) * 1e-17:
            n += 1.0
            term *= x / n
            total += term
        return total * math.exp(log_front)
    return 1.0 - gammaincc_fraction(a, x) * math.exp(log_front)


@numba.njit(cache=True)
def gammaincc_fraction(a, x):
    tiny = 1e-300
    b = x + 1.0 - a
    c = 1.0 / tiny
    d = 1.0 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


@numba.njit(cache=True)
def special_gammaincc(a, x):
    """Q(a, x) = 1 - P(a, x), from the continued fraction where it is the accurate one."""
    if not (a >= 0.0 and x >= 0.0):
        return math.nan
    if x < a + 1.0 or a == 0.0:
        return 1.0 - special_gammainc(a, x)
    return gammaincc_fraction(a, x) * math.exp(a * math.log(x) - x - math.lgamma(a))
