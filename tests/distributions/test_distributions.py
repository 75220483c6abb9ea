"""symgrad.distributions (constraints.py, continuous.py, discrete.py, gamma_family.py and the rest
of the package) against torch.distributions: log_prob, entropy, moments, cdf/icdf, and their
gradients in the parameters, from the same numbers; shapes, sampling, errors."""
import numpy as np
import pytest

import symgrad as sg
from symgrad import distributions as D

torch = pytest.importorskip("torch")
TD = torch.distributions

RNG = np.random.default_rng(0)
POSITIVE = RNG.uniform(0.5, 2.0, (3,))
REAL = RNG.normal(size=(3,))
UNIT = RNG.uniform(0.1, 0.9, (3,))
SIMPLEX = RNG.dirichlet(np.ones(4), size=3)
SPD = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, -0.2], [0.1, -0.2, 1.0]])

# name: (parameters by keyword, a value in the support, which methods torch has)
CASES = {
    "Normal": (dict(loc=REAL, scale=POSITIVE), REAL + 0.3, "mean variance stddev entropy cdf"
               " icdf"),
    "Laplace": (dict(loc=REAL, scale=POSITIVE), REAL - 0.2, "mean variance stddev entropy cdf"
                " icdf"),
    "Cauchy": (dict(loc=REAL, scale=POSITIVE), REAL * 2, "entropy cdf icdf"),
    "Uniform": (dict(low=REAL - 1, high=REAL + 1), REAL + 0.5,
                "mean variance stddev entropy cdf icdf"),
    "Exponential": (dict(rate=POSITIVE), POSITIVE * 0.7, "mean variance stddev entropy cdf icdf"),
    "LogNormal": (dict(loc=REAL, scale=POSITIVE), POSITIVE, "mean variance entropy cdf icdf"),
    "Gamma": (dict(concentration=POSITIVE, rate=POSITIVE[::-1].copy()), POSITIVE * 1.3,
              "mean variance entropy"),
    "Beta": (dict(concentration1=POSITIVE, concentration0=POSITIVE[::-1].copy()), UNIT,
             "mean variance entropy"),
    "Dirichlet": (dict(concentration=SIMPLEX * 4 + 0.5), SIMPLEX, "mean variance entropy"),
    "Bernoulli": (dict(probs=UNIT), np.array([1.0, 0.0, 1.0]), "mean variance entropy"),
    "BernoulliLogits": (dict(logits=REAL), np.array([0.0, 1.0, 1.0]), "mean variance entropy"),
    "Categorical": (dict(probs=SIMPLEX), np.array([0, 3, 1]), "entropy"),
    "CategoricalLogits": (dict(logits=np.log(SIMPLEX) + 1), np.array([2, 0, 1]), "entropy"),
    "OneHotCategorical": (dict(probs=SIMPLEX), np.eye(4)[[1, 2, 0]], "mean variance entropy"),
    "Poisson": (dict(rate=POSITIVE * 3), np.array([0.0, 2.0, 5.0]), "mean variance"),
    "Binomial": (dict(total_count=5, probs=UNIT), np.array([0.0, 3.0, 5.0]),
                 "mean variance entropy"),
    "MultivariateNormal": (dict(loc=REAL, covariance_matrix=SPD), REAL[::-1].copy(),
                           "mean variance entropy"),
    "MultivariateNormalTril": (dict(loc=REAL, scale_tril=np.linalg.cholesky(SPD)), REAL * 0.5,
                               "mean variance entropy"),
    "MultivariateNormalPrecision": (dict(loc=REAL, precision_matrix=np.linalg.inv(SPD)),
                                    REAL + 1, "mean variance entropy"),
}


def _class(name):
    for suffix in ("Logits", "Tril", "Precision"):
        name = name.removesuffix(suffix)
    return name


def _build(module, tensor, name, params):
    made = {key: tensor(value) if isinstance(value, np.ndarray) else value
            for key, value in params.items()}
    return getattr(module, _class(name))(**made), made


def _pair(name):
    params, value, _ = CASES[name]
    mine, my_params = _build(D, lambda v: sg.tensor(v, requires_grad=True), name, params)
    theirs, their_params = _build(TD, lambda v: torch.tensor(v, requires_grad=True), name,
                                  params)
    return mine, my_params, theirs, their_params, value


def _close(mine, theirs, **tolerance):
    np.testing.assert_allclose(np.asarray(mine.detach().numpy()),
                               theirs.detach().numpy(), rtol=1e-7, atol=1e-9, **tolerance)


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_and_its_gradients_match_torch(name):
    mine, my_params, theirs, their_params, value = _pair(name)
    dtype = torch.int64 if value.dtype.kind == "i" else torch.float64
    mine_lp, theirs_lp = mine.log_prob(sg.tensor(value)), theirs.log_prob(
        torch.tensor(value, dtype=dtype))
    _close(mine_lp, theirs_lp)
    mine_lp.sum().backward()
    theirs_lp.sum().backward()
    for key, tensor in my_params.items():
        if isinstance(tensor, sg.Tensor):
            _close(tensor.grad, their_params[key].grad)


@pytest.mark.parametrize("name", sorted(CASES))
def test_moments_entropy_cdf_icdf_match_torch(name):
    mine, _, theirs, _, value = _pair(name)
    for method in CASES[name][2].split():
        if method in ("cdf", "icdf"):
            argument = value if method == "cdf" else np.array([0.1, 0.5, 0.8])
            _close(getattr(mine, method)(sg.tensor(argument)),
                   getattr(theirs, method)(torch.tensor(argument)))
        elif method == "entropy":
            _close(mine.entropy(), theirs.entropy())
        else:
            _close(getattr(mine, method), getattr(theirs, method))
    assert mine.batch_shape == tuple(theirs.batch_shape)
    assert mine.event_shape == tuple(theirs.event_shape)
    assert repr(mine) == repr(theirs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_sample_shapes_and_support(name):
    mine = _pair(name)[0]
    sg.manual_seed(0)
    samples = mine.sample((5, 2))
    assert samples.shape == (5, 2) + tuple(mine.batch_shape) + tuple(mine.event_shape)
    assert samples.requires_grad is False
    assert bool(mine.support.check(samples).all())
    sg.manual_seed(0)
    assert np.array_equal(mine.sample((5, 2)).numpy(), samples.numpy())


@pytest.mark.parametrize("name", ["Normal", "Laplace", "Uniform", "Exponential", "LogNormal",
                                  "Cauchy", "MultivariateNormal"])
def test_rsample_gradients_are_the_reparameterisation(name):
    """d sample / d parameter equals the derivative of the location-scale map, computed
    from the drawn numbers (sample = loc + scale * eps)."""
    mine, params, _, _, _ = _pair(name)
    assert mine.has_rsample
    sg.manual_seed(3)
    sample = mine.rsample((4,))
    sample.sum().backward()
    first = next(iter(params.values()))
    assert first.grad is not None and first.grad.shape == first.shape
    if name in ("Normal", "Laplace", "Cauchy"):
        eps = (sample.detach() - params["loc"].detach()) / params["scale"].detach()
        np.testing.assert_allclose(params["loc"].grad.numpy(), 4.0)
        np.testing.assert_allclose(params["scale"].grad.numpy(), eps.sum(0).numpy(), rtol=1e-10)


def test_gamma_rsample_gradient_matches_torch_implicit_gradient():
    """The implicit reparameterisation derivative dx/da of a standard gamma draw equals
    torch._standard_gamma_grad at the same (a, x)."""
    concentration = sg.tensor([0.3, 1.0, 2.5, 8.0], dtype=sg.float64, requires_grad=True)
    sg.manual_seed(1)
    draws = D.Gamma(concentration, 1.0).rsample()
    draws.sum().backward()
    expected = torch._standard_gamma_grad(torch.tensor(concentration.detach().numpy()),
                                          torch.tensor(draws.detach().numpy()))
    np.testing.assert_allclose(concentration.grad.numpy(), expected.numpy(), rtol=1e-4)


def test_dirichlet_rsample_gradient_is_unbiased():
    """d/da E[x_0] = d/da (a_0 / sum a), estimated from many reparameterised draws."""
    concentration = sg.tensor([2.0, 3.0, 5.0], dtype=sg.float64, requires_grad=True)
    sg.manual_seed(2)
    D.Dirichlet(concentration).rsample((20000,))[:, 0].mean().backward()
    total = 10.0
    expected = np.array([(total - 2.0) / total ** 2, -2.0 / total ** 2, -2.0 / total ** 2])
    np.testing.assert_allclose(concentration.grad.numpy(), expected, atol=3e-3)


def test_sample_moments():
    sg.manual_seed(0)
    draws = D.Gamma(sg.tensor([2.0, 5.0]), sg.tensor([1.0, 2.0])).sample((40000,))
    np.testing.assert_allclose(draws.mean(0).numpy(), [2.0, 2.5], rtol=0.03)
    counts = D.Categorical(probs=sg.tensor([0.2, 0.5, 0.3])).sample((30000,))
    np.testing.assert_allclose(np.bincount(counts.numpy(), minlength=3) / 30000,
                               [0.2, 0.5, 0.3], atol=0.015)
    mvn = D.MultivariateNormal(sg.zeros(3, dtype=sg.float64), sg.tensor(SPD))
    draws = mvn.sample((40000,)).numpy()
    np.testing.assert_allclose(np.cov(draws.T), SPD, atol=0.06)


KL_PAIRS = [("Normal", dict(loc=REAL, scale=POSITIVE), dict(loc=REAL[::-1].copy(), scale=UNIT)),
            ("Categorical", dict(probs=SIMPLEX), dict(probs=SIMPLEX[::-1].copy())),
            ("Bernoulli", dict(probs=UNIT), dict(probs=UNIT[::-1].copy())),
            ("Beta", dict(concentration1=POSITIVE, concentration0=UNIT + 1),
             dict(concentration1=UNIT + 0.5, concentration0=POSITIVE)),
            ("Gamma", dict(concentration=POSITIVE, rate=UNIT + 1),
             dict(concentration=UNIT + 0.5, rate=POSITIVE)),
            ("MultivariateNormal", dict(loc=REAL, covariance_matrix=SPD),
             dict(loc=REAL * 0, scale_tril=np.linalg.cholesky(SPD * 2 + np.eye(3)))),
            ("Dirichlet", dict(concentration=SIMPLEX + 1), dict(concentration=SIMPLEX * 3 + 0.2)),
            ("Exponential", dict(rate=POSITIVE), dict(rate=UNIT)),
            ("Laplace", dict(loc=REAL, scale=POSITIVE), dict(loc=UNIT, scale=UNIT)),
            ("Poisson", dict(rate=POSITIVE), dict(rate=UNIT))]


@pytest.mark.parametrize("name,p_params,q_params", KL_PAIRS, ids=[p[0] for p in KL_PAIRS])
def test_kl_divergence_and_its_gradient_match_torch(name, p_params, q_params):
    mine_p, mine_pp = _build(D, lambda v: sg.tensor(v, requires_grad=True), name, p_params)
    mine_q, _ = _build(D, sg.tensor, name, q_params)
    their_p, their_pp = _build(TD, lambda v: torch.tensor(v, requires_grad=True), name,
                               p_params)
    their_q, _ = _build(TD, torch.tensor, name, q_params)
    mine, theirs = D.kl_divergence(mine_p, mine_q), TD.kl_divergence(their_p, their_q)
    _close(mine, theirs)
    mine.sum().backward()
    theirs.sum().backward()
    for key, tensor in mine_pp.items():
        _close(tensor.grad, their_pp[key].grad)


def test_kl_of_independent_and_missing_pairs():
    p = D.Independent(D.Normal(sg.zeros(2, 3), 1.0), 1)
    q = D.Independent(D.Normal(sg.ones(2, 3), 2.0), 1)
    expected = TD.kl_divergence(TD.Independent(TD.Normal(torch.zeros(2, 3), 1.0), 1),
                                TD.Independent(TD.Normal(torch.ones(2, 3), 2.0), 1))
    np.testing.assert_allclose(D.kl_divergence(p, q).numpy(), expected.numpy(), rtol=1e-6)
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p "
                                                  "type Cauchy and q type Normal"):
        D.kl_divergence(D.Cauchy(0.0, 1.0), D.Normal(0.0, 1.0))


def test_independent_sums_the_reinterpreted_dimensions():
    base = D.Normal(sg.zeros(4, 3), sg.ones(4, 3))
    joint = D.Independent(base, 1)
    assert joint.batch_shape == (4,) and joint.event_shape == (3,)
    value = sg.ones(4, 3)
    np.testing.assert_allclose(joint.log_prob(value).numpy(), base.log_prob(value).sum(-1).numpy())
    assert repr(joint) == repr(TD.Independent(TD.Normal(torch.zeros(4, 3), torch.ones(4, 3)), 1))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= "
                                         "len\\(base_distribution.batch_shape\\), actual 3 vs 2"):
        D.Independent(base, 3)


def test_expand():
    d = D.Normal(sg.zeros(2), 1.0).expand([3, 2])
    assert d.batch_shape == (3, 2) and d.sample().shape == (3, 2)
    assert D.Categorical(probs=sg.ones(4)).expand([5]).sample().shape == (5,)
    assert D.MultivariateNormal(sg.zeros(2), sg.eye(2)).expand([3]).log_prob(
        sg.zeros(3, 2)).shape == (3,)
    with pytest.raises(RuntimeError, match="The expanded size of the tensor \\(3\\) must match"):
        D.Normal(sg.zeros(2), 1.0).expand([3])


def _message(build):
    with pytest.raises(Exception) as error:
        build()
    return type(error.value), str(error.value)


@pytest.mark.parametrize("build", [
    lambda m, t: m.Normal(0.0, -1.0),
    lambda m, t: m.Normal(t.zeros(2), 1.0).log_prob(t.zeros(3)),
    lambda m, t: m.Bernoulli(probs=0.2, logits=0.1),
    lambda m, t: m.Categorical(probs=t.tensor(0.5)),
    lambda m, t: m.MultivariateNormal(t.zeros(2)),
    lambda m, t: m.MultivariateNormal(t.zeros(2), scale_tril=t.ones(2)),
    lambda m, t: m.Dirichlet(t.tensor(1.0)),
    lambda m, t: m.Gamma(t.tensor([1.0]), 1.0).log_prob(t.tensor([-1.0])),
    lambda m, t: m.Uniform(2.0, 1.0),
    lambda m, t: m.Normal(0.0, 1.0).log_prob(0.5),
])
def test_validation_errors_match_torch(build):
    assert _message(lambda: build(D, sg)) == _message(lambda: build(TD, torch))


def test_validate_args_false_skips_the_checks():
    d = D.Normal(0.0, -1.0, validate_args=False)
    assert np.isnan(d.log_prob(sg.tensor(0.0)).item())


def test_bernoulli_and_categorical_lazy_parameters():
    logits = sg.tensor([0.5, -1.0], requires_grad=True)
    d = D.Bernoulli(logits=logits)
    assert repr(d) == "Bernoulli(logits: torch.Size([2]))"
    np.testing.assert_allclose(d.probs.detach().numpy(), 1 / (1 + np.exp([-0.5, 1.0])), rtol=1e-6)
    assert "probs" in d.__dict__
    c = D.Categorical(logits=sg.tensor([[0.0, 1.0], [2.0, 2.0]]))
    np.testing.assert_allclose(c.probs.sum(-1).numpy(), 1.0, rtol=1e-6)
    assert c.enumerate_support().shape == (2, 2)
