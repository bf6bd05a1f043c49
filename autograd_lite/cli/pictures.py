"""What `train` and `demo` write beside the two SVG figures of svg_figures.py: one neuron's graph, and the scores.

Everything is made in memory first and written only at the end, so a failure
while plotting leaves no half-filled output folder behind.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import nn
from autograd_lite import Value, draw_dot


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
