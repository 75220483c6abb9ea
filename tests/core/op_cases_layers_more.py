"""The op table's cases for the layer functions symgrad/nn added for PyTorch's tutorials and
examples (functional_activations_more.py, functional_padding.py, functional_distance.py,
functional_pooling.py, functional_blocks.py, functional_norm.py's instance and local
response norms): tests/core/test_ops.py checks each like every op (numeric gradients of
first and second order, reference == numpy, compiled == reference); functions share a case
so that each case compiles once."""
import numpy as np

import symgrad.nn.functional_activations_more as act
import symgrad.nn.functional_blocks as blocks
import symgrad.nn.functional_distance as distance
import symgrad.nn.functional_norm as norm
import symgrad.nn.functional_padding as padding
import symgrad.nn.functional_pooling as pooling


def more_layer_cases(Case, uniform, away_from):
    """The cases, built with test_ops.py's ``Case`` and argument helpers."""
    kinks = [0.0, 0.1, -0.5, 0.5, -1.0, 1.0, -3.0, 3.0]
    signed = away_from(uniform((3, 4), -4, 4, seed=40), kinks)
    channels = away_from(uniform((2, 3, 4), -2, 2, seed=41), [0.0])
    slopes = uniform((3,), 0.1, 0.4, seed=42)
    images = uniform((2, 4, 3, 4), -1, 1, seed=43)
    columns = uniform((2, 8, 6), -1, 1, seed=44)
    distinct = np.random.default_rng(45).permutation(2 * 3 * 7).reshape(2, 3, 7) / 7.0
    other = uniform((3, 4), -1, 1, seed=46)
    table = uniform((2, 4, 3), -1, 1, seed=47)
    return [
        Case("activations_more", lambda x: (
            act.selu_of(x), act.celu_of(x, 0.7), act.hardsigmoid_of(x), act.hardswish_of(x),
            act.logsigmoid_of(x), act.softsign_of(x), act.tanhshrink_of(x),
            act.softshrink_of(x, 0.5), act.hardshrink_of(x, 0.5), act.threshold_of(x, 0.1, 2.0),
            act.glu_of(x, 1), act.softmin_of(x, 0)), (signed,), float32=True),
        Case("prelu", lambda x, w: (act.prelu_of(x, w), act.prelu_of(x[0, 0], w[:1])),
             (channels, slopes)),
        Case("padding_and_pixel_shuffle", lambda x: (
            padding.pad_of(x, ((0, 0), (0, 0), (1, 2), (-1, 1)), "constant", 0.5),
            padding.pad_of(x, ((0, 0), (0, 0), (2, 1), (1, 2)), "reflect", 0.0),
            padding.pad_of(x, ((0, 0), (0, 0), (2, 1), (-1, 2)), "circular", 0.0),
            blocks.pixel_shuffle_of(x, 2), blocks.pixel_unshuffle_of(x[..., :2, :], 2)),
            (images,)),
        Case("unfold_and_fold", lambda x, c: (
            blocks.unfold_of(x, (2, 3), (1, 1), (1, 0), (2, 1)),
            blocks.fold_of(c[0], (3, 4), (2, 2), (2, 1), (1, 0), (1, 2))), (images, columns)),
        Case("distances", lambda a, b, w: (
            distance.cosine_similarity_of(a, b, -1, 1e-8), distance.normalize_of(a, 2.0, 1, 1e-12),
            distance.normalize_of(a, 3.0, 0, 1e-12),
            distance.pairwise_distance_of(a, b, 2.0, 1e-6, False),
            distance.pairwise_distance_of(a, b, 1.5, 1e-6, True),
            distance.bilinear_of(a, b[:, :3], w, w[:, 0, 0])), (signed, other, table)),
        Case("pooling_1d", lambda x: (
            pooling.max_pool1d_of(x, 3, 2, 1), pooling.avg_pool1d_of(x, 3, 2, 1, False),
            pooling.avg_pool1d_of(x[0], 2, 1, 0, True), pooling.adaptive_avg_pool1d_of(x, 3),
            pooling.adaptive_max_of(x, (3,)), pooling.adaptive_max_of(x, (2, 3))), (distinct,)),
        Case("instance_and_local_response_norms", lambda x, w: (
            norm.instance_norm_of(x, w, w, 1e-5), norm.instance_norm_of(x, None, None, 1e-3),
            norm.local_response_norm_of(x, 2, 0.1, 0.75, 1.0),
            norm.local_response_norm_of(x, 3, 0.5, 0.5, 2.0)), (channels, slopes)),
    ]
