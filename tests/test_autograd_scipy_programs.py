"""HIPS autograd's example programs that use scipy (examples/gaussian_process.py, gmm.py,
black_box_svi.py, negative_binomial_maxlike.py), their numpy parts written as autograd's
examples write them, with ``autograd.scipy`` spelled ``symgrad.scipy`` and ``grad`` from
symgrad: values against scipy's own functions, gradients against central differences. The
variational inference runs compiled; the others (LAPACK-heavy graphs, whose compiles take
long, or several graphs each) on the reference backend, as their ops are compiled in the op
tables already (tests/core/test_special.py, test_linalg.py)."""
import numpy as np
import pytest
import scipy.optimize
import scipy.stats

import symgrad as sg
import symgrad.scipy.stats.multivariate_normal as mvn
import symgrad.scipy.stats.norm as norm
from symgrad.scipy.special import gammaln, logsumexp

REF = "reference"


# -- gaussian_process.py -------------------------------------------------------------------------
def rbf_covariance(kernel_params, x, xp):
    output_scale = np.exp(kernel_params[0])
    lengthscales = np.exp(kernel_params[1:])
    diffs = np.expand_dims(x / lengthscales, 1) - np.expand_dims(xp / lengthscales, 0)
    return output_scale * np.exp(-0.5 * np.sum(diffs**2, axis=2))


def log_marginal_likelihood(params, x, y):
    mean, cov_params, noise_scale = params[0], params[2:], np.exp(params[1]) + 0.0001
    cov_y_y = rbf_covariance(cov_params, x, x) + noise_scale * np.eye(len(y))
    prior_mean = mean * np.ones(len(y))
    return mvn.logpdf(y, prior_mean, cov_y_y)


def gp_data():
    rs = np.random.RandomState(0)
    inputs = np.concatenate([np.linspace(0, 3, num=5), np.linspace(6, 8, num=5)])
    targets = (np.cos(inputs) + rs.randn(10) * 0.1) / 2.0
    return ((inputs - 4.0) / 2.0).reshape((10, 1)), targets


def test_gaussian_process_marginal_likelihood_and_its_optimization():
    x, y = gp_data()
    params = 0.1 * np.random.RandomState(0).randn(4)
    objective = lambda params: -log_marginal_likelihood(params, x, y)  # noqa: E731
    value, gradient = sg.value_and_grad(objective, backend=REF)(params)
    cov = rbf_covariance(params[2:], x, x) + (np.exp(params[1]) + 0.0001) * np.eye(10)
    np.testing.assert_allclose(value, -scipy.stats.multivariate_normal.logpdf(y, params[0] * np.ones(10), cov))
    sg.check_grad(objective, params, order=2, backend=REF)
    # a few of the example's CG steps (later ones reach length scales this small data set
    # cannot bound, where the covariance is singular)
    result = scipy.optimize.minimize(sg.value_and_grad(objective, backend=REF), params, jac=True,
                                     method="CG",
                                     options={"maxiter": 8})
    assert result.fun < value - 1


# -- gmm.py -----------------------------------------------------------------------------------
def log_normalize(x):
    return x - logsumexp(x)


def gmm_log_likelihood(params, data):
    cluster_lls = []
    for log_proportion, mean, cov_sqrt in zip(log_normalize(params["log proportions"]),
                                              params["means"], params["lower triangles"]):
        cov = np.dot(cov_sqrt.T, cov_sqrt)
        cluster_lls.append(log_proportion + mvn.logpdf(data, mean, cov))
    return np.sum(logsumexp(np.vstack(cluster_lls), axis=0))


def test_gaussian_mixture_log_likelihood_of_dict_params():
    rs = np.random.RandomState(0)
    params = {"log proportions": rs.randn(3) * 0.1, "means": rs.randn(3, 2) * 0.1,
              "lower triangles": np.zeros((3, 2, 2)) + np.eye(2) + 0.1 * rs.randn(3, 2, 2)}
    data = rs.randn(20, 2)
    expected = np.sum(scipy.special.logsumexp(np.vstack([
        lp + scipy.stats.multivariate_normal.logpdf(data, m, c.T @ c)
        for lp, m, c in zip(params["log proportions"] - scipy.special.logsumexp(params["log proportions"]),
                            params["means"], params["lower triangles"])]), axis=0))
    np.testing.assert_allclose(sg.jit(gmm_log_likelihood, backend=REF)(params, data), expected)
    grads = sg.grad(gmm_log_likelihood, backend=REF)(params, data)
    assert sorted(grads) == sorted(params)
    sg.check_grad(lambda lp, m, t: gmm_log_likelihood({"log proportions": lp, "means": m,
                                                       "lower triangles": t}, data),
                  params["log proportions"], params["means"], params["lower triangles"],
                  order=1, backend=REF)


# -- black_box_svi.py -----------------------------------------------------------------------
def log_posterior(x, t):
    mu, log_sigma = x[:, 0], x[:, 1]
    prior = norm.logpdf(log_sigma, 0, 1.35)
    likelihood = norm.logpdf(mu, 0, np.exp(log_sigma))
    return prior + likelihood


def test_black_box_variational_inference_lowers_its_objective_with_adam():
    D, num_samples = 2, 200
    rs = np.random.RandomState(0)
    noise = rs.randn(num_samples, D)

    def variational_objective(params, t):
        mean, log_std = params[:D], params[D:]
        samples = noise * np.exp(log_std) + mean
        entropy = 0.5 * D * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
        return -(entropy + np.mean(log_posterior(samples, t)))

    gradient = sg.grad(variational_objective)
    params = np.concatenate([-1 * np.ones(D), -5 * np.ones(D)])
    start = variational_objective(params, 0)
    m, v = np.zeros(4), np.zeros(4)
    for i in range(100):                     # autograd's examples/optimizers.py adam
        g = gradient(params, i)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        params = params - 0.1 * (m / (1 - 0.9**(i + 1))) / (np.sqrt(v / (1 - 0.999**(i + 1))) + 1e-8)
    assert variational_objective(params, 0) < start - 1
    sg.check_grad(lambda p: variational_objective(p, 0), params, order=2, backend=REF)


# -- negative_binomial_maxlike.py --------------------------------------------------------------
def negbin_loglike(r, p, x):
    return gammaln(r + x) - gammaln(r) - gammaln(x + 1) + x * np.log(p) + r * np.log(1 - p)


def test_negative_binomial_maximum_likelihood_by_newton_with_second_derivatives():
    rs = np.random.RandomState(0)
    x = rs.poisson(rs.gamma(5, 1.0, size=200)).astype(float)
    loglike = lambda r, p: np.sum(negbin_loglike(r, p, x))  # noqa: E731
    p = lambda r: np.sum(x) / np.sum(r + x)  # noqa: E731
    rprime = lambda r: sg.grad(loglike, backend=REF)(r, p(r))  # noqa: E731
    r = scipy.optimize.newton(rprime, 1.0, fprime=sg.grad(rprime, backend=REF),
                              fprime2=sg.grad(sg.grad(rprime), backend=REF))
    assert abs(rprime(r)) < 1e-6 and 2 < r < 10
    stationary = sg.grad(lambda rp: np.sum(negbin_loglike(rp[0], rp[1], x)), backend=REF)((r, p(r)))
    np.testing.assert_allclose(stationary, [0.0, 0.0], atol=1e-6)
    expected = np.sum(scipy.stats.nbinom.logpmf(x, r, 1 - p(r)))
    np.testing.assert_allclose(loglike(r, p(r)), expected, rtol=1e-10)
