"""Learning-rate schedules with PyTorch's names and rules (``torch.optim.lr_scheduler``).
Each works eagerly and stepped inside ``sg.train``'s compiled step (per step), where the
learning rate becomes carried state of the loop (see symgrad.optim.lr_scheduler.base).

>>> import symgrad as torch
>>> from symgrad import optim
>>> opt = optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
>>> cosine = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=2)
>>> opt.step(); cosine.step(); cosine.get_last_lr()
[0.5]
"""
from symgrad.optim.lr_scheduler.base import LRScheduler
from symgrad.optim.lr_scheduler.closed import (ConstantLR, CosineAnnealingLR, ExponentialLR,
                                                LambdaLR, LinearLR, MultiplicativeLR,
                                                MultiStepLR, PolynomialLR, StepLR)
from symgrad.optim.lr_scheduler.composite import (ChainedScheduler, OneCycleLR,
                                                   ReduceLROnPlateau, SequentialLR)
from symgrad.optim.lr_scheduler.cyclic import CosineAnnealingWarmRestarts, CyclicLR

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "SequentialLR",
           "OneCycleLR", "ReduceLROnPlateau", "ChainedScheduler", "CyclicLR",
           "CosineAnnealingWarmRestarts"]
