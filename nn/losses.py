"""Losses built from engine ops, so `backward()` goes through them.

Each takes a single (prediction, target) pair or equal-length sequences of them
(nested sequences, e.g. per-sample lists of outputs, are matched element by
element). Reductions:
    squared_error          ½·Σ (target − pred)²   a sum: the textbooks' E_total
    mse                    mean of (target − pred)²
    binary_cross_entropy   mean of −[t·log p + (1−t)·log(1−p)], each log floored at −100 (as PyTorch)
    bce_with_logits        the same on logits z, computed stably as (z + |z|)/2 − z·t + log(1 + e^−|z|)
    hinge                  mean of max(0, 1 − t·score), targets ±1 (micrograd's demo loss)
    cross_entropy          mean over samples of logsumexp(logits) − logits[class], shifted by the max
Means are over every element, like PyTorch's reduction="mean".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_lite import Value, constant, sum_values
from nn.checks import number

if TYPE_CHECKING:
    from typing_extensions import TypeIs

    from autograd_lite.types import FloatOrValue

LOG_FLOOR = -100.0  # binary_cross_entropy's logs, as PyTorch's BCELoss: log 0 is -100, not -inf
# A loss's input: one number or Value, or equally shaped (nested) sequences or arrays of them.
Samples = Value | float | np.ndarray | Sequence["Samples"]


def reduces(how: str) -> Callable[[Callable[..., Value]], Callable[..., Value]]:
    """Mark a loss as a 'mean' or a 'sum' over samples, which lets `fit` replay it over whole batches."""

    def mark(loss: Callable[..., Value]) -> Callable[..., Value]:
        loss.reduction = how  # type: ignore[attr-defined]
        return loss

    return mark


def _is_sequence(x: object) -> TypeIs[Sequence[Any] | np.ndarray]:  # Any: entries, checked by the caller
    return isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, (str, bytes))


def _number(x: object, what: str) -> float:
    """The finite real number behind x (a number or a Value's data); ValueError otherwise."""
    return number(x.data if isinstance(x, Value) else x, what)


def pairs(pred: Any, target: Any, where: str = "") -> list[tuple[Any, Any]]:  # Any: user data, checked by _checked
    """Flat (pred, target) pairs from two equally shaped (nested) sequences or one pair."""
    if _is_sequence(pred) != _is_sequence(target):
        kinds = ("a sequence" if _is_sequence(x) else "a single value" for x in (pred, target))
        raise ValueError(f"pred is {next(kinds)} but target is {next(kinds)}{where}")
    if not _is_sequence(pred):
        return [(pred, target)]
    if len(pred) != len(target):
        raise ValueError(f"pred has {len(pred)} elements but target has {len(target)}{where}")
    if len(pred) == 0:
        raise ValueError("loss of empty sequences")
    out = []
    for i, (p, t) in enumerate(zip(pred, target, strict=True)):
        out.extend(pairs(p, t, f"{where} at index {i}"))
    return out


def _mean(terms: Sequence[FloatOrValue]) -> Value:
    return sum_values(terms) * (1.0 / len(terms))


@reduces("sum")
def squared_error(pred: Samples, target: Samples) -> Value:
    """½·Σ (target − pred)²: the classic E_total, a sum (not a mean)."""
    return sum_values((t - p) ** 2 for p, t in _checked(pred, target, "target")) * 0.5


@reduces("mean")
def mse(pred: Samples, target: Samples) -> Value:
    """Mean squared error: mean of (target − pred)²."""
    return _mean([(t - p) ** 2 for p, t in _checked(pred, target, "target")])


@reduces("mean")
def binary_cross_entropy(prob: Samples, target: Samples) -> Value:
    """Mean binary cross-entropy of probabilities in [0, 1] against targets in [0, 1]."""
    terms = []
    for i, (p, t) in enumerate(_checked(prob, target, "target", lo=0.0, hi=1.0)):
        if not 0.0 <= _number(p, "prob") <= 1.0:
            got = _number(p, "prob")
            raise ValueError(f"prob must lie in [0, 1], got {got!r} at element {i} (logits? use bce_with_logits)")
        p = constant(p)
        terms.append(-(t * _floored_log(p) + (1.0 - t) * _floored_log(1.0 - p)))
    return _mean(terms)


def _floored_log(q: Value) -> Value:
    """max(log q, LOG_FLOOR), and LOG_FLOOR at q = 0: exact value and slope 1/q wherever log q is above the floor."""
    return q.log().max(LOG_FLOOR) if q.data > 0 else constant(LOG_FLOOR)


@reduces("mean")
def bce_with_logits(logit: Samples, target: Samples) -> Value:
    """Mean binary cross-entropy of sigmoid(logit) against targets in [0, 1], stable for any logit."""
    terms = []
    for z, t in _checked(logit, target, "target", lo=0.0, hi=1.0):
        z = constant(z)
        # log(1 + e^z) − z·t rewritten so exp never sees a positive argument; (z + |z|)/2 rather
        # than relu(z) so the kinks of its two parts cancel and the slope at z = 0 is σ(0) − t
        terms.append(z * 0.5 + abs(z) * 0.5 - z * t + (1.0 + (-abs(z)).exp()).log())  # z + |z| overflows at 1e308
    return _mean(terms)


@reduces("mean")
def hinge(score: Samples, target: Samples) -> Value:
    """Mean SVM max-margin loss max(0, 1 − target·score) with targets −1 or +1."""
    checked = _checked(score, target, "target")
    for i, (_, t) in enumerate(checked):
        if _number(t, "target") not in (-1.0, 1.0):
            raise ValueError(f"hinge targets must be -1 or +1, got {_number(t, 'target')!r} at element {i}")
    return _mean([(1.0 - t * constant(s)).relu() for s, t in checked])


@reduces("mean")
def cross_entropy(logits: Samples, class_index: int | Sequence[int] | np.ndarray) -> Value:
    """Softmax cross-entropy: logits of one sample and its class, or sequences of both (mean)."""
    if not _is_sequence(logits):
        raise ValueError(f"logits must be a sequence of class scores, got {type(logits).__name__}")
    if not _is_sequence(class_index):
        return _cross_entropy_one(logits, class_index, "")
    if len(logits) != len(class_index):
        raise ValueError(f"logits has {len(logits)} samples but class_index has {len(class_index)}")
    if len(logits) == 0:
        raise ValueError("loss of empty sequences")
    samples = enumerate(zip(logits, class_index, strict=True))
    return _mean([_cross_entropy_one(z, c, f" at sample {i}") for i, (z, c) in samples])


def _cross_entropy_one(logits: object, class_index: object, where: str) -> Value:
    if not _is_sequence(logits) or len(logits) == 0:
        raise ValueError(f"logits must be a non-empty sequence of class scores{where}")
    if isinstance(class_index, (bool, np.bool_)) or not isinstance(class_index, (int, np.integer)):
        raise ValueError(f"class index must be an integer, got {class_index!r}{where}")
    if not 0 <= class_index < len(logits):
        raise ValueError(f"class index {class_index} is out of range for {len(logits)} classes{where}")
    for z in logits:
        _number(z, f"logit{where}")
    zs = [constant(z) for z in logits]
    shift = max(z.data for z in zs)  # any constant works; the max keeps every exp ≤ 1
    # log Σ e^(z − shift) − (z_c − shift): adding the shift back first would cancel ln 2 away at logits of 1e16
    return sum_values((z - shift).exp() for z in zs).log() - (zs[int(class_index)] - shift)


def _checked(
    pred: object, target: object, what: str, lo: float = -math.inf, hi: float = math.inf
) -> list[tuple[FloatOrValue, FloatOrValue]]:
    """pairs(pred, target) with every target a finite number in [lo, hi] and every pred a number or Value."""
    checked = pairs(pred, target)
    for i, (p, t) in enumerate(checked):
        value = _number(t, what)
        if not lo <= value <= hi:
            raise ValueError(f"{what} must lie in [{lo:g}, {hi:g}], got {value!r} at element {i}")
        if not isinstance(p, Value):
            _number(p, "pred")
    return checked
