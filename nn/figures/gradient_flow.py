"""Gradient flow: the size of each layer's weight gradients, the practitioner's check for vanishing gradients.

After `loss.backward()`, `layer_gradients(model)` gives per layer (input side
first) the mean and the largest |∂loss/∂w| over its weights (biases left out),
and `gradient_flow(model)` plots both on a log scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nn.figures.axes import axes_or_new
from nn.layers import Layer, Neuron
from nn.module import Module

if TYPE_CHECKING:
    from matplotlib.axes import Axes


@dataclass(frozen=True)
class LayerGradients:
    """One layer's weight-gradient sizes: `mean` and `max` of `|grad|` over its `weights` weights."""

    name: str
    mean: float
    max: float
    weights: int


def _layers(model: Module) -> list[tuple[str, list[Neuron]]]:
    """(dotted name, neurons) of each nn.Layer in the model, in order; a lone Neuron is one layer."""
    if isinstance(model, Neuron):
        return [(model._path or "neuron", [model])]
    if not isinstance(model, Module):
        raise TypeError(f"model must be an nn module (an MLP, a Layer or a Neuron), got {type(model).__name__}")
    layers = [(path or "layer", m.neurons) for path, m in model.named_modules() if isinstance(m, Layer)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no nn.Layer inside: gradient_flow needs layers of neurons")
    return layers


def layer_gradients(model: Module) -> list[LayerGradients]:
    """Mean and max `|grad|` of each layer's weights, first layer first; ValueError if a gradient is NaN or inf."""
    found = []
    for name, neurons in _layers(model):
        sizes = [abs(w.grad) for n in neurons for w in n.w]
        if not all(math.isfinite(s) for s in sizes):
            raise ValueError(f"layer {name} has a NaN or infinite weight gradient")
        mean = math.fsum(s / len(sizes) for s in sizes)  # each term first: gradients near 1e308 cannot overflow
        found.append(LayerGradients(name, mean, max(sizes), len(sizes)))
    return found


def gradient_flow(model: Module, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Mean and max `|∂loss/∂w|` per layer on a log scale (call after backward); returns the Axes.

    A layer whose weight gradients are all exactly 0 cannot sit on a log scale: it is
    marked "0" at the bottom of the plot instead. ValueError if every gradient is 0.
    """
    stats = layer_gradients(model)
    if all(s.max == 0.0 for s in stats):
        raise ValueError("every weight gradient is 0: call backward() on a loss before gradient_flow")
    new_figure = ax is None
    ax = axes_or_new(ax, (max(4.0, 0.9 * len(stats) + 2.0), 3.2))
    positions = list(range(1, len(stats) + 1))
    for what, style in (("max", "^-"), ("mean", "o-")):
        values = [getattr(s, what) if getattr(s, what) > 0 else math.nan for s in stats]
        ax.plot(positions, values, style, label=f"{what} |grad|")
    ax.set_yscale("log")
    for x, s in zip(positions, stats):
        if s.max == 0.0:
            ax.annotate("0", (x, 0.0), xycoords=("data", "axes fraction"), ha="center", va="bottom", color="k")
    names = [s.name for s in stats]
    if len(stats) > 4:  # long dotted names side by side would overlap
        ax.set_xticks(positions, names, rotation=40, ha="right")
    else:
        ax.set_xticks(positions, names)
    ax.set_xlabel("layer (input side first)")
    ax.set_ylabel("|∂loss/∂w|")
    ax.legend()
    if title is not None:
        ax.set_title(title)
    if new_figure:
        ax.figure.tight_layout()  # type: ignore[union-attr]  # ours: a Figure, not a SubFigure
    return ax
