"""Instance and local response normalization layers: ``InstanceNorm1d``, ``InstanceNorm2d``,
``InstanceNorm3d``, ``LocalResponseNorm`` (PyTorch's arguments, defaults, buffers and reprs).

>>> from symgrad import nn
>>> nn.InstanceNorm2d(3)
InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
>>> nn.LocalResponseNorm(2)
LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
"""
import warnings

import symgrad.nn.functional_norm as F
from symgrad.nn.input_checks import expect_tensor
from symgrad.nn.module import Module
from symgrad.nn.normalization import _BatchNorm


class _InstanceNorm(_BatchNorm):
    """Normalization of each sample's channels over their spatial dimensions; an unbatched
    input (one rank less) is one sample."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def _check_input(self, input):
        expect_tensor(input, repr(self))
        if input.dim() not in self.ranks:
            raise ValueError(f"expected {self.ranks[0]}D or {self.ranks[1]}D input (got "
                             f"{input.dim()}D input)")
        channel_dim = input.dim() - self.ranks[0]      # 0 when unbatched
        channels = input.shape[channel_dim]
        if channels != self.num_features:
            if self.affine:
                raise ValueError(f"expected input's size at dim={channel_dim} to match "
                                 f"num_features ({self.num_features}), but got: "
                                 f"{channels}.")
            warnings.warn(f"input's size at dim={channel_dim} does not match num_features. You "
                          f"can silence this warning by not passing in num_features, which is "
                          f"not used because affine=False", stacklevel=3)

    def forward(self, input):
        self._check_input(input)
        unbatched = input.dim() == self.ranks[0]
        x = input.unsqueeze(0) if unbatched else input
        use_input_stats = self.training or not self.track_running_stats
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                              use_input_stats, self.momentum if self.momentum is not None
                              else 0.1, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of (N, C, L) or (C, L) input."""
    ranks = (2, 3)


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization of (N, C, H, W) or (C, H, W) input."""
    ranks = (3, 4)


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of (N, C, D, H, W) or (C, D, H, W) input."""
    ranks = (4, 5)


class LocalResponseNorm(Module):
    """Each channel divided by ``(k + alpha / size * sum of squares of ``size`` neighbouring
    channels) ** beta``."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        expect_tensor(input, repr(self))
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
