"""W6: autograd basics (seeds 000 and 004), with PyTorch's semantics.

1. ``y = x.sum(); y.backward()`` fills ``x.grad`` with ones.
2. A non-scalar output needs a seed vector: ``c = a + b; c.backward(torch.ones_like(c))``
   gives ``a.grad == b.grad == [1, 1, 1]``. (Seed 004 wraps ``c`` in a new ``Variable`` and
   expects ``a.grad`` to be filled; in PyTorch the new leaf cuts the history and ``a.grad`` is
   None. This is the form that works.)
3. Gradients accumulate across backward calls until zeroed.
4. Updates through ``.data`` are not tracked.
5. Nothing is recorded under ``torch.no_grad()``.

Run: ``python examples/w6_autograd_basics.py``.
"""
import symgrad as torch


def sum_backward():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.sum()
    y.backward()
    print("x.grad after x.sum().backward():", x.grad)
    return x.grad.tolist()


def non_scalar_backward():
    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = torch.tensor([4.0, 5.0, 6.0], requires_grad=True)
    c = a + b
    c.backward(torch.ones_like(c))
    print("a.grad:", a.grad, " b.grad:", b.grad)
    return a.grad.tolist(), b.grad.tolist()


def accumulation():
    """Two backward calls add up; zeroing resets. Returns the three gradients seen."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    first = x.grad.tolist()
    (x * x).sum().backward()
    second = x.grad.tolist()
    x.grad.zero_()
    (3 * x).sum().backward()
    third = x.grad.tolist()
    print("grad after one backward:", first, "after two:", second,
          "after zero_ and a third:", third)
    return first, second, third


def data_update():
    """``w.data -= ...`` changes the value without recording history."""
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    w.data -= 0.5 * torch.ones(2)
    tracked = (w * 2).sum()
    tracked.backward()
    print("w after .data update:", w, " grad:", w.grad, " is_leaf:", w.is_leaf)
    return w.detach().tolist(), w.grad.tolist(), w.is_leaf


def no_grad_block():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.no_grad():
        y = x * 2
    z = x * 2
    print("under no_grad: requires_grad", y.requires_grad, "grad_fn", y.grad_fn,
          "| outside: requires_grad", z.requires_grad, "grad_fn", z.grad_fn.name())
    return y.requires_grad, y.grad_fn, z.requires_grad, z.grad_fn.name()


def main():
    sum_backward()
    non_scalar_backward()
    accumulation()
    data_update()
    no_grad_block()


if __name__ == "__main__":
    main()
