"""The op table's cases for numpy's float functions, rounding and remainders, selections and
the composite reductions (symgrad/core/ops/elementwise_math.py, rounding.py, statistics.py).
tests/core/test_ops.py adds them to its ``CASES``: each is checked there like every other op
(numeric gradients of first and second order, reference == numpy in values and dtypes,
compiled == reference). Arguments lie away from kinks, singularities and domain edges;
several ops share a case so that each case compiles once."""
import numpy as np

import symgrad as sg


def math_cases(Case, uniform, away_from):
    """The cases, built with test_ops.py's ``Case`` and argument helpers."""
    return elementwise_cases(Case, uniform, away_from) + reduction_cases(Case, uniform)


def elementwise_cases(Case, uniform, away_from):
    inside = uniform((3, 4), -0.8, 0.8, seed=20)              # in (-1, 1)
    positive = uniform((3, 4), seed=21)                       # in (0.5, 1.5)
    signed = away_from(uniform((3, 4), -2, 2, seed=22), [0.0])
    between = away_from(uniform((3, 4), 0.2, 3.8, seed=23), [1, 1.5, 2, 2.5, 3, 3.5], 0.06)
    nonfinite = np.zeros((3, 4))
    nonfinite[0, :3] = [np.nan, np.inf, -np.inf]
    return [
        Case("trigonometric", lambda x, t: (np.tan(x), np.arcsin(x), np.arccos(x), np.arctan(t),
                                            np.arctan2(x, t), np.arctan2(t, 2.0)),
             (inside, signed)),
        Case("hyperbolic", lambda x, t, p: (np.sinh(t), np.cosh(t), np.arcsinh(t), np.arctanh(x),
                                            np.arccosh(p + 1)), (inside, signed, positive)),
        Case("exponentials", lambda x, t: (np.expm1(t), np.exp2(t), np.log2(x), np.log10(x),
                                           np.cbrt(t), np.reciprocal(x), np.hypot(t, x)),
             (positive, signed), float32=True),
        Case("logaddexp", lambda x, y: (np.logaddexp(x, y), np.logaddexp2(x, y[0]),
                                        np.logaddexp(x, 30.0 * y), np.logaddexp(x, x)),
             (signed, uniform((4,), -1, 1, seed=24))),
        Case("angles_and_signs", lambda t, p: (np.deg2rad(t), np.radians(t), np.rad2deg(t),
                                               np.degrees(t), np.fabs(t), np.sinc(t),
                                               np.sinc(t * 0), np.copysign(p, t),
                                               np.float_power(p, t), t.conj() * np.real(t),
                                               np.conjugate(t) + t.real + np.imag(t) + t.imag),
             (signed, positive)),
        Case("rounding", lambda x: (np.floor(x) * x, np.ceil(x) * x, np.rint(x) * x,
                                    np.round(x, 1) * x, np.around(x) + x, x.round(),
                                    np.trunc(x) * x, np.fix(-x) * x, sg.frac(x)),
             (between,)),
        Case("remainders", lambda x, y: (x % y, 2.5 % x, x // y * x, 7.0 // x, np.mod(x, 0.75),
                                         np.fmod(-x, y), np.remainder(x, y), np.divmod(x, y)[1]),
             (away_from(between, [2.5 / k for k in range(1, 13)] +
                        [0.75 * k for k in range(1, 6)], 0.03), uniform((4,), 4.0, 4.4, seed=25)),
             float32=True),
        Case("nonfinite", lambda x, c: (np.nan_to_num(x + c) > 1, np.nan_to_num(x * 2, nan=1.0),
                                        np.nan_to_num(x + c, posinf=5.0, neginf=-5.0),
                                        np.where(np.isnan(x + c), 0.0, np.where(np.isinf(x + c), 1.0, x)),
                                        np.where(np.isfinite(x + c), x, 1.0)),
             (positive, nonfinite)),
        Case("heaviside_select", lambda x, h: (np.heaviside(x, h) * x, np.heaviside(x * 0, h),
                                               np.select([x > 1, x < -1], [x * x, h], default=x),
                                               np.select([x > 0], [x])),
             (away_from(signed, [-1.0, 1.0]), uniform((4,), seed=26))),
        Case("logical", lambda x: (np.where((x > 0.8) & ~(x > 1.3) | (x < 0.7) ^ (x > 1.2), x,
                                            2 * x),
                                   np.where(np.logical_and(x > 0.6, np.logical_not(x > 1.3))
                                            | np.logical_or(x < 0.55, np.logical_xor(x > 1, x > 1.4)),
                                            x * x, x),
                                   (np.floor(x * 4).astype(np.int64) & 6) ^ ~np.floor(x * 2).astype(np.int64)),
             (away_from(positive, [0.55, 0.6, 0.7, 0.8, 1.0, 1.2, 1.3, 1.4], 0.02),)),
    ]


def reduction_cases(Case, uniform):
    return [
        Case("moments", lambda x, w: (np.var(x), x.var(axis=0, ddof=1), np.std(x, axis=(0, 2)),
                                      x.std(axis=-1, keepdims=True), np.var(x, correction=1),
                                      np.average(x), np.average(x, axis=1, weights=w),
                                      np.average(x, axis=(0, 1), weights=x * x, returned=True),
                                      np.mean(x, dtype=np.float64), np.nanmean(x, axis=0)),
             (uniform((2, 3, 4), -1, 1, seed=27), uniform((3,), seed=28)), float32=True),
        Case("peaks", lambda x: (np.ptp(x), np.ptp(x, axis=1), sg.logsumexp(x),
                                 sg.logsumexp(x, axis=(0, 2), keepdims=True),
                                 np.nanmax(x, axis=0), np.nanmin(x), np.nansum(x, axis=-1),
                                 np.sum(x, initial=1.5), np.max(x, axis=0, initial=0.9)),
             (uniform((2, 3, 4), -1, 1, seed=29),)),
        Case("cumulative", lambda x, z: (np.cumsum(x), x.cumsum(axis=1), np.cumsum(x, axis=-1),
                                         np.cumprod(x, axis=0), x.cumprod(), np.cumprod(z, 1)),
             (uniform((3, 4), -1, 1, seed=30),
              np.array([[1.5, 0.0, 2.0, 0.5], [0.0, 0.0, 1.2, 0.8], [0.9, 1.1, 0.7, 0.0]]))),
        Case("truth_and_counts", lambda x: (np.all(x > 0), x.any(axis=0), np.any(x > 1.4),
                                            np.count_nonzero(x > 1, axis=1),
                                            np.where(np.all(x > 0.6, axis=1, keepdims=True),
                                                     x, -x)), (uniform((3, 4), seed=21),)),
    ]

