"""An MLP to PyTorch and back, and to plain numpy arrays and back.

The layouts, for layer k of an MLP whose Sequential holds each Linear followed by its activation (if any):
    ours   layers.k.neurons.j.w.i   torch  <position of layer k's Linear>.weight[j, i]   numpy  arrays[k][0][j, i]
    ours   layers.k.neurons.j.b     torch  <position of layer k's Linear>.bias[j]        numpy  arrays[k][1][j]
so for a tanh MLP, `layers.1.neurons.0.w.3` is torch's `2.weight[0, 3]` (position 1 is the first Tanh).
torch is imported only when a torch function is called; without it they raise ImportError naming the extra.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from nn.layers import MLP

EXTRA_HINT = 'install the optional extra: pip install "autograd-lite[torch]"'
TORCH_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "sigmoid": "Sigmoid"}  # ours -> torch.nn class name


def require_torch() -> Any:
    """The torch module; ImportError naming the extra when it is not installed."""
    try:
        import torch
    except ImportError as error:
        raise ImportError(f"this needs PyTorch; {EXTRA_HINT}") from error
    return torch


# --- numpy ---------------------------------------------------------------------------


def to_numpy(mlp: MLP) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """One (W, b) pair per layer: W of shape (outputs, inputs) as torch's Linear.weight, b None without biases."""
    pairs: list[tuple[np.ndarray, np.ndarray | None]] = []
    for layer in mlp.layers:
        weights = np.array([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=np.float64)
        biases = [neuron.b.data for neuron in layer.neurons if neuron.b is not None]
        bias = np.array(biases, dtype=np.float64) if layer.bias else None
        pairs.append((weights, bias))
    return pairs


def from_numpy(arrays: Sequence[Any], activation: str = "tanh", output_activation: str = "linear") -> MLP:
    """An MLP with these (W, b) layers (b None for none) and activations; ValueError for shapes that do not chain."""
    layers = _checked_arrays(arrays)
    has_bias = {b is not None for _, b in layers}
    if len(has_bias) > 1:
        raise ValueError("either every layer has a bias or none does (an MLP has one bias setting)")
    nin = layers[0][0].shape[1]
    mlp = MLP(nin, [w.shape[0] for w, _ in layers], activation, output_activation, bias=has_bias.pop())
    mlp.load_state_dict(_flat(layers))
    return mlp


def _checked_arrays(arrays: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(W, b) pairs as float arrays whose shapes chain; ValueError naming the first problem."""
    if isinstance(arrays, (str, bytes)) or not isinstance(arrays, Sequence) or len(arrays) == 0:
        raise ValueError(f"expected a non-empty list of (W, b) pairs, got {type(arrays).__name__}")
    layers: list[tuple[np.ndarray, np.ndarray | None]] = []
    for k, pair in enumerate(arrays):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"layer {k}: expected a (W, b) pair, got {type(pair).__name__}")
        weights = _real_array(pair[0], f"layer {k}: W")
        bias = None if pair[1] is None else _real_array(pair[1], f"layer {k}: b")
        if weights.ndim != 2 or 0 in weights.shape:
            raise ValueError(f"layer {k}: W must be 2-D (outputs × inputs), got shape {weights.shape}")
        if bias is not None and bias.shape != (weights.shape[0],):
            raise ValueError(f"layer {k}: b must have shape ({weights.shape[0]},) to match W, got {bias.shape}")
        if layers and weights.shape[1] != layers[-1][0].shape[0]:
            raise ValueError(
                f"layer {k}: W takes {weights.shape[1]} inputs but layer {k - 1} gives {layers[-1][0].shape[0]}"
            )
        layers.append((weights, bias))
    return layers


def _real_array(x: Any, what: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{what} must hold real numbers, got dtype {array.dtype}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} holds NaN or infinity")
    return array.astype(float)


def _flat(layers: list[tuple[np.ndarray, np.ndarray | None]]) -> list[float]:
    """Parameters in `MLP.parameters()` order: layer, neuron, its weights then its bias."""
    flat: list[float] = []
    for weights, bias in layers:
        for j in range(weights.shape[0]):
            flat += weights[j].tolist() + ([] if bias is None else [float(bias[j])])
    return flat


# --- torch ---------------------------------------------------------------------------


def to_torch(mlp: MLP, dtype: Any = None) -> Any:
    """A `torch.nn.Sequential` of Linear and activation layers with this MLP's weights (float64 by default)."""
    torch = require_torch()
    dtype = torch.float64 if dtype is None else dtype
    modules = []
    for layer, (weights, bias) in zip(mlp.layers, to_numpy(mlp)):
        linear = torch.nn.Linear(layer.nin, layer.nout, bias=bias is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weights))
            if bias is not None:
                linear.bias.copy_(torch.from_numpy(bias))
        modules.append(linear)
        if layer.activation != "linear":
            modules.append(getattr(torch.nn, TORCH_ACTIVATIONS[layer.activation])())
    return torch.nn.Sequential(*modules)


def from_torch(module: Any) -> MLP:
    """The MLP a Sequential of Linear layers, each followed by at most one Tanh/ReLU/Sigmoid, stands for.

    Hidden layers must share one activation (an MLP has one); anything else is refused with ValueError.
    """
    torch = require_torch()
    if type(module) is not torch.nn.Sequential:
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
    return from_numpy(arrays, hidden.pop() if hidden else "tanh", activations[-1])


def _refusal(child: Any, position: int, names: dict[Any, str]) -> str:
    what = f"{position} ({type(child).__name__})"
    if type(child) in names:
        return f"layer {what}: an activation must follow a Linear layer, and only one per Linear"
    known = ", ".join(["Linear", *TORCH_ACTIVATIONS.values()])
    return f"layer {what} cannot be represented by an MLP (it takes {known} exactly, not subclasses)"


def _linear_arrays(linear: Any, position: int) -> tuple[np.ndarray, np.ndarray | None]:
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
