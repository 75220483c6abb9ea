"""The op table's cases for the ops nn's layers added (erf: symgrad/core/ops/special.py;
random_uniform: symgrad/core/ops/random.py) and for nn's layer functions
(symgrad/nn/functional_norm.py, functional_activations.py, functional_dropout.py,
functional_spatial.py): the formulas each eager layer records
and replays, written over plain numpy arrays and tracers. tests/core/test_ops.py checks each
like every op (numeric gradients of first and second order, reference == numpy in values and
dtypes, compiled == reference); several functions share a case so that each compiles once."""
import numpy as np

import symgrad as sg
import symgrad.nn.functional_activations as act
import symgrad.nn.functional_dropout as drop
from symgrad.core.ops.random import random_uniform
import symgrad.nn.functional_norm as norm
import symgrad.nn.functional_spatial as spatial
from op_cases_layers_more import more_layer_cases


def layer_cases(Case, uniform, away_from):
    """The cases, built with test_ops.py's ``Case`` and argument helpers."""
    x = uniform((4, 6, 3), -2, 2, seed=30)
    scale, shift = uniform((6,), seed=31), uniform((6,), -1, 1, seed=32)
    signed = away_from(uniform((3, 4), -3, 3, seed=33), [0.0, -1.0, 1.0, 2.5])
    def traced_key(x, counter):
        """An int64 (seed, counter) key computed from ``x``, so that it is traced."""
        return (x[0, :2] * 0).astype(np.int64) + np.array([5, counter])
    signal, kernel = uniform((2, 3, 7), -1, 1, seed=34), uniform((4, 3, 3), -1, 1, seed=35)
    images, filters = uniform((2, 3, 5, 4), -1, 1, seed=36), uniform((3, 2, 3, 2), -1, 1, seed=37)
    return [
        Case("spatial", lambda s, k, x, f: (
            spatial.conv1d_of(s, k, k[:, 0, 0], 2, 1, 1), spatial.conv1d_of(s[0], k, None, 1, 0, 2),
            spatial.conv_transpose2d_of(x, f, f[0, :, 0, 0], (2, 1), (1, 0), (1, 1), (10, 5)),
            spatial.adaptive_avg_pool2d_of(x, (1, 2)), spatial.adaptive_avg_pool2d_of(x, (3, 3)),
            spatial.nearest_of(x, ((0, 0, 1, 2, 4, 4), (1, 3))), spatial.nearest_of(s, ((0, 0, 6),))),
            (signal, kernel, images, filters)),
        Case("random_uniform_and_dropout", lambda x: (
            x * random_uniform(traced_key(x, 1), x.shape, x.dtype),
            random_uniform(traced_key(x, 2), (2, 3), np.float32) + x[:2, :3],
            drop.dropout_of(x, traced_key(x, 3), 0.3, x.shape),
            drop.dropout_of(x, traced_key(x, 4), 0.5, (3, 1))), (signed,), float32=True),
        Case("erf", sg.ops.erf, (signed,), float32=True),
        Case("activations_smooth", lambda x: (
            act.gelu_of(x, "none"), act.gelu_of(x, "tanh"), act.silu_of(x), act.mish_of(x),
            act.softplus_of(x, 2.0, 5.0), act.softplus_of(30 * x, 1.0, 20.0)), (signed,),
            float32=True),
        Case("activations_kinked", lambda x: (
            act.leaky_relu_of(x, 0.1), act.elu_of(x, 0.7), act.hardtanh_of(x, -1.0, 2.5)),
            (signed,)),
        Case("normalizations", lambda x, w, b: (
            norm.layer_norm_of(x, w[:3], b[:3], 1, 1e-5), norm.layer_norm_of(x, None, None, 2, 1e-3),
            norm.group_norm_of(x, w, b, 3, 1e-5), norm.batch_norm_of(x, w, None, 1e-5),
            norm.batch_norm_by(x, b, w, w, b, 1e-5)), (x, scale, shift), float32=True),
    ] + more_layer_cases(Case, uniform, away_from)
