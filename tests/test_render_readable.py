"""Readable drawings: wire labels that never overlap, parallel wires as one ×k wire, a repr without an address,
a clear error instead of a layout that takes minutes, and the dot program passed explicitly."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest
from graphviz.backend import dot_command

import nn
from autograd_lite import Value, backward_steps, dot, draw_dot, sum_values
from autograd_lite.draw.graphviz_program import locate_dot
from autograd_lite.draw.render import GRAD_COLOUR, VALUE_COLOUR

SVG = "{http://www.w3.org/2000/svg}"
CHAR_WIDTH = 0.62  # of the font size: generous for digits, '-' and '.' in Arial


def label_boxes(svg: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(edge id, box) of every green or red wire-label text, its width estimated from its characters."""
    boxes = []
    for g in svg.iter(f"{SVG}g"):
        if g.get("class") != "edge":
            continue
        for t in g.iter(f"{SVG}text"):
            if t.get("fill") not in (VALUE_COLOUR, GRAD_COLOUR):
                continue
            size, x, y = float(t.get("font-size")), float(t.get("x")), float(t.get("y"))
            width = CHAR_WIDTH * size * len(t.text or "")
            left = {"start": x, "end": x - width}.get(t.get("text-anchor") or "", x - width / 2)
            boxes.append((g.get("id") or "", (left, y - 0.8 * size, left + width, y + 0.2 * size)))
    return boxes


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def overlapping_labels(graph) -> list[tuple[str, str]]:
    boxes = label_boxes(ET.fromstring(graph.pipe(format="svg")))
    assert boxes, "no wire labels found"
    return [(e, f) for (e, a), (f, b) in itertools.combinations(boxes, 2) if e != f and overlaps(a, b)]


@pytest.mark.parametrize("inputs", range(2, 9))
def test_wire_labels_of_an_n_ary_gate_do_not_overlap(inputs):
    w = [Value(1.112 + 0.1 * i, f"w{i}") for i in range(inputs)]
    x = [Value(-1.112 - 0.1 * i, f"x{i}", requires_grad=False) for i in range(inputs)]
    out = dot(w, x, Value(0.5, "b")).tanh()
    out.backward()
    assert overlapping_labels(draw_dot(out)) == []


@pytest.mark.parametrize("inputs", [3, 5, 8])
def test_wire_labels_of_a_neuron_cluster_do_not_overlap(inputs):
    neuron = nn.Neuron(inputs, seed=1)
    out = neuron([0.5 * i - 1.0 for i in range(inputs)])
    out.backward()
    assert overlapping_labels(draw_dot(out)) == []


def test_parallel_wires_are_one_wire_marked_times_k():
    x = Value(2.0, "x")
    f = sum_values([x] * 150)
    f.backward()
    svg = ET.fromstring(draw_dot(f).pipe(format="svg"))
    edges = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "edge"]
    assert len(edges) == 2  # x -> Σ and Σ -> output
    texts = [t.text for g in edges for t in g.iter(f"{SVG}text")]
    assert "×150" in " ".join(texts) and "150" in texts  # the gradient 150·1 on the merged wire


def test_a_chain_that_would_take_minutes_to_lay_out_is_refused_quickly():
    x = Value(1.0, "x")
    f = x
    for _ in range(200):
        f = f + x  # x feeds 200 gates, each one rank further away
    with pytest.raises(ValueError, match=r"layout is too large.*max_nodes"):
        draw_dot(f)
    with pytest.raises(ValueError, match="layout is too large"):
        next(backward_steps(f))


def test_repr_has_no_memory_address():
    x = Value(2.0, "x")
    text = repr(draw_dot(x * x + 1))
    assert not re.search(r"0x[0-9a-f]{6,}", text)
    assert text == "<Drawing: 4 nodes, 3 wires; .pipe(format='svg') or .render() to save>"


def test_drawing_never_changes_graphvizs_module_global(tmp_path):
    before = dot_command.DOT_BINARY
    g = draw_dot(Value(1.0, "x") * 2)
    assert g.dot_binary == locate_dot()
    assert b"<svg" in g.pipe(format="svg")
    written = g.render(str(tmp_path / "g"), format="svg")
    assert written.endswith("g.svg") and (tmp_path / "g").read_text().startswith("digraph")
    assert before == dot_command.DOT_BINARY


def first_text(group: ET.Element) -> str | None:
    text = group.find(f"{SVG}text")
    return None if text is None else text.text


def box_of(group: ET.Element) -> tuple[float, float, float, float]:
    shape = group.find(f"{SVG}path")
    if shape is None:
        shape = group.find(f"{SVG}polygon")
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", shape.get("d") or shape.get("points"))]
    return min(numbers[0::2]), min(numbers[1::2]), max(numbers[0::2]), max(numbers[1::2])


@pytest.mark.parametrize("inputs", [2, 5])
def test_inputs_outside_a_frame_sit_before_it_so_their_wires_enter_from_the_side(inputs):
    model = nn.MLP(inputs, [3, 1], seed=0)
    out = model([0.25 * i for i in range(inputs)])
    out.backward()
    svg = ET.fromstring(draw_dot(out, cluster=model.drawing_groups()).pipe(format="svg"))
    groups = list(svg.iter(f"{SVG}g"))
    frames = [box_of(g) for g in groups if g.get("class") == "cluster"]
    wanted = {f"x{i}" for i in range(inputs)}
    data_inputs = [g for g in groups if g.get("class") == "node" and first_text(g) in wanted]
    assert frames and len(data_inputs) == inputs
    for node in data_inputs:
        right_edge = box_of(node)[2]
        assert all(right_edge <= frame[0] for frame in frames)  # left of every frame, not beside the weights
