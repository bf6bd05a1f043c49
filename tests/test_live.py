"""fit(live=True): refreshes spaced to keep drawing under 10%, the final figure, Ctrl-C, and the fallbacks."""

from __future__ import annotations

import math
import os
import signal
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("IPython")

import nn
import nn.figures.live as live
from autograd_lite import Value

X, LABELS = nn.datasets.make_moons(40, noise=0.1, seed=3)
Y = 2 * LABELS - 1
EPOCH = 1.0  # fake seconds one epoch takes
COST = 2.5  # fake seconds one refresh takes


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeHandle:
    """Stands in for an IPython display handle: records every picture; each takes COST fake seconds to show."""

    def __init__(self, clock: FakeClock, cost: float) -> None:
        self.clock, self.cost, self.pictures = clock, cost, []

    def update(self, picture) -> None:
        self.clock.now += self.cost
        self.pictures.append(picture)


@pytest.fixture
def notebook(monkeypatch):
    """A pretend kernel: a fake clock and display handle; yields (clock, handles, live figures made)."""
    clock, handles, figures = FakeClock(), [], []

    def new_handle():
        handles.append(FakeHandle(clock, COST))
        return handles[-1]

    class Recorded(live.LiveFigure):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            figures.append(self)

    monkeypatch.setattr(live, "in_kernel", lambda: True)
    monkeypatch.setattr(live, "display_handle", new_handle)
    monkeypatch.setattr(live, "clock", clock)
    monkeypatch.setattr(live, "LiveFigure", Recorded)
    return clock, handles, figures


def train(clock, epochs, callback=None, loss=nn.hinge, y=Y):
    """fit(live=True) where each epoch takes EPOCH fake seconds."""

    def tick(epoch, history):
        clock.now += EPOCH
        return None if callback is None else callback(epoch, history)

    model = nn.MLP(2, [8, 1], activation="relu", seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    return model, nn.fit(model, X, y, loss, opt, epochs, progress=False, callback=tick, live=True)


def test_refreshes_are_spaced_to_keep_drawing_under_a_tenth_and_the_last_epoch_is_shown(notebook):
    clock, handles, figures = notebook
    epochs = 100
    _, history = train(clock, epochs)
    (handle,) = handles
    # the first picture after MIN_INTERVAL of training; after a refresh costing c, the next waits c·0.9/0.1 of
    # training: every `gap` epochs; and the last epoch always
    first = math.ceil(live.MIN_INTERVAL / EPOCH)
    gap = math.ceil(COST * (1 - live.SHARE) / live.SHARE / EPOCH)
    expected = len(range(first, epochs, gap)) + (1 if (epochs - 1 - first) % gap else 0)
    assert len(handle.pictures) == expected == figures[0].refreshes
    between = (expected - 2) * COST  # the first (its cost not known yet) and the last (always drawn) aside
    assert between / (epochs * EPOCH + between) <= live.SHARE
    assert history.epochs == epochs and not history.interrupted


def test_cheap_refreshes_happen_every_epoch_once_training_has_run_a_moment(notebook, monkeypatch):
    clock, _, _ = notebook
    handle = FakeHandle(clock, 0.0)
    monkeypatch.setattr(live, "display_handle", lambda: handle)
    train(clock, 6)
    assert len(handle.pictures) == 6 - math.ceil(live.MIN_INTERVAL / EPOCH)  # each epoch from the first due one


def test_the_final_figure_shows_every_epoch_and_the_decision_boundary(notebook):
    clock, handles, figures = notebook
    model, history = train(clock, 30)
    (live,) = figures
    picture = handles[0].pictures[-1]
    assert picture.format == "png" and picture.data.startswith(b"\x89PNG")
    loss_ax, accuracy_ax, boundary_ax = live.axes
    (loss_line,) = loss_ax.get_lines()
    assert np.allclose(loss_line.get_ydata(), history.loss)
    (accuracy_line,) = accuracy_ax.get_lines()
    assert np.allclose(accuracy_line.get_ydata(), history.accuracy)
    assert "30/30" in loss_ax.get_title() and f"{history.accuracy[-1]:.1%}" in accuracy_ax.get_title()
    assert boundary_ax.collections, "regions and points are drawn"
    grid = np.random.default_rng(0).uniform(-2, 3, size=(50, 2))
    assert np.allclose(live.score(grid), nn.predict(model, grid)), "the compiled scorer agrees with the model"


def test_regression_has_the_loss_panel_only(notebook):
    clock, _, figures = notebook
    train(clock, 3, loss=nn.mse, y=X[:, 0] * X[:, 1])
    assert len(figures[0].axes) == 1 and figures[0].score is None


def test_ctrl_c_keeps_the_history_and_the_figure_shows_the_last_epoch(notebook):
    clock, handles, figures = notebook

    def press_ctrl_c(epoch, history):
        if epoch == 4:
            os.kill(os.getpid(), signal.SIGINT)

    _, history = train(clock, 100, callback=press_ctrl_c)
    assert history.interrupted and history.epochs == 5
    assert "epoch 5/100" in figures[0].axes[0].get_title()
    assert len(handles) == 1 and len(handles[0].pictures) == figures[0].refreshes


def test_a_model_that_branches_on_data_is_scored_by_the_scalar_engine():
    model = nn.MLP(2, [4, 1], seed=0)

    def branching(x):
        first = x[0].data if isinstance(x[0], Value) else x[0]  # nn.predict passes floats
        return model(x) if first > 0 else model(x) * 2

    scorer = live.compiled_scorer(branching, np.array([[-1.0, 0.0], [1.0, 0.0]]))
    points = np.array([[-1.0, 0.5], [1.0, 0.5]])
    assert np.allclose(scorer(points), [branching([Value(v) for v in p]).data for p in points])


def test_outside_a_kernel_the_text_bar_stands_in_and_says_so_once(monkeypatch, capsys):
    monkeypatch.setattr(live, "_told", False)
    notes = 0
    for progress in (True, False):  # live=True asks for feedback: the bar shows even with progress=False
        model = nn.MLP(2, [3, 1], seed=0)
        history = nn.fit(model, X, Y, nn.hinge, nn.SGD(model.parameters(), 0.1), 3, progress=progress, live=True)
        assert history.epochs == 3
        err = capsys.readouterr().err
        notes += err.count(live.FALLBACK_NOTE)
        assert "3/3" in err, "the text progress bar ran"
    assert notes == 1


def test_without_matplotlib_in_a_kernel_the_error_names_the_notebooks_extra(monkeypatch):
    monkeypatch.setattr(live, "in_kernel", lambda: True)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    model = nn.MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ImportError, match=r"autograd-lite\[notebooks\]"):
        nn.fit(model, X, Y, nn.hinge, nn.SGD(model.parameters(), 0.1), 3, live=True)
    assert [p.data for p in model.parameters()] == before, "nothing was trained"


def test_live_must_be_a_bool():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="live"):
        nn.fit(model, X, Y, nn.hinge, nn.SGD(model.parameters(), 0.1), 3, live="yes")


def test_not_in_a_kernel_here():
    assert live.in_kernel() is False


def test_a_run_faster_than_the_minimum_interval_draws_only_its_end(notebook, monkeypatch):
    clock, handles, figures = notebook
    monkeypatch.setattr(sys.modules[__name__], "EPOCH", live.MIN_INTERVAL / 100)
    train(clock, 50)
    assert len(handles[0].pictures) == 1 and "50/50" in figures[0].axes[0].get_title()
