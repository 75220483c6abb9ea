"""Stateless layer and loss functions (PyTorch's ``torch.nn.functional`` names); the losses
live in symgrad.nn.functional_loss and symgrad.nn.functional_classes.

Each works on eager Tensors and records a ``grad_fn`` with PyTorch's name
(``AddmmBackward0``, ``MseLossBackward0``, ``NllLossBackward0``, ...). The losses are single
recorded nodes whose value is computed by symgrad ops, so their gradient is derived by
:mod:`symgrad.core.reverse_mode` like any other op's, also when the tape is replayed with tracers.

>>> import symgrad as torch
>>> from symgrad.nn import functional as F
>>> F.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]), reduction="sum").item()
4.0
"""
import numpy as np

from symgrad.eager.softmax import log_softmax as tensor_log_softmax
from symgrad.eager.softmax import softmax as tensor_softmax
from symgrad.eager.tensor_methods import addmm_function, normalize_dim  # noqa: F401  (F.normalize_dim)
from symgrad.nn.functional_loss import check_tensor as _check_tensor


# -- layers ---------------------------------------------------------------------------------
def linear_mismatch(input_shape, weight_shape):
    """PyTorch's words for an input whose last dimension is not the weight's (the leading
    dimensions flattened into rows, as its matmul sees them)."""
    rows = int(np.prod(input_shape[:-1], dtype=np.int64)) if input_shape else 1
    columns = input_shape[-1] if input_shape else 1
    return (f"mat1 and mat2 shapes cannot be multiplied ({rows}x{columns} and "
            f"{weight_shape[-1]}x{weight_shape[0]})")


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: ``addmm`` for 2-D input (grad_fn ``AddmmBackward0``)."""
    _check_tensor(input, "input", "linear")
    if input.dim() == 0 or input.shape[-1] != weight.shape[-1]:
        raise RuntimeError(linear_mismatch(input.shape, weight.shape))
    if bias is not None and input.dim() == 2:
        return addmm_function(bias, input, weight.t())
    out = input.matmul(weight.t())
    return out if bias is None else out + bias


# -- activations ----------------------------------------------------------------------------
def relu(input, inplace=False):
    _check_tensor(input, "input", "relu")
    return input.relu()


def sigmoid(input):
    return input.sigmoid()


def tanh(input):
    return input.tanh()


def log_softmax(input, dim=None):
    _check_tensor(input, "input", "log_softmax")
    return tensor_log_softmax(input, dim)


def softmax(input, dim=None):
    _check_tensor(input, "input", "softmax")
    return tensor_softmax(input, dim)


from symgrad.nn.functional_conv import avg_pool2d, conv2d, max_pool2d  # noqa: E402,F401
from symgrad.nn.functional_sparse import embedding, embedding_bag, one_hot  # noqa: E402,F401
from symgrad.nn.functional_sampling import affine_grid, grid_sample  # noqa: E402,F401
from symgrad.nn.functional_norm import (  # noqa: E402,F401
    batch_norm, group_norm, instance_norm, layer_norm, local_response_norm)
from symgrad.nn.functional_dropout import dropout, dropout1d, dropout2d  # noqa: E402,F401
from symgrad.nn.functional_spatial import (  # noqa: E402,F401
    adaptive_avg_pool2d, conv1d, conv_transpose2d, interpolate)
from symgrad.nn.functional_activations import (  # noqa: E402,F401
    elu, gelu, hardtanh, leaky_relu, mish, relu6, silu, softplus)
from symgrad.nn.functional_attention import scaled_dot_product_attention  # noqa: E402,F401
from symgrad.nn.functional_loss import (binary_cross_entropy,  # noqa: E402,F401
                                        binary_cross_entropy_with_logits, cosine_embedding_loss,
                                        huber_loss, kl_div, l1_loss, mse_loss, smooth_l1_loss)
from symgrad.nn.functional_classes import cross_entropy, nll_loss  # noqa: E402,F401
from symgrad.nn.functional_activations_more import (  # noqa: E402,F401
    celu, glu, hardshrink, hardsigmoid, hardswish, logsigmoid, prelu, rrelu, selu, softmin,
    softshrink, softsign, tanhshrink, threshold)
from symgrad.nn.functional_padding import pad  # noqa: E402,F401
from symgrad.nn.functional_distance import (  # noqa: E402,F401
    bilinear, cosine_similarity, normalize, pairwise_distance)
from symgrad.nn.functional_pooling import (  # noqa: E402,F401
    adaptive_avg_pool1d, adaptive_max_pool1d, adaptive_max_pool2d, avg_pool1d, max_pool1d)
from symgrad.nn.functional_blocks import (  # noqa: E402,F401
    fold, pixel_shuffle, pixel_unshuffle, unfold)
from symgrad.nn.functional_loss_margins import (  # noqa: E402,F401
    gaussian_nll_loss, hinge_embedding_loss, margin_ranking_loss, multi_margin_loss,
    multilabel_margin_loss, multilabel_soft_margin_loss, poisson_nll_loss, soft_margin_loss,
    triplet_margin_loss)
