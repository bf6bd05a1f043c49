"""A trained model's outputs and how right they are: `predict`, `accuracy`, and what counts as right per loss."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import SupportsFloat

import numpy as np
import numpy.typing as npt

from autograd_lite import CompileCheckError, Value, compile_graph, no_grad
from nn import losses

# A model as training calls it: one sample's inputs (numbers, or Values when compiled) in, Values out.
Model = Callable[[Sequence[float | Value]], Value | Sequence[Value]]
# One sample's target: a number (a value, a label, a class index) or a list of numbers.
Target = float | list[float]
# A model's output as plain numbers: a float, or a list of them (nested where the model nests its outputs).
Prediction = float | list["Prediction"]
# Counts the right predictions of a batch: (predictions, targets) -> how many.
CountRight = Callable[[np.ndarray, np.ndarray], int]


def predict(model: Model, X: npt.ArrayLike) -> np.ndarray:
    """The model's outputs for each row of X, without building graphs: shape (n,) or (n, outputs).

    All rows go through the model's compiled graph in one numpy batch when the model compiles
    (the same numbers, milliseconds for 40,000 rows); otherwise, or where the batch meets an
    error or a NaN, one row at a time with the scalar engine, which says what went wrong.
    """
    rows = checked_rows(model, X)
    outputs = _batch_outputs(model, np.asarray(rows))
    if outputs is not None:
        return outputs
    with no_grad():
        return np.array([as_floats(model(x)) for x in rows])


def _batch_outputs(model: Model, rows: np.ndarray) -> np.ndarray | None:
    """The outputs of every row from one compiled batch; None if the model does not compile or the batch fails."""
    inputs = [Value(0.0, f"x{i}", requires_grad=False) for i in range(rows.shape[1])]
    try:
        graph = compile_graph(lambda *xs: model(list(xs)), inputs)
        return np.array(graph.forward(*rows.T), dtype=float)
    except (CompileCheckError, ArithmeticError, TypeError, ValueError):  # the scalar path repeats a real error
        return None


def accuracy(
    model: Model, X: npt.ArrayLike, y: npt.ArrayLike, loss: Callable[..., Value] | None = None
) -> float:
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


def outputs_probabilities(model: object) -> bool:
    """Whether the model's last activation is a sigmoid (an MLP's output_activation, or a lone Neuron's)."""
    last = getattr(model, "output_activation", None) or getattr(model, "activation", None)
    return last == "sigmoid"


def _guess_classifier(model: object, preds: np.ndarray, targets: np.ndarray) -> Callable[..., Value]:
    if preds.ndim == 2:
        return losses.cross_entropy
    labels = set(np.ravel(targets).tolist())
    if labels <= {-1, 1}:
        return losses.hinge
    if labels <= {0, 1}:
        return losses.binary_cross_entropy if outputs_probabilities(model) else losses.bce_with_logits
    raise ValueError(f"cannot tell how to score labels {sorted(labels)[:5]}; pass loss=")


def right_by_threshold(preds: np.ndarray, targets: np.ndarray, thresholds: tuple[float, float]) -> int:
    """How many predictions fall on their target's side: (prediction > thresholds[0]) == (target > thresholds[1]).

    Written for numba too: fit's native path compiles this text.
    """
    return int(np.count_nonzero((preds > thresholds[0]) == (targets > thresholds[1])))


@dataclass(frozen=True)
class ByThreshold:
    """Counts right predictions by which side of a threshold they and their targets fall."""

    thresholds: tuple[float, float]  # (prediction's, target's)

    def __call__(self, preds: np.ndarray, targets: np.ndarray) -> int:
        return right_by_threshold(preds, targets, self.thresholds)


def _right_by_argmax(preds: np.ndarray, targets: np.ndarray) -> int:
    return int(np.count_nonzero(np.argmax(preds, axis=1) == targets))


# Which prediction counts as right, per classification loss: (predictions, targets) as arrays of the same
# shape, or (samples × classes, class indices) for cross_entropy.
CLASSIFICATION: dict[Callable[..., Value], CountRight] = {
    losses.hinge: ByThreshold((0.0, 0.0)),
    losses.binary_cross_entropy: ByThreshold((0.5, 0.5)),
    losses.bce_with_logits: ByThreshold((0.0, 0.5)),
    losses.cross_entropy: _right_by_argmax,
}


def as_floats(out: object) -> Prediction:
    """A model output as a float or a list of floats."""
    if isinstance(out, (list, tuple)):
        return [as_floats(o) for o in out]
    if isinstance(out, Value):
        return out.data
    if isinstance(out, SupportsFloat):  # a plain number (a model may return one)
        return float(out)
    raise TypeError(f"a model's output must be Values or numbers, got {type(out).__name__}")


def checked_rows(model: object, X: npt.ArrayLike) -> list[list[float]]:
    """X as lists of floats, one per sample; ValueError for a bad shape, a non-finite value or a width the model
    does not take."""
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
