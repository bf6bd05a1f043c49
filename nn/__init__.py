"""nn: neurons, layers and MLPs on autograd_lite, with PyTorch-style modules, losses, optimizers and `fit`.

Where things are: `Module` (parameters, names, state, save/load) in `module.py`;
`Neuron`, `Layer`, `MLP` and the initialisation scheme in `layers.py`; losses in
`losses.py`; `SGD`, `Adam` in `optim.py`; toy data in `datasets.py`; `fit`,
`predict`, `accuracy` in `train.py`; the checkpoint format in `saving.py`.
"""

from nn import datasets, losses, plot, torch_bridge  # plot loads matplotlib only when a figure is made
from nn.layers import ACTIVATIONS, MLP, Layer, Neuron
from nn.losses import bce_with_logits, binary_cross_entropy, cross_entropy, hinge, mse, squared_error
from nn.module import Module, ModuleKinds, load, module_kinds
from nn.optim import SGD, Adam, Optimizer
from nn.restarts import Restarts, random_restarts
from nn.train import History, accuracy, fit, predict

for _kind in (Neuron, Layer, MLP):
    module_kinds.add(_kind)  # the classes a saved file may name; add your own the same way

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "SGD",
    "Adam",
    "History",
    "Layer",
    "Module",
    "ModuleKinds",
    "Neuron",
    "Optimizer",
    "Restarts",
    "accuracy",
    "bce_with_logits",
    "binary_cross_entropy",
    "cross_entropy",
    "datasets",
    "fit",
    "hinge",
    "load",
    "losses",
    "module_kinds",
    "mse",
    "plot",
    "predict",
    "random_restarts",
    "squared_error",
    "torch_bridge",
]
