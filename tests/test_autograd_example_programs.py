"""HIPS autograd's example programs (https://github.com/HIPS/autograd/tree/master/examples:
convnet.py, rnn.py, lstm.py, fluidsim/fluidsim.py, hmm_em.py, tanh.py,
variational_autoencoder.py), their models written the way those files write them, at small
sizes. Each program is built from a numpy module and a scipy namespace, so the same text runs
on symgrad (plain numpy, ``symgrad.scipy``) and on HIPS autograd (``autograd.numpy``,
``autograd.scipy``); the gradients must agree to rounding."""
import functools
import types

import numpy
import pytest

import symgrad as sg
import symgrad.scipy
import symgrad.scipy.signal
import symgrad.scipy.stats.norm
from symgrad.core import pytree

REF = "reference"
SYMGRAD = types.SimpleNamespace(
    np=numpy, signal=symgrad.scipy.signal, norm=symgrad.scipy.stats.norm,
    logsumexp=symgrad.scipy.special.logsumexp,
    grad=functools.partial(sg.grad, backend=REF),
    value_and_grad=functools.partial(sg.value_and_grad, backend=REF),
    elementwise_grad=functools.partial(sg.elementwise_grad, backend=REF))


@pytest.fixture(scope="module")
def autograd():
    autograd = pytest.importorskip("autograd")
    import autograd.numpy
    import autograd.scipy.signal
    import autograd.scipy.special
    import autograd.scipy.stats.norm
    return types.SimpleNamespace(
        np=autograd.numpy, signal=autograd.scipy.signal, norm=autograd.scipy.stats.norm,
        logsumexp=autograd.scipy.special.logsumexp, grad=autograd.grad,
        value_and_grad=autograd.value_and_grad, elementwise_grad=autograd.elementwise_grad)


def assert_same(ours, theirs, rtol=1e-9):
    ours, theirs = pytree.flatten(ours)[0], pytree.flatten(theirs)[0]
    assert len(ours) == len(theirs)
    for mine, expected in zip(ours, theirs):
        numpy.testing.assert_allclose(mine, expected, rtol=rtol, atol=1e-12)


# -- convnet.py: a LeNet of conv/maxpool/tanh/softmax layers over one parameter vector --------
def convnet_program(lib, input_shape=(1, 8, 8)):
    np, convolve = lib.np, lib.signal.convolve

    class Parser:
        def __init__(self):
            self.places, self.size = {}, 0

        def add(self, name, shape):
            start, self.size = self.size, self.size + int(numpy.prod(shape))
            self.places[name] = (slice(start, self.size), shape)

        def get(self, vector, name):
            where, shape = self.places[name]
            return np.reshape(vector[where], shape)

    class Conv:
        def __init__(self, kernel, filters):
            self.kernel, self.filters = kernel, filters

        def build(self, shape):
            self.parser = Parser()
            self.parser.add("params", (shape[0], self.filters) + self.kernel)
            self.parser.add("biases", (1, self.filters, 1, 1))
            out = tuple(s - k + 1 for s, k in zip(shape[1:], self.kernel))
            return self.parser.size, (self.filters,) + out

        def forward(self, inputs, vector):
            conv = convolve(inputs, self.parser.get(vector, "params"), axes=([2, 3], [2, 3]),
                            dot_axes=([1], [0]), mode="valid")
            return conv + self.parser.get(vector, "biases")

    class MaxPool:
        def __init__(self, pool):
            self.pool = pool

        def build(self, shape):
            return 0, (shape[0],) + tuple(s // p for s, p in zip(shape[1:], self.pool))

        def forward(self, inputs, vector):
            new_shape = inputs.shape[:2]
            for i in (0, 1):
                new_shape += (inputs.shape[i + 2] // self.pool[i], self.pool[i])
            return np.max(np.max(inputs.reshape(new_shape), axis=3), axis=4)

    class Full:
        def __init__(self, size, nonlinearity):
            self.size, self.nonlinearity = size, nonlinearity

        def build(self, shape):
            self.parser = Parser()
            self.parser.add("params", (int(numpy.prod(shape)), self.size))
            self.parser.add("biases", (self.size,))
            return self.parser.size, (self.size,)

        def forward(self, inputs, vector):
            if inputs.ndim > 2:
                inputs = inputs.reshape((inputs.shape[0], np.prod(inputs.shape[1:])))
            return self.nonlinearity(np.dot(inputs[:, :], self.parser.get(vector, "params"))
                                     + self.parser.get(vector, "biases"))

    def log_softmax(x):
        peak = np.max(x)
        return x - (peak + np.log(np.sum(np.exp(x - peak), axis=1, keepdims=True)))

    layers = [Conv((3, 3), 2), MaxPool((2, 2)), Conv((2, 2), 3), MaxPool((2, 2)),
              Full(5, np.tanh), Full(3, log_softmax)]
    whole, shape = Parser(), input_shape
    for layer in layers:
        size, shape = layer.build(shape)
        whole.add(layer, (size,))

    def loss(vector, images, labels):
        units = images
        for layer in layers:
            units = layer.forward(units, whole.get(vector, layer))
        return np.dot(vector, vector) - np.sum(units * labels)
    return whole.size, loss


def test_convnet_gradient_and_momentum_steps_match_autograd(autograd):
    rng = numpy.random.RandomState(0)
    images = rng.randn(4, 1, 8, 8)
    labels = numpy.eye(3)[rng.randint(0, 3, 4)]
    size, _ = convnet_program(SYMGRAD)
    start = 0.1 * rng.randn(size)
    trained = []
    for lib in (SYMGRAD, autograd):
        _, loss = convnet_program(lib)
        gradient, weights, direction = lib.grad(loss), start.copy(), numpy.zeros(size)
        for _ in range(3):
            direction = 0.9 * direction + 0.1 * gradient(weights, images, labels)
            weights = weights - 0.01 * direction
        trained.append((weights, gradient(weights, images, labels)))
    assert_same(*trained)
    sg.check_grad(lambda w: convnet_program(SYMGRAD)[1](w, images, labels), start, order=1,
                  backend=REF)


# -- rnn.py and lstm.py: character models over dict params ----------------------------------
def recurrent_program(lib):
    np = lib.np

    def sigmoid(x):
        return 0.5 * (np.tanh(x) + 1.0)

    def concat_and_multiply(weights, *args):
        return np.dot(np.hstack(args + (np.ones((args[0].shape[0], 1)),)), weights)

    def to_log_probs(params, hiddens):
        output = concat_and_multiply(params["predict"], hiddens)
        return output - lib.logsumexp(output, axis=1, keepdims=True)

    def rnn_predict(params, inputs):
        hiddens = np.repeat(params["init hiddens"], inputs.shape[1], axis=0)
        output = [to_log_probs(params, hiddens)]
        for step in inputs:
            hiddens = np.tanh(concat_and_multiply(params["change"], step, hiddens))
            output.append(to_log_probs(params, hiddens))
        return output

    def lstm_predict(params, inputs):
        hiddens = np.repeat(params["init hiddens"], inputs.shape[1], axis=0)
        cells = np.repeat(params["init cells"], inputs.shape[1], axis=0)
        output = [to_log_probs(params, hiddens)]
        for step in inputs:
            change = np.tanh(concat_and_multiply(params["change"], step, hiddens))
            forget = sigmoid(concat_and_multiply(params["forget"], step, hiddens))
            ingate = sigmoid(concat_and_multiply(params["ingate"], step, hiddens))
            outgate = sigmoid(concat_and_multiply(params["outgate"], step, hiddens))
            cells = cells * forget + ingate * change
            hiddens = outgate * np.tanh(cells)
            output.append(to_log_probs(params, hiddens))
        return output

    def log_likelihood(predict):
        def of(params, inputs, targets):
            logprobs, total = predict(params, inputs), 0.0
            steps, examples, _ = inputs.shape
            for t in range(steps):
                total += np.sum(logprobs[t] * targets[t])
            return total / (steps * examples)
        return of
    return log_likelihood(rnn_predict), log_likelihood(lstm_predict)


def one_hot_lines(lines, length, alphabet_size):
    seqs = numpy.zeros((length, len(lines), alphabet_size))
    for column, line in enumerate(lines):
        codes = numpy.array([ord(c) % alphabet_size for c in (line + " " * length)[:length]])
        seqs[:, column, :] = codes[:, None] == numpy.arange(alphabet_size)[None, :]
    return seqs


def recurrent_params(rng, names, alphabet_size, state_size):
    params = {"init hiddens": rng.randn(1, state_size) * 0.3,
              "predict": rng.randn(state_size + 1, alphabet_size) * 0.3}
    for name in names:
        params[name] = rng.randn(alphabet_size + state_size + 1, state_size) * 0.3
    return params


@pytest.mark.parametrize("model", ["rnn", "lstm"])
def test_character_models_match_autograd(autograd, model):
    rng = numpy.random.RandomState(1)
    inputs = one_hot_lines(["def f(x):", "  return"], 5, 16)
    names = ["change"] if model == "rnn" else ["change", "forget", "ingate", "outgate"]
    params = recurrent_params(rng, names, 16, 6)
    if model == "lstm":
        params["init cells"] = rng.randn(1, 6) * 0.3
    pick = 0 if model == "rnn" else 1
    gradients = [lib.grad(lambda p, lib=lib: -recurrent_program(lib)[pick](p, inputs, inputs))(params)
                 for lib in (SYMGRAD, autograd)]
    assert sorted(gradients[0]) == sorted(params)
    assert_same(*gradients)


# -- fluidsim.py: advect smoke by the velocity field and project it, on a small grid --------
def fluid_program(lib):
    np = lib.np

    def project(vx, vy):
        p, h = np.zeros(vx.shape), 1.0 / vx.shape[0]
        div = -0.5 * h * (np.roll(vx, -1, axis=0) - np.roll(vx, 1, axis=0)
                          + np.roll(vy, -1, axis=1) - np.roll(vy, 1, axis=1))
        for _ in range(4):
            p = (div + np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
                 + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1)) / 4.0
        vx -= 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)) / h
        vy -= 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1)) / h
        return vx, vy

    def advect(f, vx, vy):
        rows, cols = f.shape
        cell_ys, cell_xs = np.meshgrid(np.arange(rows), np.arange(cols))
        center_xs, center_ys = (cell_xs - vx).ravel(), (cell_ys - vy).ravel()
        left, top = np.floor(center_xs).astype(int), np.floor(center_ys).astype(int)
        rw, bw = center_xs - left, center_ys - top
        left, top = np.mod(left, rows), np.mod(top, cols)
        right, bottom = np.mod(left + 1, rows), np.mod(top + 1, cols)
        flat = ((1 - rw) * ((1 - bw) * f[left, top] + bw * f[left, bottom])
                + rw * ((1 - bw) * f[right, top] + bw * f[right, bottom]))
        return np.reshape(flat, (rows, cols))

    def objective(params, smoke, target, steps=3):
        rows, cols = smoke.shape
        vx = np.reshape(params[:rows * cols], (rows, cols))
        vy = np.reshape(params[rows * cols:], (rows, cols))
        for _ in range(steps):
            vx, vy = project(advect(vx, vx, vy), advect(vy, vx, vy))
            smoke = advect(smoke, vx, vy)
        return np.mean((target - smoke) ** 2)
    return objective


def test_fluid_simulation_value_and_gradient_match_autograd(autograd):
    rng = numpy.random.RandomState(2)
    smoke, target = rng.rand(6, 6), rng.rand(6, 6)
    params = 0.3 * rng.randn(72)
    results = [lib.value_and_grad(fluid_program(lib))(params, smoke, target)
               for lib in (SYMGRAD, autograd)]
    assert_same(*results)
    assert numpy.any(results[0][1] != 0)


# -- hmm_em.py: the E step is the gradient of the log partition function ---------------------
def hmm_program(lib):
    np = lib.np

    def normalize(a):
        return a / np.where(a.sum(-1, keepdims=True) > 0.0, a.sum(-1, keepdims=True), 1.0)

    def log_partition_function(natural_params, data):
        if isinstance(data, list):
            return sum(map(functools.partial(log_partition_function, natural_params), data))
        log_pi, log_a, log_b = natural_params
        log_alpha = log_pi
        for y in data:
            log_alpha = lib.logsumexp(log_alpha[:, None] + log_a, axis=0) + log_b[:, y]
        return lib.logsumexp(log_alpha)

    def em_update(params, data):
        loglike, expected_stats = lib.value_and_grad(log_partition_function)(
            list(map(np.log, params)), data)
        return loglike, list(map(normalize, expected_stats))
    return normalize, em_update


def test_hmm_em_updates_match_autograd(autograd):
    rng = numpy.random.RandomState(3)
    normalize, _ = hmm_program(SYMGRAD)
    params = [normalize(rng.rand(3)), normalize(rng.rand(3, 3)), normalize(rng.rand(3, 5))]
    data = [rng.randint(0, 5, 6), rng.randint(0, 5, 4)]
    histories = []
    for lib in (SYMGRAD, autograd):
        _, em_update = hmm_program(lib)
        current, history = params, []
        for _ in range(3):
            with numpy.errstate(divide="ignore"):        # log of an output never seen
                loglike, current = em_update(current, data)
            history.append((loglike, current))
        histories.append(history)
    assert_same(*histories)
    assert histories[0][0][0] < histories[0][-1][0]        # EM raises the likelihood


# -- tanh.py: derivatives of an elementwise function by nesting elementwise_grad -------------
def test_nested_elementwise_derivatives_of_tanh_match_autograd(autograd):
    x = numpy.linspace(-7, 7, 9)
    derivatives = []
    for lib in (SYMGRAD, autograd):
        function, values = (lambda x, np=lib.np: (1.0 - np.exp(-x)) / (1.0 + np.exp(-x))), []
        for _ in range(4):
            function = lib.elementwise_grad(function)
            values.append(function(x))
        derivatives.append(values)
    assert_same(*derivatives)
    numpy.testing.assert_allclose(derivatives[0][0], 0.5 / numpy.cosh(x / 2) ** 2)


# -- variational_autoencoder.py: a reparameterized ELBO of two batch-normalized MLPs ---------
def vae_program(lib):
    np, norm = lib.np, lib.norm

    def predict(params, inputs):
        for w, b in params[:-1]:
            outputs = np.dot(inputs, w) + b
            mean = np.mean(outputs, axis=0, keepdims=True)
            inputs = np.maximum(0, (outputs - mean) / (np.std(outputs, axis=0, keepdims=True) + 1))
        w, b = params[-1]
        return np.dot(inputs, w) + b

    def log_density(x, mu, log_std):
        return np.sum(norm.logpdf(x, mu, np.exp(log_std)), axis=-1)

    def lower_bound(params, data, rs):
        gen_params, rec_params = params
        q = predict(rec_params, data)
        half = np.shape(q)[-1] // 2
        q_means, q_log_stds = q[:, :half], q[:, half:]
        latents = rs.randn(*q_means.shape) * np.exp(q_log_stds) + q_means
        likelihood = np.sum(-np.logaddexp(0, -predict(gen_params, latents) * data), axis=-1)
        return np.mean(log_density(latents, 0, 0) + likelihood
                       - log_density(latents, q_means, q_log_stds))
    return lower_bound


def test_vae_lower_bound_gradient_matches_autograd(autograd):
    rng = numpy.random.RandomState(4)

    def layers(sizes):
        return [(0.3 * rng.randn(m, n), 0.3 * rng.randn(n)) for m, n in zip(sizes[:-1], sizes[1:])]
    params = (layers([2, 5, 8]), layers([8, 5, 4]))
    data = numpy.where(rng.rand(6, 8) > 0.5, 1.0, -1.0)
    gradients = [lib.grad(vae_program(lib))(params, data, numpy.random.RandomState(0))
                 for lib in (SYMGRAD, autograd)]
    assert_same(*gradients)

