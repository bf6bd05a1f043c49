"""fit(compiled=...): the batch path gives the scalar path's numbers, and falls back (or refuses) when it cannot."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import nn
from autograd_lite import RULES, Value, apply, dot, register_op
from nn import FallbackWarning


def train_both(make_model, X, y, loss, make_optimizer, **fit_args):
    """(history, final parameters) of the scalar and the compiled path from identical starts."""
    runs = {}
    for compiled in (False, True):
        model = make_model()
        history = nn.fit(model, X, y, loss, make_optimizer(model), progress=False, compiled=compiled, **fit_args)
        runs[compiled] = history, [p.data for p in model.parameters()]
    return runs[False], runs[True]


def assert_same(scalar, compiled, tol=1e-9):
    (h1, p1), (h2, p2) = scalar, compiled
    assert not h1.compiled and h2.compiled
    assert len(h1.loss) == len(h2.loss)
    assert max(abs(a - b) for a, b in zip(h1.loss, h2.loss)) < tol
    assert h1.accuracy == h2.accuracy
    assert max(abs(a - b) for a, b in zip(p1, p2)) < tol


def moons():
    X, y = nn.datasets.make_moons(60, noise=0.1, seed=1)
    return X, 2 * y - 1


def test_micrograds_demo_gives_the_same_numbers():
    X, y = moons()
    runs = train_both(
        lambda: nn.MLP(2, [16, 16, 1], activation="relu", seed=0), X, y, nn.hinge,
        lambda m: nn.SGD(m.parameters(), lr=0.1, momentum=0.9), epochs=15, l2=1e-4,
    )
    assert_same(*runs)


def test_mini_batches_of_a_three_class_problem_with_adam():
    X, y = nn.datasets.make_spirals(60, classes=3, seed=0)
    runs = train_both(
        lambda: nn.MLP(2, [12, 3], activation="tanh", seed=0), X, y, nn.cross_entropy,
        lambda m: nn.Adam(m.parameters(), lr=0.05), epochs=6, batch_size=16, seed=3,
    )
    assert_same(*runs)


@pytest.mark.parametrize("loss", [nn.mse, nn.squared_error])
def test_regression_with_targets_as_graph_inputs(loss):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 2, size=(40, 2))
    y = np.sin(X[:, 0]) + 0.3 * X[:, 1] ** 2  # 40 distinct targets: they become inputs of the graph
    runs = train_both(
        lambda: nn.MLP(2, [8, 1], activation="tanh", seed=1), X, y, loss,
        lambda m: nn.SGD(m.parameters(), lr=0.02), epochs=8, batch_size=10, seed=0,
    )
    assert_same(*runs)


def test_several_outputs_with_a_sum_loss_online():
    X = np.array([[0.05, 0.10], [0.3, -0.2], [0.9, 0.4]])
    y = np.array([[0.01, 0.99], [0.5, 0.2], [0.3, 0.7]])
    runs = train_both(
        lambda: nn.MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid", seed=2), X, y,
        nn.squared_error, lambda m: nn.SGD(m.parameters(), lr=0.5), epochs=5, batch_size=1, shuffle=False,
    )
    assert_same(*runs)


def test_compiled_is_the_default_when_possible():
    X, y = moons()
    model = nn.MLP(2, [4, 1], activation="relu", seed=0)
    history = nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=2, progress=False)
    assert history.compiled


def unmarked_hinge(score, target):
    return nn.hinge(score, target)


class Branchy(nn.Module):
    """A model whose graph depends on the data: it cannot be replayed."""

    def __init__(self) -> None:
        self.w = [Value(0.5), Value(-0.3)]

    def __call__(self, x):
        x = [v if isinstance(v, Value) else Value(v) for v in x]
        return dot(self.w, x) if x[0].data > 0 else dot(self.w, x) * 2


def softsign(v):  # registered when first used in a test (conftest removes it after each), not at collection
    if "softsign_no_numpy" not in RULES:
        register_op("softsign_no_numpy", lambda x: x / (1 + abs(x)), lambda out, x: (1 / (1 + abs(x)) ** 2,), kink=abs)
    return apply("softsign_no_numpy", v)


class NoNumpyForm(nn.Module):
    def __init__(self) -> None:
        self.w = [Value(0.5), Value(-0.3)]

    def __call__(self, x):
        return softsign(dot(self.w, [v if isinstance(v, Value) else Value(v) for v in x]))


@pytest.mark.parametrize(
    "make_model, loss, reason",
    [
        (lambda: nn.MLP(2, [3, 1], seed=0), unmarked_hinge, "reduction"),
        (Branchy, nn.hinge, "depends on the data"),
        (NoNumpyForm, nn.hinge, "softsign_no_numpy"),
    ],
    ids=["loss without reduction", "model branching on data", "op without numpy form"],
)
def test_falls_back_when_it_cannot_compile_and_refuses_when_asked(make_model, loss, reason):
    X = np.array([[1.0, 2.0], [-1.0, 0.5], [-0.3, -2.0], [-0.7, -0.1]])
    y = np.array([1.0, -1.0, 1.0, -1.0])  # both +1 samples: x0 > 0 and x0 < 0 take Branchy's two branches
    model = make_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        history = nn.fit(model, X, y, loss, nn.SGD(model.parameters(), lr=0.1), epochs=2, progress=False)
    assert not history.compiled and len(history.loss) == 2 and all(math.isfinite(v) for v in history.loss)
    model = make_model()
    before = [p.data for p in model.parameters()]
    with pytest.raises(ValueError, match=reason):
        nn.fit(model, X, y, loss, nn.SGD(model.parameters(), lr=0.1), epochs=2, progress=False, compiled=True)
    assert [p.data for p in model.parameters()] == before  # refused before any step


def test_compiled_must_be_true_false_or_none():
    X, y = moons()
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="compiled"):
        nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=1, compiled="yes")


class SignSplit(nn.Module):
    """w·x when x0 > 0, else 3·(w·x) + 1: a model whose graph depends on each sample's data."""

    def __init__(self) -> None:
        self.w = [Value(0.4), Value(-0.2)]

    def __call__(self, x):
        x = [v if isinstance(v, Value) else Value(v) for v in x]
        s = dot(self.w, x)
        return s if x[0].data > 0 else s * 3.0 + 1.0


def test_a_model_branching_on_data_trains_exactly_as_the_scalar_path_does():
    # first and last sample take the x0 > 0 branch, the middle one the other: sampling the ends misses it
    X = np.array([[1.0, 2.0], [-1.5, 0.5], [0.7, -1.0]])
    y = np.array([1.0, 1.0, -1.0])
    runs = {}
    for compiled in (None, False):
        model = SignSplit()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            history = nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.05), epochs=5, progress=False,
                             compiled=compiled)
        runs[compiled] = history.loss, [p.data for p in model.parameters()]
        said = [w for w in caught if issubclass(w.category, FallbackWarning)]
        assert not history.compiled and len(said) == (1 if compiled is None else 0)
        if said:
            message = str(said[0].message)
            assert "comparison (>) on traced data" in message and "test_nn_compiled_fit.py" in message
    assert runs[None] == runs[False]


def test_the_parameters_are_up_to_date_at_every_callback_and_at_the_end():
    X, y = moons()
    seen = []

    def callback(epoch, history):
        seen.append([p.data for p in model.parameters()])

    results = {}
    for compiled in (False, True):
        model = nn.MLP(2, [5, 1], activation="relu", seed=3)
        seen.clear()
        history = nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1, momentum=0.5), epochs=4,
                         batch_size=20, seed=1, progress=False, l2=1e-3, callback=callback, compiled=compiled)
        assert history.compiled is compiled
        params = model.parameters()
        results[compiled] = [*seen, [p.data for p in params], [p.grad for p in params]]  # callbacks, end, grads
    assert len(results[True]) == 4 + 2 and results[True][0] != results[True][3]
    for a, b in zip(results[False], results[True], strict=True):
        assert max(abs(u - v) for u, v in zip(a, b, strict=True)) < 1e-12


def test_an_optimizer_over_part_of_the_model_or_a_custom_one_trains_as_the_scalar_path():
    class Plain:  # duck-typed: only step() and zero_grad()
        def __init__(self, params):
            self.params = params

        def zero_grad(self):
            for p in self.params:
                p.grad = 0.0

        def step(self):
            for p in self.params:
                p.data -= 0.05 * p.grad

    X, y = moons()
    for make in (lambda m: nn.SGD(m.parameters()[::2], lr=0.1), lambda m: Plain(m.parameters()),
                 lambda m: nn.Adam(list(reversed(m.parameters())), lr=0.01)):
        runs = train_both(lambda: nn.MLP(2, [4, 1], activation="tanh", seed=0), X, y, nn.mse, make, epochs=3,
                          batch_size=30, seed=0)
        assert_same(*runs)


@pytest.mark.parametrize("loss", [nn.binary_cross_entropy, nn.bce_with_logits])
def test_the_numpy_losses_give_the_scalar_numbers(loss):
    X, y = moons()
    labels = (y > 0).astype(float)
    activation = "sigmoid" if loss is nn.binary_cross_entropy else "linear"
    runs = train_both(
        lambda: nn.MLP(2, [6, 1], activation="tanh", output_activation=activation, seed=4), X, labels, loss,
        lambda m: nn.SGD(m.parameters(), lr=0.3), epochs=5, batch_size=25, seed=2, l2=1e-3,
    )
    assert_same(*runs)


def test_a_domain_error_in_training_is_the_scalar_engines():
    class LogModel(nn.Module):
        def __init__(self):
            self.w = Value(1.0)

        def __call__(self, x):
            return (dot([self.w], [x[0] if isinstance(x[0], Value) else Value(x[0])])).log()

        def parameters(self):
            return [self.w]

    X = np.array([[1.0], [2.0], [-1.0]])
    y = np.array([0.0, 1.0, 2.0])
    errors = []
    for compiled in (False, True):
        model = LogModel()
        with pytest.raises(ValueError, match="log") as e:
            nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.1), 1, progress=False, compiled=compiled)
        errors.append(type(e.value))
    assert errors[0] is errors[1]


def test_float32_trains_close_to_float64_and_is_refused_for_the_scalar_path():
    X, y = moons()
    results = {}
    for dtype in (np.float64, np.float32):
        model = nn.MLP(2, [8, 1], activation="relu", seed=0)
        history = nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=5, progress=False,
                         l2=1e-4, dtype=dtype)
        assert history.compiled
        results[dtype] = history.loss
    assert np.allclose(results[np.float32], results[np.float64], rtol=1e-4, atol=1e-5)
    assert results[np.float32] != results[np.float64]  # single precision really ran
    model = nn.MLP(2, [3, 1], seed=0)
    for compiled, dtype, match in ((False, np.float32, "compiled path"), (None, np.int32, "dtype")):
        with pytest.raises(ValueError, match=match):
            nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), 1, compiled=compiled, dtype=dtype)


class SignOfWeight(nn.Module):
    """Doubles its output while its first weight is positive: the graph depends on a parameter's value."""

    def __init__(self) -> None:
        self.w = [Value(0.05), Value(-0.2)]

    def __call__(self, x):
        s = dot(self.w, [v if isinstance(v, Value) else Value(v) for v in x])
        return s * 2.0 if self.w[0].data > 0 else s


def test_a_model_branching_on_a_parameter_trains_as_the_scalar_path():
    X = np.array([[1.0, 2.0], [-1.5, 0.5], [0.7, -1.0]])
    y = np.array([-1.0, 1.0, 1.0])
    runs = {}
    for compiled in (None, False):
        model = SignOfWeight()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FallbackWarning)
            history = nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.5), 6, progress=False,
                             compiled=compiled)
        assert not history.compiled
        runs[compiled] = history.loss
    assert runs[None] == runs[False]
