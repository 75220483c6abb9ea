"""Helpers of the tutorial-program tests (tests/test_tutorial_programs_*.py): each program is
a function of the library it runs on (``symgrad`` or ``torch``), called once with each; these
give both runs the same starting point.

``initialise`` writes the same weights into either library's model (the layers draw their
own from different generators). ``Noise`` hands both runs the same random draws where a
program draws inside its loop (``torch.randn_like`` in a VAE, ``torch.randn`` for a GAN's
latent vectors): the run on PyTorch records what PyTorch drew, the run on symgrad replays it,
so the program text keeps its calls.
"""
import contextlib
import re

import numpy as np

NUMBER = re.compile(r"-?\d+\.\d+")


def initialise(torch, model, seed, scale=1.0):
    """Every parameter of ``model`` from ``seed``: uniform in +-scale/sqrt(fan-in), the
    PyTorch default's range; buffers (running statistics) keep their initial values."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for _, parameter in sorted(model.named_parameters()):
            shape = tuple(parameter.shape)
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
            bound = scale / np.sqrt(fan_in)
            parameter.copy_(torch.from_numpy(rng.uniform(-bound, bound, shape).astype(np.float32)))
    return model


def libraries():
    """symgrad, and PyTorch when installed (None otherwise)."""
    import symgrad
    try:
        import torch
    except ImportError:
        torch = None
    return symgrad, torch


def both_runs(program, *args, noise=None):
    """The program's log on symgrad, and on PyTorch (None without it); ``noise`` names the
    random functions whose draws PyTorch's run records and symgrad's replays."""
    ours, torch = libraries()
    if torch is None:
        return program(ours, *args), None
    draws = Noise()
    with draws.recording(torch, *(noise or ())):
        theirs = program(torch, *args)
    with draws.replaying(ours, *(noise or ())):
        log = program(ours, *args)
    return log, theirs


class Noise:
    """Record the random draws of named functions of a library while it runs, replay them
    into another library's run: ``with noise.recording(torch, "randn_like"): ...`` then
    ``with noise.replaying(symgrad, "randn_like"): ...``."""

    def __init__(self):
        self.draws = []

    @contextlib.contextmanager
    def recording(self, library, *names):
        self.draws = []
        originals = {name: getattr(library, name) for name in names}

        def recorder(original):
            def draw(*args, **kwargs):
                value = original(*args, **kwargs)
                self.draws.append(value.detach().numpy().copy())
                return value
            return draw
        with _patched(library, {name: recorder(f) for name, f in originals.items()}):
            yield self

    @contextlib.contextmanager
    def replaying(self, library, *names):
        queue = iter(self.draws)

        def replay(*args, **kwargs):
            return library.from_numpy(next(queue).copy())
        with _patched(library, {name: replay for name in names}):
            yield self


class DropoutMasks:
    """The same dropout masks in both runs: PyTorch's run draws each mask as its
    ``F.dropout``/``F.dropout2d`` would (dropout of ones, so scaled) and records it; symgrad's
    run multiplies by the recorded masks, through ``F`` and through the layers."""

    NAMES = ("dropout", "dropout2d")

    def __init__(self):
        self.masks = []

    @contextlib.contextmanager
    def recording(self, torch):
        self.masks = []
        functional = torch.nn.functional

        def recorder(original):
            def dropout(input, p=0.5, training=True, inplace=False):
                mask = original(torch.ones_like(input), p, training)
                self.masks.append(mask.numpy().copy())
                return input * mask
            return dropout
        with _patched(functional, {name: recorder(getattr(functional, name))
                                   for name in self.NAMES}):
            yield self

    @contextlib.contextmanager
    def replaying(self, symgrad):
        queue = iter(self.masks)

        def dropout(input, p=0.5, training=True, inplace=False):
            return input * symgrad.from_numpy(next(queue).copy())
        replay = staticmethod(dropout)
        with _patched(symgrad.nn.functional, dict.fromkeys(self.NAMES, dropout)), \
                _patched(symgrad.nn.Dropout, {"function": replay}), \
                _patched(symgrad.nn.Dropout2d, {"function": replay}):
            yield self


@contextlib.contextmanager
def _patched(library, replacements):
    originals = {name: vars(library)[name] if name in vars(library) else getattr(library, name)
                 for name in replacements}
    try:
        for name, function in replacements.items():
            setattr(library, name, function)
        yield
    finally:
        for name, function in originals.items():
            setattr(library, name, function)


def assert_same(ours, theirs, rtol=1e-4, atol=1e-5):
    """Two logs (numbers, or nested lists/arrays of them) equal to float tolerance."""
    np.testing.assert_allclose(np.asarray(ours, dtype=np.float64),
                               np.asarray(theirs, dtype=np.float64), rtol=rtol, atol=atol)


def assert_same_lines(ours, theirs):
    """Two printed lines equal but for their decimal numbers, which may differ by one unit
    of their last printed digit (float sums round either way at the edge)."""
    assert NUMBER.split(ours) == NUMBER.split(theirs), (ours, theirs)
    for a, b in zip(NUMBER.findall(ours), NUMBER.findall(theirs)):
        digits = len(a.split(".")[1])
        assert abs(float(a) - float(b)) <= 1.01 * 10.0 ** -digits, (ours, theirs)


def assert_same_log(ours, theirs, rtol=1e-4, atol=1e-5):
    """Two logs entry by entry: printed lines by ``assert_same_lines``, the rest (numbers,
    arrays, nested lists) by ``assert_same``."""
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        if isinstance(a, str):
            assert_same_lines(a, b)
        else:
            assert_same(a, b, rtol=rtol, atol=atol)
