"""Where things land in the laid-out SVG: wire labels on their wires, inputs in order, frames holding what nn
built, boxes after relabelling, backward frames that never move, pictures that fit their cell."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

import pytest

import nn
from autograd_lite import Value, backward_steps, draw_dot
from autograd_lite.draw.render import CURRENT_FILL, GRAD_COLOUR, VALUE_COLOUR

SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in SVG coordinates (y grows downwards)


def svg_of(drawing) -> ET.Element:
    return ET.fromstring(drawing.pipe(format="svg"))


def groups(svg: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if g.get("class") == kind]


def numbers(text: str) -> list[float]:
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def shape_box(g: ET.Element) -> Box:
    """The box around a node's or frame's outline."""
    for child in g:
        if child.tag == f"{SVG}ellipse":
            cx, cy, rx, ry = (float(child.get(k)) for k in ("cx", "cy", "rx", "ry"))
            return cx - rx, cy - ry, cx + rx, cy + ry
        if child.tag in (f"{SVG}polygon", f"{SVG}path"):
            xy = numbers(child.get("points") or child.get("d"))
            return min(xy[0::2]), min(xy[1::2]), max(xy[0::2]), max(xy[1::2])
    raise AssertionError("no outline")


def centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def inside(point: tuple[float, float], box: Box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def first_text(g: ET.Element) -> str | None:
    t = g.find(f"{SVG}text")
    return None if t is None else t.text


def nodes_named(svg: ET.Element, name: str) -> list[ET.Element]:
    return [g for g in groups(svg, "node") if first_text(g) == name]


def frames(svg: ET.Element) -> dict[str, Box]:
    return {first_text(g): shape_box(g) for g in groups(svg, "cluster")}


def curve(path: ET.Element) -> list[tuple[float, float]]:
    """Points along an edge's path: dot writes `M p0 C p1 p2 p3 p4 p5 p6 ...`, cubic Bézier pieces."""
    xy = numbers(path.get("d"))
    pts = list(zip(xy[0::2], xy[1::2], strict=True))
    out = [pts[0]]
    for k in range(1, len(pts) - 2, 3):
        p0, p1, p2, p3 = pts[k - 1], pts[k], pts[k + 1], pts[k + 2]
        for i in range(1, 21):
            t = i / 20
            out.append(tuple(
                (1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t**2 * c + t**3 * d
                for a, b, c, d in zip(p0, p1, p2, p3, strict=True)
            ))
    return out


def labelled_wires(svg: ET.Element) -> list[tuple[str, Box, list[tuple[float, float]]]]:
    """(wire title, the box of its label, points along it) for each wire with a value label."""
    found = []
    for g in groups(svg, "edge"):
        lines = [t for t in g.iter(f"{SVG}text") if t.get("fill") in (VALUE_COLOUR, GRAD_COLOUR)]
        if lines:
            xs, ys = [float(t.get("x")) for t in lines], [float(t.get("y")) for t in lines]
            width = max(6.0 * len(t.text) for t in lines)  # 11 pt Arial digits are about 6 pt wide
            box = (min(xs), min(ys) - 11, min(xs) + width, max(ys))
            found.append((g.find(f"{SVG}title").text, box, curve(g.find(f"{SVG}path"))))
    return found


def gap(point: tuple[float, float], box: Box) -> float:
    """How far a point is from a box (0 inside it)."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[2])
    dy = max(box[1] - point[1], 0.0, point[1] - box[3])
    return math.hypot(dx, dy)


def demo_neuron() -> tuple[Value, nn.MLP]:
    """What the demo draws: the first neuron of a 2-16-16-1 MLP, backpropagated from its own output."""
    model = nn.MLP(2, [16, 16, 1], seed=0)
    out = model.layers[0].neurons[0]([0.5, -1.0])
    out.backward()
    return out, model


def small_mlp() -> tuple[Value, nn.MLP]:
    model = nn.MLP(2, [3, 1], seed=0)
    out = model([0.5, -1.0])
    out.backward()
    return out, model


# --- wire labels sit on their wires, inside the frame their wire enters


@pytest.mark.parametrize("build", [demo_neuron, small_mlp], ids=["demo neuron", "2-3-1 MLP"])
def test_each_wire_label_sits_next_to_its_own_wire(build):
    out, model = build()
    svg = svg_of(draw_dot(out, cluster=model.drawing_groups()))
    wires = labelled_wires(svg)
    assert len(wires) >= 6
    for title, box, points in wires:
        nearest = min(gap(p, box) for p in points)
        assert nearest < 16, f"label of {title} is {nearest:.0f} pt from its wire"


def test_the_inputs_wires_run_straight_into_the_frame_and_their_labels_sit_inside_it():
    out, model = demo_neuron()
    svg = svg_of(draw_dot(out, cluster=model.drawing_groups()))
    neuron = frames(svg)["layers.0.neurons.0"]
    for name in ("x0", "x1"):
        (x_node,) = nodes_named(svg, name)
        x_id = x_node.find(f"{SVG}title").text
        outside = [g for g in groups(svg, "edge") if g.find(f"{SVG}title").text.startswith(f"{x_id}->")]
        assert len(outside) == 1
        points = curve(outside[0].find(f"{SVG}path"))
        length = sum(math.dist(a, b) for a, b in itertools.pairwise(points))
        assert length < 1.3 * math.dist(points[0], points[-1]), f"{name}'s wire makes a detour"
        entry = outside[0].find(f"{SVG}title").text.split("->")[1]
        (labelled,) = [w for w in labelled_wires(svg) if w[0].startswith(f"{entry}->")]
        assert inside(centre(labelled[1]), neuron), f"{name}'s label is outside the frame its wire enters"


# --- inputs in order


@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_a_neurons_weights_are_drawn_in_order(rankdir):
    out, model = small_mlp()
    svg = svg_of(draw_dot(out, cluster=model.drawing_groups(), rankdir=rankdir))
    axis = 1 if rankdir in ("LR", "RL") else 0  # LR: w.0 above w.1; TB: w.0 left of w.1
    for name, box in frames(svg).items():
        if ".neurons." not in name:
            continue
        held = [g for g in groups(svg, "node") if inside(centre(shape_box(g)), box)]
        weights = sorted((g for g in held if (first_text(g) or "").startswith("w.")), key=first_text)
        assert len(weights) in (2, 3)
        positions = [centre(shape_box(g))[axis] for g in weights]
        assert positions == sorted(positions), f"{name}: {[first_text(g) for g in weights]} at {positions}"


@pytest.mark.parametrize("rankdir", ["LR", "RL", "TB", "BT"])
def test_a_gates_inputs_are_in_order_without_frames(rankdir):
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(3.0, "c")
    out = (a * b) + c
    out.backward()
    svg = svg_of(draw_dot(out, rankdir=rankdir))
    axis = 1 if rankdir in ("LR", "RL") else 0
    at = [centre(shape_box(nodes_named(svg, name)[0]))[axis] for name in ("a", "b")]
    assert at[0] < at[1]


# --- frames hold what nn built, whatever it is labelled


def gates_inside(svg: ET.Element, box: Box) -> list[str]:
    return sorted(first_text(g) for g in groups(svg, "node") if g.find(f"{SVG}ellipse") is not None
                  and first_text(g) and inside(centre(shape_box(g)), box))


def test_relabelling_a_neurons_output_keeps_its_gates_in_its_frame():
    model = nn.MLP(2, [3, 1], seed=0)
    hidden = model.layers[0]([0.5, -1.0])
    hidden[1].label = "h"
    out = model.layers[1](hidden)
    out[0].label = "prediction"
    out[0].backward()
    svg = svg_of(draw_dot(out[0], cluster=model.drawing_groups()))
    boxes = frames(svg)
    for name in ("layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2"):
        assert gates_inside(svg, boxes[name]) == ["tanh", "·"], name
    assert gates_inside(svg, boxes["layers.1.neurons.0"]) == ["·"]
    for g in nodes_named(svg, "x0") + nodes_named(svg, "x1"):  # the shared inputs stay outside every frame
        assert not any(inside(centre(shape_box(g)), box) for box in boxes.values())


def test_collapse_follows_the_frames_after_relabelling():
    model = nn.MLP(2, [3, 1], seed=0)
    hidden = model.layers[0]([0.5, -1.0])
    hidden[1].label = "h"
    out = model.layers[1](hidden)[0]
    out.backward()
    full = svg_of(draw_dot(out, cluster=model.drawing_groups()))
    one = svg_of(draw_dot(out, cluster=model.drawing_groups(), collapse=["layers.0.neurons.1"]))
    box = [g for g in groups(one, "node") if first_text(g) == "layers.0.neurons.1"]
    assert len(box) == 1
    texts = [t.text for t in box[0].iter(f"{SVG}text")]
    assert texts[1:] == [f"data {hidden[1].data:.4g}", f"grad {hidden[1].grad:.4g}"]
    assert len(groups(full, "node")) - len(groups(one, "node")) == 4  # w.0, w.1, b, · gone; tanh became the box
    assert inside(centre(shape_box(box[0])), frames(one)["layers.0"])  # the box sits in its layer's frame
    layer = svg_of(draw_dot(out, cluster=model.drawing_groups(), collapse="layers.0"))
    (layer_box,) = [g for g in groups(layer, "node") if first_text(g) == "layers.0"]
    assert [t.text for t in layer_box.iter(f"{SVG}text")][1:] == ["3 outputs"]  # no one value is the layer's
    assert "layers.0" not in frames(layer)


def test_the_frames_come_from_the_graph_not_from_labels():
    model = nn.MLP(2, [2, 1], seed=0)
    groups_of = model.drawing_groups()
    out = model([0.5, -1.0])
    out.label = "layers.0.neurons.0"  # a label that names another neuron frames nothing there
    assert tuple(groups_of(out)) == ("layers.1", "layers.1.neurons.0")
    stranger = Value(1.0) * 2
    stranger.label = "layers.0.neurons.1"
    assert tuple(groups_of(stranger)) == ()


# --- the backward animation never moves


def node_boxes(svg: ET.Element) -> dict[str, Box]:
    return {g.find(f"{SVG}title").text: shape_box(g) for g in groups(svg, "node")}


def test_backward_frames_keep_every_node_where_it_was():
    out, model = small_mlp()
    frames_ = [svg_of(f) for f in backward_steps(out, cluster=model.drawing_groups())]
    assert len(frames_) == 7  # one per gate: 3 dot and 3 tanh in layer 0, 1 dot in layer 1
    first = node_boxes(frames_[0])
    for k, svg in enumerate(frames_[1:], 2):
        assert node_boxes(svg) == first, f"frame {k} moved nodes"
        assert frames(svg) == frames(frames_[0])
    reds = [sum(t.get("fill") == GRAD_COLOUR for t in svg.iter(f"{SVG}text")) for svg in frames_]
    assert reds == sorted(reds) and reds[0] < reds[-1], "gradients fill in, frame by frame"
    lit = [
        [g.find(f"{SVG}title").text for g in groups(svg, "node") if any(c.get("fill") == CURRENT_FILL for c in g)]
        for svg in frames_
    ]
    assert all(len(ids) == 1 for ids in lit) and len({ids[0] for ids in lit}) == len(frames_)


def test_backward_frames_end_with_what_draw_dot_shows():
    out, model = small_mlp()
    *_, last = backward_steps(out, cluster=model.drawing_groups())
    full = svg_of(draw_dot(out, cluster=model.drawing_groups()))
    texts = lambda svg: sorted(t.text for t in svg.iter(f"{SVG}text") if t.get("fill") in (VALUE_COLOUR, GRAD_COLOUR))  # noqa: E731
    assert texts(svg_of(last)) == texts(full)


# --- the picture says what its numbers are, and fits its cell


def test_the_caption_names_what_the_red_numbers_are_derivatives_of():
    x = Value(2.0, "x")
    loss = x * x
    loss.label = "loss"
    loss.backward()
    texts = [t.text for t in svg_of(draw_dot(loss)).iter(f"{SVG}text")]
    assert any("d(loss)/d(wire)" in t for t in texts if t)
    forward = [t.text for t in svg_of(draw_dot(loss, show_grad=False)).iter(f"{SVG}text")]
    assert not any("d(loss)" in t for t in forward if t)


def test_a_wide_graph_scales_down_to_its_cell_keeping_its_proportions():
    out, model = small_mlp()
    svg = ET.fromstring(draw_dot(out, cluster=model.drawing_groups())._repr_mimebundle_()["image/svg+xml"])
    assert "max-width: 100%" in svg.get("style") and "height: auto" in svg.get("style")
    width, height = numbers(svg.get("width"))[0], numbers(svg.get("height"))[0]
    box = numbers(svg.get("viewBox"))
    assert math.isclose(width / height, box[2] / box[3], rel_tol=0.01)


def test_entry_points_and_order_ties_are_not_counted_as_nodes_or_wires():
    out, model = small_mlp()
    assert repr(draw_dot(out, cluster=model.drawing_groups())) == repr(draw_dot(out))
