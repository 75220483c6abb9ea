"""Optimizers with PyTorch's names and update rules: ``SGD``, ``Adam``, ``AdamW``.

>>> import symgrad as torch
>>> from symgrad import nn, optim
>>> model = nn.Linear(3, 1)
>>> optimizer = optim.Adam(model.parameters(), lr=1e-4)
>>> optimizer.zero_grad()
"""
from symgrad.optim.optimizer import Optimizer, ParamState
from symgrad.optim.sgd import SGD
from symgrad.optim.adam import Adam, AdamW
import symgrad.optim.lr_scheduler as lr_scheduler

__all__ = ["Optimizer", "ParamState", "SGD", "Adam", "AdamW", "lr_scheduler"]
