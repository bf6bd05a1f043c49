"""Audit of nn's losses at their edges, compared with PyTorch float64 (numbers worked out by hand here)."""

from __future__ import annotations

import math

import pytest

import nn
from autograd_lite import Value


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


def test_load_state_dict_refuses_bytes_instead_of_loading_their_codes():
    # b"a" * n was a flat sequence of n ints: every parameter silently became 97.0
    model = nn.MLP(2, [1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match="mapping or a flat sequence"):
        model.load_state_dict(b"a" * model.num_parameters())
    assert model.state_dict() == before
