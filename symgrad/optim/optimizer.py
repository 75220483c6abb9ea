"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad``, ``state_dict``.

Updates are written in place into each parameter's storage (under ``no_grad``), so the
Parameter objects a model holds keep their identity, as in PyTorch.

>>> import symgrad as torch
>>> from symgrad import nn, optim
>>> model = nn.Linear(2, 1)
>>> opt = optim.SGD(model.parameters(), lr=0.1)
>>> len(opt.param_groups), len(opt.param_groups[0]["params"])
(1, 2)
"""
import copy
import functools
import math
from collections import OrderedDict

import numpy as np

from symgrad.core.tracing import Tracer
from symgrad.eager.device import CudaArray
from symgrad.eager.grad_mode import enable_grad
from symgrad.eager.tensor import Tensor, reset_grads


class _Required:
    def __repr__(self):
        return "<required parameter>"


required = _Required()


class ParamState:
    """``optimizer.state``: per-parameter state dicts keyed by the parameter's identity
    (like PyTorch's defaultdict(dict) keyed by tensor); a new parameter reads as ``{}``."""

    def __init__(self):
        self._items = OrderedDict()       # id(param) -> (param, state dict)

    def __getitem__(self, param):
        entry = self._items.get(id(param))
        if entry is None:
            entry = self._items[id(param)] = (param, {})
        return entry[1]

    def __setitem__(self, param, value):
        self._items[id(param)] = (param, value)

    def __contains__(self, param):
        return id(param) in self._items

    def __delitem__(self, param):
        del self._items[id(param)]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return (param for param, _ in self._items.values())

    def keys(self):
        return list(self)

    def values(self):
        return [state for _, state in self._items.values()]

    def items(self):
        return list(self._items.values())

    def get(self, param, default=None):
        entry = self._items.get(id(param))
        return default if entry is None else entry[1]

    def clear(self):
        self._items.clear()

    def __repr__(self):
        return f"ParamState({len(self)} parameters)"


def _check_number(name, value, low=0.0, inclusive=True, high=None):
    if isinstance(value, Tracer):         # set by a scheduler inside sg.train's traced step
        return value
    if isinstance(value, Tensor):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if math.isnan(value):
        raise ValueError(f"Invalid {name}: {value}")
    if low is not None and (value < low if inclusive else value <= low):
        raise ValueError(f"Invalid {name}: {value}")
    if high is not None and not value < high:
        raise ValueError(f"Invalid {name}: {value}")
    return value


def _checked_step(step):
    """A subclass's ``step`` that first checks everything it will read (``_check_step``),
    right before its first write: at once without a closure, else after each evaluation of
    the closure (which computes the gradients)."""
    @functools.wraps(step)
    def checked(self, closure=None):
        if closure is None:
            self._check_step()
            return step(self)

        def checked_closure():
            loss = closure()
            self._check_step()
            return loss
        return step(self, checked_closure)
    return checked


def _describe(tensor):
    return f"{tensor.dtype.name}{list(tensor.shape)} on {tensor.device.type}"


class Optimizer:
    """Base class: holds ``param_groups`` (dicts with 'params' and hyperparameters) and
    ``state``; subclasses implement ``step``. Every subclass's ``step`` is checked before
    it writes (``_check_step``), so a step that fails leaves all parameters as they were."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _checked_step(cls.__dict__["step"])

    #: state entries not shaped like their parameter (L-BFGS's flat vectors)
    _flat_state_keys = ()

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = ParamState()
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__} (wrap a single "
                            "tensor in a list: [param])")
        if isinstance(params, dict):
            params = [params]
        try:
            param_groups = list(params)
        except TypeError:
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {type(params).__name__}") from None
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group (a dict with 'params' and optional hyperparameters; the others come
        from the optimizer's defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("a parameter group must have a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        for index, param in enumerate(params):
            if not isinstance(param, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params "
                                f"(index {index}) is {type(param).__module__}."
                                f"{type(param).__qualname__}")
            if not param.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (parameter {index} has "
                                 f"grad_fn=<{param.grad_fn.name()}>; optimize the leaf it was "
                                 f"computed from, or .detach().requires_grad_() it)")
            if np.dtype(param.dtype).kind not in "fc":
                raise TypeError(f"can't optimize a Tensor of dtype {np.dtype(param.dtype).name} "
                                f"(parameter {index}): only floating point tensors have "
                                f"gradients")
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        group = {"params": params}
        for key, value in param_group.items():
            if key != "params":
                group[key] = value
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {key}")
            group.setdefault(key, default)
        self._validate_group(group)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if existing & {id(p) for p in params}:
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate_group(self, group):
        """Check a group's hyperparameters (subclasses extend)."""
        if "lr" in group:
            _check_number("learning rate", group["lr"])

    # -- gradients --------------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of every parameter: to None (default) or to zeros."""
        reset_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    def _check_step(self):
        """Raise before ``step`` writes anything if a hyperparameter, a gradient or a state
        tensor does not fit (they can change after the checks of ``add_param_group`` and of
        ``.grad`` assignment: ``group["lr"] = ...``, ``p.grad.data = ...``)."""
        for index, group in enumerate(self.param_groups):
            self._validate_group(group)
            for position, param in enumerate(group["params"]):
                grad = param.grad
                if grad is None:
                    continue
                value, own = grad._value, param._value        # the arrays' own attributes
                if value.shape != own.shape or value.dtype != own.dtype or \
                        isinstance(value, CudaArray) != isinstance(own, CudaArray):
                    raise RuntimeError(f"{self._where(index, position)} is {_describe(param)} "
                                       f"but its gradient is {_describe(grad)}; no parameter "
                                       f"was updated")
                for key, state in self.state.get(param, {}).items():
                    shape = () if key in self._flat_state_keys else getattr(state, "shape", ())
                    if shape and shape != own.shape:
                        raise RuntimeError(f"{self._where(index, position)} has shape "
                                           f"{list(own.shape)} but its optimizer state {key!r} "
                                           f"has shape {list(shape)}; no parameter was updated")

    def _where(self, index, position):
        return f"{type(self).__name__}.step(): param_groups[{index}]['params'][{position}]"

    def _closure_loss(self, closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # -- state dict -----------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {name: value}}, 'param_groups': [{..., 'params': [index, ...]}]}
        with parameters replaced by their position across groups and tensors by copies
        (PyTorch's layout)."""
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {}
        for param, values in self.state.items():
            if id(param) in index_of:
                state[index_of[id(param)]] = {
                    key: Tensor(np.array(value._value)) if isinstance(value, Tensor) else
                    copy.deepcopy(value) for key, value in values.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by ``state_dict`` (same group layout).
        Everything is checked first: on an error nothing is changed."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and "
                             "'param_groups' entries")
        if len(groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for mine, saved in zip(self.param_groups, groups):
            if len(mine["params"]) != len(saved["params"]):
                raise ValueError("loaded state dict contains a parameter group that doesn't "
                                 "match the size of optimizer's group")
        params = {}
        for mine, saved in zip(self.param_groups, groups):
            for index, param in zip(saved["params"], mine["params"]):
                params[index] = param
        new_state = ParamState()
        for index, values in state_dict["state"].items():
            if index not in params:
                raise ValueError(f"optimizer state_dict has state for parameter {index}, "
                                 f"which is in none of its groups")
            param = params[index]
            restored = {}
            for key, value in values.items():
                if isinstance(value, Tensor):
                    value = value._value
                if isinstance(value, np.ndarray) and key not in self._flat_state_keys:
                    if value.ndim and value.shape != tuple(param.shape):
                        raise ValueError(f"optimizer state {key!r} of parameter {index} has "
                                         f"shape {value.shape}, the parameter has shape "
                                         f"{tuple(param.shape)}")
                    dtype = param.dtype if value.ndim else value.dtype
                    value = Tensor(np.array(value, dtype=dtype))
                else:
                    value = copy.deepcopy(value)
                restored[key] = value
            new_state[param] = restored
        merged = [{**mine, **{key: value for key, value in saved.items() if key != "params"}}
                  for mine, saved in zip(self.param_groups, groups)]
        for group in merged:          # checked before anything is written
            self._validate_group(group)
        for mine, group in zip(self.param_groups, merged):
            mine.update(group)
        self.state = new_state

    # -- repr -----------------------------------------------------------------------------------
    def __repr__(self):
        text = type(self).__name__ + " ("
        for index, group in enumerate(self.param_groups):
            text += f"\nParameter Group {index}"
            for key in sorted(group):
                if key != "params":
                    text += f"\n    {key}: {group[key]}"
        return text + "\n)"
