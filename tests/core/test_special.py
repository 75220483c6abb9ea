"""scipy.special and scipy.stats on traced values (symgrad/core/ops/special.py, symgrad/scipy/,
symgrad/core/scipy_names.py;
compiler/cpu/runtime/special.py), with the op table's checks (tests/core/test_ops.py):
gradients against central differences to second order, the reference interpreter against
scipy (values and dtypes), compiled code against the reference. The functions call scipy
itself: its ufuncs reach symgrad through ``__array_ufunc__``, its Python functions
(``scipy.special.logsumexp``, ``scipy.stats.norm.logpdf``) are symgrad's while a trace runs.
Arguments lie inside each function's domain, away from poles."""
import subprocess
import sys

import numpy as np
import pytest

import symgrad as sg

from conftest import assert_same
from test_ops import REF, Case, check_against_numpy, check_compiled, check_gradient, uniform

sp = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")

POSITIVE = uniform((3, 4), 0.3, 2.0, seed=40)
SIGNED = uniform((3, 4), -2.0, 2.0, seed=41)
UNIT = uniform((3, 4), 0.1, 0.9, seed=42)
ROW = uniform((4,), 0.5, 1.5, seed=43)
SPD = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])

def columns(x):
    """Two quantile vectors of a Dirichlet, as scipy takes them: along the first axis."""
    return np.stack([x, x[::-1] + 0.5], axis=1)


CASES = [
    Case("error_functions", lambda s, u: (sp.erf(s), sp.erfc(s), sp.expit(3 * s), sp.logit(u),
                                          sp.xlogy(u, s * s + 0.5), sp.xlog1py(s, u),
                                          sp.xlogy(s * 0, u)), (SIGNED, UNIT), float32=True),
    Case("gamma_functions", lambda p, r: (sp.gammaln(p), sp.gamma(p), sp.digamma(p), sp.psi(p + 5),
                                          sp.polygamma(1, p), sp.polygamma(3, p + 1),
                                          sp.betaln(p, r), sp.multigammaln(r + 2, 3),
                                          sg.digamma(-p - 0.5)), (POSITIVE, ROW), float32=True),
    Case("inverse_error_functions", lambda u, s: (
        sp.erfinv(2 * u - 1), sp.erfcinv(1.5 * u), sp.erfinv(0.4 * s), sp.erfcinv(2 - u)),
         (UNIT, SIGNED), float32=True),
    # the shape a is a constant: gammainc's derivative in a raises (test below)
    Case("incomplete_gamma", lambda p, r: (
        sp.gammainc(ROW + 1, p), sp.gammaincc(2.5, 2 * p), sp.gammainc(0.5, 30 * p),
        sp.gammaincc(ROW, 0.1 * p), sp.rgamma(p), sp.beta(p, r)), (POSITIVE, ROW), float32=True),
    Case("bessel", lambda s: (sp.i0(s * 3), sp.i1(s * 3), np.i0(s), sp.i1(s * 0)), (SIGNED,),
         float32=True),
    Case("logsumexp_softmax", lambda s, r: (
        sp.logsumexp(s), sp.logsumexp(s, axis=1), sp.logsumexp(s, axis=0, keepdims=True),
        sp.logsumexp(s, axis=1, b=r), sp.logsumexp(s, b=r - 1, return_sign=True),
        sp.softmax(s, axis=1), sp.softmax(s), sp.log_softmax(s, axis=0), sp.logsumexp(100 * s)),
         (SIGNED, ROW)),
    Case("norm", lambda x, loc, scale: (
        stats.norm.logpdf(x, loc, scale), stats.norm.pdf(x), stats.norm.cdf(x, loc, scale),
        stats.norm.sf(x, loc=loc), stats.norm.logcdf(x, scale=scale), stats.norm.logsf(x, loc, scale),
        stats.norm.logcdf(30 * x - 40), stats.norm.logsf(30 * x + 40)),
         (SIGNED, ROW - 1, POSITIVE[:, :1])),
    Case("distributions", lambda p, u, r: (
        stats.t.logpdf(p, r + 2, 0.1, 1.5), stats.t.pdf(u, 3.0), stats.gamma.logpdf(p, r + 1, 0.0, 2.0),
        stats.gamma.pdf(p, 2.5), stats.beta.logpdf(u, r + 1, 1.5), stats.beta.pdf(u, 2.0, r + 1),
        stats.chi2.logpdf(p, 3), stats.chi2.pdf(p, r + 2), stats.poisson.logpmf(3.0, p),
        stats.poisson.pmf(np.array([0.0, 1, 2, 5]), r)), (POSITIVE, UNIT, ROW)),
    Case("distribution_cdfs", lambda p, u: (
        stats.gamma.cdf(p, 2.0, 0.2 * u, 1 + u), stats.gamma.cdf(p - 1.0, 1.5), stats.chi2.cdf(p, 3),
        stats.poisson.cdf(np.array([-1.0, 0, 1, 2, 5]), 3 * u[:1, :1] + 0.5)), (POSITIVE, UNIT)),
    Case("dirichlet", lambda x, alpha: (stats.dirichlet.logpdf(x / np.sum(x), alpha),
                                        stats.dirichlet.pdf(columns(x) / np.sum(columns(x), 0), alpha)),
         (ROW[:3], ROW[:3] + 0.5)),
    Case("multivariate_normal", lambda x, mean, a: (
        stats.multivariate_normal.logpdf(x, mean, a @ a.T + np.eye(3)),
        stats.multivariate_normal.logpdf(x[0], mean, np.diag(mean) + 1),
        stats.multivariate_normal.pdf(x, cov=a @ a.T + np.eye(3)),
        stats.multivariate_normal.logpdf(x, mean, 2.0),
        stats.multivariate_normal.entropy(mean, a @ a.T + np.eye(3))),
         (SIGNED[:, :3], ROW[:3], SPD)),
]
CASES_BY_NAME = {case.name: case for case in CASES}
CASE_IDS = list(CASES_BY_NAME)
# float32 gets scipy's float32 answers from the ufuncs only: scipy.stats computes in float64
FLOAT32_IDS = [case.name for case in CASES if case.float32]


@pytest.mark.parametrize("name", CASE_IDS)
def test_gradient_matches_numeric_first_and_second_order(name):
    check_gradient(CASES_BY_NAME[name])


@pytest.mark.parametrize("name", CASE_IDS)
def test_reference_matches_scipy(name):
    with np.errstate(divide="ignore"):
        check_against_numpy(CASES_BY_NAME[name], np.float64, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", FLOAT32_IDS)
def test_reference_matches_scipy_in_float32(name):
    check_against_numpy(CASES_BY_NAME[name], np.float32, rtol=1e-5, atol=1e-6)


# compiled == reference: the primitives with their CPU runtime functions, and a composite
COMPILED = [
    Case("special_primitives", lambda s, p: (sp.erf(s) + sp.erfc(s) * sp.gammaln(p) + sp.gamma(p),
                                             sp.digamma(p) * sp.polygamma(2, p) - sp.i0(s) + sp.i1(s)),
         (SIGNED, POSITIVE), float32=True),
    CASES_BY_NAME["norm"],
    Case("inverse_and_incomplete", lambda u, p: (
        sp.erfinv(2 * u - 1) + sp.erfcinv(u), sp.gammainc(2.5, p) - sp.gammaincc(0.5, 3 * p)),
         (UNIT, POSITIVE), float32=True),
]


@pytest.mark.numba
@pytest.mark.parametrize("case, dtype", [pytest.param(c, np.float64, id=f"{c.name}-f64") for c in COMPILED]
                         + [pytest.param(COMPILED[0], np.float32, id="special_primitives-f32")])
def test_compiled_matches_reference(case, dtype):
    check_compiled(case, dtype, **({"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {}))


def test_runtime_polygamma_and_bessel_match_scipy_over_their_range():
    from symgrad.compiler.cpu.runtime import special as runtime
    xs = np.concatenate([np.linspace(0.01, 40, 150), -np.linspace(0.05, 7.7, 40)])
    for n in range(4):
        ours = [runtime.special_polygamma.py_func(n, x) for x in xs]
        assert_same(np.array(ours), sp.polygamma(n, xs), rtol=1e-13, atol=1e-13)
    xs = np.linspace(-30, 30, 121)
    assert_same(np.array([runtime.special_i0.py_func(x) for x in xs]), sp.i0(xs), rtol=1e-14)
    assert_same(np.array([runtime.special_i1.py_func(x) for x in xs]), sp.i1(xs), rtol=1e-14)
    ys = np.concatenate([np.linspace(-0.999999, 0.999999, 201), [1e-300, 1 - 1e-15, -1 + 1e-12]])
    assert_same(np.array([runtime.special_erfinv.py_func(y) for y in ys]), sp.erfinv(ys),
                rtol=1e-14)
    zs = np.concatenate([np.logspace(-300, 0, 60), 2 - np.logspace(-15, 0, 20)])
    assert_same(np.array([runtime.special_erfcinv.py_func(z) for z in zs]), sp.erfcinv(zs),
                rtol=1e-14)
    a, x = np.meshgrid([0.1, 0.5, 1.0, 2.5, 10.0, 50.0], [0, 1e-3, 0.1, 1, 3, 10, 30, 100, 300])
    ours = np.vectorize(runtime.special_gammainc.py_func)(a, x)
    assert_same(ours, sp.gammainc(a, x), rtol=1e-13, atol=1e-14)
    ours = np.vectorize(runtime.special_gammaincc.py_func)(a, x)
    assert_same(ours, sp.gammaincc(a, x), rtol=1e-12, atol=1e-300)
    assert [runtime.special_erfinv.py_func(v) for v in (1.0, -1.0)] == [np.inf, -np.inf]
    assert np.isnan(runtime.special_erfinv.py_func(1.5)) and np.isnan(
        runtime.special_gammainc.py_func(-1.0, 2.0))
    assert runtime.special_polygamma.py_func(0, 0.0) == sp.psi(0.0) == -np.inf
    assert np.isnan(runtime.special_polygamma.py_func(1, -2.0))


def test_incomplete_gamma_in_its_shape_is_not_differentiable():
    with pytest.raises(sg.TracingError, match="derivative with respect to the shape a"):
        sg.grad(lambda a: np.sum(sp.gammainc(a, ROW)), backend=REF)(ROW + 1)
    assert_same(sg.grad(lambda x: sp.gammainc(2.0, x), backend=REF)(1.0), np.exp(-1.0))


def test_scipy_is_itself_again_after_the_trace_and_on_plain_arrays():
    original = stats.norm.logpdf
    assert "logpdf" not in vars(stats.norm)
    sg.grad(lambda x: stats.norm.logpdf(x) + sp.logsumexp(x * np.ones(2)))(0.5)
    assert "logpdf" not in vars(stats.norm) and stats.norm.logpdf == original
    assert sp.logsumexp.__module__.startswith("scipy")
    # inside a trace, constants still get scipy's own answer
    assert_same(sg.jit(lambda x: x + stats.norm.ppf(np.array([0.25])), backend=REF)(0.0),
                stats.norm.ppf(np.array([0.25])))
    assert_same(sg.scipy.special.logsumexp(np.zeros(2)), np.log(2.0))


def test_torch_names_on_tensors():
    x = sg.tensor([0.5, 1.5], dtype=sg.float64, requires_grad=True)
    (sg.erf(x) + x.erfc() + sg.lgamma(x) + x.digamma() + sg.logit(x / 2)
     + sg.xlogy(x, x) + x.i0()).sum().backward()
    expected = sg.grad(lambda v: np.sum(sp.erf(v) + sp.erfc(v) + sp.gammaln(v) + sp.psi(v)
                                        + sp.logit(v / 2) + sp.xlogy(v, v)
                                        + sp.i0(v)), backend=REF)(np.array([0.5, 1.5]))
    assert_same(x.grad.numpy(), expected)


def test_an_unsupported_scipy_function_is_named_and_a_name_imported_from_scipy_explained():
    with pytest.raises(sg.TracingError, match="scipy.special.ellipk is not supported"):
        sg.grad(lambda x: sp.ellipk(x), backend=REF)(0.5)
    from scipy.special import logsumexp
    with pytest.raises(sg.TracingError, match=r"inside scipy's logsumexp.*write "
                                              r"scipy.special.logsumexp\(\.\.\.\)"):
        sg.grad(lambda x: logsumexp(x), backend=REF)(np.ones(2))


def test_polygamma_order_must_be_a_non_negative_integer():
    with pytest.raises(sg.TracingError, match="polygamma: the order n must be an integer"):
        sg.grad(lambda x: sg.scipy.special.polygamma(1.5, x), backend=REF)(1.0)
    with pytest.raises(sg.TracingError, match="non-negative"):
        sg.grad(lambda x: sp.polygamma(-1, x), backend=REF)(1.0)


def test_importing_symgrad_does_not_import_scipy():
    code = "import sys, symgrad; print('scipy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
