"""The scalar engine's training step: one graph per sample, one backward pass, then the optimizer's step()."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import Value, sum_values
from nn.training.metrics import CLASSIFICATION, Model, Prediction, Target, as_floats

if TYPE_CHECKING:
    from nn.optim import Optimizer

# (inputs of a batch, targets of a batch) -> (batch loss, the batch's predictions as floats or lists of floats)
StepFunction = Callable[[list[list[float]], list[Target]], tuple[float, list[Prediction]]]


def scalar_step(
    model: Model, loss: Callable[..., Value], l2: float, params: list[Value]
) -> StepFunction:
    """The step function of the scalar engine: one graph per sample, then one backward pass."""

    def step(xs: list[list[float]], ys: list[Target]) -> tuple[float, list[Prediction]]:
        preds = [model(x) for x in xs]
        total = loss(preds, ys)
        if l2:
            total = total + l2 * sum_values(p * p for p in params)
        total.backward()
        return total.data, [as_floats(p) for p in preds]

    return step


class ValueTrainer:
    """A step function over Values (scalar, or compiled with the loss in the graph) and the optimizer's step."""

    def __init__(
        self, step: StepFunction, optimizer: Optimizer, xs: list[list[float]], ys: list[Target],
        loss: Callable[..., Value], backend: str = "scalar",
    ) -> None:
        self.step_function, self.optimizer, self.xs, self.ys = step, optimizer, xs, ys
        self.count_right = CLASSIFICATION.get(loss)
        self.backend = backend  # "scalar", or the compiled graphs' backend (the loss in the graph)

    @property
    def compiled(self) -> bool:
        """Whether step_function runs compiled graphs."""
        return self.backend != "scalar"

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]:
        rows = range(len(self.xs))[chosen] if isinstance(chosen, slice) else chosen.tolist()
        bx, by = [self.xs[i] for i in rows], [self.ys[i] for i in rows]
        self.optimizer.zero_grad()
        value, preds = self.step_function(bx, by)
        _check_finite(value, self.optimizer)
        self.optimizer.step()
        right = None if self.count_right is None else self.count_right(np.asarray(preds, float), np.asarray(by))
        return value, right

    def full_batch_epochs(self, count: int) -> list[tuple[float, int | None]] | None:
        """None: each epoch is taken step by step."""
        return None

    def sync(self) -> None:
        """Nothing to do: the Values are the parameters."""


def _check_finite(loss: float, optimizer: Optimizer) -> None:
    """FloatingPointError naming the first parameter whose gradient is NaN or infinite (or the loss): a step
    with it would write a non-number into the model."""
    if not math.isfinite(loss):
        raise FloatingPointError(f"the batch loss is {loss!r}: the step would write non-numbers into the model")
    for i, p in enumerate(getattr(optimizer, "params", ())):
        if not math.isfinite(p.grad):
            name = p.label or f"#{i}"
            raise FloatingPointError(f"the gradient of parameter {name} is {p.grad!r} (data {p.data!r})")
