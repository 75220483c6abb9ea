"""User-defined differentiable functions: ``forward(ctx, ...)`` / ``backward(ctx, grad)``.

>>> import symgrad as torch
>>> class Double(torch.autograd.Function):
...     @staticmethod
...     def forward(ctx, x):
...         return x * 2
...     @staticmethod
...     def backward(ctx, grad):
...         return grad * 2
>>> x = torch.tensor([1.0], requires_grad=True)
>>> Double.apply(x).sum().backward(); x.grad
tensor([2.])
"""
from dataclasses import dataclass

from symgrad.core.graph import freeze
from symgrad.eager.grad_mode import is_grad_enabled, no_grad
from symgrad.eager.tape import BackwardNode
from symgrad.eager.tensor import Tensor


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors and plain attributes.

    Plain attributes (``ctx.scale = 0.5``) are constants of the compiled backward, keyed by
    value: ``backward`` may branch on them in Python, and a value that changes every call
    makes a new tape structure each time (the last ``symgrad.eager.tape.TAPE_CACHE_SIZE`` are kept); pass a
    changing number as a tensor argument of ``apply`` instead."""

    def save_for_backward(self, *tensors):
        self._saved = tensors

    @property
    def saved_tensors(self):
        return getattr(self, "_saved", ())

    def attributes(self):
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}


@dataclass(frozen=True)
class BackwardRule:
    """The VJP of one Function call, by structure: the class, which operands were saved
    (``-1`` is the output) and the ctx's other attributes."""
    function: type
    saved: tuple
    attributes: tuple

    def __call__(self, position, g, out, value, *inputs):
        ctx = FunctionCtx()
        for name, attribute in self.attributes:
            setattr(ctx, name, attribute)
        ctx._saved = tuple(Tensor(value if ref == -1 else inputs[ref]) for ref in self.saved)
        with no_grad():
            grads = self.function.backward(ctx, Tensor(g))
        grads = grads if isinstance(grads, tuple) else (grads,)
        if len(grads) != len(inputs):
            raise RuntimeError(f"function {self.function.__name__}.backward returned {len(grads)} "
                               f"gradient(s), but forward took {len(inputs)} input(s)")
        grad = grads[position - 1]
        return None if grad is None else getattr(grad, "_value", grad)


class CustomBackwardNode(BackwardNode):
    def __init__(self, function, ctx, args, output, returned):
        """``returned``: the tensor ``forward`` returned (``output`` is its recorded copy)."""
        tensors = [a for a in args if isinstance(a, Tensor)]
        saved = []
        for tensor in ctx.saved_tensors:
            if tensor is output or tensor is returned:
                saved.append(-1)
            elif any(tensor is t for t in tensors):
                saved.append(next(i for i, t in enumerate(tensors) if t is tensor))
            else:
                raise RuntimeError(f"{function.__name__}: save_for_backward accepts the "
                                   "function's input and output tensors only")
        self.rule = BackwardRule(function, tuple(saved), freeze(ctx.attributes()))
        super().__init__(f"{function.__name__}Backward", None, {}, tensors, output, tensors)

    def key(self):
        return (self._name, self.rule)

    def replay(self, values, output_value):
        from symgrad.core.tracing import Tracer, bind, constant
        graph = output_value.graph
        values = [v if isinstance(v, Tracer) else constant(graph, v) for v in values]
        return bind("custom_vjp", output_value, *values, rule=self.rule)


class Function:
    """Subclass with static ``forward(ctx, *inputs)`` and ``backward(ctx, *grads)``;
    call ``YourFunction.apply(*inputs)``."""

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("a Function subclass must define backward(ctx, *grads)")

    @classmethod
    def apply(cls, *args):
        ctx = FunctionCtx()
        with no_grad():
            out = cls.forward(ctx, *args)
        if not isinstance(out, Tensor):
            raise TypeError(f"{cls.__name__}.forward must return a Tensor, got {type(out).__name__}")
        wants_grad = any(isinstance(a, Tensor) and a.requires_grad for a in args)
        if is_grad_enabled() and wants_grad:
            returned, out = out, Tensor(out._value, requires_grad=True)
            out.grad_fn = CustomBackwardNode(cls, ctx, args, out, returned)
            if hasattr(out._value, "aval"):
                # inside a compiled step: the user's backward, not the forward's ops, is the VJP
                out._value = out.grad_fn.replay([t._value for t in out.grad_fn.tensors()], out._value)
        return out
