"""Optimizers: SGD (with momentum) and Adam, following PyTorch's update formulas.

Each update is written once, on arrays (`update_arrays`): `step()` gathers the
parameters' data and grads into arrays and writes the results back, and `fit`'s
compiled path, which keeps the parameters in one array, calls `step_arrays`.

`lr` is a positive number or a schedule: a callable taking the step number
(0 for the first step) and returning the learning rate for that step, e.g.
`lambda k: 1.0 - 0.9 * k / 100` (micrograd's demo).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter
from typing import Any

import numpy as np

from autograd_lite import Value
from nn.checks import number

LearningRate = float | Callable[[int], float]
_data, _grad = attrgetter("data"), attrgetter("grad")


def _in_unit_interval(x: Any, what: str) -> float:
    return number(x, what, 0, 1)


def _non_negative(x: Any, what: str) -> float:
    value = number(x, what)
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value!r}")
    return value


class Optimizer:
    """Holds the parameters, the step count and the learning rate; subclasses define `update`."""

    def __init__(self, params: Iterable[Value], lr: LearningRate, weight_decay: float) -> None:
        if not isinstance(params, Iterable) or hasattr(params, "parameters"):
            raise ValueError(f"params must be an iterable of Values (e.g. model.parameters()), got {params!r}")
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise ValueError(f"params[{i}] must be a Value, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"params[{i}] is a constant (requires_grad=False)")
        if len({id(p) for p in self.params}) != len(self.params):
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

    @property
    def updates_arrays(self) -> bool:
        """Whether step_arrays does what step does (not for a subclass that overrides `step` or `update`)."""
        cls = type(self)
        own = cls.step is Optimizer.step and cls.update is Optimizer.update
        return own and cls.update_arrays is not Optimizer.update_arrays

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

    def _decayed(self, values: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """The gradient with weight decay added (PyTorch's: g + weight_decay·p)."""
        return grads + self.weight_decay * values if self.weight_decay else grads


class SGD(Optimizer):
    """Stochastic gradient descent; with momentum=0 and no weight decay exactly `p.data -= lr * p.grad`."""

    def __init__(
        self, params: Iterable[Value], lr: LearningRate, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _in_unit_interval(momentum, "momentum")
        self.velocity = np.zeros(len(self.params))

    def update_arrays(self, values: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """p -= lr·v with v = momentum·v + g (v = g on the first step, as in PyTorch)."""
        g = self._decayed(values, grads)
        if self.momentum:
            if self.steps:
                g = self.velocity * self.momentum + g
            self.velocity[:] = g
        values -= lr * g

    def __repr__(self) -> str:
        settings = f"lr={self.lr!r}, momentum={self.momentum}, weight_decay={self.weight_decay}"
        return f"SGD({len(self.params)} params, {settings})"


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba), weight decay added to the gradient as in PyTorch."""

    def __init__(
        self,
        params: Iterable[Value],
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

    def update_arrays(self, values: np.ndarray, grads: np.ndarray, lr: float) -> None:
        """p -= lr · m̂ / (√v̂ + eps) with m, v the running means of g and g²."""
        b1, b2 = self.betas
        t = self.steps + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        g = self._decayed(values, grads)
        self.m *= b1
        self.m += (1.0 - b1) * g
        self.v *= b2
        self.v += (1.0 - b2) * g * g
        values -= lr * (self.m / c1) / (np.sqrt(self.v / c2) + self.eps)

    def __repr__(self) -> str:
        return f"Adam({len(self.params)} params, lr={self.lr!r}, betas={self.betas}, eps={self.eps})"
