"""nn tells the renderer how to frame a drawing (`model.drawing_groups()`); the renderer knows none of nn's names."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

import nn
from autograd_lite import Value, draw_dot

SVG = "{http://www.w3.org/2000/svg}"


class Row(nn.Module):
    """A layer whose neurons are called `units`."""

    def __init__(self, nin: int, nout: int, seed: int) -> None:
        self.units = [nn.Neuron(nin, seed=seed + i) for i in range(nout)]

    def forward(self, x: list) -> list[Value]:
        return [unit(x) for unit in self.units]


class Stack(nn.Module):
    """An MLP whose layers are called `stages`."""

    def __init__(self) -> None:
        self.stages = [Row(2, 3, seed=0), Row(3, 1, seed=10)]

    def forward(self, x: list) -> Value:
        for stage in self.stages:
            x = stage(x)
        return x[0]


def frames_and_their_texts(graph) -> dict[str, list[str]]:
    """Each frame's title -> the texts drawn inside its box."""
    svg = ET.fromstring(graph.pipe(format="svg"))
    all_texts = [t for t in svg.iter(f"{SVG}text") if t.get("fill") is None]
    found = {}
    for g in (g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"):
        name = next(t.text for t in g.iter(f"{SVG}text"))
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", g.find(f"{SVG}path").get("d"))]
        x0, x1, y0, y1 = min(numbers[0::2]), max(numbers[0::2]), min(numbers[1::2]), max(numbers[1::2])
        inside = [t.text for t in all_texts if x0 <= float(t.get("x")) <= x1 and y0 <= float(t.get("y")) <= y1]
        found[name] = inside
    return found


@pytest.mark.parametrize(
    ("build", "layers", "neurons"),
    [
        (lambda: nn.MLP(2, [3, 1], seed=0), ["layers.0", "layers.1"], "layers.{}.neurons.{}"),
        (Stack, ["stages.0", "stages.1"], "stages.{}.units.{}"),  # every attribute on the way renamed
    ],
    ids=["MLP", "renamed attributes"],
)
def test_frames_follow_the_modules_whatever_their_attributes_are_called(build, layers, neurons):
    model = build()
    out = model([0.5, -1.0])
    out.backward()
    found = frames_and_their_texts(draw_dot(out, cluster=model.drawing_groups()))
    expected_neurons = [neurons.format(0, j) for j in range(3)] + [neurons.format(1, 0)]
    assert sorted(found) == sorted([*layers, *expected_neurons])
    for neuron in expected_neurons:
        n_in = 3 if neuron.startswith(layers[1]) else 2
        params = sorted(t for t in found[neuron] if t in {"b", "w.0", "w.1", "w.2"})
        assert params == sorted(["b", *(f"w.{i}" for i in range(n_in))])


def test_without_a_grouping_nothing_is_framed():
    model = nn.MLP(2, [3, 1], seed=0)
    assert frames_and_their_texts(draw_dot(model([0.5, -1.0]))) == {}


def test_drawing_groups_names_frames_outermost_first():
    model = Stack()
    out = model([0.5, -1.0])
    groups = model.drawing_groups()
    unit = model.stages[0].units[1]
    assert tuple(groups(unit.w[0])) == ("stages.0", "stages.0.units.1")
    assert tuple(groups(out)) == ("stages.1", "stages.1.units.0")  # the node the neuron outputs
    assert tuple(groups(Value(1.0))) == ()  # not the model's


def test_labels_follow_the_attribute_names_as_parts_are_set():
    model = Stack()
    assert model.stages[1].units[0].b.label == "stages.1.units.0.b"
    model.stages = [model.stages[1]]  # reassigning relabels
    assert model.stages[0].units[0].b.label == "stages.0.units.0.b"


def test_a_grouping_that_gives_non_strings_is_a_type_error():
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="frame names as str"):
        draw_dot(x * 2, cluster=lambda n: (1,))
    with pytest.raises(TypeError, match="cluster must be a grouping"):
        draw_dot(x * 2, cluster=True)
