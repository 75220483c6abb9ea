"""Moving a module's parameters, buffers and gradients between devices and dtypes, in place
(PyTorch's ``Module.to``, ``.cuda()``, ``.cpu()``, ``.double()``, ``.float()``)."""
import numpy as np

from symgrad.eager.device import device, place
from symgrad.eager.tensor import Tensor


class Conversions:
    """The conversion methods of :class:`symgrad.nn.Module`."""

    def _tensors(self):
        """Every parameter and buffer of this module and its submodules."""
        for table in ("_parameters", "_buffers"):
            for module in self.modules():
                yield from (value for value in getattr(module, table).values() if value is not None)

    def _cast(self, dtype):
        for value in self._tensors():
            if np.dtype(value.dtype).kind == "f":
                value.data = np.asarray(value._value).astype(dtype)
                if value.grad is not None:
                    value.grad = Tensor(np.asarray(value.grad._value).astype(dtype))
        return self

    def to(self, target):
        """Move every parameter, buffer and gradient to ``target`` (``"cuda"``, ``"cpu"``),
        or cast the floating point ones to a dtype; in place (optimizers keep working on
        the same parameters), returns ``self``.

        >>> from symgrad import nn
        >>> nn.Linear(2, 1).to("cpu").weight.device
        device(type='cpu')
        """
        if not isinstance(target, (str, device)):
            return self._cast(target)
        for value in self._tensors():
            value.data = place(value._value, target)
            if value.grad is not None:
                value.grad.data = place(value.grad._value, target)
        return self

    def cuda(self):
        return self.to("cuda")

    def cpu(self):
        return self.to("cpu")

    def double(self):
        """Cast floating point parameters and buffers to float64 (in place)."""
        return self._cast(np.float64)

    def float(self):
        """Cast floating point parameters and buffers to float32 (in place)."""
        return self._cast(np.float32)
