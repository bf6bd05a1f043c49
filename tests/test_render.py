"""draw_dot and backward_steps, checked on the SVG graphviz makes: texts, colours, clusters, frames."""

from __future__ import annotations

import math
import random
import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from autograd_lite import Value, backward_steps, dot, draw_dot, save_backward_animation
from autograd_lite.draw.render import CURRENT_FILL, GRAD_COLOUR, PATH_COLOUR, VALUE_COLOUR

SVG = "{http://www.w3.org/2000/svg}"


# --- reading the SVG ----------------------------------------------------------


def svg_of(graph) -> ET.Element:
    return ET.fromstring(graph.pipe(format="svg"))


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if g.get("class") == cls]


def texts(element: ET.Element, fill: str | None = None) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text") if fill is None or t.get("fill") == fill]


def title(g: ET.Element) -> str:
    return g.find(f"{SVG}title").text


def node_texts(svg: ET.Element) -> dict[str, list[str]]:
    """DOT id -> the texts of that node."""
    return {title(g): texts(g) for g in groups(svg, "node")}


def wires(svg: ET.Element) -> list[tuple[str, str, ET.Element]]:
    """(tail id, head id, edge group) for every edge."""
    return [(*title(g).split("->"), g) for g in groups(svg, "edge")]


def wires_from(svg: ET.Element, label: str) -> list[ET.Element]:
    """The edge groups leaving the node whose first text is `label`."""
    ids = {nid for nid, t in node_texts(svg).items() if t and t[0] == label}
    return [g for tail, _, g in wires(svg) if tail in ids]


def edge_texts(svg: ET.Element, fill: str) -> Counter:
    return Counter(t for g in groups(svg, "edge") for t in texts(g, fill))


def bbox(shape: ET.Element) -> tuple[float, float, float, float]:
    """The bounding box of a polygon's points or a path's coordinates."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", shape.get("points") or shape.get("d"))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


# --- the slides' examples -----------------------------------------------------


def xyz() -> tuple[Value, list[Value]]:
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    f.backward()
    return f, [x, y, z]


def sigmoid_inputs() -> list[Value]:
    return [Value(v, name) for v, name in [(2.0, "w0"), (-1.0, "x0"), (-3.0, "w1"), (-2.0, "x1"), (-3.0, "w2")]]


def fused_sigmoid() -> Value:
    w0, x0, w1, x1, w2 = sigmoid_inputs()
    out = (w0 * x0 + w1 * x1 + w2).sigmoid()
    out.backward()
    return out


def expanded_sigmoid() -> Value:
    w0, x0, w1, x1, w2 = sigmoid_inputs()
    out = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    out.backward()
    return out


def test_wires_style_has_the_slides_values_in_green_and_gradients_in_red():
    f, _ = xyz()
    svg = svg_of(draw_dot(f))
    assert edge_texts(svg, VALUE_COLOUR) == Counter(["-2", "5", "-4", "3", "-12"])
    assert edge_texts(svg, GRAD_COLOUR) == Counter(["-4", "-4", "3", "-4", "1"])
    gates = sorted(t[0] for t in node_texts(svg).values() if t and t[0] in "+×")
    assert gates == ["+", "×"]
    for name, value, grad in [("x", "-2", "-4"), ("y", "5", "-4"), ("z", "-4", "3")]:
        (wire,) = wires_from(svg, name)
        assert texts(wire, VALUE_COLOUR) == [value]
        assert texts(wire, GRAD_COLOUR) == [grad]


def test_records_style_shows_each_nodes_data_and_grad():
    f, _ = xyz()
    svg = svg_of(draw_dot(f, style="records"))
    records = [t for t in node_texts(svg).values() if any(s.startswith("data ") for s in t)]
    assert sorted(records) == sorted(
        [
            ["x", "data -2", "grad -4"],
            ["y", "data 5", "grad -4"],
            ["z", "data -4", "grad 3"],
            ["data 3", "grad -4"],
            ["data -12", "grad 1"],
        ]
    )
    ops = sorted(t[0] for t in node_texts(svg).values() if t in (["+"], ["×"]))
    assert ops == ["+", "×"]


def test_forward_only_draws_values_without_gradients():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z  # no backward
    svg = svg_of(draw_dot(f, show_grad=False))
    assert edge_texts(svg, VALUE_COLOUR) == Counter(["-2", "5", "-4", "3", "-12"])
    assert not edge_texts(svg, GRAD_COLOUR)
    records = svg_of(draw_dot(f, style="records", show_grad=False))
    assert not [t for ts in node_texts(records).values() for t in ts if t.startswith("grad")]


def gate_labels(svg: ET.Element) -> list[str]:
    """Texts of the round gates (ellipses), in no particular order."""
    return [texts(g)[0] for g in groups(svg, "node") if g.find(f"{SVG}ellipse") is not None and texts(g)]


def test_fused_sigmoid_is_one_gate_and_the_expanded_one_its_chain():
    fused = svg_of(draw_dot(fused_sigmoid()))
    assert Counter(gate_labels(fused)) == Counter({"σ": 1, "×": 2, "+": 2})
    expanded = svg_of(draw_dot(expanded_sigmoid()))
    assert Counter(gate_labels(expanded)) == Counter({"×": 2, "+": 2, "*-1": 1, "exp": 1, "+1": 1, "1/x": 1})
    labels = {nid: t[0] for nid, t in node_texts(expanded).items() if t}
    chain = {labels.get(tail): labels.get(head) for tail, head, _ in wires(expanded)}
    assert [chain["*-1"], chain["exp"], chain["+1"]] == ["exp", "+1", "1/x"]
    numbers = {t for t in labels.values() if t.lstrip("-").replace(".", "").isdigit()}
    assert not numbers, "constants are folded into their gates, not drawn as nodes"
    # both give the slides' gradients on the inputs (to 2 digits)
    for svg in (fused, expanded):
        grads = {name: texts(wires_from(svg, name)[0], GRAD_COLOUR)[0] for name in ("w0", "x0", "w1", "x1", "w2")}
        rounded = {k: round(float(v), 2) for k, v in grads.items()}
        assert rounded == {"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2}


def test_mixed_circuit_gate_patterns_and_input_gradients():
    x, y, z, w = Value(3.0, "x"), Value(-4.0, "y"), Value(2.0, "z"), Value(-1.0, "w")
    f = (x * y + z.max(w)) * 2
    f.backward()
    svg = svg_of(draw_dot(f))
    assert Counter(gate_labels(svg)) == Counter({"×": 1, "+": 1, "max": 1, "*2": 1})
    got = {name: texts(wires_from(svg, name)[0], GRAD_COLOUR) for name in "xyzw"}
    assert got == {"x": ["-8"], "y": ["6"], "z": ["2"], "w": ["0"]}
    assert edge_texts(svg, VALUE_COLOUR)["-10"] == 1  # the output wire: (3·-4 + 2)·2


def test_fan_out_wires_carry_shares_that_add_up_to_the_leafs_grad():
    x = Value(3.0, "x")
    f = x * x + x
    f.backward()  # df/dx = 2x + 1 = 7
    svg = svg_of(draw_dot(f))
    shares = sorted(float(texts(g, GRAD_COLOUR)[0]) for g in wires_from(svg, "x"))
    assert shares == [1.0, 6.0]  # x·x's two parallel wires are one wire, marked ×2, carrying 3 + 3
    leaf = next(t for t in node_texts(svg).values() if t and t[0] == "x")
    assert leaf == ["x", "grad 7"]


@pytest.mark.parametrize(
    ("build", "gate"),
    [
        (lambda x: x - 3, "-3"),
        (lambda x: x**2, "**2"),
        (lambda x: 2**x, "2**x"),
        (lambda x: 1 / x, "1/x"),
        (lambda x: x / 4, "*0.25"),
        (lambda x: x.relu(), "relu"),
        (lambda x: x.max(0), "max 0"),
    ],
)
def test_constants_fold_into_the_gate_label(build, gate):
    x = Value(1.5, "x")
    svg = svg_of(draw_dot(build(x)))
    assert gate_labels(svg) == [gate]
    assert len(groups(svg, "node")) == 3  # x, the gate, the output point


def test_data_inputs_parameters_and_constants_look_different():
    x = Value(2.0, "x", requires_grad=False)
    w = Value(3.0, "w")
    two = Value(2.0, requires_grad=False)
    out = dot([w, x], [two, two])  # constants a dot cannot fold are drawn as grey numbers
    svg = svg_of(draw_dot(out, legend=True))
    fills = {
        texts(g)[0]: (g.find(f"{SVG}path") if g.find(f"{SVG}path") is not None else g.find(f"{SVG}polygon"))
        for g in groups(svg, "node")
        if texts(g)
    }
    assert fills["w"].get("fill") != fills["x"].get("fill")
    constants = [g for g in groups(svg, "node") if texts(g) == ["2"]]
    assert len(constants) == 1 and texts(constants[0]) == ["2"]
    legend = " ".join(texts(svg))
    for words in ("parameter", "data input", "constant", "value", "gradient"):
        assert words in legend


# --- numbers and labels ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "precision", "shown"),
    [
        (0.7310585786, 2, "0.73"),
        (0.7310585786, 4, "0.7311"),
        (123456.0, 3, "1.23e+05"),
        (-0.0, 4, "0"),
        (math.nan, 4, "nan"),
        (math.inf, 4, "inf"),
        (-math.inf, 4, "-inf"),
    ],
)
def test_numbers_are_formatted_to_precision(data, precision, shown):
    x = Value(data, "x")
    svg = svg_of(draw_dot(x + 0, precision=precision, show_grad=False))
    assert shown in edge_texts(svg, VALUE_COLOUR)


HOSTILE = [
    "a|b{c}<d>",
    '"quoted" \\ back\\slash',
    "<b>bold</b> &amp; <font color='red'>x</font>",
    "]]> <!-- --> \\N \\G \\l",
    "line one\nline two",
    "tab\there",
    "nul\x00 bell\x07",
    "lone \ud800 surrogate",
]


def expected_lines(label: str) -> list[str]:
    label = label.replace("\t", " ").replace("\x00", "\\x00").replace("\x07", "\\x07").replace("\ud800", "\\ud800")
    return label.split("\n")


@pytest.mark.parametrize("style", ["wires", "records"])
@pytest.mark.parametrize("label", HOSTILE)
def test_hostile_labels_render_as_text(label, style):
    x = Value(2.0, label)
    y = x * 3
    y.label = label
    svg = svg_of(draw_dot(y, style=style))
    all_texts = texts(svg)
    for line in expected_lines(label):
        if line.strip():
            assert all_texts.count(line.strip()) >= 2 or all_texts.count(line) >= 2, (line, all_texts)
    assert not list(svg.iter(f"{SVG}a")), "no markup injected"


def test_hostile_cluster_names_render_as_text():
    name = "layers.<0>&.neurons.{1}|"
    w, x = Value(1.0, f"{name}.w.0"), Value(2.0, "x", requires_grad=False)
    out = dot([w], [x], Value(0.5, f"{name}.b")).tanh()
    out.label = name
    svg = svg_of(draw_dot(out, cluster=lambda n: ("layers.<0>&", name) if n.label.startswith(name) else ()))
    cluster_texts = [t for g in groups(svg, "cluster") for t in texts(g)]
    assert sorted(cluster_texts) == sorted([name, "layers.<0>&"])


# --- nn clusters, collapse, size limit, highlight -------------------------------


def tiny_mlp() -> tuple[Value, list[Value]]:
    """A 2-3-1 network (tanh, then linear) labelled as nn labels its parameters and neurons."""
    rng = random.Random(0)
    inputs = [Value(0.5, "x0", requires_grad=False), Value(-1.0, "x1", requires_grad=False)]
    layer_in, params = inputs, []
    for li, (n_out, act) in enumerate([(3, True), (1, False)]):
        outs = []
        for j in range(n_out):
            name = f"layers.{li}.neurons.{j}"
            w = [Value(rng.uniform(-1, 1), f"{name}.w.{i}") for i in range(len(layer_in))]
            b = Value(rng.uniform(-1, 1), f"{name}.b")
            params += [*w, b]
            out = dot(w, layer_in, b)
            out = out.tanh() if act else out
            out.label = name
            outs.append(out)
        layer_in = outs
    return layer_in[0], params


def tiny_mlp_frames(node: Value) -> tuple[str, ...]:
    """The hand-built graph's frames (layer, neuron), read from its labels as nn would give them."""
    m = re.fullmatch(r"((layers\.\d+)\.neurons\.\d+)(\.w\.\d+|\.b)?", node.label)
    return (m.group(2), m.group(1)) if m else ()


def real_mlp() -> tuple[Value, object]:
    """The same shape built by nn, with the frames nn gives its drawings."""
    import nn

    model = nn.MLP(2, [3, 1], activation="tanh", seed=0)
    return model([0.5, -1.0]), model.drawing_groups()


@pytest.mark.parametrize("build", [lambda: (tiny_mlp()[0], tiny_mlp_frames), real_mlp], ids=["hand-built", "nn.MLP"])
def test_mlp_neurons_and_layers_are_clusters_holding_their_parameters(build):
    out, grouping = build()
    out.backward()
    svg = svg_of(draw_dot(out, cluster=grouping))
    clusters = {texts(g)[0]: bbox(g.find(f"{SVG}path")) for g in groups(svg, "cluster")}
    neurons = ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"]
    assert sorted(clusters) == sorted(["layers.0", "layers.1", *neurons])
    for neuron in neurons:
        x0, y0, x1, y1 = clusters[neuron]
        inside = [
            t.text
            for t in svg.iter(f"{SVG}text")
            if t.get("fill") is None and x0 <= float(t.get("x")) <= x1 and y0 <= float(t.get("y")) <= y1
        ]
        n_in = 3 if neuron.startswith("layers.1") else 2
        params = sorted(t for t in inside if t.startswith(("w.", "b")))
        assert params == sorted([*(f"w.{i}" for i in range(n_in)), "b"])
    assert not groups(svg_of(draw_dot(out, cluster=False)), "cluster")


def test_collapse_folds_a_neuron_into_one_box_with_its_values():
    out, _ = tiny_mlp()
    out.backward()
    full = svg_of(draw_dot(out))
    svg = svg_of(draw_dot(out, collapse=["layers.0.neurons.1"]))
    box = [t for t in node_texts(svg).values() if t and t[0] == "layers.0.neurons.1"]
    assert len(box) == 1
    neuron = next(n for n in tiny_mlp_nodes(out) if n.label == "layers.0.neurons.1")
    assert box[0][1:] == [f"data {neuron.data:.4g}", f"grad {neuron.grad:.4g}"]
    # its 2 weights, bias and dot gate are gone; its tanh gate became the box
    assert len(groups(full, "node")) - len(groups(svg, "node")) == 4
    # the inputs x0, x1 still wire into the box, with their values
    for name in ("x0", "x1"):
        assert len(wires_from(svg, name)) == 3
    neurons_and_biases = lambda label: ".neurons." in label and ".w." not in label  # noqa: E731
    everything = svg_of(draw_dot(out, collapse=neurons_and_biases, cluster=tiny_mlp_frames))
    boxes = [t[0] for t in node_texts(everything).values() if t and t[0].startswith("layers.")]
    assert sorted(boxes) == ["layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2", "layers.1.neurons.0"]


def tiny_mlp_nodes(out: Value) -> list[Value]:
    from autograd_lite import topological_order

    return topological_order(out)


def test_collapse_of_an_unknown_label_is_an_error():
    f, _ = xyz()
    with pytest.raises(ValueError, match="no node labelled 'nope'"):
        draw_dot(f, collapse=["nope"])


def test_more_than_max_nodes_is_a_clear_error():
    x = Value(1.0, "x")
    y = x
    for _ in range(30):
        y = y.tanh()
    with pytest.raises(ValueError, match=r"31 nodes.*max_nodes=20.*collapse"):
        draw_dot(y, max_nodes=20)
    assert draw_dot(y, max_nodes=31) is not None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"style": "boxes"}, "style must be one of"),
        ({"rankdir": "XY"}, "rankdir must be one of"),
        ({"precision": 0}, "precision must be a positive int"),
        ({"max_nodes": -1}, "max_nodes must be a positive int"),
        ({"highlight": Value(1.0)}, "highlight must be a node of the graph"),
    ],
)
def test_bad_options_are_named(kwargs, error):
    f, _ = xyz()
    with pytest.raises(ValueError, match=error):
        draw_dot(f, **kwargs)


def test_highlight_colours_the_paths_from_wrt():
    f, (x, _, _) = xyz()
    svg = svg_of(draw_dot(f, highlight=x))
    lit = {texts(g, VALUE_COLOUR)[0] for g in groups(svg, "edge") if g.find(f"{SVG}path").get("stroke") == PATH_COLOUR}
    assert lit == {"-2", "3"}  # x -> + -> ×, not y's or z's wire


# --- backward step by step --------------------------------------------------------


def edge_signature(svg: ET.Element) -> Counter:
    return Counter((t.get("fill"), t.text) for g in groups(svg, "edge") for t in g.iter(f"{SVG}text"))


@pytest.mark.parametrize("style", ["wires", "records"])
def test_backward_steps_one_frame_per_gate_ending_in_the_full_backward(style):
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    frames = [svg_of(frame) for frame in backward_steps(f, style=style)]
    assert len(frames) == 2  # the × gate, then the + gate
    assert [x.grad, y.grad, z.grad, f.grad] == [0, 0, 0, 0], "backward_steps leaves .grad alone"
    for frame in frames:
        current = [g for g in groups(frame, "node") if CURRENT_FILL in ET.tostring(g, encoding="unicode")]
        assert len(current) == (1 if style == "wires" else 2)  # records: the op node and its record
    f.backward()
    full = svg_of(draw_dot(f, style=style))
    if style == "wires":
        assert edge_signature(frames[-1]) == edge_signature(full)
        first = edge_texts(frames[0], GRAD_COLOUR)
        assert first == Counter(["1", "-4", "3"])  # output wire and the × gate's two inputs
    else:
        assert sorted(node_texts(frames[-1]).values()) == sorted(node_texts(full).values())


def test_save_backward_animation_writes_svgs_and_a_slider_page(tmp_path):
    out = fused_sigmoid()
    index = save_backward_animation(out, tmp_path / "anim")
    svgs = sorted((tmp_path / "anim").glob("step_*.svg"))
    assert len(svgs) == 5  # 2 ×, 2 +, σ
    for path in svgs:
        assert ET.parse(path).getroot().tag == f"{SVG}svg"
    page = index.read_text(encoding="utf-8")
    assert page.count("<svg") == 5 and 'max="5"' in page
