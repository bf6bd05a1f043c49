"""Training: `fit` (full batch, online or mini-batch), `History`, `predict` and `accuracy`.

One training step is split in two: a *step function* computes the batch loss
and accumulates gradients into `.grad` (`scalar_step` builds the scalar graph
per sample; a compiled path can stand in for it), then the optimizer updates.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite import Value, no_grad, sum_values
from nn import losses
from nn.checks import integer, number
from nn.compiled_step import CannotCompile, compiled_step
from nn.progress import Progress, StopOnInterrupt

# (inputs of a batch, targets of a batch) -> (batch loss, the batch's predictions as floats or lists of floats)
StepFunction = Callable[[list[list[float]], list[Any]], tuple[float, list[Any]]]


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
) -> History:
    """Train `model` on (X, y): `batch_size` None is full batch, 1 online learning, k mini-batches.

    The batch loss is `loss(predictions, targets)` plus l2·Σp² over the model's parameters.
    Every argument and the data's shapes are checked before the first step. `callback(epoch,
    history)` runs after each epoch; returning True stops training. Ctrl-C stops after the
    current step and returns the history so far (with `history.interrupted` set).

    `compiled=None` (the default) replays the per-sample graph over whole batches with numpy
    (`autograd_lite.compile_graph`) when the model and loss allow it — the same numbers, much
    faster — and otherwise builds the scalar graph per sample; `True` insists (ValueError
    saying why not), `False` always uses the scalar engine. `history.compiled` says which ran.
    `live=True` in a notebook keeps a figure of the loss, accuracy and decision boundary updated (nn/live.py).

    `distributed=True` trains data-parallel in every worker of a torch.distributed group (see nn/distributed.py).
    """
    xs, ys = _checked_data(model, X, y, loss)
    n = len(xs)
    epochs = integer(epochs, "epochs", 0)
    size = n if batch_size is None else min(integer(batch_size, "batch_size", 1), n)
    l2 = number(l2, "l2", 0)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback must be callable, got {callback!r}")
    for method in ("step", "zero_grad"):
        if not callable(getattr(optimizer, method, None)):
            raise ValueError(f"optimizer needs a {method}() method, got {optimizer!r}")
    if distributed not in (False, True):
        raise ValueError(f"distributed must be True or False, got {distributed!r}")
    step = _compiled_or_none(model, loss, l2, xs, ys, compiled)
    if not isinstance(live, bool):
        raise ValueError(f"live must be True or False, got {live!r}")
    figure = None
    if live:
        from nn.live import live_callback  # matplotlib and IPython, loaded only when asked for

        callback, figure = live_callback(model, xs, ys, loss, epochs, callback)
        progress = progress or figure is None  # outside a notebook the text bar stands in for the figure
    run = step or scalar_step(model, loss, l2, model.parameters())
    if distributed:  # torch is imported only here
        from nn.distributed import data_parallel

        run, seed, progress = data_parallel(run, xs, ys, loss, l2, model.parameters(), seed, progress)
    history = _train(run, xs, ys, loss, optimizer, epochs, size, shuffle, seed, progress, callback)
    history.compiled = step is not None
    if figure is not None:
        figure.finish(history)
    return history


def _compiled_or_none(
    model: Any, loss: Callable[..., Value], l2: float, xs: list, ys: list, compiled: bool | None
) -> StepFunction | None:
    """The compiled step when asked for (True) or possible (None); ValueError if asked for and impossible."""
    if compiled is False:
        return None
    if compiled not in (None, True):
        raise ValueError(f"compiled must be True, False or None (use it when possible), got {compiled!r}")
    try:
        return compiled_step(model, loss, l2, model.parameters(), xs, ys)
    except CannotCompile as e:
        if compiled:
            raise ValueError(f"fit(compiled=True) cannot compile this model and loss: {e}") from None
        return None


def _train(
    step: StepFunction,
    xs: list[list[float]],
    ys: list[Any],
    loss: Callable[..., Value],
    optimizer: Any,
    epochs: int,
    size: int,
    shuffle: bool,
    seed: int | None,
    progress: bool,
    callback: Callable[[int, History], Any] | None,
) -> History:
    """The epoch loop around a step function."""
    n, history = len(xs), History()
    rng = np.random.default_rng(seed)
    batches = math.ceil(n / size)
    bar = Progress(epochs, progress)
    try:
        with StopOnInterrupt() as stop:
            for epoch in range(epochs):
                order = rng.permutation(n) if shuffle and batches > 1 else range(n)
                total, right, done = 0.0, 0, 0
                for start in range(0, n, size):
                    chosen = order[start : start + size]
                    bx, by = [xs[i] for i in chosen], [ys[i] for i in chosen]
                    optimizer.zero_grad()
                    value, preds = step(bx, by)
                    optimizer.step()
                    total += value * len(chosen)
                    right += _count_correct(loss, preds, by) or 0
                    done += 1
                    if stop.requested:
                        break
                if done < batches:  # interrupted mid-epoch: the epoch is not recorded
                    break
                accuracy = right / n if loss in CLASSIFICATION else None
                history.loss.append(total / n)
                history.accuracy.append(accuracy)
                bar.update(epoch, total / n, accuracy)
                if (callback is not None and callback(epoch, history) is True) or stop.requested:
                    break
            history.interrupted = stop.requested
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        bar.close()
    return history


# --- predictions and accuracy


def predict(model: Callable[[Any], Any], X: Any) -> np.ndarray:
    """The model's outputs for each row of X, without building graphs: shape (n,) or (n, outputs)."""
    rows = _checked_inputs(model, X)
    with no_grad():
        return np.array([_floats(model(x)) for x in rows])


def accuracy(model: Callable[[Any], Any], X: Any, y: Any, loss: Callable[..., Value] | None = None) -> float:
    """Fraction of rows classified right, judged as `loss` would (see CLASSIFICATION).

    Without `loss`: several outputs mean argmax; labels ±1 mean the sign (hinge); labels 0/1
    mean a threshold of 0.5 if the model's `output_activation` is sigmoid, else 0 (a logit).
    """
    preds = predict(model, X).tolist()
    targets = np.asarray(y).tolist()
    if len(targets) != len(preds):
        raise ValueError(f"X has {len(preds)} rows but y has {len(targets)} labels")
    loss = loss if loss is not None else _guess_classifier(model, preds, targets)
    if loss not in CLASSIFICATION:
        raise ValueError(f"accuracy needs a classification loss ({', '.join(f.__name__ for f in CLASSIFICATION)})")
    return _count_correct(loss, preds, targets) / len(targets)


def outputs_probabilities(model: Any) -> bool:
    """Whether the model's last activation is a sigmoid (an MLP's output_activation, or a lone Neuron's)."""
    last = getattr(model, "output_activation", None) or getattr(model, "activation", None)
    return last == "sigmoid"


def _guess_classifier(model: Any, preds: list[Any], targets: list[Any]) -> Callable[..., Value]:
    if preds and isinstance(preds[0], list):
        return losses.cross_entropy
    labels = set(np.ravel(targets).tolist())
    if labels <= {-1, 1}:
        return losses.hinge
    if labels <= {0, 1}:
        return losses.binary_cross_entropy if outputs_probabilities(model) else losses.bce_with_logits
    raise ValueError(f"cannot tell how to score labels {sorted(labels)[:5]}; pass loss=")


def _right_by_threshold(threshold: float, target_threshold: float) -> Callable[[list, list], int]:
    def count(preds: list[Any], targets: list[Any]) -> int:
        return sum((p > threshold) == (t > target_threshold) for p, t in losses.pairs(preds, targets))

    return count


def _right_by_argmax(preds: list[Any], targets: list[Any]) -> int:
    return sum(int(np.argmax(p)) == t for p, t in zip(preds, targets, strict=True))


# Which prediction counts as right, per classification loss (predictions as floats).
CLASSIFICATION: dict[Callable[..., Value], Callable[[list, list], int]] = {
    losses.hinge: _right_by_threshold(0.0, 0.0),
    losses.binary_cross_entropy: _right_by_threshold(0.5, 0.5),
    losses.bce_with_logits: _right_by_threshold(0.0, 0.5),
    losses.cross_entropy: _right_by_argmax,
}


def _count_correct(loss: Callable[..., Value], preds: list[Any], targets: list[Any]) -> int | None:
    rule = CLASSIFICATION.get(loss)
    return None if rule is None else rule(preds, targets)


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



