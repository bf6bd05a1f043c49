"""Neuron, Layer and MLP: micrograd's building blocks as PyTorch-style modules.

Initialisation (deterministic given `seed`; a local `random.Random`, never the
global state). Biases start at 0. With `init="auto"` (the default) weights are
uniform in [-a, a] scaled by the neuron's fan-in `nin`, so a pre-activation has
about the same spread whatever the width:
    relu:                   a = sqrt(6 / nin)  (He: relu zeroes half its inputs, so twice the variance)
    tanh, sigmoid, linear:  a = sqrt(3 / nin)  (LeCun: weight variance 1/nin)
With `init="uniform"` weights are uniform in [-1, 1], as in micrograd.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import RULES, Value, dot
from nn import torch_bridge
from nn.checks import integer
from nn.module import Module, labelled_once
from nn.saving import Config
from nn.torch_bridge import LayerArrays

if TYPE_CHECKING:
    import torch  # an optional extra: only its types are named here

# The rule table's rows that can be an activation (`Rule.activation`), as their Value methods; "linear" is none.
ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    **{name: getattr(Value, name) for name, rule in RULES.items() if rule.activation},
    "linear": None,
}
INITS = ("auto", "uniform")

Seed = int | random.Random | None
# What a model takes: one sample's inputs, numbers (data) or Values (part of a larger graph).
Inputs = Sequence[float | Value] | np.ndarray


def check_activation(name: object, what: str = "activation") -> str:
    """`name` if it is a known activation; ValueError listing the valid ones otherwise."""
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(f"unknown {what} {name!r}; valid: {', '.join(map(repr, ACTIVATIONS))}")
    return name


def _rng(seed: Seed) -> random.Random:
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def _inputs(x: object, nin: int, who: str) -> list[Value]:
    """x as a list of nin Values (numbers become data inputs x0, x1, ...); ValueError on a wrong length."""
    if isinstance(x, (Value, str)) or not isinstance(x, (Sequence, np.ndarray)):
        raise ValueError(f"{who} expects a sequence of {nin} inputs, got {type(x).__name__}")
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v, f"x{i}", requires_grad=False) for i, v in enumerate(x)]


class Neuron(Module):
    """activation(w·x + b): weights `w` (list of Values), bias `b` (a Value, or None with bias=False).

    w·x + b is one `dot` node. The node the neuron outputs (the activation's result,
    or the dot node itself for "linear") is labelled with the neuron's dotted name,
    e.g. `layers.0.neurons.1` ("" for a neuron that is not inside another module).
    """

    @labelled_once
    def __init__(
        self, nin: int, activation: str = "tanh", bias: bool = True, init: str = "auto", seed: Seed = None
    ) -> None:
        self.nin = integer(nin, "nin")
        self.activation = check_activation(activation)
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; valid: {', '.join(map(repr, INITS))}")
        rng = _rng(seed)
        a = 1.0 if init == "uniform" else math.sqrt((6.0 if activation == "relu" else 3.0) / self.nin)
        low, draw = -a, rng.random  # rng.uniform(-a, a)'s own formula, without its call per weight: the same numbers
        self.w = [Value(low + (a - low) * draw()) for _ in range(self.nin)]
        self.bias = bool(bias)
        self.b = Value(0.0) if bias else None
        self._act = ACTIVATIONS[self.activation]

    def forward(self, x: Inputs) -> Value:
        """The neuron's output; the node is labelled with the neuron's dotted name."""
        return self._fire(_inputs(x, self.nin, f"Neuron {self._path}".rstrip()))

    def _fire(self, x: list[Value]) -> Value:
        """forward without the input checks (the caller has done them)."""
        out = dot(self.w, x, bias=self.b)  # one n-ary node, not a chain of adds
        if self._act is not None:
            out = self._act(out)
        out.label = self._path
        return out

    def built(self, node: Value) -> bool:
        """Whether `node` is a call's output: activation(dot(w, x, b)) over this neuron's own parameters."""
        inner = node
        if self._act is not None:
            if node.op != self.activation or len(node.parents) != 1:
                return False
            inner = node.parents[0]
        ps, n = inner.parents, self.nin
        return (
            inner.op == "dot"
            and len(ps) == 2 * n + (self.b is not None)
            and all(p is w for p, w in zip(ps[:n], self.w, strict=True))
            and (self.b is None or ps[-1] is self.b)
        )

    def config(self) -> Config:
        """Constructor arguments that rebuild this neuron."""
        return {"nin": self.nin, "activation": self.activation, "bias": self.bias}

    @classmethod
    def parameter_count(cls, config: Config) -> int:
        """How many parameters `Neuron(**config)` has, without building it."""
        return integer(config["nin"], "nin") + bool(config.get("bias", True))

    def extra_repr(self) -> str:
        return f"{self.nin} inputs, {self.activation}, {self.num_parameters()} parameters"


class Layer(Module):
    """`nout` neurons reading the same inputs; calling it returns a list of nout Values."""

    @labelled_once
    def __init__(
        self, nin: int, nout: int, activation: str = "tanh", bias: bool = True, init: str = "auto", seed: Seed = None
    ) -> None:
        self.nin = integer(nin, "nin")
        self.nout = integer(nout, "nout")
        self.activation = check_activation(activation)
        self.bias = bool(bias)
        rng = _rng(seed)
        self.neurons = [Neuron(self.nin, activation, bias, init, rng) for _ in range(self.nout)]

    def forward(self, x: Inputs) -> list[Value]:
        """Each neuron's output, in order."""
        return self._fire(_inputs(x, self.nin, f"Layer {self._path}".rstrip()))  # numbers wrapped once

    def _fire(self, x: list[Value]) -> list[Value]:
        """forward without the input checks (the caller has done them)."""
        return [n._fire(x) for n in self.neurons]

    def config(self) -> Config:
        """Constructor arguments that rebuild this layer."""
        return {"nin": self.nin, "nout": self.nout, "activation": self.activation, "bias": self.bias}

    @classmethod
    def parameter_count(cls, config: Config) -> int:
        """How many parameters `Layer(**config)` has, without building it."""
        return integer(config["nout"], "nout") * Neuron.parameter_count(config)

    def extra_repr(self) -> str:
        return f"{self.nin} → {self.nout}, {self.activation}, {self.num_parameters()} parameters"


class MLP(Module):
    """Layers of sizes `nouts`; hidden ones use `activation`, the last `output_activation`.

    Calling it returns a Value when the last layer has one output, else a list (micrograd's convention).
    """

    @labelled_once
    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "tanh",
        output_activation: str = "linear",
        bias: bool = True,
        init: str = "auto",
        seed: Seed = None,
    ) -> None:
        self.nin = integer(nin, "nin")
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, (Sequence, np.ndarray)) or len(nouts) == 0:
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        self.nouts = [integer(n, f"nouts[{i}]") for i, n in enumerate(nouts)]
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation, "output_activation")
        self.bias = bool(bias)
        rng = _rng(seed)
        sizes = [self.nin, *self.nouts]
        last = len(self.nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], output_activation if i == last else activation, bias, init, rng)
            for i in range(len(self.nouts))
        ]

    def forward(self, x: Inputs) -> Value | list[Value]:
        """The network's output: a Value if the last layer has one neuron, else a list of Values."""
        x = _inputs(x, self.nin, "MLP")
        for layer in self.layers:
            x = layer._fire(x)
        return x[0] if len(x) == 1 else x

    def config(self) -> Config:
        """Constructor arguments that rebuild this network."""
        return {
            "nin": self.nin,
            "nouts": list(self.nouts),
            "activation": self.activation,
            "output_activation": self.output_activation,
            "bias": self.bias,
        }

    @classmethod
    def parameter_count(cls, config: Config) -> int:
        """How many parameters `MLP(**config)` has, without building it."""
        sizes, bias = [config["nin"], *config["nouts"]], config.get("bias", True)
        return sum(Layer.parameter_count({"nin": a, "nout": b, "bias": bias}) for a, b in itertools.pairwise(sizes))

    # --- as numpy arrays, and as torch modules (nn/torch_bridge.py imports torch only when one is called)

    def to_numpy(self) -> list[LayerArrays]:
        """One (W, b) pair per layer: W of shape (outputs, inputs) as torch's Linear.weight, b None without biases."""
        pairs: list[LayerArrays] = []
        for layer in self.layers:
            weights = np.array([[w.data for w in neuron.w] for neuron in layer.neurons], dtype=np.float64)
            biases = [neuron.b.data for neuron in layer.neurons if neuron.b is not None]
            pairs.append((weights, np.array(biases, dtype=np.float64) if layer.bias else None))
        return pairs

    @staticmethod
    def from_numpy(arrays: Sequence[object], activation: str = "tanh", output_activation: str = "linear") -> MLP:
        """An MLP with these (W, b) layers (b None for none) and activations; ValueError if shapes do not chain."""
        layers = _checked_arrays(arrays)
        has_bias = {b is not None for _, b in layers}
        if len(has_bias) > 1:
            raise ValueError("either every layer has a bias or none does (an MLP has one bias setting)")
        nin = layers[0][0].shape[1]
        mlp = MLP(nin, [w.shape[0] for w, _ in layers], activation, output_activation, bias=has_bias.pop())
        mlp.load_state_dict(_flat(layers))
        return mlp

    def to_torch(self, dtype: torch.dtype | None = None) -> torch.nn.Sequential:
        """A `torch.nn.Sequential` of Linear and activation layers with this MLP's weights (float64 by default)."""
        return torch_bridge.to_torch(self.to_numpy(), [layer.activation for layer in self.layers], dtype)

    @staticmethod
    def from_torch(module: object) -> MLP:
        """The MLP a Sequential of Linear layers, each followed by at most one Tanh/ReLU/Sigmoid, stands for."""
        return MLP.from_numpy(*torch_bridge.from_torch(module))

    def extra_repr(self) -> str:
        sizes = " → ".join(map(str, [self.nin, *self.nouts]))
        return f"{sizes}, {self.activation}/{self.output_activation}, {self.num_parameters()} parameters"


def _checked_arrays(arrays: Sequence[object]) -> list[LayerArrays]:
    """(W, b) pairs as float arrays whose shapes chain; ValueError naming the first problem."""
    if isinstance(arrays, (str, bytes)) or not isinstance(arrays, Sequence) or len(arrays) == 0:
        raise ValueError(f"expected a non-empty list of (W, b) pairs, got {type(arrays).__name__}")
    layers: list[LayerArrays] = []
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


def _real_array(x: object, what: str) -> np.ndarray:
    array = np.asarray(x)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{what} must hold real numbers, got dtype {array.dtype}")
    if not np.isfinite(array).all():
        raise ValueError(f"{what} holds NaN or infinity")
    return array.astype(float)


def _flat(layers: list[LayerArrays]) -> list[float]:
    """Parameters in `MLP.parameters()` order: layer, neuron, its weights then its bias."""
    flat: list[float] = []
    for weights, bias in layers:
        for j in range(weights.shape[0]):
            flat += weights[j].tolist() + ([] if bias is None else [float(bias[j])])
    return flat
