"""The discrete Fourier transform for the ``fft`` op (numba has no ``np.fft``): a radix-2
transform for power-of-two lengths and Bluestein's chirp-z transform (three radix-2
transforms of a padded length) for every other length, in complex128.
``fft_lines(source, target, inverse, scale)`` transforms each line of the middle axis of an
``(outer, n, inner)`` array; ``target`` may be ``source``.
"""
import math

import numba
import numpy as np


@numba.njit(cache=True)
def fft_radix2(values, inverse):
    n = values.shape[0]
    a = values.copy()
    j = 0
    for i in range(1, n):              # bit-reversed order
        bit = n >> 1
        while j & bit:
            j ^= bit
            bit >>= 1
        j ^= bit
        if i < j:
            a[i], a[j] = a[j], a[i]
    sign = 1.0 if inverse else -1.0
    length = 2
    while length <= n:
        half = length // 2
        for k in range(half):
            angle = sign * 2.0 * math.pi * k / length
            twiddle = complex(math.cos(angle), math.sin(angle))
            for start in range(0, n, length):
                u = a[start + k]
                v = a[start + k + half] * twiddle
                a[start + k] = u + v
                a[start + k + half] = u - v
        length *= 2
    return a


@numba.njit(cache=True)
def fft_line(values, inverse):
    n = values.shape[0]
    if n & (n - 1) == 0:
        return fft_radix2(values, inverse)
    m = 1
    while m < 2 * n - 1:
        m *= 2
    sign = 1.0 if inverse else -1.0
    chirp = np.empty(n, np.complex128)
    for k in range(n):
        angle = sign * math.pi * ((k * k) % (2 * n)) / n     # k^2 mod 2n: exact angles
        chirp[k] = complex(math.cos(angle), math.sin(angle))
    a = np.zeros(m, np.complex128)
    b = np.zeros(m, np.complex128)
    for k in range(n):
        a[k] = values[k] * chirp[k]
        b[k] = chirp[k].conjugate()
    for k in range(1, n):
        b[m - k] = chirp[k].conjugate()
    product = fft_radix2(a, False) * fft_radix2(b, False)
    convolution = fft_radix2(product, True)
    result = np.empty(n, np.complex128)
    for k in range(n):
        result[k] = chirp[k] * convolution[k] / m
    return result


@numba.njit(cache=True)
def fft_lines(source, target, inverse, scale):
    outer, n, inner = source.shape
    line = np.empty(n, np.complex128)
    for a in range(outer):
        for b in range(inner):
            for k in range(n):
                line[k] = source[a, k, b]
            transformed = fft_line(line, inverse)
            for k in range(n):
                target[a, k, b] = transformed[k] * scale
