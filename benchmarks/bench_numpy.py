"""numpy-style programs differentiated three ways: ``sg.grad`` (compiled), HIPS autograd's
``grad`` and JAX's ``jit(grad)``, each in a new process (empty symgrad cache), the same
program text for all three (written against a numpy module passed in).

Programs (issue 17): logistic regression (autograd's example), an MLP whose log-softmax uses
``logsumexp``, and a character RNN unrolled over 12 time steps (``np.hstack``,
``np.repeat``, dict params). Reported: the first call (import excluded; symgrad's is
answered by its interpreter tier while the compile runs in the background) and the median
µs per call once compiled; ratios against JAX's jitted grad.

Run: ``python benchmarks/bench_numpy.py [--only mlp,rnn]``.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


# -- the programs, written against the numpy module ``np`` and a ``logsumexp`` ----------------
def logistic(np, logsumexp, rng):
    inputs, targets = rng.standard_normal((500, 3)), rng.random(500) > 0.5

    def loss(weights):
        preds = 0.5 * (np.tanh(np.dot(inputs, weights) / 2.0) + 1)
        probabilities = preds * targets + (1 - preds) * (1 - targets)
        return -np.sum(np.log(probabilities))
    return loss, rng.standard_normal(3) * 0.1


def mlp(np, logsumexp, rng):
    sizes, rows = [64, 128, 64, 10], 256
    inputs = rng.standard_normal((rows, sizes[0]))
    targets = np.eye(sizes[-1])[rng.integers(0, sizes[-1], rows)]
    params = [(0.1 * rng.standard_normal((m, n)), 0.1 * rng.standard_normal(n))
              for m, n in zip(sizes[:-1], sizes[1:])]

    def loss(params):
        x = inputs
        for W, b in params:
            outputs = np.dot(x, W) + b
            x = np.tanh(outputs)
        log_probabilities = outputs - logsumexp(outputs, axis=1, keepdims=True)
        return -np.sum(log_probabilities * targets)
    return loss, params


def rnn(np, logsumexp, rng):
    chars, state, steps, sequences = 28, 32, 12, 8
    inputs = np.eye(chars)[rng.integers(0, chars, (steps, sequences))]
    params = {"init": 0.1 * rng.standard_normal((1, state)),
              "change": 0.1 * rng.standard_normal((chars + state + 1, state)),
              "predict": 0.1 * rng.standard_normal((state + 1, chars))}

    def concat_and_multiply(weights, *args):
        return np.dot(np.hstack(args + (np.ones((args[0].shape[0], 1)),)), weights)

    def loss(params):
        hiddens = np.repeat(params["init"], sequences, axis=0)
        total = 0.0
        for t in range(steps):
            output = concat_and_multiply(params["predict"], hiddens)
            total = total + np.sum((output - logsumexp(output, axis=1, keepdims=True)) * inputs[t])
            hiddens = np.tanh(concat_and_multiply(params["change"], inputs[t], hiddens))
        return -total / (steps * sequences)
    return loss, params


PROGRAMS = {"logistic": logistic, "mlp": mlp, "rnn": rnn}


# -- one framework, in the child process --------------------------------------------------------
def gradient_function(framework):
    """(numpy module, logsumexp, grad transformation, how to wait for a result)."""
    import numpy
    if framework == "symgrad":
        import symgrad as sg
        from symgrad import logsumexp
        return numpy, logsumexp, sg.grad, lambda result: result
    if framework == "autograd":
        import autograd
        import autograd.numpy as anp
        from autograd.scipy.special import logsumexp
        return anp, logsumexp, autograd.grad, lambda result: result
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    return (jnp, jax.scipy.special.logsumexp, lambda f: jax.jit(jax.grad(f)),
            lambda result: jax.block_until_ready(result))


def child(framework, program):
    import numpy
    from common import time_per_call
    np, logsumexp, grad, ready = gradient_function(framework)
    loss, params = PROGRAMS[program](np, logsumexp, numpy.random.default_rng(0))
    gradient = grad(loss)
    start = time.perf_counter()
    ready(gradient(params))
    first = time.perf_counter() - start
    if framework == "symgrad":       # the steady state: once the background compile is done
        gradient.compiled(params)
    per_call = time_per_call(lambda: ready(gradient(params)), repeats=5)
    print(json.dumps({"first": first, "per_call": per_call}))


def measure(framework, program):
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYMGRAD_CACHE_DIR=cache)
        done = subprocess.run([sys.executable, __file__, "--child", framework, program],
                              env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {framework} {program}: failed\n{done.stderr[-800:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def available(framework):
    if framework == "symgrad":
        return True
    try:
        __import__(framework)
        return True
    except ImportError:
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=2)
    parser.add_argument("--only", default=",".join(PROGRAMS))
    options = parser.parse_args()
    if options.child:
        return child(*options.child)
    frameworks = [f for f in ("symgrad", "autograd", "jax") if available(f)]
    print(f"{'program':<10}{'framework':<10}{'first call s':>14}{'µs/call':>12}"
          f"{'first ÷ jax':>13}{'call ÷ jax':>12}")
    for program in options.only.split(","):
        results = {f: measure(f, program) for f in frameworks}
        jax = results.get("jax")
        for framework, result in results.items():
            if result is None:
                continue
            ratios = (f"{result['first'] / jax['first']:>13.2f}{result['per_call'] / jax['per_call']:>12.2f}"
                      if jax else "")
            print(f"{program:<10}{framework:<10}{result['first']:>14.3f}"
                  f"{result['per_call'] * 1e6:>12.1f}{ratios}")


if __name__ == "__main__":
    main()
