"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict``.

>>> from symgrad import nn
>>> model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
>>> model[1], len(model), [name for name, _ in model.named_children()]
(ReLU(), 3, ['0', '1', '2'])
"""
import operator
from collections import OrderedDict

import numpy as np

from symgrad.eager.tensor import Tensor
from symgrad.nn.module import Module, _addindent
from symgrad.nn.parameter import Parameter


def _index(index, length, owner):
    try:
        index = operator.index(index)
    except TypeError:
        raise TypeError(f"{owner} indices must be integers or slices, not "
                        f"{type(index).__name__}") from None
    if not -length <= index < length:
        raise IndexError(f"index {index} is out of range for a {owner} of length {length}")
    return index % length


class _Numbered(Module):
    """Children named '0', '1', ...: appending, inserting and popping renumber them."""

    def _renumber(self, modules):
        self._modules.clear()
        for module in modules:
            self.append(module)

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for module in modules:
            self.append(module)
        return self

    def insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)
        return self

    def pop(self, index=-1):
        module = self[index]
        del self[index]
        return module


class Sequential(_Numbered):
    """Modules applied in order; children are named '0', '1', ... (or by an OrderedDict)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[_index(index, len(self), type(self).__name__)]

    def __setitem__(self, index, module):
        key = list(self._modules)[_index(index, len(self), type(self).__name__)]
        self.add_module(key, module)

    def __delitem__(self, index):
        keys = list(self._modules)
        doomed = keys[index] if isinstance(index, slice) else \
            [keys[_index(index, len(self), type(self).__name__)]]
        for key in doomed:
            del self._modules[key]
        # renumber, like PyTorch, so that names stay '0', '1', ...
        if all(k.isdigit() for k in self._modules):
            self._renumber(list(self._modules.values()))


class ModuleList(_Numbered):
    """A list of modules, registered as children '0', '1', ..."""

    def __init__(self, modules=None):
        super().__init__()
        for module in modules or ():
            self.append(module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._modules.values())[index])
        return self._modules[str(_index(index, len(self), type(self).__name__))]

    def __setitem__(self, index, module):
        self.add_module(str(_index(index, len(self), type(self).__name__)), module)

    def __delitem__(self, index):
        modules = list(self._modules.values())
        del modules[index if isinstance(index, slice) else _index(index, len(self), "ModuleList")]
        self._renumber(modules)

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return type(self)(list(self) + list(other))

    def __repr__(self):
        """PyTorch's: runs of equal children printed once, as ``(0-2): 3 x Linear(...)``."""
        if not self._modules:
            return self._get_name() + "()"
        runs = []                                  # [first index, last index, repr]
        for index, module in enumerate(self._modules.values()):
            text = repr(module)
            if runs and runs[-1][2] == text:
                runs[-1][1] = index
            else:
                runs.append([index, index, text])
        lines = [_addindent(f"({first}): {text}" if first == last else
                            f"({first}-{last}): {last - first + 1} x {text}", 2)
                 for first, last, text in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it in your own "
                                  "module's forward")


class ModuleDict(Module):
    """A dict of modules, registered as children under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        self.update(modules or {})

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        module = self._modules[key]
        del self._modules[key]
        return module

    def update(self, modules):
        for key, module in (modules.items() if hasattr(modules, "items") else modules):
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: look modules up in your own "
                                  "module's forward")


_TENSOR_TYPES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor",
                 "int32": "IntTensor", "int64": "LongTensor", "bool": "BoolTensor"}


def _parameter_line(key, param, legacy_type):
    """PyTorch's line for a parameter of a ParameterList (dtype) or ParameterDict (legacy
    tensor type name)."""
    name = np.dtype(param.dtype).name
    kind = f"torch.{_TENSOR_TYPES.get(name, name)}" if legacy_type else f"torch.{name}"
    size = "x".join(str(d) for d in param.shape)
    return f"  ({key}): Parameter containing: [{kind} of size {size}]"


def _as_parameter(value):
    """A Tensor becomes a Parameter (as in PyTorch); Parameters and other values stay."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) \
        else value


class ParameterList(Module):
    """A list of parameters, registered as '0', '1', ... (Tensors become Parameters)."""

    def __init__(self, values=None):
        super().__init__()
        for value in values or ():
            self.append(value)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __getitem__(self, index):
        if isinstance(index, slice):
            return type(self)(list(self._parameters.values())[index])
        return self._parameters[str(_index(index, len(self), type(self).__name__))]

    def __setitem__(self, index, value):
        setattr(self, str(_index(index, len(self), type(self).__name__)), _as_parameter(value))

    def append(self, value):
        setattr(self, str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p, False) for k, p in self._parameters.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterList has no forward: use its parameters in your "
                                  "own module's forward")


class ParameterDict(Module):
    """A dict of parameters, registered under their keys (a plain dict's keys sorted, as in
    PyTorch; an OrderedDict's in order)."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def update(self, parameters):
        pairs = parameters.items() if isinstance(parameters, (OrderedDict, ParameterDict)) \
            else sorted(parameters.items()) if hasattr(parameters, "items") else parameters
        for key, value in pairs:
            self[key] = value

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p, True) for k, p in self._parameters.items())

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ParameterDict has no forward: use its parameters in your "
                                  "own module's forward")
