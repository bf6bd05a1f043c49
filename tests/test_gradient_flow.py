"""nn.plot.gradient_flow: per-layer weight-gradient sizes, checked through the Axes it draws on (Agg)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nn
from autograd_lite import Value

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def trained_one_step(model, x, target=1.0):
    """model after one backward pass of a squared error at x."""
    ((model(x) - target) ** 2).backward()
    return model


def weight_grads(layer) -> list[float]:
    return [abs(w.grad) for n in layer.neurons for w in n.w]


def test_one_point_per_layer_with_the_mean_and_max_of_its_weight_gradients():
    model = trained_one_step(nn.MLP(3, [4, 5, 2, 1], activation="tanh", seed=1), [0.5, -1.0, 2.0])
    ax = nn.plot.gradient_flow(model, title="tanh")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == {"mean |grad|", "max |grad|"}
    expected_mean = [np.mean(weight_grads(layer)) for layer in model.layers]
    expected_max = [max(weight_grads(layer)) for layer in model.layers]
    np.testing.assert_allclose(lines["mean |grad|"].get_ydata(), expected_mean, rtol=1e-15)
    np.testing.assert_allclose(lines["max |grad|"].get_ydata(), expected_max, rtol=1e-15)
    assert list(lines["mean |grad|"].get_xdata()) == [1, 2, 3, 4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layers.0", "layers.1", "layers.2", "layers.3"]
    assert ax.get_yscale() == "log" and ax.get_title() == "tanh"


def test_biases_are_left_out():
    model = nn.MLP(2, [3, 1], seed=0)
    trained_one_step(model, [1.0, 2.0])
    for neuron in model.layers[0].neurons:
        neuron.b.grad = 1e6  # would dominate the max if biases counted
    stats = nn.plot.layer_gradients(model)
    assert stats[0].max == max(weight_grads(model.layers[0])) and stats[0].weights == 6


def test_the_mean_of_huge_finite_gradients_is_finite():
    model = nn.MLP(2, [2, 1], seed=0)
    for neuron in model.layers[0].neurons:
        for w in neuron.w:
            w.grad = 1e308  # finite: the sum of four would overflow
    stats = nn.plot.layer_gradients(model)
    assert stats[0].mean == 1e308 and stats[0].max == 1e308


def test_sigmoid_gradients_shrink_towards_the_input():
    model = trained_one_step(nn.MLP(2, [4] * 7 + [1], activation="sigmoid", seed=0), [1.0, -1.0])
    means = [s.mean for s in nn.plot.layer_gradients(model)]
    assert means[0] < means[-1] / 100  # σ' ≤ 1/4 per layer: the vanishing gradient the plot is for


def test_a_layer_with_all_zero_gradients_is_marked_not_plotted():
    model = nn.MLP(2, [3, 3, 1], seed=0)
    for neuron in model.layers[0].neurons:
        neuron.b.data = 0.5  # so the later layers see non-zero inputs
    trained_one_step(model, [0.0, 0.0])  # zero input: first-layer ∂/∂w = x·δ = 0
    ax = nn.plot.gradient_flow(model)
    mean = next(line for line in ax.get_lines() if line.get_label() == "mean |grad|").get_ydata()
    assert math.isnan(mean[0]) and all(v > 0 for v in mean[1:])
    assert [t.get_text() for t in ax.texts] == ["0"]


def test_a_neuron_or_a_layer_is_one_layer():
    neuron = nn.Neuron(2, "tanh", seed=0)
    ((neuron([1.0, 2.0]) - 1.0) ** 2).backward()
    ax = nn.plot.gradient_flow(neuron)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["neuron"]
    layer = nn.Layer(2, 3, seed=0)
    sum(layer([1.0, 2.0]), Value(0.0)).backward()
    assert [s.name for s in nn.plot.layer_gradients(layer)] == ["layer"]


def test_draws_on_a_given_axes():
    model = trained_one_step(nn.MLP(2, [3, 1], seed=0), [1.0, 2.0])
    _, (left, right) = plt.subplots(1, 2)
    assert nn.plot.gradient_flow(model, ax=right) is right
    assert not left.get_lines()
    with pytest.raises(TypeError, match="Axes"):
        nn.plot.gradient_flow(model, ax="right")


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="call backward"):
        nn.plot.gradient_flow(nn.MLP(2, [3, 1], seed=0))
    model = trained_one_step(nn.MLP(2, [3, 1], seed=0), [1.0, 2.0])
    model.layers[1].neurons[0].w[0].grad = math.nan
    with pytest.raises(ValueError, match=r"layer layers\.1 has a NaN"):
        nn.plot.gradient_flow(model)
    with pytest.raises(TypeError, match="nn module"):
        nn.plot.gradient_flow(lambda x: x)

    class NoLayers(nn.Module):
        def __init__(self):
            self.w = Value(1.0)

    with pytest.raises(ValueError, match=r"no nn\.Layer"):
        nn.plot.gradient_flow(NoLayers())
