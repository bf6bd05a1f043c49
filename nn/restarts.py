"""Random restarts: train one architecture from K seeds and compare the K classifiers you get.

`random_restarts(make_model, X, y, loss, optimizer_factory, k, epochs)` builds
`make_model(seed)` for seeds first_seed, first_seed + 1, ..., trains each with
`nn.fit` (shuffling with the same seed, so a run is repeatable), and returns a
`Restarts` record: the models, their histories, and each one's loss and
accuracy on (X, y) after training. `Restarts.plot()` draws the spread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from autograd_lite import Value, no_grad
from nn.checks import integer, number
from nn.figures.axes import axes_or_new
from nn.training.fit import fit
from nn.training.history import History
from nn.training.metrics import CLASSIFICATION, accuracy

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from nn.module import Module
    from nn.optim import Optimizer


@dataclass
class Restarts:
    """K training runs of one architecture: per seed its model, History, final loss and final accuracy.

    `losses` is the loss on all of (X, y) after training (without the l2 term);
    `accuracies` is the fraction of (X, y) classified right then (None for a regression loss).
    """

    seeds: list[int] = field(default_factory=list)
    models: list[Module] = field(default_factory=list)
    histories: list[History] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    accuracies: list[float | None] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C stopped a run: the seeds after it were not trained

    def reached(self, target: float = 1.0) -> int:
        """How many runs classify at least a fraction `target` of (X, y) right."""
        target = number(target, "target", 0, 1, high_open=False)
        if any(a is None for a in self.accuracies):
            raise ValueError("these runs have no accuracy (they were trained with a regression loss)")
        return sum(a is not None and a >= target for a in self.accuracies)

    def best(self) -> int:
        """Index of the best run: highest final accuracy, then lowest final loss."""
        if not self.seeds:
            raise ValueError("no run finished")
        return min(range(len(self.seeds)), key=lambda i: (-(self.accuracies[i] or 0.0), self.losses[i]))

    def plot(self, ax: Axes | None = None, title: str | None = None) -> Axes:
        """Each seed's final loss as a bar (log scale), coloured by its final accuracy (grey: none); returns Axes."""
        if not self.seeds:
            raise ValueError("no run finished: nothing to plot")
        from matplotlib import cm, colors

        new_figure = ax is None
        ax = axes_or_new(ax, (max(4.0, 0.3 * len(self.seeds) + 2.0), 3.2))
        known = [a for a in self.accuracies if a is not None]
        low, high = (min(known), max(known)) if known else (0.0, 1.0)
        scale = colors.Normalize(low, max(high, low + 0.01))  # the spread of these runs, not all of [0, 1]
        shades = [cm.viridis(scale(a)) if a is not None else "grey" for a in self.accuracies]
        ax.bar([str(s) for s in self.seeds], self.losses, color=shades, edgecolor="k", linewidth=0.5)
        if len(self.seeds) > 12:
            ax.tick_params(axis="x", labelsize=7)
        if min(self.losses) > 0:
            ax.set_yscale("log")
        ax.set_xlabel("seed")
        ax.set_ylabel("final loss")
        if any(a is not None for a in self.accuracies):
            bar = ax.figure.colorbar(cm.ScalarMappable(scale, "viridis"), ax=ax)
            bar.set_label("final accuracy")
        if title is not None:
            ax.set_title(title)
        if new_figure:
            ax.figure.tight_layout()  # type: ignore[union-attr]  # ours: a Figure, not a SubFigure
        return ax


def random_restarts(
    make_model: Callable[[int], Module],
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    loss: Callable[..., Value],
    optimizer_factory: Callable[[list[Value]], Optimizer],
    k: int,
    epochs: int,
    first_seed: int = 0,
    **fit_options: Any,  # Any: passed on to fit
) -> Restarts:
    """Train `make_model(seed)` with `optimizer_factory(model.parameters())` for k seeds from `first_seed`.

    `fit_options` go to `nn.fit` (batch_size, l2, compiled, callback, ...); `seed` is the
    run's seed and `progress` is off. Bad arguments raise ValueError before any training.
    Ctrl-C stops after the current run and returns the runs so far (`interrupted` set).
    """
    if not callable(make_model) or hasattr(make_model, "parameters"):  # a model is callable too
        example = "lambda seed: nn.MLP(..., seed=seed)"
        raise ValueError(f"make_model must be a function seed -> model, e.g. {example}, got {make_model!r}")
    if not callable(optimizer_factory):
        raise ValueError(f"optimizer_factory must be a function parameters -> optimizer, got {optimizer_factory!r}")
    k = integer(k, "k")
    epochs = integer(epochs, "epochs", 0)
    first_seed = integer(first_seed, "first_seed", 0)
    for taken in ("seed", "progress"):
        if taken in fit_options:
            raise ValueError(f"random_restarts sets fit's {taken!r} itself; leave it out")
    runs = Restarts()
    for seed in range(first_seed, first_seed + k):
        model = make_model(seed)
        if not callable(getattr(model, "parameters", None)):
            raise ValueError(f"make_model({seed}) must return an nn module, got {type(model).__name__}")
        optimizer = optimizer_factory(model.parameters())
        history = fit(model, X, y, loss, optimizer, epochs, seed=seed, progress=False, **fit_options)
        if history.interrupted:
            runs.interrupted = True
            break
        runs.seeds.append(seed)
        runs.models.append(model)
        runs.histories.append(history)
        runs.losses.append(_final_loss(model, X, y, loss))
        runs.accuracies.append(accuracy(model, X, y, loss) if loss in CLASSIFICATION else None)
    return runs


def _final_loss(model: Module, X: npt.ArrayLike, y: npt.ArrayLike, loss: Callable[..., Value]) -> float:
    """The loss over all of (X, y), without building a graph."""
    rows, targets = np.asarray(X, dtype=float).tolist(), np.asarray(y).tolist()  # fit has checked both
    with no_grad():
        return loss([model(x) for x in rows], targets).data
