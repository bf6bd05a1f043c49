"""Losses: values against hand-written formulas, gradients, stability and every bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd_lite import Value, gradcheck


def sigmoid(z):
    e = math.exp(-abs(z))
    return 1 / (1 + e) if z >= 0 else e / (1 + e)


def reference(name, preds, targets):
    """Straightforward float formulas, written independently of nn.losses."""
    if name == "squared_error":
        return 0.5 * sum((t - p) ** 2 for p, t in zip(preds, targets, strict=True))
    if name == "mse":
        return sum((t - p) ** 2 for p, t in zip(preds, targets, strict=True)) / len(preds)
    if name == "binary_cross_entropy":
        terms = [-(t * math.log(p) + (1 - t) * math.log(1 - p)) for p, t in zip(preds, targets, strict=True)]
        return sum(terms) / len(terms)
    if name == "bce_with_logits":
        terms = [max(z, 0) - z * t + math.log1p(math.exp(-abs(z))) for z, t in zip(preds, targets, strict=True)]
        return sum(terms) / len(terms)
    if name == "hinge":
        return sum(max(0.0, 1 - t * s) for s, t in zip(preds, targets, strict=True)) / len(preds)
    raise AssertionError(name)


ELEMENTWISE = [
    ("squared_error", [0.3, -1.2, 2.0], [0.0, 1.0, 2.5]),
    ("mse", [0.3, -1.2, 2.0], [0.0, 1.0, 2.5]),
    ("binary_cross_entropy", [0.2, 0.9, 0.5], [0.0, 1.0, 0.3]),
    ("bce_with_logits", [-1.5, 2.0, 0.1], [0.0, 1.0, 0.7]),
    ("hinge", [0.5, -2.0, 1.5], [1.0, 1.0, -1.0]),
]


@pytest.mark.parametrize(("name", "preds", "targets"), ELEMENTWISE)
def test_sequence_values_match_the_formulas(name, preds, targets):
    loss = getattr(nn, name)
    assert loss([Value(p) for p in preds], targets).data == pytest.approx(reference(name, preds, targets))
    assert loss(np.array(preds), np.array(targets)).data == pytest.approx(reference(name, preds, targets))


@pytest.mark.parametrize(("name", "preds", "targets"), ELEMENTWISE)
def test_single_pair_is_a_sequence_of_one(name, preds, targets):
    loss = getattr(nn, name)
    assert loss(Value(preds[1]), targets[1]).data == pytest.approx(reference(name, preds[1:2], targets[1:2]))


@pytest.mark.parametrize(("name", "preds", "targets"), ELEMENTWISE)
def test_gradients_pass_gradcheck(name, preds, targets):
    loss = getattr(nn, name)
    assert gradcheck(lambda *ps: loss(list(ps), targets), preds)


def test_nested_outputs_are_matched_element_by_element():
    preds = [[Value(0.1), Value(0.9)], [Value(0.4), Value(0.2)]]
    targets = [[0.0, 1.0], [1.0, 0.0]]
    assert nn.squared_error(preds, targets).data == pytest.approx(0.5 * (0.01 + 0.01 + 0.36 + 0.04))
    assert nn.mse(preds, targets).data == pytest.approx((0.01 + 0.01 + 0.36 + 0.04) / 4)


def test_cross_entropy_is_stable_log_softmax():
    logits = [2.0, -1.0, 0.5]
    expected = -math.log(math.exp(0.5) / sum(math.exp(z) for z in logits))
    assert nn.cross_entropy([Value(z) for z in logits], 2).data == pytest.approx(expected)
    huge = nn.cross_entropy([Value(1000.0), Value(0.0)], 1)
    assert huge.data == pytest.approx(1000.0)
    batch = nn.cross_entropy([logits, [0.0, 0.0, 0.0]], [2, 0])
    assert batch.data == pytest.approx((expected + math.log(3)) / 2)
    assert gradcheck(lambda *zs: nn.cross_entropy(list(zs), 0), logits)


@pytest.mark.parametrize("z", [-1000.0, -50.0, 0.0, 50.0, 1000.0])
@pytest.mark.parametrize("t", [0.0, 1.0])
def test_bce_with_logits_is_stable_for_extreme_logits(z, t):
    logit = Value(z)
    loss = nn.bce_with_logits(logit, t)
    assert loss.data == pytest.approx(reference("bce_with_logits", [z], [t]))
    loss.backward()
    assert logit.grad == pytest.approx(sigmoid(z) - t, abs=1e-12)


@pytest.mark.parametrize("scale", [1e8, 1e16, 1e308])
def test_cross_entropy_of_equal_large_logits_is_log_2(scale):
    # softmax of two equal logits is (½, ½) whatever their size; logsumexp + shift − logit cancelled to 0.0
    logits = [Value(scale), Value(scale)]
    loss = nn.cross_entropy(logits, 0)
    loss.backward()
    assert loss.data == pytest.approx(math.log(2.0), rel=1e-12)
    assert [z.grad for z in logits] == [-0.5, 0.5]


@pytest.mark.parametrize("target, expected_grad", [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)])
def test_bce_with_logits_does_not_overflow_below_the_float_limit(target, expected_grad):
    # torch: loss = z·(1 − t) for a huge logit z = 1e308; (z + |z|)/2 overflowed to inf
    z = Value(1e308)
    loss = nn.bce_with_logits(z, target)
    loss.backward()
    assert loss.data == pytest.approx(1e308 * (1.0 - target)) and z.grad == expected_grad


@pytest.mark.parametrize("p", [0.0, 1.0])
def test_binary_cross_entropy_clamps_certain_probabilities(p):
    loss = nn.binary_cross_entropy(Value(p), 1.0 - p)
    assert math.isfinite(loss.data) and loss.data > 20


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nn.mse([1.0, 2.0], [1.0]), "pred has 2 elements but target has 1"),
        (lambda: nn.squared_error([[1.0, 2.0]], [[1.0]]), "pred has 2 elements but target has 1 at index 0"),
        (lambda: nn.mse([1.0], 1.0), "pred is a sequence but target is a single value"),
        (lambda: nn.mse(1.0, [1.0]), "pred is a single value but target is a sequence"),
        (lambda: nn.mse([], []), "empty"),
        (lambda: nn.mse(1.0, math.nan), "target must be a finite number"),
        (lambda: nn.mse("a", 1.0), "pred must be a finite number"),
        (lambda: nn.hinge([0.5, 0.2], [1, 0]), "hinge targets must be -1 or \\+1, got 0.0 at element 1"),
        (lambda: nn.hinge(0.5, 2), "hinge targets must be -1 or \\+1"),
        (lambda: nn.binary_cross_entropy(0.5, 2.0), "target must lie in \\[0, 1\\]"),
        (lambda: nn.binary_cross_entropy(1.5, 1.0), "use bce_with_logits"),
        (lambda: nn.bce_with_logits(3.0, -1.0), "target must lie in \\[0, 1\\]"),
        (lambda: nn.cross_entropy([1.0, 2.0], 2), "class index 2 is out of range for 2 classes"),
        (lambda: nn.cross_entropy([1.0, 2.0], -1), "class index -1 is out of range"),
        (lambda: nn.cross_entropy([1.0, 2.0], 1.0), "class index must be an integer"),
        (lambda: nn.cross_entropy([1.0, 2.0], True), "class index must be an integer"),
        (lambda: nn.cross_entropy([[1.0, 2.0]], [0, 1]), "1 samples but class_index has 2"),
        (lambda: nn.cross_entropy([[1.0, 2.0], [0.0]], [0, 1]), "out of range for 1 classes at sample 1"),
        (lambda: nn.cross_entropy(1.0, 0), "logits must be a sequence"),
        (lambda: nn.cross_entropy([], 0), "non-empty sequence"),
    ],
)
def test_bad_inputs(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(("z", "t"), [(-3.0, 0.0), (-0.4, 1.0), (0.0, 0.5), (2.5, 1.0), (1.0, 0.2)])
def test_bce_with_logits_equals_bce_of_the_sigmoid(z, t):
    assert nn.bce_with_logits(z, t).data == pytest.approx(nn.binary_cross_entropy(sigmoid(z), t).data)


@pytest.mark.parametrize(("p", "t"), [(1e-13, 1.0), (1.0 - 2**-40, 0.0), (0.0, 1.0), (1e-50, 1.0), (0.25, 0.75)])
def test_binary_cross_entropy_floors_each_log_at_minus_100_like_pytorch(p, t):
    prob = Value(p)
    loss = nn.binary_cross_entropy(prob, t)
    loss.backward()
    logs = [math.log(q) if q > 0 else -math.inf for q in (p, 1.0 - p)]
    floored = [max(x, -100.0) for x in logs]
    assert loss.data == pytest.approx(-(t * floored[0] + (1.0 - t) * floored[1]), rel=1e-12)
    slopes = [1.0 / q if x >= -100.0 else 0.0 for q, x in zip((p, 1.0 - p), logs, strict=True)]  # the floor is flat
    assert prob.grad == pytest.approx(-t * slopes[0] + (1.0 - t) * slopes[1], rel=1e-12)
