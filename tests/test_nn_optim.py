"""Optimizers: the exact update formulas, schedules, zero_grad and argument checks."""

from __future__ import annotations

import math
import re

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

    class Renamed(nn.SGD):  # changes neither step nor update, and says so
        array_step = True

    assert nn.SGD.steps_on_arrays() and nn.Adam.steps_on_arrays() and Renamed.steps_on_arrays()
    assert not Halving.steps_on_arrays() and not Counting.steps_on_arrays()


def test_fit_runs_a_subclass_s_own_update():
    """The compiled path steps on arrays only for a class that declares it: Halving's own update runs."""

    class Halving(nn.SGD):
        def update(self, lr):
            for p in self.params:
                p.data /= 2

    X, y = nn.datasets.xor()
    model = nn.MLP(2, [3, 1], seed=0)
    before = [p.data for p in model.parameters()]
    history = nn.fit(model, X, y, nn.mse, Halving(model.parameters(), lr=0.1), epochs=3, progress=False)
    assert history.compiled
    assert [p.data for p in model.parameters()] == [b / 8 for b in before]


# --- state_dict / load_state_dict: keyed by parameter name, checked in full before anything changes

OPTIMIZERS = {
    "sgd momentum": lambda ps: nn.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
    "adam": lambda ps: nn.Adam(ps, lr=0.02, betas=(0.8, 0.95)),
}


def trained(make, model, steps=3):
    """An optimizer over `model` after `steps` steps on fixed gradients."""
    opt = make(model.parameters())
    for k in range(steps):
        for i, p in enumerate(model.parameters()):
            p.grad = math.sin(i + 3 * k)
        opt.step()
    return opt


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_a_loaded_state_takes_the_same_steps_bit_for_bit(make):
    a, b = nn.MLP(2, [3, 1], seed=0), nn.MLP(2, [3, 1], seed=0)
    opt_a = trained(make, a)
    state = opt_a.state_dict(a)
    assert state["steps"] == 3 and set(state["buffers"]["m" if "m" in state["buffers"] else "velocity"]) == {
        name for name, _ in a.named_parameters()
    }
    b.load_state_dict(a.state_dict())
    opt_b = make(b.parameters())
    opt_b.load_state_dict(state, b)
    for opt, model in ((opt_a, a), (opt_b, b)):
        for i, p in enumerate(model.parameters()):
            p.grad = math.cos(i)
        opt.step()
    assert a.state_dict() == b.state_dict() and opt_b.steps == 4
    assert opt_b.state_dict(b) == opt_a.state_dict(a)


def test_the_state_is_keyed_by_name_not_by_position():
    a = nn.MLP(2, [3, 1], seed=0)
    opt = trained(OPTIMIZERS["adam"], a)
    state = opt.state_dict(a)
    reversed_params = list(reversed(a.parameters()))  # another order: the names still find each value
    other = nn.Adam(reversed_params, lr=0.02, betas=(0.8, 0.95))
    other.load_state_dict(state, a)
    assert other.m.tolist() == list(reversed(opt.m.tolist())) and other.v.tolist() == list(reversed(opt.v.tolist()))


def test_names_can_come_from_construction_as_in_pytorch():
    model = nn.MLP(2, [3, 1], seed=0)
    opt = nn.SGD(model.named_parameters(), lr=0.1, momentum=0.5)
    assert opt.params == model.parameters()
    assert opt.state_dict() == opt.state_dict(model)
    with pytest.raises(ValueError, match="pass the model"):
        nn.SGD(model.parameters(), lr=0.1).state_dict()
    with pytest.raises(ValueError, match="all Values or all"):
        nn.SGD([*model.named_parameters(), Value(1.0)], lr=0.1)
    with pytest.raises(ValueError, match="not parameters of the model"):
        nn.SGD([Value(1.0)], lr=0.1).state_dict(model)


def test_settings_are_saved_to_read_and_left_as_built_on_load():
    model = nn.MLP(2, [3, 1], seed=0)
    state = trained(OPTIMIZERS["sgd momentum"], model).state_dict(model)
    assert state["settings"] == {"lr": 0.05, "weight_decay": 0.01, "momentum": 0.9}
    other = nn.SGD(model.parameters(), lr=0.3, momentum=0.9)
    other.load_state_dict(state, model)
    assert other.lr == 0.3 and other.weight_decay == 0.0 and other.steps == 3
    assert nn.Adam(model.parameters(), lr=lambda k: 0.1).state_dict(model)["settings"]["lr"] is None  # a schedule


def _adam_state():
    model = nn.MLP(2, [3, 1], seed=0)
    return model, trained(OPTIMIZERS["adam"], model).state_dict(model)


def _edited(**changes):
    model, state = _adam_state()
    for path, value in changes.items():
        *keys, last = path.split("__")
        place = state
        for key in keys:
            place = place[key]
        if value is KeyError:
            del place[last]
        else:
            place[last] = value
    return model, state


FIRST_V = "layers.0.neurons.0.w.0"
BAD_STATES = [
    ({"kind": "SGD"}, "state is of a 'SGD' optimizer, not of this Adam"),
    ({"steps": -1}, "step count must be an integer >= 0"),
    ({"steps": True}, "step count must be an integer >= 0"),
    ({"steps": 2.0}, "step count must be an integer >= 0"),
    ({"steps": 2**60}, "malformed"),
    ({"buffers__v__" + FIRST_V: -1e-3}, f"second moments) must be >= 0, negative for {FIRST_V}"),
    ({"buffers__m__" + FIRST_V: math.nan}, f"buffer m for {FIRST_V} must be a finite number"),
    ({"buffers__m__" + FIRST_V: "0.1"}, "must be a finite number, got '0.1'"),
    ({"buffers__m__" + FIRST_V: KeyError}, f"buffer m does not match the parameters: missing {FIRST_V}"),
    ({"buffers__m__extra": 0.0}, "unexpected extra"),
    ({"buffers__velocity": {}}, "a Adam state has the buffers m, v"),
    ({"buffers__v": KeyError}, "a Adam state has the buffers m, v"),
    ({"settings": KeyError}, "has the keys kind, steps, settings, buffers"),
]


@pytest.mark.parametrize(("changes", "message"), BAD_STATES, ids=[str(c)[:40] for c, _ in BAD_STATES])
def test_a_bad_state_is_refused_and_nothing_changes(changes, message):
    model, state = _edited(**changes)
    opt = nn.Adam(model.parameters(), lr=0.01)
    opt.step()  # a state of its own, which must survive the refusal
    before = (opt.steps, opt.m.copy(), opt.v.copy())
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        opt.load_state_dict(state, model)
    assert len(str(caught.value)) < 200
    assert opt.steps == before[0] and (opt.m == before[1]).all() and (opt.v == before[2]).all()
