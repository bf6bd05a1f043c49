"""nn.plot: decision regions and training curves, checked through the Axes they draw on (Agg, no images)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import nn
from nn import plot

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402

X = np.array([[-2.0, -1.0], [-1.0, 1.5], [1.0, -0.5], [3.0, 2.0]])


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def neuron(activation, w, b):
    """A 2-input neuron with the given weights: its boundary is the line w·x + b = 0 (or σ(w·x + b) = 0.5)."""
    model = nn.Neuron(2, activation)
    model.load_state_dict([*w, b])
    return model


def contours(ax):
    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    return filled, lines


def boundary_xs(line_set):
    """x of every vertex of a contour line set."""
    return np.concatenate([seg[:, 0] for segs in line_set.allsegs for seg in segs])


def region_xs(filled, cls):
    """x of every vertex of the filled region of one class (one filled contour set per class)."""
    return np.concatenate([seg[:, 0] for seg in filled[cls].allsegs[0]])


@pytest.mark.parametrize(
    ("activation", "b", "labels", "boundary"),
    [
        ("linear", 0.0, [-1, -1, 1, 1], 0.0),  # hinge scores: decided at 0
        ("linear", 1.0, [0, 0, 1, 1], -1.0),  # logits with 0/1 labels: decided at 0
        ("sigmoid", 0.0, [0, 0, 1, 1], 0.0),  # probabilities: decided at 0.5
        ("tanh", -0.5, [-1, -1, 1, 1], 0.5),
    ],
)
def test_regions_split_where_the_model_decides(activation, b, labels, boundary):
    ax = plot.decision_boundary(neuron(activation, [1.0, 0.0], b), X, labels, resolution=41)
    filled, lines = contours(ax)
    assert len(filled) == 2 and len(lines) == 1
    np.testing.assert_allclose(boundary_xs(lines[0]), boundary, atol=1e-3)  # interpolated between grid points
    assert region_xs(filled, 0).max() == pytest.approx(boundary, abs=1e-3)  # class 0 left of the line
    assert region_xs(filled, 1).min() == pytest.approx(boundary, abs=1e-3)  # class 1 right of it


def test_grid_covers_the_data_and_points_are_coloured_by_class():
    ax = plot.decision_boundary(neuron("linear", [1.0, 0.0], 0.0), X, np.array([-1, 1, -1, 1]))
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max()
    assert y0 < X[:, 1].min() and y1 > X[:, 1].max()
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection) and not isinstance(c, ContourSet)]
    np.testing.assert_array_equal(points.get_offsets(), X)
    np.testing.assert_array_equal(points.get_array(), [0, 1, 0, 1])


def test_several_outputs_use_argmax():
    model = nn.MLP(2, [3], output_activation="linear", seed=0)
    model.load_state_dict([1.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.5])  # scores x, -x, 0.5
    ax = plot.decision_boundary(model, X, [1, 0, 2, 0], resolution=21)
    filled, lines = contours(ax)
    assert len(filled) == 3 and lines == []  # one region per class, no single score line
    assert region_xs(filled, 0).min() == pytest.approx(0.5, abs=1e-9)  # class 0 (score x) wins where x > 0.5
    assert region_xs(filled, 1).max() == pytest.approx(-0.5, abs=1e-9)  # class 1 (score -x) where x < -0.5
    assert region_xs(filled, 2).min() == pytest.approx(-0.5, abs=1e-9)  # class 2 (score 0.5) in between
    assert region_xs(filled, 2).max() == pytest.approx(0.5, abs=1e-9)


def test_several_outputs_need_class_indices():
    model = nn.MLP(2, [3], seed=0)
    with pytest.raises(ValueError, match=r"class labels 0\.\.2"):
        plot.decision_boundary(model, X, [0, 1, 3, 1])


def test_bad_labels_are_refused_before_a_figure_is_made():
    with pytest.raises(ValueError, match="labels"):
        plot.decision_boundary(neuron("linear", [1.0, 0.0], 0.0), X, [0, 1, 2, 1])
    assert plt.get_fignums() == []


def test_a_model_of_other_inputs_is_refused():
    with pytest.raises(ValueError, match="3 inputs"):
        plot.decision_boundary(nn.MLP(3, [1], seed=0), X, [0, 1, 0, 1])


def test_draws_on_the_given_axes_with_a_title():
    _, ax = plt.subplots()
    out = plot.decision_boundary(neuron("linear", [0.0, 1.0], 0.0), X, [0, 1, 0, 1], ax=ax, title="regions")
    assert out is ax and ax.get_title() == "regions"


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "words"),
    [
        ((X[:, :1], [0, 1, 0, 1]), {}, ValueError, "shape (n, 2)"),
        ((X, [0, 1, 0]), {}, ValueError, "4 rows"),
        (([*X.tolist(), [np.nan, 0.0]], [0, 1, 0, 1, 0]), {}, ValueError, "NaN"),
        ((X, [0, 1, 2, 1]), {}, ValueError, "labels ±1 or 0/1"),
        ((X, ["a", "b", "a", "b"]), {}, ValueError, "numeric labels"),
        ((X, [0, 1, 0, 1]), {"resolution": 1}, ValueError, "resolution"),
        ((X, [0, 1, 0, 1]), {"resolution": 8.5}, ValueError, "resolution"),
        ((X, [0, 1, 0, 1]), {"ax": "axes"}, TypeError, "matplotlib Axes"),
    ],
)
def test_decision_boundary_refuses_bad_input(args, kwargs, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        plot.decision_boundary(neuron("linear", [1.0, 0.0], 0.0), *args, **kwargs)


def test_decision_boundary_needs_a_model():
    with pytest.raises(TypeError, match="model"):
        plot.decision_boundary("model", X, [0, 1, 0, 1])


def history(losses, accuracies=None):
    h = nn.History()
    h.loss.extend(losses)
    h.accuracy.extend(accuracies if accuracies is not None else [None] * len(losses))
    return h


def test_one_history_is_one_line_without_legend():
    ax = plot.loss_curves(history([3.0, 2.0, 1.5]), title="training")
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(line.get_ydata(), [3.0, 2.0, 1.5])
    assert ax.get_legend() is None and ax.get_xlabel() == "epoch" and ax.get_title() == "training"


@pytest.mark.parametrize("metric", ["loss", "accuracy"])
def test_named_histories_are_one_line_each_with_a_legend(metric):
    runs = {
        "online": history([1.0, 0.5], [0.5, 1.0]),
        "full batch": history([1.0, 0.9, 0.8], [0.5, 0.5, 0.75]),
        "mini-batch": history([1.0], [0.25]),
    }
    ax = plot.loss_curves(runs, metric=metric)
    lines = ax.get_lines()
    assert len(lines) == 3 and ax.get_ylabel() == metric
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(runs)
    for line, h in zip(lines, runs.values()):
        np.testing.assert_array_equal(line.get_ydata(), getattr(h, metric))


@pytest.mark.parametrize(
    ("histories", "kwargs", "error", "words"),
    [
        (history([1.0]), {"metric": "acc"}, ValueError, "metric must be one of"),
        (history([1.0]), {"metric": "accuracy"}, ValueError, "regression"),
        ({"a": history([1.0])}, {"metric": "accuracy"}, ValueError, "history 'a'"),
        ({}, {}, ValueError, "empty"),
        ([history([1.0])], {}, TypeError, "nn.History or a dict"),
        ([1.0, 0.5], {}, TypeError, "nn.History or a dict"),
        ({"a": [1.0, 0.5]}, {}, TypeError, r"histories\['a'\]"),
        (history([1.0]), {"ax": 3}, TypeError, "matplotlib Axes"),
    ],
)
def test_loss_curves_refuses_bad_input(histories, kwargs, error, words):
    with pytest.raises(error, match=words):
        plot.loss_curves(histories, **kwargs)


def test_a_real_fit_history_plots():
    Xx, yx = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], seed=0)
    h = nn.fit(model, Xx, 2 * yx - 1, nn.hinge, nn.SGD(model.parameters(), 0.1), epochs=3, progress=False)
    ax = plot.loss_curves({"sgd": h}, metric="accuracy")
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), h.accuracy)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # makes `import matplotlib.pyplot` fail
    with pytest.raises(ImportError, match=r"pip install 'autograd-lite\[notebooks\]'"):
        plot.loss_curves(history([1.0]))


def test_the_boundary_has_named_axes_and_a_legend_of_the_classes():
    ax = plot.decision_boundary(neuron("linear", [1.0, 0.0], 0.0), X, np.array([-1, 1, -1, 1]))
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x0", "x1")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["y = -1", "y = +1"]
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection) and not isinstance(c, ContourSet)]
    point_colours = points.to_rgba(points.get_array())  # the colour of each point, class 0 then 1
    legend_colours = [matplotlib.colors.to_rgba(h.get_markerfacecolor()) for h in legend.legend_handles]
    np.testing.assert_allclose(legend_colours, point_colours[[0, 1]])
    model = nn.MLP(2, [3], output_activation="linear", seed=0)
    ax = plot.decision_boundary(model, X, np.array([0, 1, 2, 0]))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]


def test_the_default_boundary_follows_a_curve_smoothly_not_in_steps():
    circle = neuron("linear", [1.0, 0.0], 0.0)
    ring = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 12, endpoint=False)]) * 1.5
    ax = plot.decision_boundary(circle, ring, np.ones(12), scorer=lambda p: (p**2).sum(axis=1) - 1.0)
    _, (line,) = contours(ax)
    vertices = np.concatenate([seg for segs in line.allsegs for seg in segs])
    assert len(vertices) > 300  # a fine grid: many short pieces
    radius = np.hypot(vertices[:, 0], vertices[:, 1])
    assert np.abs(radius - 1.0).max() < 1e-3  # on the circle, not on the grid's cell edges
    steps = np.diff(vertices, axis=0)
    square = np.isclose(steps[:, 0], 0) | np.isclose(steps[:, 1], 0)
    assert square.mean() < 0.1  # hardly any piece runs along a grid line, as a staircase's all would
