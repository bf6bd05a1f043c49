"""An MLP's layers to PyTorch and back (`MLP.to_torch`, `MLP.from_torch`; the numpy arrays are nn/layers.py's).

The layouts, for layer k of an MLP whose Sequential holds each Linear followed by its activation (if any):
    ours   layers.k.neurons.j.w.i   torch  <position of layer k's Linear>.weight[j, i]   numpy  arrays[k][0][j, i]
    ours   layers.k.neurons.j.b     torch  <position of layer k's Linear>.bias[j]        numpy  arrays[k][1][j]
so for a tanh MLP, `layers.1.neurons.0.w.3` is torch's `2.weight[0, 3]` (position 1 is the first Tanh).
torch is imported only when a torch function is called; without it they raise ImportError naming the extra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import RULES

if TYPE_CHECKING:
    import torch

# One layer as numpy arrays: W (outputs × inputs) and b (None without biases).
LayerArrays = tuple[np.ndarray, np.ndarray | None]

EXTRA_HINT = 'install the optional extra: pip install "autograd-lite[torch]"'
# ours -> the torch.nn layer class name, from the rule table's rows that can be an activation
TORCH_ACTIVATIONS = {name: rule.activation for name, rule in RULES.items() if rule.activation}


def require_torch() -> ModuleType:
    """The torch module; ImportError naming the extra when it is not installed."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(f"this needs PyTorch; {EXTRA_HINT}") from error
    return torch


# --- torch ---------------------------------------------------------------------------


def to_torch(
    layers: Sequence[LayerArrays], activations: Sequence[str], dtype: torch.dtype | None = None
) -> torch.nn.Sequential:
    """A `torch.nn.Sequential` of Linear and activation layers: each (W, b) pair then its activation."""
    torch = require_torch()
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a real floating-point torch dtype (torch.float64, ...), got {dtype!r}")
    modules = []
    for (weights, bias), activation in zip(layers, activations, strict=True):
        linear = torch.nn.Linear(weights.shape[1], weights.shape[0], bias=bias is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights))
            if bias is not None:
                linear.bias.copy_(torch.from_numpy(bias))
        modules.append(linear)
        if activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*modules)


def from_torch(module: object) -> tuple[list[LayerArrays], str, str]:
    """(the (W, b) pairs, hidden activation, output activation) of a Sequential of Linear layers, each followed
    by at most one Tanh/ReLU/Sigmoid: what `MLP.from_numpy` builds the same network from.

    Hidden layers must share one activation (an MLP has one); anything else is refused with ValueError.
    """
    torch = require_torch()
    if not isinstance(module, torch.nn.Sequential) or type(module) is not torch.nn.Sequential:  # no subclass
        raise ValueError(f"expected a torch.nn.Sequential of Linear and activation layers, got {type(module).__name__}")
    arrays, activations = [], []
    names = {getattr(torch.nn, cls): ours for ours, cls in TORCH_ACTIVATIONS.items()}
    for position, child in enumerate(module):
        kind = type(child)
        if kind is torch.nn.Linear:
            arrays.append(_linear_arrays(child, position))
            activations.append("linear")
        elif kind in names and activations and activations[-1] == "linear":
            activations[-1] = names[kind]
        else:
            raise ValueError(_refusal(child, position, names))
    if not arrays:
        raise ValueError("the Sequential holds no Linear layer")
    hidden = set(activations[:-1])
    if len(hidden) > 1:
        raise ValueError(f"the hidden layers use different activations {sorted(hidden)}; an MLP has one")
    return arrays, hidden.pop() if hidden else "tanh", activations[-1]


def _refusal(child: object, position: int, names: dict[type, str]) -> str:
    what = f"{position} ({type(child).__name__})"
    if type(child) in names:
        return f"layer {what}: an activation must follow a Linear layer, and only one per Linear"
    known = ", ".join(["Linear", *TORCH_ACTIVATIONS.values()])
    return f"layer {what} cannot be represented by an MLP (it takes {known} exactly, not subclasses)"


def _linear_arrays(linear: torch.nn.Linear, position: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(W, b) of a Linear as float64 numpy arrays; ValueError for complex or non-finite ones."""
    weights = linear.weight.detach()
    if weights.is_complex() or not weights.is_floating_point():
        raise ValueError(f"layer {position} (Linear): weights must be real floating point, got {weights.dtype}")
    to_array = lambda t: t.detach().to("cpu").double().numpy()  # noqa: E731
    bias = None if linear.bias is None else to_array(linear.bias)
    pair = (to_array(weights), bias)
    for array in pair:
        if array is not None and not all(math.isfinite(v) for v in array.ravel().tolist()):
            raise ValueError(f"layer {position} (Linear) holds NaN or infinity")
    return pair
