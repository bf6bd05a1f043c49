"""Optimizers: SGD (with momentum) and Adam, following PyTorch's update formulas.

`lr` is a positive number or a schedule: a callable taking the step number
(0 for the first step) and returning the learning rate for that step, e.g.
`lambda k: 1.0 - 0.9 * k / 100` (micrograd's demo).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from autograd_lite import Value
from nn.checks import number

LearningRate = float | Callable[[int], float]


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

    def update(self, lr: float) -> None:
        """Apply one update with learning rate `lr`; subclasses define it."""
        raise NotImplementedError

    def _grad(self, p: Value) -> float:
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad


class SGD(Optimizer):
    """Stochastic gradient descent; with momentum=0 and no weight decay exactly `p.data -= lr * p.grad`."""

    def __init__(
        self, params: Iterable[Value], lr: LearningRate, momentum: float = 0.0, weight_decay: float = 0.0
    ) -> None:
        super().__init__(params, lr, weight_decay)
        self.momentum = _in_unit_interval(momentum, "momentum")
        self.velocity = [0.0] * len(self.params)

    def update(self, lr: float) -> None:
        """p -= lr·v with v = momentum·v + g (v = g on the first step, as in PyTorch)."""
        for i, p in enumerate(self.params):
            g = self._grad(p)
            if self.momentum:
                g = (self.momentum * self.velocity[i] + g) if self.steps else g
                self.velocity[i] = g
            p.data -= lr * g

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
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)

    def update(self, lr: float) -> None:
        """p -= lr · m̂ / (√v̂ + eps) with m, v the running means of g and g²."""
        b1, b2 = self.betas
        t = self.steps + 1
        c1, c2 = 1.0 - b1**t, 1.0 - b2**t
        for i, p in enumerate(self.params):
            g = self._grad(p)
            self.m[i] = b1 * self.m[i] + (1.0 - b1) * g
            self.v[i] = b2 * self.v[i] + (1.0 - b2) * g * g
            p.data -= lr * (self.m[i] / c1) / (math.sqrt(self.v[i] / c2) + self.eps)

    def __repr__(self) -> str:
        return f"Adam({len(self.params)} params, lr={self.lr!r}, betas={self.betas}, eps={self.eps})"
