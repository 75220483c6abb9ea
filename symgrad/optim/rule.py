"""``RuleOptimizer``: an optimizer given by a per-parameter update rule, a pure function of
values (numpy arrays eagerly, tracers inside ``sg.train``'s compiled step):

    rule(w, g, state, step, group) -> (new w, new state)

with ``g`` already negated under ``maximize``, ``state`` the parameter's state arrays by
PyTorch's names (but ``step``) and ``step`` the step count from 1 (a float64 Python number,
or traced). The base class keeps the state, counts steps as PyTorch does (a float32 tensor
``state["step"]``) and writes the results into the existing buffers, so Parameters and state
tensors keep their identity.
"""
import numpy as np

import symgrad.optim._update as _update
from symgrad.core.ops.elementwise import astype
from symgrad.eager.grad_mode import no_grad
from symgrad.eager.tensor import Tensor
from symgrad.optim.optimizer import Optimizer


def _write(tensor, value):
    own = tensor._value
    if isinstance(own, np.ndarray) and own.flags.writeable and not _update.is_traced(value):
        np.copyto(own, value)
        tensor._version += 1
    else:
        tensor.data = value


class RuleOptimizer(Optimizer):
    """Base of the optimizers written as an update rule (see the module docstring);
    subclasses define ``_new_state(param, group)`` and ``_rule``."""

    #: PyTorch makes Adagrad's state when the optimizer is made, the others at their first step
    _state_at_construction = False

    def __init__(self, params, defaults):
        super().__init__(params, defaults)
        if self._state_at_construction:
            for group in self.param_groups:
                for param in group["params"]:
                    self._initialize(param, group)

    def _initialize(self, param, group):
        state = self.state[param]
        if not state:
            state["step"] = Tensor(np.array(0.0, np.float32))
            for key, value in self._new_state(param, group).items():
                state[key] = Tensor(value)
        return state

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure's loss."""
        loss = self._closure_loss(closure)
        with no_grad():
            for group in self.param_groups:
                for param in group["params"]:
                    if param.grad is not None:
                        self._update(param, group)
        return loss

    def _update(self, param, group):
        state = self._initialize(param, group)
        count = state["step"]._value + 1
        traced = _update.is_traced(count)
        state["step"]._value = count if traced else np.asarray(count, np.float32)
        step = astype(count, np.float64) if traced else float(count)
        grad = param.grad._value
        if group.get("maximize", False):
            grad = -grad
        values = {key: tensor._value for key, tensor in state.items() if key != "step"}
        new_w, new_state = self._rule(param._value, grad, values, step, group)
        _write(param, new_w)
        for key, value in new_state.items():
            _write(state[key], value)

    def _new_state(self, param, group):
        raise NotImplementedError

    def _rule(self, w, g, state, step, group):
        raise NotImplementedError


def zeros_like(param):
    return np.zeros(param.shape, param.dtype)


def with_weight_decay(g, w, group):
    """PyTorch's coupled (L2) weight decay: ``g + weight_decay * w``."""
    return g + group["weight_decay"] * w if group["weight_decay"] != 0 else g
