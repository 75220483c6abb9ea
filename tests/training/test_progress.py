"""sg.train's progress bar (symgrad/training/progress.py): "compiling… N s" until the compiled
loop runs, then a rate and an ETA timed from then on, with the latest loss."""
import time

import numpy as np
import pytest

import symgrad as sg
from symgrad.training import progress
from workloads import mlp_data, mlp_step

pytest.importorskip("tqdm")


def frames(text):
    return [frame.strip() for frame in text.replace("\r", "\n").split("\n") if frame.strip()]


def test_the_bar_says_compiling_then_shows_rate_and_loss(capsys):
    x, y, w1, w2 = mlp_data()
    _, history = sg.train(mlp_step, (w1, w2), data=(x, y), steps=40, progress=True)
    shown = frames(capsys.readouterr().err)
    compiling = [frame for frame in shown if "compiling…" in frame]
    running = [frame for frame in shown if "compiled in" in frame]
    assert compiling and running, shown
    assert shown.index(compiling[-1]) < shown.index(running[0])
    assert not any("step/s" in frame or "<" in frame for frame in compiling)
    assert running[-1].split("|")[2].lstrip().startswith("40/40")
    assert f"loss={history[-1]:.4g}" in running[-1]


def test_the_rate_counts_only_steps_after_compilation(capsys):
    bar = progress.TrainingBar(total=100)
    bar.advance(1, loss=3.0)             # the eager first step, during a long compile
    bar.bar.start_t -= 70.0              # as if it had taken 70 s
    bar.compiled()
    time.sleep(0.05)
    bar.advance(11, loss=2.0)
    meter = bar.bar.format_dict
    assert meter["initial"] == 1 and meter["n"] == 11
    assert meter["elapsed"] < 5.0        # timed from the end of the compile, not its start
    assert bar.bar.desc.startswith("train (compiled in 7")
    bar.close()
    assert "loss=2" in frames(capsys.readouterr().err)[-1]


def test_without_a_bar_nothing_is_drawn(capsys):
    with progress.TrainingBar(total=5, enabled=False) as bar:
        bar.advance(2, loss=np.float64(1.0))
        bar.compiled()
    assert capsys.readouterr().err == ""
