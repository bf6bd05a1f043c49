"""Which trainer runs a fit: the compiled array trainer, a compiled graph with the loss in it, or the scalar engine."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import Value
from autograd_lite.compiled import native_loop_startup_seconds, native_startup_seconds
from nn.training.compiled_step import BATCH_LOSSES, ArrayTrainer, CannotCompile, loss_graph_step, native_parts
from nn.training.loop import Trainer
from nn.training.metrics import CLASSIFICATION, Target
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
    ys: list[Target]
    compiled: bool | None = None  # None: compiled when possible
    dtype: np.dtype = _FLOAT64
    backend: str = "auto"  # what runs the compiled path: "numpy", "native", or "auto" (native only when it pays)
    steps: int = 0  # how many steps the fit will take, and of how many samples (for backend="auto")
    batch: int = 1
    params: list[Value] | None = None  # model.parameters(), listed once for the whole set-up (None: list them)
    together: bool = False  # full-batch epochs with nothing to run between them (no callback, one worker)

    def parameters(self) -> list[Value]:
        """The model's parameters (the list made at set-up)."""
        return self.model.parameters() if self.params is None else self.params


# The native step against the numpy one inside fit, per step (2-4-1, 2-16-16-1 and 2-64-64-1 at batch 1, 10 and
# 100, float64, a 2-core x86_64 machine, 2026-12): it saves at most about NATIVE_SAVING_SECONDS of numpy's fixed
# cost a step (4-7 µs measured for the two small models at batch 1 and 10) and costs up to NATIVE_EXTRA_SECONDS more
# per parameter and sample (numba's scalar tanh and loops against numpy's SIMD): 1.6x numpy's time at 2-16-16-1,
# batch 100, and 1.4-2.7x at 2-64-64-1 whatever the batch.
NATIVE_SAVING_SECONDS = 5e-6
NATIVE_EXTRA_SECONDS = 13e-9


# Full-batch epochs in one native call (nn.fit's loop, the native backend) against numpy's steps (2-4-1, 2-16-16-1
# and 2-64-64-1 at batch 10, 100 and 1,000, float64, the same machine, 2026-12-03, kernels of 67832bc): they save
# about TOGETHER_SAVING_SECONDS of numpy's fixed cost a step (101-132 µs measured where they won, up to 441,000
# parameter-samples a step: 2-64-64-1 at 100), less TOGETHER_EXTRA_SECONDS per parameter and sample (2-64-64-1 at
# batch 1,000, 4.4 million, lost 215 µs a step: BLAS on the same products, numba's loops on the rest).
TOGETHER_SAVING_SECONDS = 120e-6
TOGETHER_EXTRA_SECONDS = 7.5e-11


def native_pays(parameters: int, batch: int, steps: int, startup: float | None, together: bool = False) -> bool:
    """Whether `steps` native steps of `batch` samples of a model this size save more than the native start-up
    (`together`: full-batch steps taken many per call)."""
    if startup is None:  # the fast extra is not installed
        return False
    if together:
        saving = TOGETHER_SAVING_SECONDS - TOGETHER_EXTRA_SECONDS * parameters * batch
    else:
        saving = NATIVE_SAVING_SECONDS - NATIVE_EXTRA_SECONDS * parameters * batch
    return saving > 0 and steps * saving > startup


def backend_of(setup: TrainSetup) -> str:
    """The compiled path's backend for this setup: "auto" resolved from the estimate, else as asked."""
    if setup.backend != "auto":
        return setup.backend
    params = setup.parameters()
    accuracy = CLASSIFICATION.get(setup.loss)
    parts = native_parts(setup.loss, setup.optimizer, accuracy, params) if setup.together else None
    together, size = parts is not None, (len(params), setup.batch, setup.steps)
    if setup.dtype != np.float64 or not native_pays(*size, 0.0, together):
        return "numpy"  # it would not pay even with the kernels loaded: the start-up is not looked up
    startup = native_startup_seconds()
    if startup is not None and parts is not None:
        startup += native_loop_startup_seconds(*parts)
    return "native" if native_pays(*size, startup, together) else "numpy"


def choose_trainer(setup: TrainSetup, may_fall_back: bool = True) -> tuple[Trainer, bool]:
    """(the trainer for this setup, whether it is compiled); ValueError if compiled=True or backend="native" and it
    cannot be.

    With compiled=None and a backend that is not "native", a compiled trainer that meets an error or a non-finite
    number hands the step to the scalar engine (`may_fall_back`: for one process; workers must all take the same
    path, so they raise).
    """
    if setup.compiled not in (None, True, False):
        raise ValueError(f"compiled must be True, False or None (use it when possible), got {setup.compiled!r}")
    insists = setup.compiled or setup.backend == "native"  # backend="native" asks for the compiled path
    if setup.compiled is not False:
        try:
            trainer = _compiled_trainer(setup)
        except CannotCompile as e:
            if insists:
                asked = "compiled=True" if setup.compiled else "backend='native'"
                raise ValueError(f"fit({asked}) cannot compile this model and loss: {e}") from None
            if e.data_dependent:  # the user may not expect this model to be slow: say why, once per fit
                warnings.warn(f"fit trains with the scalar engine: {e}", FallbackWarning, stacklevel=4)
        else:
            if not insists and may_fall_back:
                return FallbackTrainer(trainer, setup), True
            return trainer, True
    return scalar_trainer(setup), False


def scalar_trainer(setup: TrainSetup) -> ValueTrainer:
    """The scalar engine's trainer: one graph per sample, one backward pass, the optimizer's step()."""
    step = scalar_step(setup.model, setup.loss, setup.l2, setup.model.parameters())
    return ValueTrainer(step, setup.optimizer, setup.xs, setup.ys, setup.loss)


def _compiled_trainer(setup: TrainSetup) -> Trainer:
    """The array trainer for a built-in loss, else the loss compiled into the graph; CannotCompile if neither."""
    backend = backend_of(setup)
    if backend != setup.backend:  # chosen by the estimate: a model the native step cannot run trains on numpy
        try:
            return _trainer_on(setup, backend)
        except CannotCompile:
            raise
        except ValueError:
            backend = "numpy"
    return _trainer_on(setup, backend)


def _trainer_on(setup: TrainSetup, backend: str) -> Trainer:
    """The compiled trainer with this backend; CannotCompile if the model or loss cannot be compiled."""
    if setup.loss in BATCH_LOSSES:
        X, y = np.asarray(setup.xs, dtype=float), np.asarray(setup.ys)
        return ArrayTrainer(
            setup.model, setup.loss, setup.l2, setup.optimizer, X, y, CLASSIFICATION.get(setup.loss), setup.dtype,
            backend, setup.parameters(),
        )
    if setup.dtype != np.float64:
        names = ", ".join(f.__name__ for f in BATCH_LOSSES)
        raise CannotCompile(f"dtype={setup.dtype} needs a built-in loss ({names})")
    step = loss_graph_step(setup.model, setup.loss, setup.l2, setup.model.parameters(), setup.xs, setup.ys, backend)
    return ValueTrainer(step, setup.optimizer, setup.xs, setup.ys, setup.loss, backend)


class FallbackTrainer:
    """A compiled trainer that hands over to the scalar engine for good at the first step it cannot take.

    A compiled step that meets a domain error or a NaN/inf takes nothing into the model, so the scalar engine
    takes the same step from the same parameters: it raises the error the scalar path raises, or (a function
    that catches the error, say) trains on, with a FallbackWarning naming the cause.
    """

    def __init__(self, trainer: Trainer, setup: TrainSetup) -> None:
        self.trainer, self.setup = trainer, setup
        self.compiled = True

    @property
    def backend(self) -> str:
        """The backend of the trainer now taking the steps ("scalar" once it has handed over)."""
        return self.trainer.backend

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]:
        if not self.compiled:
            return self.trainer.step(chosen)
        try:
            return self.trainer.step(chosen)
        except (ArithmeticError, ValueError) as e:
            cause = f"{type(e).__name__}: {e}"
        self.trainer.sync()
        warnings.warn(f"fit trains with the scalar engine from here on: a compiled step met {cause}",
                      FallbackWarning, stacklevel=5)
        self.trainer, self.compiled = scalar_trainer(self.setup), False
        return self.trainer.step(chosen)

    def full_batch_epochs(self, count: int) -> list[tuple[float, int | None]] | None:
        """The compiled trainer's epochs in one call (it stops before any step it cannot take: `step` takes that)."""
        return self.trainer.full_batch_epochs(count) if self.compiled else None

    def sync(self) -> None:
        self.trainer.sync()
