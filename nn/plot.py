"""`nn.plot`: the figures under the short name notebooks use (`nn.plot.decision_boundary(...)`); see nn/figures/."""

from nn.figures import CLASS_COLOURS, LayerGradients, decision_boundary, gradient_flow, layer_gradients, loss_curves

__all__ = ["CLASS_COLOURS", "LayerGradients", "decision_boundary", "gradient_flow", "layer_gradients", "loss_curves"]
