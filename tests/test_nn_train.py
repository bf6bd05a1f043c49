"""fit, History, predict and accuracy: regimes, equivalence with a hand loop, progress, Ctrl-C, bad input."""

from __future__ import annotations

import os
import signal
import sys

import numpy as np
import pytest

import nn
from autograd_lite import sum_values

X4, Y4 = nn.datasets.xor()


class CountingSGD(nn.SGD):
    """SGD that counts its steps."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, lr)
        self.calls = 0

    def step(self):
        self.calls += 1
        super().step()


def data(n=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


@pytest.mark.parametrize(("batch_size", "steps_per_epoch"), [(None, 1), (1, 10), (3, 4), (10, 1), (50, 1)])
def test_batch_size_regimes(batch_size, steps_per_epoch):
    X, y = data()
    model = nn.MLP(2, [3, 1], seed=0)
    opt = CountingSGD(model.parameters())
    history = nn.fit(model, X, y, nn.bce_with_logits, opt, epochs=2, batch_size=batch_size, progress=False)
    assert opt.calls == 2 * steps_per_epoch
    assert history.epochs == 2 and len(history.accuracy) == 2


def hand_loop(model, X, y, loss, lr, epochs, l2):
    """Full-batch gradient descent written out, as in micrograd's demo."""
    params = model.parameters()
    losses = []
    for _ in range(epochs):
        preds = [model(list(x)) for x in X]
        total = loss(preds, y.tolist())
        if l2:
            total = total + l2 * sum_values(p * p for p in params)
        model.zero_grad()
        total.backward()
        for p in params:
            p.data -= lr * p.grad
        losses.append(total.data)
    return losses


@pytest.mark.parametrize("compiled", [False, True], ids=["scalar", "compiled"])
@pytest.mark.parametrize(("loss", "l2"), [(nn.mse, 0.0), (nn.hinge, 1e-4), (nn.squared_error, 0.01)])
def test_full_batch_fit_equals_the_hand_written_loop(loss, l2, compiled):
    X, y = data(8)
    y = 2 * y - 1 if loss is nn.hinge else y
    a, b = nn.MLP(2, [4, 1], activation="relu", seed=3), nn.MLP(2, [4, 1], activation="relu", seed=3)
    opt = nn.SGD(a.parameters(), lr=0.05)
    history = nn.fit(a, X, y, loss, opt, epochs=3, progress=False, l2=l2, compiled=compiled)
    expected = hand_loop(b, X, y, loss, 0.05, 3, l2)
    assert history.compiled is compiled
    if compiled:  # numpy adds in another order: equal to rounding
        assert history.loss == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert a.state_dict() == pytest.approx(b.state_dict(), rel=1e-12, abs=1e-15)
    else:  # the very same operations
        assert history.loss == expected
        assert a.state_dict() == b.state_dict()


def test_epoch_loss_is_the_size_weighted_mean_of_batch_losses():
    X, y = data(5)
    model = nn.MLP(2, [3, 1], seed=1)
    frozen = nn.MLP(2, [3, 1], seed=1)
    opt = nn.SGD(model.parameters(), lr=1e-300)  # effectively no update: every batch sees the same weights
    history = nn.fit(model, X, y, nn.mse, opt, epochs=1, batch_size=2, shuffle=False, progress=False)
    full = nn.mse([frozen(list(x)) for x in X], y.tolist()).data
    assert history.loss[0] == pytest.approx(full)
    assert history.accuracy == [None], "regression has no accuracy"


def test_accuracy_per_loss():
    X, y = data(12)
    cases = [
        (nn.MLP(2, [3, 1], seed=0), nn.bce_with_logits, y),
        (nn.MLP(2, [3, 1], output_activation="sigmoid", seed=0), nn.binary_cross_entropy, y),
        (nn.MLP(2, [3, 1], seed=0), nn.hinge, 2 * y - 1),
        (nn.MLP(2, [3, 2], seed=0), nn.cross_entropy, y),
    ]
    for model, loss, labels in cases:
        expected = nn.accuracy(model, X, labels, loss=loss)  # before the (tiny) first step
        history = nn.fit(model, X, labels, loss, nn.SGD(model.parameters(), lr=1e-300), 1, progress=False)
        assert history.accuracy[0] == expected
        assert nn.accuracy(model, X, labels) == expected, "the guess matches the loss"


def test_accuracy_counts_by_hand():
    model = nn.MLP(2, [1], activation="linear", output_activation="linear", seed=0)
    model.load_state_dict([1.0, 0.0, 0.0])  # score = x0
    X = np.array([[2.0, 0.0], [-1.0, 0.0], [0.5, 0.0], [-3.0, 0.0]])
    assert nn.accuracy(model, X, [1, -1, -1, -1]) == 0.75
    assert nn.accuracy(model, X, [1, 0, 0, 0]) == 0.75  # 0/1 labels with a linear output: logits
    assert nn.predict(model, X).tolist() == [2.0, -1.0, 0.5, -3.0]


def test_predict_shapes_and_no_graph():
    model = nn.MLP(2, [3, 2], seed=0)
    out = nn.predict(model, X4)
    assert out.shape == (4, 2)
    assert out[1].tolist() == [v.data for v in model([0.0, 1.0])]
    assert nn.predict(nn.MLP(2, [1], seed=0), X4).shape == (4,)


def test_shuffled_mini_batches_are_deterministic_by_seed():
    X, y = data(9)

    def run(seed):
        model = nn.MLP(2, [3, 1], seed=0)
        nn.fit(model, X, y, nn.bce_with_logits, nn.SGD(model.parameters(), lr=0.5), 2, 2, seed=seed, progress=False)
        return model.state_dict()

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_xor_with_online_learning_and_momentum():
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    opt = nn.SGD(model.parameters(), lr=0.3, momentum=0.5)
    history = nn.fit(model, X4, Y4, nn.binary_cross_entropy, opt, 150, batch_size=1, seed=0, progress=False)
    assert history.accuracy[-1] == 1.0


# --- callback, Ctrl-C and progress


def test_callback_sees_each_epoch_and_can_stop():
    seen = []

    def callback(epoch, history):
        seen.append((epoch, history.epochs))
        return epoch == 2

    model = nn.MLP(2, [2, 1], seed=0)
    history = nn.fit(
        model, X4, Y4, nn.bce_with_logits, nn.SGD(model.parameters(), 0.1), 10, progress=False, callback=callback
    )
    assert seen == [(0, 1), (1, 2), (2, 3)]
    assert history.epochs == 3 and not history.interrupted


def test_ctrl_c_stops_after_the_current_step_and_returns_the_history():
    def press_ctrl_c(epoch, history):
        if epoch == 1:
            os.kill(os.getpid(), signal.SIGINT)

    model = nn.MLP(2, [2, 1], seed=0)
    opt = CountingSGD(model.parameters())
    previous = signal.getsignal(signal.SIGINT)
    history = nn.fit(model, X4, Y4, nn.bce_with_logits, opt, 10, progress=False, callback=press_ctrl_c)
    assert history.interrupted and history.epochs == 2 and opt.calls == 2
    assert signal.getsignal(signal.SIGINT) is previous, "the handler is restored"


def test_keyboard_interrupt_raised_inside_is_caught():
    def interrupt(epoch, history):
        raise KeyboardInterrupt

    model = nn.MLP(2, [2, 1], seed=0)
    history = nn.fit(
        model, X4, Y4, nn.bce_with_logits, nn.SGD(model.parameters(), 0.1), 5, progress=False, callback=interrupt
    )
    assert history.interrupted and history.epochs == 1


def test_progress_bar_with_tqdm(capsys):
    model = nn.MLP(2, [2, 1], seed=0)
    nn.fit(model, X4, 2 * Y4 - 1, nn.hinge, nn.SGD(model.parameters(), 0.1), 3, progress=True)
    err = capsys.readouterr().err
    assert "3/3" in err and "accuracy" in err and "loss" in err


def test_progress_falls_back_to_text_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes every `from tqdm... import tqdm` fail
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    model = nn.MLP(2, [2, 1], seed=0)
    nn.fit(model, X4, Y4, nn.mse, nn.SGD(model.parameters(), 0.1), 2, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2: loss" in err and "accuracy" not in err


def test_no_output_without_progress(capsys):
    model = nn.MLP(2, [2, 1], seed=0)
    nn.fit(model, X4, Y4, nn.mse, nn.SGD(model.parameters(), 0.1), 2, progress=False)
    assert capsys.readouterr() == ("", "")


# --- bad input: ValueError before any step, nothing changed


def bad_fits():
    X, y = data(6)
    return [
        ({"X": X[:, :1]}, "1 features per row but the model takes 2"),
        ({"X": X[0]}, "2-D array"),
        ({"X": np.zeros((0, 2)), "y": np.zeros(0)}, "at least one row"),
        ({"X": [[1.0, "a"]] * 6}, "2-D array of numbers"),
        ({"X": np.where(X > 1, np.nan, X)}, "NaN or infinity"),
        ({"y": y[:5]}, "6 rows but y has shape"),
        ({"y": np.full(6, np.inf)}, "finite numbers"),
        ({"y": np.array(["a"] * 6)}, "finite numbers"),
        ({"loss": nn.hinge}, "hinge targets must be -1 or \\+1"),
        # the element named is where the bad target is, though the targets are first tried once each
        ({"loss": nn.hinge, "y": [1, -1, 1, -1, 0.5, 1]}, "got 0.5 at element 4"),
        ({"y": [[1.0], [2.0], [1.0], [1.0, 2.0], [1.0], [2.0]]}, "y must hold numbers in rows of one length"),
        ({"loss": nn.cross_entropy}, "logits must be a non-empty sequence"),
        ({"y": np.stack([y, y], axis=1)}, "pred is a single value but target is a sequence"),
        ({"loss": "mse"}, "loss must be a loss function"),
        ({"model": lambda x: x}, "model must be an nn.Module"),
        ({"epochs": -1}, "epochs must be an integer >= 0"),
        ({"epochs": 2.5}, "epochs must be an integer"),
        ({"batch_size": 0}, "batch_size must be an integer >= 1"),
        ({"l2": -1e-4}, "l2 must be a finite number >= 0"),
        ({"callback": 3}, "callback must be callable"),
        ({"optimizer": object()}, "optimizer needs a step"),
    ]


@pytest.mark.parametrize(("changes", "message"), bad_fits())
def test_bad_input_is_rejected_before_any_step(changes, message):
    X, y = data(6)
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    opt = CountingSGD(model.parameters())
    args = {
        "model": model,
        "X": X,
        "y": y,
        "loss": nn.bce_with_logits,
        "optimizer": opt,
        "epochs": 2,
        "progress": False,
    }
    args.update(changes)
    with pytest.raises(ValueError, match=message):
        nn.fit(**args)
    assert opt.calls == 0 and model.state_dict() == before


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda m: nn.accuracy(m, X4, Y4[:3]), "4 rows but y has 3 labels"),
        (lambda m: nn.accuracy(m, X4, [0.5, 2.0, 1.0, 0.0]), "cannot tell how to score"),
        (lambda m: nn.accuracy(m, X4, Y4, loss=nn.mse), "needs a classification loss"),
        (lambda m: nn.predict(m, X4[:, :1]), "1 features per row"),
    ],
)
def test_bad_accuracy_and_predict_calls(call, message):
    with pytest.raises(ValueError, match=message):
        call(nn.MLP(2, [2, 1], seed=0))


def test_accuracy_of_a_lone_sigmoid_neuron_thresholds_at_one_half():
    neuron = nn.Neuron(2, activation="sigmoid")
    neuron.load_state_dict([0.0, 0.0, -0.2])  # σ(-0.2) ≈ 0.45 for every input: class 0
    X = np.array([[1.0, 2.0], [-1.0, 0.5]])
    assert nn.accuracy(neuron, X, np.array([0, 0])) == 1.0
