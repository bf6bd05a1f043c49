"""The live figure of `fit(..., live=True)`: loss (and accuracy) curves and a 2-D decision boundary, updated in place.

In a notebook the figure is one output, replaced through an IPython display
handle, so training leaves a single picture (the last one is what a notebook
run without a front end saves). Refreshes are spaced so that drawing takes at
most `SHARE` of the time: after a refresh that took c seconds, the next waits
until training has run c·(1 − SHARE)/SHARE seconds more (and the first waits for
MIN_INTERVAL, so a run faster than that draws only its end). The decision boundary
is scored with the model's compiled forward pass (`compile_graph`), one numpy
call per refresh. Outside a kernel, fit shows its text progress bar instead and
says so once.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from autograd_lite import CompileCheckError, Value, compile_graph
from nn.figures.plot import decision_boundary, loss_curves
from nn.training.history import History
from nn.training.loop import Callback
from nn.training.metrics import CLASSIFICATION, predict

if TYPE_CHECKING:
    from IPython.display import DisplayHandle, Image
    from matplotlib.figure import Figure

    from nn.module import Module

SHARE = 0.1  # the most of the training time that drawing may take
MIN_INTERVAL = 0.25  # seconds: no front end needs more than 4 pictures a second
RESOLUTION = 60  # grid points per side of the decision boundary
EXTRA = "fit(live=True) needs matplotlib and IPython: pip install 'autograd-lite[notebooks]'"
FALLBACK_NOTE = "fit(live=True): no notebook kernel here, so showing the text progress bar instead of a live figure"

clock: Callable[[], float] = time.perf_counter  # tests put a fake clock here
_told = False  # whether the fallback note was printed already (once per process)


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (a front end can show and replace a figure)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def display_handle() -> DisplayHandle:
    """A new, empty output in the notebook that `update(picture)` replaces."""
    from IPython.display import display

    return display(display_id=True)


def png(figure: Figure) -> Image:
    """The figure as an IPython PNG image (the same picture in every front end, no pyplot needed)."""
    from IPython.display import Image

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return Image(data=buffer.getvalue(), format="png")


def compiled_scorer(model: Module, X: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A function scoring an (n, features) array in one compiled forward pass; nn.predict if the model won't compile.

    The parameters are the graph's leaves (read at every call, as they change while training goes on), so
    a model whose graph depends on its data or its parameters is refused (and scored by nn.predict).
    """
    placeholders = [Value(v, f"x{i}", requires_grad=False) for i, v in enumerate(X[-1].tolist())]
    try:
        parameters = model.parameters() if callable(getattr(model, "parameters", None)) else []
        graph = compile_graph(lambda *xs: model(list(xs)), placeholders, leaves=parameters)
        graph.forward(*X[:1].T)  # the first forward runs the check
    except (CompileCheckError, NotImplementedError, TypeError, ValueError, FloatingPointError):
        return lambda points: predict(model, points)
    return lambda points: np.asarray(graph.forward(*np.asarray(points, dtype=float).T))


class LiveFigure:
    """Loss, accuracy (classification) and decision boundary (2 features) of a model in training, kept on screen."""

    def __init__(
        self, model: Module, X: npt.ArrayLike, y: npt.ArrayLike, loss: Callable[..., Value], epochs: int
    ) -> None:
        try:
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(EXTRA) from None
        self.model, self.X, self.y, self.epochs = model, np.asarray(X, dtype=float), np.asarray(y), epochs
        self.boundary = loss in CLASSIFICATION and self.X.ndim == 2 and self.X.shape[1] == 2
        panels = 1 + (loss in CLASSIFICATION) + self.boundary
        self.figure = Figure(figsize=(3.6 * panels, 3.0))
        self.axes = self.figure.subplots(1, panels, squeeze=False)[0]
        # fixed margins: a layout engine would cost more than the drawing itself at every refresh
        self.figure.subplots_adjust(left=0.25 / panels, right=0.98, bottom=0.16, top=0.9, wspace=0.35)
        self.score = compiled_scorer(model, self.X) if self.boundary else None
        self.handle: DisplayHandle | None = None
        self.refreshes = 0  # how many pictures were sent
        self.drawing_seconds = 0.0
        self.cost = 0.0  # seconds the last refresh took
        self.last = clock()  # when the last refresh ended; the first waits for MIN_INTERVAL of training
        self.shown = -1  # the epoch of the last picture

    def due(self, now: float) -> bool:
        """Whether enough training time has passed since the last refresh to keep drawing under SHARE."""
        return now - self.last >= max(MIN_INTERVAL, self.cost * (1 - SHARE) / SHARE)

    def update(self, epoch: int, history: History) -> None:
        """After an epoch: redraw if it is due (always after the last epoch)."""
        if history.epochs >= self.epochs or self.due(clock()):  # epoch counts on after a resume: not from 0
            self.refresh(history)

    def finish(self, history: History) -> None:
        """After training (finished or stopped): make sure the picture shows the last epoch."""
        if history.epochs - 1 != self.shown:
            self.refresh(history)

    def refresh(self, history: History) -> None:
        """Draw the history and the model as they are now, and replace the picture on screen."""
        start = clock()
        self.draw(history)
        picture = png(self.figure)
        if self.handle is None:
            self.handle = display_handle()
        self.handle.update(picture)
        self.last = clock()
        self.cost = self.last - start
        self.drawing_seconds += self.cost
        self.refreshes += 1
        self.shown = history.epochs - 1

    def draw(self, history: History) -> None:
        """The panels: loss, accuracy, boundary."""
        for ax in self.axes:
            ax.clear()
        epochs = f"epoch {history.epochs}/{self.epochs}"
        loss_curves(history, ax=self.axes[0], title=f"loss · {epochs}")
        span = (history.first_epoch - 0.5, history.first_epoch + max(self.epochs, 2) - 0.5)  # a resumed fit's epochs
        self.axes[0].set_xlim(*span)
        if len(self.axes) > 1 and history.epochs:
            loss_curves(history, ax=self.axes[1], metric="accuracy", title=f"accuracy {history.accuracy[-1]:.1%}")
            self.axes[1].set_xlim(*span)
        for ax in self.axes[:2]:
            for line in ax.get_lines():
                line.set_marker("o" if history.epochs == 1 else "")  # one epoch: a point, not an invisible line
        if self.boundary:
            decision_boundary(self.model, self.X, self.y, ax=self.axes[-1], resolution=RESOLUTION,
                              title="decision boundary", scorer=self.score)


def live_callback(
    model: Module, X: npt.ArrayLike, y: npt.ArrayLike, loss: Callable[..., Value], epochs: int,
    callback: Callback | None,
) -> tuple[Callback | None, LiveFigure | None]:
    """fit's callback wrapped to refresh a LiveFigure first, and the figure; outside a kernel, the callback as it was.

    Outside a kernel the note that the text progress bar stands in is printed once per process.
    """
    global _told
    if not in_kernel():
        if not _told:
            print(FALLBACK_NOTE, file=sys.stderr, flush=True)
            _told = True
        return callback, None
    live = LiveFigure(model, X, y, loss, epochs)

    def both(epoch: int, history: History) -> object:
        live.update(epoch, history)
        return None if callback is None else callback(epoch, history)

    return both, live
