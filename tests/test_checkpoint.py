"""sg.checkpoint (symgrad/checkpoint.py): the same gradients as without it (first and second
order, compiled too), the forward recomputed in the backward so the gradient graph's peak
memory (sg.viz.summary) is lower, and HIPS autograd's test_checkpoint_correctness idea."""
import numpy as np

import symgrad as sg

from conftest import assert_same

REF = "reference"


def block(x):
    for _ in range(4):
        x = np.sin(x) * 1.1
    return x


def chain(layer):
    def loss(x):
        for _ in range(3):
            x = layer(x)
        return np.sum(x ** 2)
    return loss


def test_checkpointed_gradients_equal_the_plain_ones(backend):
    x = np.linspace(0.0, 1.0, 7)
    plain, checkpointed = chain(block), chain(sg.checkpoint(block))
    assert_same(sg.grad(checkpointed, backend=backend)(x), sg.grad(plain, backend=REF)(x))
    sg.check_grad(checkpointed, x[:3], backend=REF)          # second order through the copy


def test_the_forward_is_recomputed_so_peak_memory_is_lower():
    x = np.linspace(0.0, 1.0, 10_000)
    plain = sg.viz.summary(sg.grad(chain(block)).trace(x))
    checkpointed = sg.viz.summary(sg.grad(chain(sg.checkpoint(block))).trace(x))
    assert checkpointed.op_counts["sin"] == 2 * plain.op_counts["sin"]    # forward twice
    assert checkpointed.op_counts["remat_barrier"] == 3
    assert checkpointed.peak_bytes < 0.7 * plain.peak_bytes       # 0.6 with 3 blocks of 4
    assert "peak memory" in str(checkpointed)


def test_autograd_checkpoint_ideas():
    bar = lambda x, y: 2 * x + y + 5   # noqa: E731
    checkpointed_bar = sg.checkpoint(bar)
    foo = lambda x: bar(x, x / 3.0) + bar(x, x ** 2)   # noqa: E731
    foo2 = lambda x: checkpointed_bar(x, x / 3.0) + checkpointed_bar(x, x ** 2)   # noqa: E731
    assert np.allclose(foo(3.0), foo2(3.0))
    assert np.allclose(sg.grad(foo, backend=REF)(3.0), sg.grad(foo2, backend=REF)(3.0))
    baz = lambda *args: sum(args)   # noqa: E731
    checkpointed_baz = sg.remat(baz)
    assert np.allclose(sg.grad(lambda x: baz(x, x / 3.0), backend=REF)(3.0),
                       sg.grad(lambda x: checkpointed_baz(x, x / 3.0), backend=REF)(3.0))
    scaled = sg.checkpoint(lambda x, scale=1.0: np.sin(x) * scale)
    assert np.isclose(sg.grad(lambda x: scaled(x, scale=3.0), backend=REF)(0.0), 3.0)
