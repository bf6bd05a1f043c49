"""What `train` and `demo` write: the decision boundary, the loss curves, one neuron's graph, and the scores.

Everything is made in memory first and written only at the end, so a failure
while plotting leaves no half-filled output folder behind.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

import nn
from autograd_lite import CompileCheckError, Value, compile_graph, draw_dot


def batch_predict(model: nn.MLP, X: np.ndarray) -> np.ndarray:
    """nn.predict's result, computed by the compiled numpy path: one traced graph replayed over all rows."""
    inputs = [Value(0.0, f"x{i}", requires_grad=False) for i in range(model.nin)]
    try:
        compiled = compile_graph(lambda *xs: model(list(xs)), inputs)
        return np.asarray(compiled.forward(*np.asarray(X, dtype=float).T), dtype=float)
    except (CompileCheckError, FloatingPointError, OverflowError):
        return nn.predict(model, X)  # the scalar engine says the same, slowly, or raises with a clear message


def score_line(loss: Any, predictions: np.ndarray, targets: np.ndarray) -> str:
    """`training accuracy: 97.0%` for a classification loss; mean squared error and R² for mse."""
    count = nn.train.CLASSIFICATION.get(loss)
    if count is not None:
        return f"training accuracy: {count(predictions.tolist(), targets.tolist()) / len(targets):.1%}"
    error = float(np.mean((predictions - targets) ** 2))
    spread = float(np.var(targets))
    r2 = f", R² {1.0 - error / spread:.3f}" if spread > 0 else ""
    return f"training mean squared error: {error:.4g}{r2}"


def first_neuron_svg(model: nn.MLP, x: list[float]) -> bytes:
    """The graph of the model's first neuron on input x, backpropagated from its own output (gradient 1 there)."""
    neuron = next(module for _, module in model.named_modules() if isinstance(module, nn.Neuron))
    out = neuron(x)
    out.backward()
    data: bytes = draw_dot(out).pipe(format="svg")
    return data


def png_bytes(figure: Any) -> bytes:
    """A matplotlib figure as PNG bytes (and the figure closed)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def boundary_png(model: nn.MLP, X: np.ndarray, labels: np.ndarray) -> bytes:
    """The decision regions over the data as PNG bytes."""
    ax = nn.plot.decision_boundary(model, X, labels, title="decision boundary")
    return png_bytes(ax.figure)


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
