"""Plots for notebooks and the CLI: a classifier's decision regions and training curves.

matplotlib is an extra (`pip install 'autograd-lite[notebooks]'`), imported only
when a plot is made, so `import nn` works without it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nn.checks import integer
from nn.figures.axes import axes_or_new
from nn.training.history import History
from nn.training.metrics import outputs_probabilities, predict

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from nn.module import Module

METRICS = ("loss", "accuracy")
# One colour per class (regions light, points full), readable in print and for most colour-blind readers.
CLASS_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")


def _threshold(model: Module) -> float:
    """Where a one-output model's score divides the classes: 0.5 after a sigmoid, else 0 (a logit or hinge score)."""
    return 0.5 if outputs_probabilities(model) else 0.0


def _margins(scores: np.ndarray, threshold: float) -> list[np.ndarray]:
    """Per class, how far the model is from choosing another class (> 0 where it chooses this one).

    Filling each class where its margin is >= 0 gives smooth, artefact-free borders
    (a contour of class numbers would paint a sliver of class 1 between classes 0 and 2).
    """
    if scores.ndim == 1:
        return [threshold - scores, scores - threshold]
    margins = []
    for c in range(scores.shape[1]):
        others = np.delete(scores, c, axis=1).max(axis=1)
        margins.append(scores[:, c] - others)
    return margins


def _label_classes(y: np.ndarray, outputs: int) -> np.ndarray:
    """Labels as class indices 0, 1, ...: ±1 and 0/1 labels of a one-output model become 0 and 1."""
    if y.dtype.kind not in "biuf" or not np.isfinite(y.astype(float)).all():
        raise ValueError("y must hold finite numeric labels")
    labels = set(y.tolist())
    if outputs == 1:
        if labels <= {-1, 1}:
            return (y > 0).astype(int)
        if labels <= {0, 1}:
            return y.astype(int)
        raise ValueError(f"a one-output model needs labels ±1 or 0/1, got {sorted(labels)[:5]}")
    if not all(float(c).is_integer() and 0 <= c < outputs for c in labels):
        raise ValueError(f"a {outputs}-output model needs class labels 0..{outputs - 1}, got {sorted(labels)[:5]}")
    return y.astype(int)


def class_names(y: np.ndarray, outputs: int) -> list[str]:
    """The legend's name of each class index, in the labels' own terms (y = -1 and y = +1, or class 0, 1, ...)."""
    if outputs == 1 and set(y.tolist()) <= {-1, 1}:
        return ["y = -1", "y = +1"]
    return [f"class {c}" for c in range(max(outputs, 2))]


def _class_legend(ax: Axes, palette: list[str], names: list[str]) -> None:
    """A legend with one marker per class: the point colour and, behind it, the region colour."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], marker="o", linestyle="", markerfacecolor=colour, markeredgecolor="k", label=name)
        for colour, name in zip(palette, names, strict=True)
    ]
    ax.legend(handles=handles, loc="best", fontsize="small", framealpha=0.8, title="points: label, shade: predicted")


def _points(X: npt.ArrayLike, y: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """X as an (n, 2) float array and y as an (n,) array; ValueError naming what is wrong."""
    try:
        points = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("X must be a 2-D array of numbers (rows are samples)") from None
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f"decision_boundary draws 2-D inputs: X must have shape (n, 2), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError("X contains NaN or infinity")
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(points):
        raise ValueError(f"X has {len(points)} rows but y has shape {labels.shape}")
    return points, labels


def _grid(points: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A resolution × resolution mesh over the points' range plus a margin on every side."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = 0.1 * (hi - lo) + 0.25
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    return np.meshgrid(xs, ys)


def decision_boundary(
    model: Module, X: npt.ArrayLike, y: npt.ArrayLike, ax: Axes | None = None, resolution: int = 200,
    title: str | None = None, scorer: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Axes:
    """The model's predicted class over a grid around X as filled regions, with the points coloured by label.

    A one-output model's class is its score against 0 (hinge scores, logits) or 0.5
    (the output of a sigmoid MLP or Neuron); several outputs mean argmax.
    A one-output model's boundary is also drawn as a line. The grid (resolution² points, scored in
    one array call) is fine enough that borders are smooth, not stepped. Axes are the inputs x0, x1;
    a legend names the classes. `scorer` scores an (n, 2) array of points like
    `nn.predict(model, points)` (the live figure of `fit` passes a compiled one). Returns the Axes.
    """
    if not callable(model):
        raise TypeError(f"model must be a callable nn module, got {type(model).__name__}")
    resolution = integer(resolution, "resolution", 2)
    points, labels = _points(X, y)
    score = scorer or (lambda p: predict(model, p))
    first = score(points[:1])  # checks the model against X before anything is drawn
    outputs = 1 if first.ndim == 1 else first.shape[1]
    truth = _label_classes(labels, outputs)
    ax = axes_or_new(ax, (5, 4))
    xx, yy = _grid(points, int(resolution))
    scores = score(np.column_stack([xx.ravel(), yy.ravel()]))
    threshold = _threshold(model)

    from matplotlib.colors import ListedColormap

    k = max(outputs, 2)
    palette = [CLASS_COLOURS[i % len(CLASS_COLOURS)] for i in range(k)]
    for colour, margin in zip(palette, _margins(scores, threshold)):  # one filled contour per class
        grid = margin.reshape(xx.shape)
        ax.contourf(xx, yy, grid, levels=[0.0, max(grid.max(), 0.0) + 1.0], colors=[colour], alpha=0.25)
    colours = ListedColormap(palette)
    if scores.ndim == 1 and scores.min() < threshold < scores.max():
        ax.contour(xx, yy, scores.reshape(xx.shape), levels=[threshold], colors="k", linewidths=1)
    size = 50 if len(points) <= 20 else 20  # a handful of points (XOR) drawn larger
    ax.scatter(points[:, 0], points[:, 1], c=truth, cmap=colours, vmin=-0.5, vmax=k - 0.5, s=size, edgecolors="k")
    _class_legend(ax, palette, class_names(labels, outputs))
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.set_xlabel("x0")  # nn's names for a sample's two inputs
    ax.set_ylabel("x1")
    if title is not None:
        ax.set_title(title)
    return ax


def _named_histories(histories: History | Mapping[str, History]) -> dict[str | None, History]:
    """{name: History}; a single History gets the name None (no legend)."""
    if isinstance(histories, History):
        return {None: histories}
    if not isinstance(histories, Mapping):
        raise TypeError(f"histories must be an nn.History or a dict name → History, got {type(histories).__name__}")
    if not histories:
        raise ValueError("histories is empty: nothing to plot")
    for name, history in histories.items():
        if not isinstance(history, History):
            raise TypeError(f"histories[{name!r}] must be an nn.History, got {type(history).__name__}")
    return {str(name): history for name, history in histories.items()}


def loss_curves(
    histories: History | Mapping[str, History], ax: Axes | None = None, metric: str = "loss", title: str | None = None
) -> Axes:
    """Per-epoch `metric` ("loss" or "accuracy") of one History, or one line per named History with a legend."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(map(repr, METRICS))}, got {metric!r}")
    named = _named_histories(histories)
    for name, history in named.items():
        values = getattr(history, metric)
        if metric == "accuracy" and values and any(v is None for v in values):
            who = "the history" if name is None else f"history {name!r}"
            raise ValueError(f"{who} has no accuracy (it was trained with a regression loss)")
    ax = axes_or_new(ax, (6, 3.5))
    for name, history in named.items():
        values = getattr(history, metric)
        first = history.first_epoch  # 41 for a fit resumed after epoch 40
        ax.plot(range(first, first + len(values)), values, label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if metric == "accuracy":
        ax.set_ylim(-0.02, 1.02)
    if None not in named:
        ax.legend()
    if title is not None:
        ax.set_title(title)
    return ax

