"""Figures of a model and its training: decision regions, loss curves, gradient flow, the live figure of `fit`.

`plot.py` (decision_boundary, loss_curves), `gradient_flow.py`, `live.py` (fit(live=True)); every one gets
its Axes from `axes.py`. matplotlib is imported only when a figure is made, so `import nn` works without it.
"""

from nn.figures.gradient_flow import LayerGradients, gradient_flow, layer_gradients
from nn.figures.plot import CLASS_COLOURS, decision_boundary, loss_curves

__all__ = ["CLASS_COLOURS", "LayerGradients", "decision_boundary", "gradient_flow", "layer_gradients", "loss_curves"]
