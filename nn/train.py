"""Training: `fit` (full batch, online or mini-batch), `History`, `predict` and `accuracy`.

The epoch loop (`_train`) drives a *trainer*: one training step on chosen samples,
and `sync()` to make the model's Values current. `ValueTrainer` runs a step function
over Values (`scalar_step` builds the scalar graph per sample) and the optimizer's
`step()`; `ArrayTrainer` (nn/compiled_step.py) keeps the parameters in one array.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from autograd_lite import CompileCheckError, Value, compile_graph, no_grad, sum_values
from nn import losses
from nn.checks import integer, number
from nn.compiled_step import BATCH_LOSSES, ArrayTrainer, CannotCompile, loss_graph_step
from nn.progress import Progress, StopOnInterrupt

# (inputs of a batch, targets of a batch) -> (batch loss, the batch's predictions as floats or lists of floats)
StepFunction = Callable[[list[list[float]], list[Any]], tuple[float, list[Any]]]


class FallbackWarning(UserWarning):
    """fit could not compile the model (its graph depends on the data) and trains with the scalar engine."""


@dataclass
class History:
    """Per-epoch training record: `loss` (batch losses averaged over the epoch, weighted by batch size,
    including the l2 term) and `accuracy` (fraction right during the epoch's steps; None for regression)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C
    compiled: bool = False  # trained by the compiled (numpy batch) path

    @property
    def epochs(self) -> int:
        """How many epochs completed."""
        return len(self.loss)


def scalar_step(
    model: Callable[[Any], Any], loss: Callable[..., Value], l2: float, params: list[Value]
) -> StepFunction:
    """The step function of the scalar engine: one graph per sample, then one backward pass."""

    def step(xs: list[list[float]], ys: list[Any]) -> tuple[float, list[Any]]:
        preds = [model(x) for x in xs]
        total = loss(preds, ys)
        if l2:
            total = total + l2 * sum_values(p * p for p in params)
        total.backward()
        return total.data, [_floats(p) for p in preds]

    return step


def fit(
    model: Any,
    X: Any,
    y: Any,
    loss: Callable[..., Value],
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    progress: bool = True,
    callback: Callable[[int, History], Any] | None = None,
    l2: float = 0.0,
    compiled: bool | None = None,
    live: bool = False,
    distributed: bool = False,
    dtype: Any = np.float64,
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
    `False` always uses the scalar engine. `history.compiled` says which ran. While the
    compiled path trains, the parameters live in one array; they are written back to the
    parameter Values before every callback and when fit returns. `dtype=np.float32` runs the
    compiled path in single precision (float64, the default, gives the scalar path's numbers).
    `live=True` in a notebook keeps a figure of the loss, accuracy and decision boundary updated (nn/live.py).
    `distributed=True` trains data-parallel in every worker of a torch.distributed group (see nn/distributed.py).
    """
    xs, ys = _checked_data(model, X, y, loss)
    n = len(xs)
    options = TrainOptions(
        epochs=integer(epochs, "epochs", 0),
        size=n if batch_size is None else min(integer(batch_size, "batch_size", 1), n),
        shuffle=shuffle,
        seed=seed,
        progress=progress,
        callback=callback,
    )
    l2 = number(l2, "l2", 0)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    for method in ("step", "zero_grad"):
        if not callable(getattr(optimizer, method, None)):
            raise ValueError(f"optimizer needs a {method}() method, got {optimizer!r}")
    if distributed not in (False, True):
        raise ValueError(f"distributed must be True or False, got {distributed!r}")
    if not isinstance(live, bool):
        raise ValueError(f"live must be True or False, got {live!r}")
    dtype = _float_dtype(dtype)
    if dtype != np.float64 and (compiled is False or distributed):
        raise ValueError("dtype=float32 is for the compiled path; the scalar engine computes in float64")
    figure = None
    trainer: Trainer
    if live:
        from nn.live import live_callback  # matplotlib and IPython, loaded only when asked for

        callback, figure = live_callback(model, xs, ys, loss, options.epochs, callback)
        # outside a notebook the text bar stands in for the figure
        options = replace(options, callback=callback, progress=options.progress or figure is None)
    if distributed:
        from nn.distributed import distributed_trainer  # torch is imported only here

        trainer, ran_compiled, seed, shown = distributed_trainer(
            model, loss, l2, optimizer, xs, ys, compiled, options.seed, options.progress
        )
        options = replace(options, seed=seed, progress=shown)
    else:
        compiled_trainer = _compiled_or_none(model, loss, l2, optimizer, xs, ys, compiled, dtype)
        ran_compiled = compiled_trainer is not None
        if compiled_trainer is None:
            trainer = ValueTrainer(scalar_step(model, loss, l2, model.parameters()), optimizer, xs, ys, loss)
        else:
            trainer = compiled_trainer
    history = _train(trainer, n, options)
    history.compiled = ran_compiled
    if figure is not None:
        figure.finish(history)
    return history


def _float_dtype(dtype: Any) -> np.dtype:
    """float64 or float32 as a numpy dtype; ValueError for anything else."""
    try:
        value = np.dtype(dtype)
    except TypeError:
        value = None
    if value not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    return value


@dataclass(frozen=True)
class TrainOptions:
    """How fit loops: epochs, batch size, shuffling, progress bar and callback."""

    epochs: int
    size: int  # samples per batch
    shuffle: bool = True
    seed: int | None = None
    progress: bool = True
    callback: Callable[[int, History], Any] | None = None


class Trainer(Protocol):
    """One training step on chosen samples, and writing its state back to the model's Values."""

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]: ...

    def sync(self) -> None: ...


class ValueTrainer:
    """A step function over Values (scalar, or compiled with the loss in the graph) and the optimizer's step."""

    def __init__(self, step: StepFunction, optimizer: Any, xs: list[list[float]], ys: list[Any], loss: Any) -> None:
        self._step, self.optimizer, self.xs, self.ys = step, optimizer, xs, ys
        self.right = CLASSIFICATION.get(loss)

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]:
        rows = range(len(self.xs))[chosen] if isinstance(chosen, slice) else chosen.tolist()
        bx, by = [self.xs[i] for i in rows], [self.ys[i] for i in rows]
        self.optimizer.zero_grad()
        value, preds = self._step(bx, by)
        self.optimizer.step()
        return value, None if self.right is None else self.right(np.asarray(preds, float), np.asarray(by))

    def sync(self) -> None:
        """Nothing to do: the Values are the parameters."""


def _compiled_or_none(
    model: Any, loss: Callable[..., Value], l2: float, optimizer: Any, xs: list, ys: list, compiled: bool | None,
    dtype: Any = np.float64,
) -> Trainer | None:
    """The compiled trainer when asked for (True) or possible (None); ValueError if asked for and impossible."""
    if compiled is False:
        return None
    if compiled not in (None, True):
        raise ValueError(f"compiled must be True, False or None (use it when possible), got {compiled!r}")
    try:
        if loss in BATCH_LOSSES:
            X, y = np.asarray(xs, dtype=float), np.asarray(ys)
            return ArrayTrainer(model, loss, l2, optimizer, X, y, CLASSIFICATION.get(loss), dtype)
        if dtype != np.float64:
            names = ", ".join(f.__name__ for f in BATCH_LOSSES)
            raise CannotCompile(f"dtype={np.dtype(dtype)} needs a built-in loss ({names})")
        step = loss_graph_step(model, loss, l2, model.parameters(), xs, ys)
        return ValueTrainer(step, optimizer, xs, ys, loss)
    except CannotCompile as e:
        if compiled:
            raise ValueError(f"fit(compiled=True) cannot compile this model and loss: {e}") from None
        if e.data_dependent:  # the user may not expect this model to be slow: say why, once per fit
            warnings.warn(f"fit trains with the scalar engine: {e}", FallbackWarning, stacklevel=3)
        return None


def _train(trainer: Trainer, n: int, options: TrainOptions) -> History:
    """The epoch loop around a trainer; the model's Values are up to date at every callback and at the end."""
    history = History()
    rng = np.random.default_rng(options.seed)
    size = options.size
    batches = math.ceil(n / size)
    bar = Progress(options.epochs, options.progress)
    try:
        with StopOnInterrupt() as stop:
            for epoch in range(options.epochs):
                order = rng.permutation(n) if options.shuffle and batches > 1 else None
                total, right, done = 0.0, 0, 0
                for start in range(0, n, size):
                    chosen = slice(start, start + size) if order is None else order[start : start + size]
                    value, correct = trainer.step(chosen)
                    total += value * (min(start + size, n) - start)
                    right += correct or 0
                    done += 1
                    if stop.requested:
                        break
                if done < batches:  # interrupted mid-epoch: the epoch is not recorded
                    break
                accuracy = right / n if correct is not None else None
                history.loss.append(total / n)
                history.accuracy.append(accuracy)
                bar.update(epoch, total / n, accuracy)
                if options.callback is not None:
                    trainer.sync()  # the callback may read the parameters
                if (options.callback is not None and options.callback(epoch, history) is True) or stop.requested:
                    break
            history.interrupted = stop.requested
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        trainer.sync()
        bar.close()
    return history


# --- predictions and accuracy


def predict(model: Callable[[Any], Any], X: Any) -> np.ndarray:
    """The model's outputs for each row of X, without building graphs: shape (n,) or (n, outputs).

    All rows go through the model's compiled graph in one numpy batch when the model compiles
    (the same numbers, milliseconds for 40,000 rows); otherwise, or where the batch meets an
    error or a NaN, one row at a time with the scalar engine, which says what went wrong.
    """
    rows = _checked_inputs(model, X)
    outputs = _batch_outputs(model, np.asarray(rows))
    if outputs is not None:
        return outputs
    with no_grad():
        return np.array([_floats(model(x)) for x in rows])


def _batch_outputs(model: Callable[[Any], Any], rows: np.ndarray) -> np.ndarray | None:
    """The outputs of every row from one compiled batch; None if the model does not compile or the batch fails."""
    inputs = [Value(0.0, f"x{i}", requires_grad=False) for i in range(rows.shape[1])]
    try:
        graph = compile_graph(lambda *xs: model(list(xs)), inputs)
        return np.array(graph.forward(*rows.T), dtype=float)
    except (CompileCheckError, ArithmeticError, TypeError, ValueError):  # the scalar path repeats a real error
        return None


def accuracy(model: Callable[[Any], Any], X: Any, y: Any, loss: Callable[..., Value] | None = None) -> float:
    """Fraction of rows classified right, judged as `loss` would (see CLASSIFICATION).

    Without `loss`: several outputs mean argmax; labels ±1 mean the sign (hinge); labels 0/1
    mean a threshold of 0.5 if the model's `output_activation` is sigmoid, else 0 (a logit).
    """
    preds = predict(model, X)
    targets = np.asarray(y)
    if targets.ndim == 0:
        raise ValueError(f"y must be a sequence of labels, got {y!r}")
    if len(targets) != len(preds):
        raise ValueError(f"X has {len(preds)} rows but y has {len(targets)} labels")
    loss = loss if loss is not None else _guess_classifier(model, preds, targets)
    if loss not in CLASSIFICATION:
        raise ValueError(f"accuracy needs a classification loss ({', '.join(f.__name__ for f in CLASSIFICATION)})")
    return CLASSIFICATION[loss](preds, targets) / len(targets)


def outputs_probabilities(model: Any) -> bool:
    """Whether the model's last activation is a sigmoid (an MLP's output_activation, or a lone Neuron's)."""
    last = getattr(model, "output_activation", None) or getattr(model, "activation", None)
    return last == "sigmoid"


def _guess_classifier(model: Any, preds: np.ndarray, targets: np.ndarray) -> Callable[..., Value]:
    if preds.ndim == 2:
        return losses.cross_entropy
    labels = set(np.ravel(targets).tolist())
    if labels <= {-1, 1}:
        return losses.hinge
    if labels <= {0, 1}:
        return losses.binary_cross_entropy if outputs_probabilities(model) else losses.bce_with_logits
    raise ValueError(f"cannot tell how to score labels {sorted(labels)[:5]}; pass loss=")


def _right_by_threshold(threshold: float, target_threshold: float) -> Callable[[np.ndarray, np.ndarray], int]:
    def count(preds: np.ndarray, targets: np.ndarray) -> int:
        return int(np.count_nonzero((preds > threshold) == (targets > target_threshold)))

    return count


def _right_by_argmax(preds: np.ndarray, targets: np.ndarray) -> int:
    return int(np.count_nonzero(np.argmax(preds, axis=1) == targets))


# Which prediction counts as right, per classification loss: (predictions, targets) as arrays of the same
# shape, or (samples × classes, class indices) for cross_entropy.
CLASSIFICATION: dict[Callable[..., Value], Callable[[np.ndarray, np.ndarray], int]] = {
    losses.hinge: _right_by_threshold(0.0, 0.0),
    losses.binary_cross_entropy: _right_by_threshold(0.5, 0.5),
    losses.bce_with_logits: _right_by_threshold(0.0, 0.5),
    losses.cross_entropy: _right_by_argmax,
}


# --- checks done before any step


def _floats(out: Any) -> Any:
    """A model output as a float or a list of floats."""
    if isinstance(out, (list, tuple)):
        return [_floats(o) for o in out]
    return out.data if isinstance(out, Value) else float(out)


def _checked_inputs(model: Any, X: Any) -> list[list[float]]:
    try:
        array = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("X must be a 2-D array of numbers (rows are samples)") from None
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"X must be a 2-D array (samples × features) with at least one row, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError("X contains NaN or infinity")
    nin = getattr(model, "nin", None)
    if nin is not None and array.shape[1] != nin:
        raise ValueError(f"X has {array.shape[1]} features per row but the model takes {nin} inputs")
    return array.tolist()


def _checked_data(model: Any, X: Any, y: Any, loss: Callable[..., Value]) -> tuple[list[list[float]], list[Any]]:
    """X as lists of floats and y as a list; ValueError for bad shapes or targets, found by a dry run."""
    if not callable(model) or not callable(getattr(model, "parameters", None)):
        raise ValueError(f"model must be an nn.Module (callable, with parameters()), got {model!r}")
    if not callable(loss):
        raise ValueError(f"loss must be a loss function such as nn.mse, got {loss!r}")
    xs = _checked_inputs(model, X)
    targets = np.asarray(y)
    if targets.ndim == 0 or len(targets) != len(xs):
        raise ValueError(f"X has {len(xs)} rows but y has shape {targets.shape}")
    if targets.dtype.kind not in "biuf" or (targets.dtype.kind == "f" and not np.isfinite(targets).all()):
        raise ValueError("y must hold finite numbers")
    ys = (targets.astype(int) if targets.dtype.kind == "b" else targets).tolist()
    with no_grad():
        first = model(xs[0])
        loss([first] * len(ys), ys)  # raises ValueError naming a bad target or a shape mismatch
    return xs, ys



