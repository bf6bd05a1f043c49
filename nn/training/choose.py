"""Which trainer runs a fit: the compiled array trainer, a compiled graph with the loss in it, or the scalar engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_lite import Value
from nn.training.compiled_step import BATCH_LOSSES, ArrayTrainer, CannotCompile, loss_graph_step
from nn.training.loop import Trainer
from nn.training.metrics import CLASSIFICATION
from nn.training.scalar_step import ValueTrainer, scalar_step

if TYPE_CHECKING:
    from nn.module import Module
    from nn.optim import Optimizer


_FLOAT64 = np.dtype(np.float64)


class FallbackWarning(UserWarning):
    """fit could not compile the model (its graph depends on the data) and trains with the scalar engine."""


@dataclass(frozen=True)
class TrainSetup:
    """Everything a trainer is built from: the model, its loss and optimizer, the data, and how to run."""

    model: Module
    loss: Callable[..., Value]
    l2: float
    optimizer: Optimizer
    xs: list[list[float]]
    ys: list[Any]  # Any: a target is a number or a list of numbers
    compiled: bool | None = None  # None: compiled when possible
    dtype: np.dtype = _FLOAT64


def choose_trainer(setup: TrainSetup) -> tuple[Trainer, bool]:
    """(the trainer for this setup, whether it is compiled); ValueError if compiled=True and it cannot be."""
    if setup.compiled not in (None, True, False):
        raise ValueError(f"compiled must be True, False or None (use it when possible), got {setup.compiled!r}")
    if setup.compiled is not False:
        try:
            return _compiled_trainer(setup), True
        except CannotCompile as e:
            if setup.compiled:
                raise ValueError(f"fit(compiled=True) cannot compile this model and loss: {e}") from None
            if e.data_dependent:  # the user may not expect this model to be slow: say why, once per fit
                warnings.warn(f"fit trains with the scalar engine: {e}", FallbackWarning, stacklevel=4)
    step = scalar_step(setup.model, setup.loss, setup.l2, setup.model.parameters())
    return ValueTrainer(step, setup.optimizer, setup.xs, setup.ys, setup.loss), False


def _compiled_trainer(setup: TrainSetup) -> Trainer:
    """The array trainer for a built-in loss, else the loss compiled into the graph; CannotCompile if neither."""
    if setup.loss in BATCH_LOSSES:
        X, y = np.asarray(setup.xs, dtype=float), np.asarray(setup.ys)
        return ArrayTrainer(
            setup.model, setup.loss, setup.l2, setup.optimizer, X, y, CLASSIFICATION.get(setup.loss), setup.dtype
        )
    if setup.dtype != np.float64:
        names = ", ".join(f.__name__ for f in BATCH_LOSSES)
        raise CannotCompile(f"dtype={setup.dtype} needs a built-in loss ({names})")
    step = loss_graph_step(setup.model, setup.loss, setup.l2, setup.model.parameters(), setup.xs, setup.ys)
    return ValueTrainer(step, setup.optimizer, setup.xs, setup.ys, setup.loss)
