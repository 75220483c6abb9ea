"""The environment and legacy names of symgrad/eager/environment.py, grad_mode.py and
symgrad.autograd.Variable that PyTorch programs use first."""
import pytest

import symgrad as sg


def test_device_queries():
    assert isinstance(sg.cuda.is_available(), bool) and sg.backends.mps.is_available() is False
    assert sg.cuda.device_count() == (1 if sg.cuda.is_available() else 0)
    device = "cuda" if sg.cuda.is_available() else "mps" if sg.backends.mps.is_available() else "cpu"
    assert sg.zeros(2).to("cpu").device == sg.device("cpu") and device in ("cuda", "cpu")


def test_cuda_is_not_available_in_the_simulator(monkeypatch):
    pytest.importorskip("numba_cuda")
    from numba.core import config
    monkeypatch.setattr(config, "ENABLE_CUDASIM", True)
    assert sg.cuda.is_available() is False


def test_set_default_device_is_recorded():
    try:
        sg.set_default_device("cpu")
        assert sg.get_default_device() == sg.device("cpu")
    finally:
        sg.set_default_device(None)


def test_variable_is_the_tensor_and_honours_requires_grad():
    x = sg.ones(2)
    assert sg.autograd.Variable(x) is x and not x.requires_grad
    v = sg.autograd.Variable(sg.ones(2), requires_grad=True)
    (v * 3).sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]


def test_no_grad_as_decorator_and_inference_mode():
    x = sg.ones(2, requires_grad=True)

    @sg.no_grad()
    def doubled(t):
        return t * 2

    assert not doubled(x).requires_grad and (x * 2).requires_grad
    with sg.inference_mode():
        assert not (x * 2).requires_grad
        with sg.enable_grad():
            assert (x * 2).requires_grad
    with sg.inference_mode(False):
        assert (x * 2).requires_grad
