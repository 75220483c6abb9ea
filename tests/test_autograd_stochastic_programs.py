"""HIPS autograd's example programs whose objectives draw their noise from a RandomState
while traced (bayesian_neural_net.py with black_box_svi.py, generative_adversarial_net.py):
each step's new static ``t`` traces again and draws the next samples, so a few optimizer
steps on symgrad follow autograd's to rounding (the programs and the two libraries are set
up in tests/test_autograd_example_programs.py)."""
import numpy

from test_autograd_example_programs import SYMGRAD, assert_same, autograd  # noqa: F401


# -- bayesian_neural_net.py with black_box_svi.py: weight samples drawn inside the objective --
def bayesian_net_program(lib, layer_sizes, inputs, targets, num_samples):
    np, norm = lib.np, lib.norm
    shapes = list(zip(layer_sizes[:-1], layer_sizes[1:]))
    num_weights = sum((m + 1) * n for m, n in shapes)

    def predictions(weights, inputs):
        inputs = np.expand_dims(inputs, 0)
        for m, n in shapes:
            w = weights[:, :m * n].reshape((len(weights), m, n))
            b = weights[:, m * n:m * n + n].reshape((len(weights), 1, n))
            weights = weights[:, (m + 1) * n:]
            outputs = np.einsum("mnd,mdo->mno", inputs, w) + b
            inputs = norm.pdf(outputs, 0, 1)            # the example's rbf nonlinearity
        return outputs

    def log_posterior(weights, t):
        log_prior = -0.01 * np.sum(weights ** 2, axis=1)
        return log_prior - np.sum((predictions(weights, inputs) - targets) ** 2, axis=1)[:, 0] / 0.01

    rs = numpy.random.RandomState(0)        # one stream: each call draws new samples

    def objective(params, t):
        mean, log_std = params[:num_weights], params[num_weights:]
        samples = rs.randn(num_samples, num_weights) * np.exp(log_std) + mean
        entropy = 0.5 * num_weights * (1.0 + np.log(2 * np.pi)) + np.sum(log_std)
        return -(entropy + np.mean(log_posterior(samples, t)))
    return num_weights, objective


def test_bayesian_neural_net_svi_steps_match_autograd(autograd):
    inputs = numpy.linspace(-1, 1, 6).reshape(6, 1)
    targets = numpy.cos(3 * inputs)
    trajectories = []
    for lib in (SYMGRAD, autograd):
        size, objective = bayesian_net_program(lib, [1, 4, 1], inputs, targets, num_samples=5)
        gradient = lib.grad(objective)
        params = numpy.concatenate([numpy.random.RandomState(1).randn(size), -5 * numpy.ones(size)])
        for t in range(3):                 # each t draws the next samples, as autograd does
            params = params - 1e-3 * gradient(params, t)
        trajectories.append(params)
    assert_same(*trajectories)


# -- generative_adversarial_net.py: grad over both players, noise drawn in the objective ----
def gan_program(lib):
    np = lib.np

    def predict(params, inputs):
        w, b = params[0]
        inputs = np.maximum(0, np.dot(inputs, w) + b)
        for w, b in params[1:-1]:
            outputs = np.dot(inputs, w) + b
            outputs = (outputs - np.mean(outputs, axis=0, keepdims=True)) / (
                np.std(outputs, axis=0, keepdims=True) + 1)
            inputs = np.maximum(0, outputs)
        w, b = params[-1]
        return np.dot(inputs, w) + b

    def logsigmoid(x):
        return x - np.logaddexp(0, x)

    def objective(gen_params, dsc_params, real_data, rs):
        fake = 0.5 * (np.tanh(predict(gen_params, rs.rand(len(real_data), 2))) + 1.0)
        return np.mean(logsigmoid(predict(dsc_params, real_data))) - np.mean(
            logsigmoid(predict(dsc_params, fake)))
    return objective


def test_gan_minimax_steps_match_autograd(autograd):
    rng = numpy.random.RandomState(5)

    def layers(sizes):
        return [(0.3 * rng.randn(m, n), 0.3 * rng.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    gen, dsc = layers([2, 4, 4, 3]), layers([3, 4, 4, 1])
    real = rng.rand(5, 3)
    results = []
    for lib in (SYMGRAD, autograd):
        objective, seed = gan_program(lib), numpy.random.RandomState(0)
        both = lib.grad(lambda g, d, i: objective(g, d, real[i % 5:], seed), (0, 1))
        g_params, d_params = gen, dsc
        for i in range(3):
            g_grad, d_grad = both(g_params, d_params, i)
            g_params = [(w - 0.1 * gw, b - 0.1 * gb) for (w, b), (gw, gb) in zip(g_params, g_grad)]
            d_params = [(w + 0.1 * gw, b + 0.1 * gb) for (w, b), (gw, gb) in zip(d_params, d_grad)]
        results.append((g_params, d_params))
    assert_same(*results)
