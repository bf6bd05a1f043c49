"""Optimizers: the exact update formulas, schedules, zero_grad and argument checks."""

from __future__ import annotations

import math

import pytest

import nn
from autograd_lite import Value


def params_with_grads(data=(1.0, -2.0, 0.5), grads=(0.3, -0.1, 2.0)):
    params = [Value(d) for d in data]
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    return params


def test_plain_sgd_is_exactly_data_minus_lr_grad():
    params = params_with_grads()
    expected = [p.data - 0.37 * p.grad for p in params]
    nn.SGD(params, lr=0.37).step()
    assert [p.data for p in params] == expected  # bit for bit


def test_sgd_momentum_and_weight_decay_follow_pytorch():
    (p,) = params_with_grads((1.0,), (0.5,))
    opt = nn.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    velocity, data = 0.0, 1.0
    for step, grad in enumerate([0.5, -0.2, 0.4]):
        p.grad = grad
        g = grad + 0.01 * data
        velocity = g if step == 0 else 0.9 * velocity + g
        data -= 0.1 * velocity
        opt.step()
        assert p.data == pytest.approx(data, abs=1e-15)


def test_adam_follows_the_paper_with_bias_correction():
    (p,) = params_with_grads((1.0,), (0.0,))
    opt = nn.Adam([p], lr=0.01, betas=(0.8, 0.9), eps=1e-6)
    m = v = 0.0
    data = 1.0
    for t, grad in enumerate([0.5, -0.2, 0.4], start=1):
        p.grad = grad
        m, v = 0.8 * m + 0.2 * grad, 0.9 * v + 0.1 * grad**2
        data -= 0.01 * (m / (1 - 0.8**t)) / (math.sqrt(v / (1 - 0.9**t)) + 1e-6)
        opt.step()
        assert p.data == pytest.approx(data, abs=1e-15)
    # the first Adam step moves each parameter by about lr, whatever the gradient's size
    (q,) = params_with_grads((0.0,), (123.0,))
    nn.Adam([q], lr=0.01).step()
    assert q.data == pytest.approx(-0.01, rel=1e-6)


def test_lr_schedule_gets_the_step_number():
    seen = []

    def schedule(k):
        seen.append(k)
        return 1.0 / (k + 1)

    (p,) = params_with_grads((0.0,), (1.0,))
    opt = nn.SGD([p], lr=schedule)
    for _ in range(3):
        opt.step()
    assert seen == [0, 1, 2]
    assert p.data == pytest.approx(-(1 + 1 / 2 + 1 / 3))
    assert opt.steps == 3


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1), lambda ps: nn.Adam(ps)])
def test_zero_grad(make):
    params = params_with_grads()
    make(params).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: nn.SGD([], lr=0.1), "empty parameter list"),
        (lambda: nn.SGD([Value(1.0), 2.0], lr=0.1), r"params\[1\] must be a Value, got float"),
        (lambda: nn.SGD([Value(1.0, requires_grad=False)], lr=0.1), "requires_grad=False"),
        (lambda: nn.SGD([Value(1.0)] * 2, lr=0.1), "more than once"),
        (lambda: nn.SGD(nn.Neuron(2), lr=0.1), r"model.parameters\(\)"),
        (lambda: nn.SGD(42, lr=0.1), "iterable of Values"),
        (lambda: nn.SGD([Value(1.0)], lr=0.0), "lr must be > 0"),
        (lambda: nn.SGD([Value(1.0)], lr=-1), "lr must be > 0"),
        (lambda: nn.SGD([Value(1.0)], lr=math.nan), "lr must be a finite number"),
        (lambda: nn.SGD([Value(1.0)], lr="0.1"), "lr must be a finite number"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=1.0), r"momentum must be a finite number in \[0, 1\)"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, momentum=-0.1), r"momentum must be a finite number in \[0, 1\)"),
        (lambda: nn.SGD([Value(1.0)], lr=0.1, weight_decay=-1), "weight_decay must be >= 0"),
        (lambda: nn.Adam([Value(1.0)], betas=(0.9, 1.0)), r"betas\[1\] must be a finite number in \[0, 1\)"),
        (lambda: nn.Adam([Value(1.0)], betas=(-0.1, 0.9)), r"betas\[0\] must be a finite number in \[0, 1\)"),
        (lambda: nn.Adam([Value(1.0)], betas=0.9), "betas must be a pair"),
        (lambda: nn.Adam([Value(1.0)], eps=-1e-8), "eps must be >= 0"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("bad", [-0.5, math.inf, "fast", None])
def test_bad_schedule_value_is_reported_and_nothing_moves(bad):
    (p,) = params_with_grads((1.0,), (1.0,))
    opt = nn.SGD([p], lr=lambda k: bad)
    with pytest.raises(ValueError, match="lr schedule's value at step"):
        opt.step()
    assert p.data == 1.0 and opt.steps == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: nn.SGD(ps, lr=0.1),
        lambda ps: nn.SGD(ps, lr=lambda k: 0.2 / (k + 1), momentum=0.9, weight_decay=0.01),
        lambda ps: nn.Adam(ps, lr=0.05, weight_decay=0.003),
    ],
    ids=["sgd", "sgd momentum decay schedule", "adam decay"],
)
def test_step_on_arrays_is_step_on_values_bit_for_bit(make):
    import numpy as np

    on_values = params_with_grads()
    opt_values = make(on_values)
    values = np.array([1.0, -2.0, 0.5])
    opt_arrays = make(params_with_grads())
    for grads in ([0.3, -0.1, 2.0], [-0.5, 0.25, 1.0], [0.0, 0.7, -3.0]):
        for p, g in zip(on_values, grads, strict=True):
            p.grad = g
        opt_values.step()
        opt_arrays.step_arrays(values, np.array(grads))
        assert values.tolist() == [p.data for p in on_values]
    assert opt_values.steps == opt_arrays.steps == 3


def test_a_subclass_overriding_step_or_update_is_not_run_on_arrays():
    class Halving(nn.SGD):
        def update(self, lr):
            for p in self.params:
                p.data /= 2

    class Counting(nn.SGD):
        def step(self):
            super().step()

    ps = params_with_grads()
    assert nn.SGD(ps, lr=0.1).updates_arrays and nn.Adam(ps).updates_arrays
    assert not Halving(ps, lr=0.1).updates_arrays and not Counting(ps, lr=0.1).updates_arrays
