"""`fit`, the front door of training: check everything, choose a trainer, run the epoch loop.

Following a model through: `fit` checks the arguments and data, builds a `TrainSetup`,
`choose_trainer` picks the compiled or scalar trainer (choose.py), `distributed.sharded`
wraps it when workers share the batches, a live figure's callback is added when asked
for (nn/figures/live.py), and `train_loop` (loop.py) runs the epochs.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from autograd_lite import Value, no_grad
from autograd_lite.compiled import native_startup_seconds
from nn.checkpoint import Checkpoint, resumed
from nn.checks import integer, number
from nn.figures.live import LiveFigure, live_callback
from nn.training import distributed
from nn.training.choose import TrainSetup, choose_trainer
from nn.training.history import History
from nn.training.loop import Callback, Trainer, TrainOptions, train_loop
from nn.training.metrics import Target, checked_rows

if TYPE_CHECKING:
    from nn.module import Module
    from nn.optim import Optimizer


def fit(
    model: Module,
    X: npt.ArrayLike,
    y: npt.ArrayLike,
    loss: Callable[..., Value],
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    progress: bool = True,
    callback: Callback | None = None,
    l2: float = 0.0,
    compiled: bool | None = None,
    live: bool = False,
    distributed: bool = False,
    dtype: npt.DTypeLike = np.float64,
    resume: Checkpoint | str | os.PathLike[str] | None = None,
    backend: str = "auto",
) -> History:
    """Train `model` on (X, y): `batch_size` None is full batch, 1 online learning, k mini-batches.

    The batch loss is `loss(predictions, targets)` plus l2·Σp² over the model's parameters.
    Every argument and the data's shapes are checked before the first step. `callback(epoch,
    history)` runs after each epoch; returning True stops training. Ctrl-C stops after the
    current step and returns the history so far (with `history.interrupted` set).

    `compiled=None` (the default) replays the model's graph over whole batches with numpy
    (`autograd_lite.compile_graph`) when the model and loss allow it — the same numbers, much
    faster — and otherwise builds the scalar graph per sample (a model whose graph depends on
    the data is said so with a FallbackWarning); `True` insists (ValueError saying why not),
    `False` always uses the scalar engine. `history.compiled` says which ran. `backend` says what runs
    the compiled path: "numpy", "native" (numba kernels, the `fast` extra; float64; it insists on the
    compiled path like compiled=True; full-batch epochs without a callback run many steps per native
    call), or "auto" (the default: native only when the estimated time it saves over the fit's steps
    exceeds its start-up, so in practice for small models, tiny batches and many steps);
    `history.backend` says which ran ("scalar" for the scalar engine). While the compiled path
    trains, the parameters live in one array; they are written back to the parameter Values
    before every callback and when fit returns. `dtype=np.float32` runs the compiled path in single
    precision (float64, the default, gives the scalar path's numbers).
    `live=True` in a notebook keeps a figure of the loss, accuracy and decision boundary updated (nn/figures/live.py).
    `distributed=True` trains data-parallel in every worker of a torch.distributed group
    (nn/training/distributed.py). `resume` (a checkpoint's path, or `nn.load_checkpoint`'s result)
    fills model and optimizer from it and trains `epochs` more, numbered and shuffled on from
    the checkpoint's: 40 epochs then 5 resumed give the weights of 45 (nn/checkpoint.py).
    """
    setup = _checked_setup(model, X, y, loss, optimizer, l2, compiled, dtype, distributed, backend)
    options = _checked_options(len(setup.xs), epochs, batch_size, shuffle, seed, progress, callback, live)
    options = resumed(resume, model, optimizer, options)
    setup = replace(setup, steps=options.epochs * math.ceil(len(setup.xs) / options.size), batch=options.size)
    figure = None
    if live:
        wrapped, figure = live_callback(model, setup.xs, setup.ys, loss, options.epochs, options.callback)
        # outside a notebook the text bar stands in for the figure
        options = replace(options, callback=wrapped, progress=options.progress or figure is None)
    trainer, options = _trainer(setup, options, distributed)
    history = train_loop(trainer, len(setup.xs), options)
    history.compiled, history.backend = trainer.compiled, trainer.backend
    _finish(figure, history)
    return history


def _trainer(setup: TrainSetup, options: TrainOptions, workers: bool) -> tuple[Trainer, TrainOptions]:
    """(the trainer, the options as the workers share them)."""
    if not workers:  # full batches with no callback may be taken many per call (the estimate needs to know)
        together = options.size >= len(setup.xs) and options.callback is None
        return choose_trainer(replace(setup, together=together))[0], options
    reduction, seed = distributed.join_workers(setup, options.seed)  # before the trainer copies the parameters
    trainer = choose_trainer(setup, may_fall_back=False)[0]
    options = replace(options, seed=seed, progress=distributed.shows_progress(options.progress))
    return distributed.sharded(trainer, setup, reduction), options


def _finish(figure: LiveFigure | None, history: History) -> None:
    """The live figure's last picture, if there is one."""
    if figure is not None:
        figure.finish(history)


def _checked_setup(
    model: Module, X: npt.ArrayLike, y: npt.ArrayLike, loss: Callable[..., Value], optimizer: Optimizer, l2: float,
    compiled: bool | None, dtype: npt.DTypeLike, workers: bool, backend: str,
) -> TrainSetup:
    """The TrainSetup of these arguments; ValueError naming the first that is wrong."""
    xs, ys = _checked_data(model, X, y, loss)
    for method in ("step", "zero_grad"):
        if not callable(getattr(optimizer, method, None)):
            raise ValueError(f"optimizer needs a {method}() method, got {optimizer!r}")
    if workers not in (False, True):
        raise ValueError(f"distributed must be True or False, got {workers!r}")
    if compiled not in (None, True, False):
        raise ValueError(f"compiled must be True, False or None (use it when possible), got {compiled!r}")
    chosen = _float_dtype(dtype)
    if chosen != np.float64 and (compiled is False or workers):
        raise ValueError("dtype=float32 is for the compiled path; the scalar engine computes in float64")
    _check_backend(backend, compiled, chosen)
    return TrainSetup(model, loss, number(l2, "l2", 0), optimizer, xs, ys, compiled, chosen, backend,
                      params=model.parameters())


def _check_backend(backend: str, compiled: bool | None, dtype: np.dtype) -> None:
    """ValueError if `backend` is not one fit knows, or "native" where it cannot run."""
    if backend not in ("auto", "numpy", "native"):
        raise ValueError(f"backend must be 'auto', 'numpy' or 'native', got {backend!r}")
    if backend != "native":
        return
    if compiled is False:
        raise ValueError("backend='native' runs the compiled path; compiled=False trains with the scalar engine")
    if dtype != np.float64:
        raise ValueError("backend='native' computes in float64; use backend='numpy' for dtype=float32")
    if native_startup_seconds() is None:
        raise ValueError("backend='native' needs numba and scipy: pip install 'autograd-lite[fast]'")


def _checked_options(
    n: int, epochs: int, batch_size: int | None, shuffle: bool, seed: int | None, progress: bool,
    callback: Callback | None, live: bool,
) -> TrainOptions:
    """The loop's options; ValueError naming the first that is wrong."""
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    if not isinstance(live, bool):
        raise ValueError(f"live must be True or False, got {live!r}")
    size = n if batch_size is None else min(integer(batch_size, "batch_size", 1), n)
    return TrainOptions(integer(epochs, "epochs", 0), size, shuffle, seed, progress, callback)


def _float_dtype(dtype: npt.DTypeLike) -> np.dtype:
    """float64 or float32 as a numpy dtype; ValueError for anything else."""
    try:
        value = np.dtype(dtype)
    except TypeError:
        value = None
    if value not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    return value


def _checked_data(
    model: Module, X: npt.ArrayLike, y: npt.ArrayLike, loss: Callable[..., Value]
) -> tuple[list[list[float]], list[Target]]:
    """X as lists of floats and y as a list; ValueError for bad shapes or targets, found by a dry run."""
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise ValueError(f"model must be an nn.Module (callable, with parameters()), got {model!r}")
    if not callable(loss):
        raise ValueError(f"loss must be a loss function such as nn.mse, got {loss!r}")
    xs = checked_rows(model, X)
    try:
        targets = np.asarray(y)
    except ValueError as e:  # numpy's own words name neither y nor what to do
        raise ValueError(f"y must hold numbers in rows of one length ({e})") from None
    if targets.ndim == 0 or len(targets) != len(xs):
        raise ValueError(f"X has {len(xs)} rows but y has shape {targets.shape}")
    if targets.dtype.kind not in "biuf" or (targets.dtype.kind == "f" and not np.isfinite(targets).all()):
        raise ValueError("y must hold finite numbers")
    ys = (targets.astype(int) if targets.dtype.kind == "b" else targets).tolist()
    with no_grad():
        first = model(xs[0])
        distinct = [ys[i] for i in sorted(np.unique(targets, axis=0, return_index=True)[1])]
        try:  # each distinct target once: a loss checks its targets one by one, and 10,000 samples took 0.2 s
            loss([first] * len(distinct), distinct)
        except Exception:  # every target, so that the error names the element where it is (or passes after all)
            loss([first] * len(ys), ys)  # raises ValueError naming a bad target or a shape mismatch
    return xs, ys
