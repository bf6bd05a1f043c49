"""What `train` and `demo` write: the decision boundary, the loss curves, one neuron's graph, and the scores.

Everything is made in memory first and written only at the end, so a failure
while plotting leaves no half-filled output folder behind.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

import nn
from autograd_lite import Value, draw_dot

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def score_line(loss: Callable[..., Value], predictions: np.ndarray, targets: np.ndarray) -> str:
    """`training accuracy: 97.0%` for a classification loss; mean squared error and R² for mse."""
    count = nn.training.metrics.CLASSIFICATION.get(loss)
    if count is not None:
        return f"training accuracy: {count(np.asarray(predictions), np.asarray(targets)) / len(targets):.1%}"
    error = float(np.mean((predictions - targets) ** 2))
    spread = float(np.var(targets))
    r2 = f", R² {1.0 - error / spread:.3f}" if spread > 0 else ""
    return f"training mean squared error: {error:.4g}{r2}"


def first_neuron_svg(model: nn.MLP, x: list[float]) -> bytes:
    """The graph of the model's first neuron on input x, backpropagated from its own output (gradient 1 there)."""
    neuron = next(module for _, module in model.named_modules() if isinstance(module, nn.Neuron))
    out = neuron(x)
    out.backward()
    data: bytes = draw_dot(out, cluster=model.drawing_groups()).pipe(format="svg")
    return data


def png_bytes(figure: Figure) -> bytes:
    """A matplotlib figure as PNG bytes (and the figure closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def boundary_png(model: nn.MLP, X: np.ndarray, labels: np.ndarray, resolution: int = 80) -> bytes:
    """The decision regions over the data as PNG bytes, the grid scored in one compiled batch by nn.predict."""
    import matplotlib.pyplot as plt

    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (hi - lo) + 0.25
    xx, yy = np.meshgrid(*(np.linspace(lo[i] - pad[i], hi[i] + pad[i], resolution) for i in range(2)))
    scores = nn.predict(model, np.column_stack([xx.ravel(), yy.ravel()]))
    threshold = 0.5 if model.output_activation == "sigmoid" else 0.0
    choice = (scores > threshold).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
    classes = max(int(labels.max()) + 1, 2)
    colours = [nn.plot.CLASS_COLOURS[k % len(nn.plot.CLASS_COLOURS)] for k in range(classes)]
    fig, ax = plt.subplots(figsize=(5, 4))
    levels = np.arange(classes + 1) - 0.5
    ax.contourf(xx, yy, choice.reshape(xx.shape), levels=levels, colors=colours, alpha=0.25)
    if scores.ndim == 1 and scores.min() < threshold < scores.max():
        ax.contour(xx, yy, scores.reshape(xx.shape), levels=[threshold], colors="k", linewidths=1)
    size = 50 if len(X) <= 20 else 20  # a handful of points (XOR) drawn larger
    ax.scatter(X[:, 0], X[:, 1], c=[colours[k] for k in labels], s=size, edgecolors="k")
    ax.set_title("decision boundary")
    return png_bytes(fig)


def curves_png(history: nn.History) -> bytes:
    """Loss (and accuracy, for a classification loss) per epoch as PNG bytes."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    nn.plot.loss_curves(history, ax=left, metric="loss", title="loss")
    if history.accuracy and all(a is not None for a in history.accuracy):
        nn.plot.loss_curves(history, ax=right, metric="accuracy", title="accuracy")
    else:
        right.set_axis_off()
    return png_bytes(fig)
