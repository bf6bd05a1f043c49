"""Full-batch epochs on the native backend run many steps in one call: the numpy path's numbers and errors."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd_lite import CompiledGraph
from autograd_lite.compiled import native_startup_seconds
from nn.optim import ARRAY_UPDATES
from nn.training.choose import native_pays
from nn.training.compiled_step import BATCH_LOSSES, NATIVE_LOSSES
from nn.training.loop import EPOCHS_PER_CALL, FIRST_CALL_EPOCHS

pytestmark = pytest.mark.skipif(native_startup_seconds() is None, reason="the fast extra (numba) is not installed")

IN_ONE_CALL = [loss for loss, batch in BATCH_LOSSES.items() if batch in NATIVE_LOSSES]
PER_STEP = [loss for loss, batch in BATCH_LOSSES.items() if batch not in NATIVE_LOSSES]


def data(loss, n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    """Moons with the labels the loss takes: ±1 for hinge and the regressions, 0/1 or class indices otherwise."""
    X, y = nn.datasets.make_moons(n, noise=0.1, seed=3)
    if loss in (nn.hinge, nn.mse, nn.squared_error):
        return X, 2.0 * y - 1.0
    return X, y


def model_for(loss) -> nn.MLP:
    if loss is nn.cross_entropy:
        return nn.MLP(2, [6, 2], seed=0)
    return nn.MLP(2, [6, 6, 1], seed=0, output_activation="sigmoid" if loss is nn.binary_cross_entropy else "linear")


def optimizer_for(kind, model: nn.MLP, lr=0.05):
    if kind is nn.SGD:
        return nn.SGD(model.parameters(), lr=lr, momentum=0.7, weight_decay=1e-3)
    return kind(model.parameters(), lr=lr)


@pytest.fixture
def native_calls(monkeypatch) -> list[int]:
    """How many steps each native call of many was asked for (CompiledGraph.train_natively, spied on)."""
    asked: list[int] = []
    original = CompiledGraph.train_natively

    def spy(self, batch, leaf_values, training, lrs, first_step):
        asked.append(len(lrs))
        return original(self, batch, leaf_values, training, lrs, first_step)

    monkeypatch.setattr(CompiledGraph, "train_natively", spy)
    return asked


def fitted(loss, backend: str, kind=nn.SGD, epochs: int = 12, lr=0.05, **options):
    """(history, parameters, optimizer state) of a full-batch fit of a fresh seeded model."""
    X, y = data(loss)
    model = model_for(loss)
    optimizer = optimizer_for(kind, model, lr)
    history = nn.fit(model, X, y, loss, optimizer, epochs, progress=False, l2=1e-3, backend=backend, **options)
    history.grads = np.array([p.grad for p in model.parameters()])  # the last step's, as fit leaves them
    return history, np.array([p.data for p in model.parameters()]), optimizer.state_dict(model)


def gap(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.abs(a - b).max() / max(1.0, np.abs(a).max()))


# Every loss with SGD, every update with mse (each pair is a loop numba compiles once per machine). hinge is not
# paired with Adam: its output-bias gradient is a sum of ±1/n that cancels to rounding noise when the active samples
# balance, and Adam scales any noise to a whole step, so two summation orders (numpy's BLAS, the native loops) part
# at 1e-9 there whichever path runs the steps.
CASES = [(loss, nn.SGD) for loss in IN_ONE_CALL] + [(nn.mse, kind) for kind in ARRAY_UPDATES if kind is not nn.SGD]


@pytest.mark.parametrize(("loss", "kind"), CASES, ids=lambda x: x.__name__)
def test_full_batch_epochs_in_one_call_give_the_numpy_numbers(loss, kind, native_calls):
    numpy_history, numpy_weights, numpy_state = fitted(loss, "numpy", kind)
    assert not native_calls
    native_history, native_weights, native_state = fitted(loss, "native", kind)
    assert sum(native_calls) == 12 and native_calls[0] == FIRST_CALL_EPOCHS and native_history.backend == "native"
    assert gap(numpy_history.loss, native_history.loss) < 1e-12
    assert gap(numpy_weights, native_weights) < 1e-12 and gap(numpy_history.grads, native_history.grads) < 1e-12
    assert np.abs(native_history.grads).max() > 0  # (a last gradient was written back)
    assert numpy_history.accuracy == native_history.accuracy
    assert native_state["steps"] == numpy_state["steps"] == 12
    for name, buffer in numpy_state["buffers"].items():
        assert gap(list(buffer.values()), list(native_state["buffers"][name].values())) < 1e-12


def test_more_epochs_than_one_call_takes_are_split_and_all_recorded(native_calls):
    epochs = 3 * EPOCHS_PER_CALL
    numpy_history, numpy_weights, _ = fitted(nn.hinge, "numpy", epochs=epochs, lr=lambda k: 0.1 / (1 + k))
    native_history, native_weights, _ = fitted(nn.hinge, "native", epochs=epochs, lr=lambda k: 0.1 / (1 + k))
    assert sum(native_calls) == epochs and max(native_calls) == EPOCHS_PER_CALL  # quick calls grow to the most
    growing = native_calls[:-1]  # (the last call asks for what is left)
    assert native_calls[0] == FIRST_CALL_EPOCHS and growing == sorted(growing)
    assert len(native_history.loss) == len(native_history.accuracy) == epochs
    assert gap(numpy_history.loss, native_history.loss) < 1e-12 and gap(numpy_weights, native_weights) < 1e-12


@pytest.mark.parametrize("loss", PER_STEP, ids=lambda f: f.__name__)
def test_losses_numba_does_not_compile_train_step_by_step(loss, native_calls):
    numpy_history, numpy_weights, _ = fitted(loss, "numpy", epochs=3)
    native_history, native_weights, _ = fitted(loss, "native", epochs=3)
    assert not native_calls and native_history.backend == "native"
    assert gap(numpy_history.loss, native_history.loss) < 1e-12 and gap(numpy_weights, native_weights) < 1e-12


def test_mini_batches_and_callbacks_train_step_by_step(native_calls):
    fitted(nn.hinge, "native", epochs=2, batch_size=5)
    fitted(nn.hinge, "native", epochs=2, callback=lambda epoch, history: None)
    assert not native_calls


def test_a_step_that_overflows_is_refused_as_the_numpy_path_refuses_it(native_calls):
    """The weights grow until the loss overflows: the call stops before that step, and the ordinary step raises."""
    outcomes = []
    for backend in ("numpy", "native"):
        X, y = data(nn.mse)
        model = model_for(nn.mse)
        optimizer = nn.SGD(model.parameters(), lr=40.0)
        with pytest.raises(FloatingPointError) as raised:
            nn.fit(model, X, y, nn.mse, optimizer, 400, progress=False, compiled=True, backend=backend)
        weights = np.array([p.data for p in model.parameters()])
        grads = np.array([p.grad for p in model.parameters()])  # the last step taken's
        assert np.isfinite(weights).all() and np.isfinite(grads).all()
        outcomes.append((str(raised.value), optimizer.steps, weights, grads))
    (numpy_error, numpy_steps, numpy_weights, numpy_grads), (native_error, native_steps, native_weights, native_grads) \
        = outcomes
    assert native_calls and sum(native_calls) > native_steps  # it asked for more steps than it could take
    assert native_error == numpy_error and native_steps == numpy_steps
    assert gap(numpy_weights, native_weights) < 1e-12 and gap(numpy_grads, native_grads) < 1e-12


def test_a_schedule_that_fails_at_a_step_raises_there(native_calls):
    def schedule(k: int) -> float:
        return 0.05 if k < 5 else -1.0

    errors = []
    for backend in ("numpy", "native"):
        with pytest.raises(ValueError) as raised:
            fitted(nn.hinge, backend, lr=schedule)
        errors.append(str(raised.value))
    assert errors[0] == errors[1] and "step 5" in errors[0]
    assert native_calls[0] == 5  # the schedule gave its first five values: the call took those steps


def test_the_estimate_weighs_epochs_in_one_call_against_the_start_up():
    assert native_pays(337, 100, 100_000, 2.0, together=True)  # 2-16-16-1 on 100 moons for 100,000 epochs
    assert not native_pays(337, 100, 100, 2.0, together=True)  # the demo's 100 epochs: the start-up dominates
    assert not native_pays(4417, 1000, 10**6, 0.0, together=True)  # 2-64-64-1 at batch 1,000 loses every step
    assert not native_pays(337, 100, 100_000, 2.0)  # the same steps taken one by one save too little


def test_auto_takes_full_batch_epochs_natively_once_the_loop_is_loaded(native_calls):
    fitted(nn.hinge, "native")  # this process now has the kernels and this loss and optimizer's loop
    native_calls.clear()
    history, _, _ = fitted(nn.hinge, "auto", epochs=40)
    assert history.backend == "native" and sum(native_calls) == 40
    with_callback, _, _ = fitted(nn.hinge, "auto", epochs=40, callback=lambda epoch, history: None)
    assert with_callback.backend == "numpy"  # one step per call: numpy's steps are as fast at this size
