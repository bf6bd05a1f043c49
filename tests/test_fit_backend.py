"""fit's backend: what runs the compiled path (numpy, or the native step of the fast extra), chosen or asked for."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import autograd_lite as al
import nn
from autograd_lite import RULES, Value, dot
from autograd_lite.compiled import native_startup_seconds
from nn.training.choose import native_pays

needs_numba = pytest.mark.skipif(native_startup_seconds() is None, reason="the fast extra (numba) is not installed")


def moons(n: int = 40, signed: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Two moons, labelled -1/+1 (hinge, mse) or 0/1."""
    X, y = nn.datasets.make_moons(n, noise=0.1, seed=3)
    return X, (2 * y - 1 if signed else y)


def trained(backend: str, loss=nn.hinge, sizes=(8, 8, 1), **options) -> tuple[nn.History, list[float]]:
    """A fit of a fresh seeded MLP on the moons: (its history, its parameters after)."""
    X, y = moons(signed=loss is not nn.bce_with_logits)
    model = nn.MLP(2, list(sizes), seed=0)
    history = nn.fit(model, X, y, loss, nn.Adam(model.parameters(), lr=0.05), epochs=6, batch_size=10, seed=1,
                     progress=False, backend=backend, **options)
    return history, [p.data for p in model.parameters()]


def relative_gap(a: list[float], b: list[float]) -> float:
    x, y = np.asarray(a), np.asarray(b)
    return float(np.abs(x - y).max() / max(1.0, np.abs(x).max()))


@needs_numba
@pytest.mark.parametrize("loss", [nn.hinge, nn.mse, nn.bce_with_logits], ids=lambda f: f.__name__)
def test_the_native_step_trains_to_the_numpy_numbers(loss):
    numpy_history, numpy_weights = trained("numpy", loss)
    native_history, native_weights = trained("native", loss)
    assert (numpy_history.backend, native_history.backend) == ("numpy", "native")
    assert numpy_history.compiled and native_history.compiled
    assert relative_gap(numpy_history.loss, native_history.loss) < 1e-12
    assert relative_gap(numpy_weights, native_weights) < 1e-12
    assert numpy_history.accuracy == native_history.accuracy


def half_mse(pred, target):
    return nn.mse(pred, target) * 0.5


half_mse.reduction = "mean"  # type: ignore[attr-defined]


@needs_numba
def test_a_custom_loss_runs_native_with_the_loss_in_the_graph():
    numpy_history, numpy_weights = trained("numpy", half_mse)
    native_history, native_weights = trained("native", half_mse)
    assert native_history.backend == "native" and numpy_history.backend == "numpy"
    assert relative_gap(numpy_history.loss, native_history.loss) < 1e-12
    assert relative_gap(numpy_weights, native_weights) < 1e-12


def test_the_scalar_engine_says_so():
    history, _ = trained("auto", compiled=False)
    assert history.backend == "scalar" and not history.compiled


def test_auto_keeps_numpy_where_the_native_step_is_slower():
    history, _ = trained("auto", sizes=(64, 64, 1))  # 4,417 parameters, batches of 10: numba's loops lose
    assert history.backend == "numpy"


@needs_numba
def test_auto_takes_the_native_step_once_it_pays():
    trained("native")  # this process now has the kernels: the native step starts at no cost
    assert native_startup_seconds() == 0.0
    X, y = moons()
    model = nn.MLP(2, [1], seed=0)  # three parameters, one sample a step: the native step saves time at once
    history = nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=1,
                     progress=False)
    assert history.backend == "native"


def test_the_estimate_weighs_the_saving_over_the_steps_against_the_start_up():
    assert not native_pays(10, 1, 10**9, None)  # the fast extra is not installed
    assert native_pays(10, 1, 10**7, 1.5)  # a tiny model, one sample a step, many steps
    assert not native_pays(10, 1, 100, 1.5)  # too few steps to earn back the start-up
    assert not native_pays(4417, 100, 10**12, 0.0)  # slower every step: never, however long
    assert native_pays(10, 1, 1, 0.0)  # already loaded: any step that saves time pays


@pytest.mark.parametrize(
    "options, message",
    [
        ({"backend": "fast"}, "backend must be 'auto', 'numpy' or 'native', got 'fast'"),
        ({"backend": "native", "compiled": False}, "compiled=False trains with the scalar engine"),
        ({"backend": "native", "dtype": np.float32}, "backend='native' computes in float64"),
    ],
    ids=["unknown", "native without the compiled path", "native in float32"],
)
def test_a_backend_that_cannot_run_is_refused_before_training(options, message):
    X, y = moons()
    model = nn.MLP(2, [4, 1], seed=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        nn.fit(model, X, y, nn.hinge, nn.SGD(model.parameters(), lr=0.1), epochs=2, progress=False, **options)
    assert model.state_dict() == before


def cube(v: Value) -> Value:
    if "fit_backend_cube" not in RULES:  # a row with a numpy form but no native one
        al.register_op("fit_backend_cube", lambda x: x**3, lambda out, x: (3 * x * x,), vectorized=lambda x: x**3)
    return al.apply("fit_backend_cube", v)


class Cubic(nn.Module):
    def __init__(self) -> None:
        self.w = [Value(0.5, "w0"), Value(-0.3, "w1")]

    def __call__(self, x):
        return cube(dot(self.w, [v if isinstance(v, Value) else Value(v) for v in x]))

    def parameters(self) -> list[Value]:
        return self.w


@needs_numba
def test_an_op_without_a_native_form_is_named_or_trained_on_numpy():
    X, y = moons()
    model = Cubic()
    with pytest.raises(ValueError, match=r"backend='native'.*fit_backend_cube.*no native form"):
        nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.01), epochs=1, progress=False, backend="native")
    trained("native")  # the kernels are loaded: auto would take the native step for so small a model
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the scalar engine: numpy runs the op
        history = nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.01), epochs=1, batch_size=1,
                         progress=False)
    assert history.backend == "numpy"


class LogOrLinear(nn.Module):
    """log(w·x) where it is defined, else w·x: the scalar engine catches the domain error, a compiled step cannot."""

    def __init__(self) -> None:
        self.w = [Value(0.5, "w0"), Value(0.5, "w1")]

    def __call__(self, x):
        s = dot(self.w, [v if isinstance(v, Value) else Value(v) for v in x])
        try:
            return s.log()
        except ValueError:
            return s

    def parameters(self) -> list[Value]:
        return self.w


def test_a_fit_that_hands_over_to_the_scalar_engine_says_scalar():
    X = np.array([[1.0, 1.0], [-1.0, -1.0]])  # the first sample traces log, the second cannot take it
    y = np.array([0.5, 0.5])
    model = LogOrLinear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.01), epochs=2, progress=False)
    assert any("from here on" in str(w.message) for w in caught if issubclass(w.category, nn.FallbackWarning))
    assert history.backend == "scalar" and not history.compiled


@needs_numba
def test_a_checkpoint_keeps_the_backend(tmp_path):
    X, y = moons()
    model = nn.MLP(2, [4, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    history = nn.fit(model, X, y, nn.hinge, opt, epochs=2, progress=False, backend="native")
    nn.save_checkpoint(tmp_path / "c.json", model, opt, history)
    assert nn.load_checkpoint(tmp_path / "c.json").history.backend == "native"


def test_a_checkpoint_saved_before_backends_reads_as_numpy_or_scalar(tmp_path):
    X, y = moons()
    model = nn.MLP(2, [4, 1], seed=0)
    opt = nn.SGD(model.parameters(), lr=0.1)
    history = nn.fit(model, X, y, nn.hinge, opt, epochs=1, progress=False, backend="numpy")
    path = tmp_path / "c.json"
    nn.save_checkpoint(path, model, opt, history)
    record = json.loads(path.read_text())
    for compiled, expected in ((True, "numpy"), (False, "scalar")):
        old = record["training"]["history"] | {"compiled": compiled}
        del old["backend"]
        path.write_text(json.dumps({**record, "training": {**record["training"], "history": old}}))
        assert nn.load_checkpoint(path).history.backend == expected
    mixed = record["training"]["history"] | {"compiled": False, "backend": "native"}
    path.write_text(json.dumps({**record, "training": {**record["training"], "history": mixed}}))
    with pytest.raises(ValueError, match="backend must be one of numpy, native, scalar and agree with compiled"):
        nn.load_checkpoint(path)
