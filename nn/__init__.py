"""nn: neurons, layers and MLPs on autograd_lite, with PyTorch-style modules, losses, optimizers and `fit`.

Where things are: `Module` (parameters, names, state, save/load) in `module.py`;
`Neuron`, `Layer`, `MLP` and the initialisation scheme in `layers.py`; losses in
`losses.py`; `SGD`, `Adam` in `optim.py`; toy data in `datasets.py`; `fit`,
`predict`, `accuracy` and what training is made of in `training/`; figures in
`figures/` (also as `nn.plot`); the file format in `saving.py`, and checkpoints
(model, optimizer, epoch, history; `fit(resume=...)`) in `checkpoint.py`.
"""

from nn import datasets, figures, losses, plot, torch_bridge  # figures load matplotlib only when one is made
from nn.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from nn.layers import ACTIVATIONS, MLP, Layer, Neuron
from nn.losses import bce_with_logits, binary_cross_entropy, cross_entropy, hinge, mse, squared_error
from nn.module import Module, ModuleKinds, load, module_kinds
from nn.optim import SGD, Adam, Optimizer
from nn.restarts import Restarts, random_restarts
from nn.training.choose import FallbackWarning
from nn.training.fit import fit
from nn.training.history import History
from nn.training.metrics import accuracy, predict

for _kind in (Neuron, Layer, MLP):
    module_kinds.add(_kind)  # the classes a saved file may name; add your own the same way
del _kind

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "SGD",
    "Adam",
    "Checkpoint",
    "FallbackWarning",
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
    "figures",
    "fit",
    "hinge",
    "load",
    "load_checkpoint",
    "losses",
    "module_kinds",
    "mse",
    "plot",
    "predict",
    "random_restarts",
    "save_checkpoint",
    "squared_error",
    "torch_bridge",
]
