"""Small workloads several test files share (conftest puts tests/ on sys.path)."""
import numpy as np

import symgrad as sg


def mlp_loss(params, x, y):
    w1, w2 = params
    return np.sum((np.maximum(x @ w1, 0) @ w2 - y) ** 2)


def mlp_step(params, x, y):
    loss, (g1, g2) = sg.value_and_grad(mlp_loss)(params, x, y)
    return (params[0] - 1e-4 * g1, params[1] - 1e-4 * g2), loss


def mlp_data(dtype=np.float64, n=16):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(dtype) for s in ((n, 20), (n, 3), (20, 8), (8, 3))]
