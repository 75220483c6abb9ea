"""Optimizers with PyTorch's names and update rules: ``SGD``, ``Adam``, ``AdamW``,
``RMSprop``, ``Adagrad``, ``Adadelta``, ``Adamax``, ``NAdam``, ``RAdam``, ``ASGD``,
``Rprop``, ``LBFGS``; schedules in ``lr_scheduler``.

>>> import symgrad as torch
>>> from symgrad import nn, optim
>>> model = nn.Linear(3, 1)
>>> optimizer = optim.Adam(model.parameters(), lr=1e-4)
>>> optimizer.zero_grad()
"""
from symgrad.optim.optimizer import Optimizer, ParamState
from symgrad.optim.sgd import SGD
from symgrad.optim.adam import Adam, AdamW
from symgrad.optim.adaptive import Adadelta, Adagrad, RMSprop
from symgrad.optim.adam_variants import Adamax, NAdam
from symgrad.optim.lbfgs import LBFGS
from symgrad.optim.rectified import ASGD, RAdam, Rprop
import symgrad.optim.lr_scheduler as lr_scheduler

__all__ = ["Optimizer", "ParamState", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta",
           "Adamax", "NAdam", "RAdam", "ASGD", "Rprop", "LBFGS", "lr_scheduler"]
