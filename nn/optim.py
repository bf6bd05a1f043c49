"""Optimizers: SGD (with momentum) and Adam, following PyTorch's update formulas.

Each update is written once, on arrays (`update_arrays`): `step()` gathers the
parameters' data and grads into arrays and writes the results back, and `fit`'s
compiled path, which keeps the parameters in one array, calls `step_arrays`.

`lr` is a positive number or a schedule: a callable taking the step number
(0 for the first step) and returning the learning rate for that step, e.g.
`lambda k: 1.0 - 0.9 * k / 100` (micrograd's demo).

State, as PyTorch's `state_dict()` / `load_state_dict()`: the step count and the
per-parameter buffers (SGD's momentum `velocity`, Adam's moments `m` and `v`), but
keyed by parameter name where PyTorch keys by position, so a state fits any model
with the same names. The optimizer learns the names from the model you pass
(`optimizer.state_dict(model)`, `optimizer.load_state_dict(state, model)`), or from
construction with named parameters (`nn.Adam(model.named_parameters())`), as PyTorch
2.6 accepts. Unlike PyTorch, loading leaves the settings (lr, momentum, betas, ...)
as the optimizer was built: the saved ones are in `state["settings"]` to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from autograd_lite import Value
from nn.checks import clip, first_few, integer, keys_of, number, short

if TYPE_CHECKING:
    from nn.module import Module

LearningRate = float | Callable[[int], float]
Settings = dict[str, float | list[float] | None]  # lr (None for a schedule), momentum, betas, ...


class OptimizerState(TypedDict):
    """What state_dict gives, all JSON values; load_state_dict reads any mapping and checks it in full."""

    kind: str
    steps: int
    settings: Settings
    buffers: dict[str, dict[str, float]]  # {buffer: {parameter name: number}}


STATE_KEYS = ("kind", "steps", "settings", "buffers")
MAX_STEPS = 2**53  # a step count past this is not one a float could have counted
_data, _grad = attrgetter("data"), attrgetter("grad")


def _in_unit_interval(x: object, what: str) -> float:
    return number(x, what, 0, 1)


def _non_negative(x: object, what: str) -> float:
    value = number(x, what)
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")
    return value


class Optimizer:
    """Holds the parameters, the step count and the learning rate; subclasses define `update`.

    `params` are Values (`model.parameters()`) or (name, Value) pairs (`model.named_parameters()`).
    A subclass with per-parameter arrays names them in `buffers`, so state_dict saves them.
    """

    buffers: tuple[str, ...] = ()  # attributes holding one float per parameter (numpy arrays)

    def __init__(self, params: Iterable[Value] | Iterable[tuple[str, Value]], lr: LearningRate, weight_decay: float):
        if not isinstance(params, Iterable) or hasattr(params, "parameters"):
            raise ValueError(f"params must be an iterable of Values (e.g. model.parameters()), got {params!r}")
        self.params, self.param_names = _split_names(list(params))
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        if set(map(type, self.params)) != {Value} or not all(map(_requires_grad, self.params)):  # C loops first
            _check_each(self.params)
        if len(set(self.params)) != len(self.params):  # Values hash by identity
            raise ValueError("params lists the same Value more than once")
        if not callable(lr) and number(lr, "lr") <= 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.lr = lr
        self.weight_decay = _non_negative(weight_decay, "weight_decay")
        self.steps = 0  # steps taken so far

    def current_lr(self) -> float:
        """The learning rate the next step will use."""
        if not callable(self.lr):
            return self.lr
        return number(self.lr(self.steps), f"the lr schedule's value at step {self.steps}", 0)

    def next_lrs(self, count: int) -> list[float]:
        """The learning rates of the next `count` steps; fewer if the schedule fails at one (that step raises)."""
        if not callable(self.lr):
            return [self.lr] * count
        rates = []
        for k in range(self.steps, self.steps + count):
            try:
                rates.append(number(self.lr(k), f"the lr schedule's value at step {k}", 0))
            except Exception:  # the step itself calls the schedule again and raises what it raises
                break
        return rates

    def zero_grad(self) -> None:
        """Set every parameter's `.grad` to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter from its `.grad`."""
        self.update(self.current_lr())
        self.steps += 1

    def step_arrays(self, values: np.ndarray, grads: np.ndarray) -> None:
        """The same step on arrays: values[i] and grads[i] stand for params[i] (values updated in place)."""
        self.update_arrays(values, grads, self.current_lr())
        self.steps += 1

    @classmethod
    def steps_on_arrays(cls) -> bool:
        """Whether fit's compiled path may call step_arrays instead of step: the class says so in its own body.

        `array_step = True` is not inherited, so a subclass that changes step or update (counting steps, say)
        has its own step run; one that changes neither may say `array_step = True` again to stay fast.
        """
        return cls.__dict__.get("array_step", False) is True

    def settings(self) -> Settings:
        """The settings the optimizer was built with, as JSON values (lr None for a schedule)."""
        return {"lr": None if callable(self.lr) else self.lr, "weight_decay": self.weight_decay}

    def state_dict(self, model: Module | None = None) -> OptimizerState:
        """{"kind", "steps", "settings", "buffers": {buffer: {parameter name: value}}}, JSON values only."""
        names = self._names(model)
        buffers = {b: dict(zip(names, getattr(self, b).tolist(), strict=True)) for b in self.buffers}
        return {"kind": type(self).__name__, "steps": self.steps, "settings": self.settings(), "buffers": buffers}

    def load_state_dict(self, state: Mapping[str, object], model: Module | None = None) -> None:
        """Restore the step count and buffers from `state_dict`'s output; the settings stay as built.

        Everything is checked before anything changes: the kind, the step count, every
        buffer's names (those of this optimizer's parameters) and values (finite numbers;
        Adam's second moments >= 0). ValueError naming the first problem.
        """
        steps, arrays = self._checked_state(state, self._names(model))
        self.steps = steps
        for name, values in arrays.items():
            getattr(self, name)[:] = values

    def _names(self, model: Module | None) -> list[str]:
        """The name of each parameter, from `model` or from construction; ValueError if neither gives them."""
        if model is None:
            if self.param_names is None:
                raise ValueError(
                    "the optimizer state is keyed by parameter name: pass the model (state_dict(model), "
                    "load_state_dict(state, model)) or build the optimizer from model.named_parameters()"
                )
            return self.param_names
        named = {id(p): name for name, p in model.named_parameters()}
        outside = [f"params[{i}]" for i, p in enumerate(self.params) if id(p) not in named]
        if outside:
            raise ValueError(f"{first_few(outside)} of the optimizer are not parameters of the model")
        return [named[id(p)] for p in self.params]

    def _checked_state(self, state: Mapping[str, object], names: list[str]) -> tuple[int, dict[str, np.ndarray]]:
        """(steps, {buffer: array in params order}) from a state; ValueError naming what does not fit."""
        if not isinstance(state, Mapping) or sorted(state) != sorted(STATE_KEYS):
            raise ValueError(f"an optimizer state has the keys {', '.join(STATE_KEYS)}, got {keys_of(state)}")
        kind = type(self).__name__
        if state["kind"] != kind:
            raise ValueError(f"the state is of a {short(state['kind'])} optimizer, not of this {kind}")
        steps = integer(state["steps"], "the state's step count", 0)
        if steps > MAX_STEPS or not isinstance(state["settings"], Mapping):
            raise ValueError(f"the state's step count {steps} or settings {keys_of(state['settings'])} is malformed")
        buffers = state["buffers"]
        if not isinstance(buffers, Mapping) or sorted(buffers) != sorted(self.buffers):
            wanted = ", ".join(self.buffers) or "none"
            raise ValueError(f"a {kind} state has the buffers {wanted}, got {keys_of(buffers)}")
        arrays = {b: _buffer(b, buffers[b], names) for b in self.buffers}
        self._check_buffers(arrays, names)
        return steps, arrays

    def _check_buffers(self, arrays: dict[str, np.ndarray], names: list[str]) -> None:
        """Refuse buffer values this optimizer cannot hold (Adam: a negative second moment); none here."""

    def update(self, lr: float) -> None:
        """Apply one update with learning rate `lr` to the Values (through `update_arrays`)."""
        values = np.fromiter(map(_data, self.params), float, len(self.params))
        grads = np.fromiter(map(_grad, self.params), float, len(self.params))
        self.update_arrays(values, grads, lr)
        for p, v in zip(self.params, values.tolist(), strict=True):
            p.data = v

    def update_arrays(self, values: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """Update `values` in place from `grads` with learning rate `lr`; subclasses define it (or `update`)."""
        raise NotImplementedError

    def array_state(self) -> tuple[tuple[np.ndarray, ...], tuple[float, ...]] | None:
        """(buffers, settings) for `ARRAY_UPDATES[type(self)]`, or None where the class has no such function."""
        return None


class SGD(Optimizer):
    """Stochastic gradient descent; with momentum=0 and no weight decay exactly `p.data -= lr * p.grad`."""

    buffers = ("velocity",)
    array_step = True  # update_arrays is the whole step (see Optimizer.steps_on_arrays)

    def __init__(
        self,
        params: Iterable[Value] | Iterable[tuple[str, Value]],
        lr: LearningRate,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _in_unit_interval(momentum, "momentum")
        self.velocity = np.zeros(len(self.params))

    def settings(self) -> Settings:
        """lr, momentum and weight_decay."""
        return {**super().settings(), "momentum": self.momentum}

    def update_arrays(self, values: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """SGD's step (sgd_update) on arrays."""
        sgd_update(values, grads, (self.velocity,), (self.momentum, self.weight_decay), self.steps, lr)

    def array_state(self) -> tuple[tuple[np.ndarray, ...], tuple[float, ...]]:
        """((velocity,), (momentum, weight_decay)): sgd_update's buffers and settings."""
        return (self.velocity,), (float(self.momentum), float(self.weight_decay))

    def __repr__(self) -> str:
        settings = f"lr={self.lr!r}, momentum={self.momentum}, weight_decay={self.weight_decay}"
        return f"SGD({len(self.params)} params, {settings})"


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba), weight decay added to the gradient as in PyTorch."""

    buffers = ("m", "v")
    array_step = True

    def __init__(
        self,
        params: Iterable[Value] | Iterable[tuple[str, Value]],
        lr: LearningRate = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr, weight_decay)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (_in_unit_interval(betas[0], "betas[0]"), _in_unit_interval(betas[1], "betas[1]"))
        self.eps = _non_negative(eps, "eps")
        self.m = np.zeros(len(self.params))
        self.v = np.zeros(len(self.params))

    def settings(self) -> Settings:
        """lr, betas, eps and weight_decay."""
        return {**super().settings(), "betas": list(self.betas), "eps": self.eps}

    def _check_buffers(self, arrays: dict[str, np.ndarray], names: list[str]) -> None:
        """v is a running mean of squares: a negative one would make the step's square root NaN."""
        negative = [clip(name) for name, v in zip(names, arrays["v"].tolist(), strict=True) if v < 0]
        if negative:
            raise ValueError(f"buffer v (second moments) must be >= 0, negative for {first_few(negative)}")

    def update_arrays(self, values: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """Adam's step (adam_update) on arrays."""
        adam_update(values, grads, *self.array_state(), self.steps, lr)

    def array_state(self) -> tuple[tuple[np.ndarray, ...], tuple[float, ...]]:
        """((m, v), (beta1, beta2, eps, weight_decay)): adam_update's buffers and settings."""
        return (self.m, self.v), (float(self.betas[0]), float(self.betas[1]), float(self.eps), float(self.weight_decay))

    def __repr__(self) -> str:
        return f"Adam({len(self.params)} params, lr={self.lr!r}, betas={self.betas}, eps={self.eps})"


# --- the updates, written once on arrays: the optimizers call them, and numba compiles the same text for fit's
# native path (nn/training/compiled_step.py), so they use only what numba's numpy supports.
# Signature: (values, grads, buffers, settings, step, lr), values and buffers updated in place.


def sgd_update(
    values: np.ndarray, grads: np.ndarray, buffers: tuple[np.ndarray, ...], settings: tuple[float, ...], step: int,
    lr: float,
) -> None:
    """p -= lr·v with v = momentum·v + g, g with weight decay added (v = g on the first step, as in PyTorch)."""
    momentum, weight_decay = settings[0], settings[1]
    g = grads + weight_decay * values if weight_decay else grads
    if momentum:
        velocity = buffers[0]
        if step:
            g = velocity * momentum + g
        velocity[:] = g
    values -= lr * g


def adam_update(
    values: np.ndarray, grads: np.ndarray, buffers: tuple[np.ndarray, ...], settings: tuple[float, ...], step: int,
    lr: float,
) -> None:
    """p -= lr · m̂ / (√v̂ + eps) with m, v the running means of g and g² (g with weight decay added)."""
    b1, b2, eps, weight_decay = settings[0], settings[1], settings[2], settings[3]
    m, v = buffers[0], buffers[1]
    t = step + 1
    c1, c2 = 1.0 - b1**t, 1.0 - b2**t
    g = grads + weight_decay * values if weight_decay else grads
    m *= b1
    m += (1.0 - b1) * g
    v *= b2
    v += (1.0 - b2) * g * g
    values -= lr * (m / c1) / (np.sqrt(v / c2) + eps)


ArrayUpdate = Callable[[np.ndarray, np.ndarray, tuple[np.ndarray, ...], tuple[float, ...], int, float], None]
# The optimizers whose whole step is an array function (exact types: a subclass may change the step).
ARRAY_UPDATES: dict[type[Optimizer], ArrayUpdate] = {SGD: sgd_update, Adam: adam_update}

_requires_grad = attrgetter("requires_grad")


def _check_each(params: list[Any]) -> None:  # Any: what the caller was given
    """ValueError naming the first entry that is not a parameter (a Value that requires a gradient)."""
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise ValueError(f"params[{i}] must be a Value, got {type(p).__name__}")
        if not p.requires_grad:
            raise ValueError(f"params[{i}] is a constant (requires_grad=False)")


def _split_names(items: list[Any]) -> tuple[list[Any], list[str] | None]:  # Any: checked by the caller
    """(the Values, their names) from Values or from (name, Value) pairs (names None for plain Values)."""
    if not any(issubclass(kind, tuple) for kind in set(map(type, items))):  # no pairs (model.parameters()): C loop
        return items, None
    pairs = [isinstance(i, tuple) and len(i) == 2 and isinstance(i[0], str) for i in items]
    if not items or not any(pairs):
        return items, None
    if not all(pairs):
        raise ValueError("params must be all Values or all (name, Value) pairs (model.named_parameters())")
    names = [name for name, _ in items]
    if len(set(names)) != len(names):
        raise ValueError("params names a parameter twice")
    return [value for _, value in items], names


def _buffer(name: str, values: object, names: list[str]) -> np.ndarray:
    """A saved buffer {parameter name: number} as an array in `names` order; ValueError if it does not fit."""
    if not isinstance(values, Mapping):
        raise ValueError(f"buffer {name} must map parameter names to numbers, got {short(values)}")
    missing = [clip(n) for n in names if n not in values]
    known = set(names)
    unexpected = [clip(str(k)) for k in values if k not in known]
    if missing or unexpected:
        parts = ([f"missing {first_few(missing)}"] if missing else []) + (
            [f"unexpected {first_few(unexpected)}"] if unexpected else []
        )
        raise ValueError(f"buffer {name} does not match the parameters: {'; '.join(parts)}")
    return np.array([number(values[n], f"buffer {name} for {clip(n)}") for n in names], dtype=float)

