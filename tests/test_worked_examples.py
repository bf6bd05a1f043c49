"""The textbook backprop examples, number by number, and small trainings that must succeed."""

from __future__ import annotations

import random

import pytest

import nn
from autograd_lite import gradcheck, topological_order


def nodes_by_label(root):
    return {node.label: node for node in topological_order(root) if node.label}


def test_two_layer_sigmoid_network_step_by_step():
    """The classic step-by-step example: 2 inputs, 2 hidden, 2 outputs, sigmoid everywhere."""
    model = nn.MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    # micrograd order: per neuron its weights then its bias (h1, h2, o1, o2)
    model.load_state_dict([0.15, 0.20, 0.35, 0.25, 0.30, 0.35, 0.40, 0.45, 0.60, 0.50, 0.55, 0.60])
    out = model([0.05, 0.10])
    error = nn.squared_error(out, [0.01, 0.99])
    error.backward()
    node = nodes_by_label(error)
    params = dict(model.named_parameters())
    w1, w5 = params["layers.0.neurons.0.w.0"], params["layers.1.neurons.0.w.0"]

    assert node["layers.0.neurons.0"].data == pytest.approx(0.593269992, abs=1e-9)
    assert out[0].data == pytest.approx(0.75136507, abs=1e-8)
    assert error.data == pytest.approx(0.298371109, abs=1e-9)
    assert w5.grad == pytest.approx(0.082167041, abs=1e-9)
    assert w1.grad == pytest.approx(0.000438568, abs=1e-9)

    weights = [p for name, p in model.named_parameters() if not name.endswith(".b")]
    nn.SGD(weights, lr=0.5).step()
    assert w5.data == pytest.approx(0.35891648, abs=1e-8)
    assert w1.data == pytest.approx(0.149780716, abs=1e-9)
    assert params["layers.0.neurons.0.b"].data == 0.35, "biases are held"


def test_two_input_two_hidden_one_output_without_biases():
    """x = (0.23, 0.82), target 1: w1, w3 feed a; w2, w4 feed b; w5, w6 feed y."""
    model = nn.MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", bias=False)
    w1, w3, w2, w4, w5, w6 = 0.1, 0.4, 0.5, 0.3, 0.2, 0.6
    model.load_state_dict([w1, w3, w2, w4, w5, w6])
    y = model([0.23, 0.82])
    error = nn.squared_error(y, 1.0)
    error.backward()
    params = dict(model.named_parameters())

    # The source rounds intermediate values to 4 digits, so its figures are off by up to ~1 in the
    # last digit (y is 0.61561 exactly, it prints 0.6155; ∂E/∂w5 is -0.05338, it prints -0.0533).
    tol = 1.5e-4
    assert y.data == pytest.approx(0.6155, abs=tol)
    assert error.data == pytest.approx(0.0739, abs=tol)
    assert params["layers.1.neurons.0.w.0"].grad == pytest.approx(-0.0533, abs=tol)  # w5
    assert params["layers.0.neurons.0.w.0"].grad == pytest.approx(-0.0010, abs=tol)  # w1
    assert params["layers.0.neurons.1.w.1"].grad == pytest.approx(-0.0108, abs=tol)  # w4


def test_xor_is_learned_perfectly():
    X, y = nn.datasets.xor()
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    history = nn.fit(model, X, y, nn.binary_cross_entropy, nn.Adam(model.parameters(), lr=0.1), 100, progress=False)
    assert history.accuracy[-1] == 1.0
    assert nn.accuracy(model, X, y) == 1.0
    assert history.loss[-1] < 0.05


def test_two_moons_with_micrograds_network_and_hinge_loss():
    """micrograd's demo: MLP 2-16-16-1 (ReLU), hinge loss + 1e-4 L2, 100 points; Adam to keep it quick."""
    X, y = nn.datasets.make_moons(100, noise=0.1, seed=1)
    y = 2 * y - 1  # hinge wants labels ±1
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    history = nn.fit(model, X, y, nn.hinge, nn.Adam(model.parameters(), lr=0.05), 40, progress=False, l2=1e-4)
    assert nn.accuracy(model, X, y) >= 0.97
    assert history.loss[-1] < history.loss[0] / 3


def rebuild_with(model, values):
    """Point every neuron's w and b at the given Values, in parameters() order."""
    it = iter(values)
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w = [next(it) for _ in neuron.w]
            neuron.b = next(it)


@pytest.mark.parametrize(
    ("seed", "nouts", "activation", "output_activation", "loss", "target"),
    [
        (1, [3, 1], "tanh", "linear", nn.mse, 0.7),
        (2, [3, 2], "sigmoid", "sigmoid", nn.squared_error, [0.2, 0.9]),
        (3, [4, 3], "relu", "linear", nn.cross_entropy, 2),
        (4, [2, 2, 1], "tanh", "sigmoid", nn.binary_cross_entropy, 1.0),
        (5, [3, 1], "relu", "linear", nn.hinge, -1.0),
    ],
)
def test_random_mlp_gradients_pass_gradcheck(seed, nouts, activation, output_activation, loss, target):
    """Gradients with respect to every parameter and input agree with central differences."""
    rng = random.Random(seed)
    model = nn.MLP(2, nouts, activation=activation, output_activation=output_activation, seed=seed)
    for p in model.parameters():
        p.data = rng.uniform(-1, 1)  # non-zero biases too
    n = model.num_parameters()

    def f(*args):
        rebuild_with(model, args[:n])
        return loss(model(list(args[n:])), target)

    assert gradcheck(f, [p.data for p in model.parameters()] + [rng.uniform(-1, 1), rng.uniform(-1, 1)])
