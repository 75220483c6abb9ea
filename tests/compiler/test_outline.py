"""Outlined loop nests (compiler/cpu/outline.py): nests that differ only in their values'
names share one function of the module, called through ``outlined`` (noinline), and the
outlined code computes what the reference interpreter does."""
import re

import numpy as np

import symgrad as sg
from symgrad.compiler.cpu.outline import canonical_function


def test_nests_differing_only_in_names_have_one_canonical_text():
    first = "for i0 in range(d1):\n    a5_0 = v4[i0]\n    t5 = np.tanh(a5_0)\n    v5[i0] = t5\n"
    second = "for i0 in range(d0):\n    a9_0 = v8[i0]\n    t9 = np.tanh(a9_0)\n    v9[i0] = t9\n"
    (text, arguments), (other, other_arguments) = (canonical_function(t, []) for t in (first, second))
    assert text == other
    assert text.startswith("def {name}(x0, x1, x2):\n    for i0 in range(x0):\n        t0 = x1[i0]")
    assert arguments == ["d1", "v4", "v5"] and other_arguments == ["d0", "v8", "v9"]


def test_a_nest_defining_a_total_returns_it():
    text, arguments = canonical_function(
        "acc3 = np.float64(0.0)\nfor i0 in range(d0):\n    acc3 = acc3 + v2[i0]\nv3 = np.float32(acc3)\n",
        ["v3"])
    assert text.endswith("    t1 = np.float32(t0)\n    return t1\n") and arguments == ["d0", "v2"]


def deep_loss(weights, x):
    for w in weights:
        x = np.tanh(x @ w)
    return np.sum(x * x)


def test_the_repeated_layers_of_a_deep_network_share_outlined_nests_and_match_the_reference():
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((6, 6)) / 3 for _ in range(5)]
    x = rng.standard_normal((4, 6))
    grads = sg.grad(deep_loss)
    source = grads.compiled(weights, x).source
    defined = re.findall(r"^def (run_nest\d+)\(", source, re.M)
    calls = re.findall(r"outlined\((run_nest\d+), ", source)
    # forward tanh, backward slope: each written once, called once per layer but the last
    # (fused with the loss)
    assert len(defined) == len(set(calls)) < len(calls) // 2, source
    assert sorted(map(calls.count, set(calls)))[-2:] == [len(weights) - 1] * 2, source
    expected = sg.grad(deep_loss, backend="reference")(weights, x)
    for ours, theirs in zip(grads(weights, x), expected):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
