"""explain: the chain rule written out, summing to the gradient backward computes."""

from __future__ import annotations

import math
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import RULES, Value, apply, dot, draw_dot, explain
from autograd_lite.draw.render import PATH_COLOUR


def worked_example() -> tuple[Value, list[Value]]:
    """The 2-2-2 sigmoid network of the classic step-by-step backprop example."""
    i1, i2 = Value(0.05, "i1", requires_grad=False), Value(0.10, "i2", requires_grad=False)
    w = [Value(v, f"w{k}") for k, v in enumerate([0.15, 0.20, 0.25, 0.30, 0.40, 0.45, 0.50, 0.55], 1)]
    b1, b2 = Value(0.35, "b1"), Value(0.60, "b2")
    h1 = dot(w[0:2], [i1, i2], b1).sigmoid()
    h2 = dot(w[2:4], [i1, i2], b1).sigmoid()
    o1 = dot(w[4:6], [h1, h2], b2).sigmoid()
    o2 = dot(w[6:8], [h1, h2], b2).sigmoid()
    for node, name in [(h1, "out_h1"), (h2, "out_h2"), (o1, "out_o1"), (o2, "out_o2")]:
        node.label = name
    E = 0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2
    E.label = "E"
    return E, w


def test_worked_example_dE_dw1_has_two_paths_through_o1_and_o2():
    E, w = worked_example()
    E.backward()
    e = explain(E, w[0])
    assert round(e.total, 9) == 0.000438568
    assert math.isclose(e.total, w[0].grad, rel_tol=1e-12)
    assert e.path_count == 2 and len(e.paths) == 2
    through = [[n.label for n in p.nodes if n.label] for p in e.paths]
    assert through == [["E", "out_o1", "out_h1", "w1"], ["E", "out_o2", "out_h1", "w1"]]
    for p in e.paths:
        assert math.isclose(p.product, math.prod(p.factors))
    text = str(e)
    assert text.startswith("∂E/∂w1 = 0.000438568, the sum over 2 paths")
    assert "path 1: w1 → dot_1 → out_h1 → dot_3 → out_o1" in text
    assert "∂out_h1/∂dot_1" in text and "(0.241301)" in text  # σ'(net_h1) = out_h1·(1 - out_h1)
    assert "where dot_1 = w1·i1 + w2·i2 + b1 = 0.3775" in text
    latex = e._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}") and r"\frac{\partial E}{\partial w_{1}} &= 0.000438568" in latex
    assert r"\frac{\partial \mathrm{out}_{o1}}{\partial \mathrm{dot}_{3}}" in latex
    assert "$$" in e._repr_markdown_() and "dot_1 = w1·i1" in e._repr_markdown_()


def test_many_paths_switch_to_node_deltas_and_say_so():
    x = Value(1.1, "x")
    y = x
    for _ in range(6):  # each step doubles the paths from x: 2**6 + ... of them
        y = y * y + x
    y.backward()
    e = explain(y, x)
    assert e.path_count > 50 and e.paths is None
    assert "more than 50" in str(e) and "node deltas" in str(e)
    assert math.isclose(e.total, x.grad, rel_tol=1e-12)
    assert e.deltas[0].node is y and e.deltas[0].value == 1.0
    assert e.deltas[-1].node is x
    assert r"\delta_{x}" in e._repr_latex_()
    assert explain(y, x, max_paths=10_000).paths is not None


@pytest.mark.parametrize(
    ("build", "total", "paths"),
    [
        (lambda x, y: x * y, 3.0, 1),
        (lambda x, y: x * x, 4.0, 2),  # x used twice by one gate: two paths
        (lambda x, y: y + 1, 0.0, 0),  # no path from x
        (lambda x, y: x, 1.0, 1),  # the output itself
    ],
)
def test_edge_cases(build, total, paths):
    x, y = Value(2.0, "x"), Value(3.0, "y")
    e = explain(build(x, y), x)
    assert e.total == total and e.path_count == paths


def test_bad_arguments_are_named():
    x = Value(1.0, "x")
    with pytest.raises(TypeError, match="wrt must be a Value"):
        explain(x * 2, 1.0)
    with pytest.raises(ValueError, match="max_paths"):
        explain(x * 2, x, max_paths=0)


# Every op of the rule table with one or two inputs (a new row is covered with no edit here), plus composites.
UNARY = {name: partial(apply, name) for name, rule in RULES.items() if rule.arity == 1}
BINARY = {
    **{name: partial(apply, name) for name, rule in RULES.items() if rule.arity == 2},
    "sub": lambda x, y: x - y,
    "div": lambda x, y: x / (y * y + 1),  # never divides by zero
}


def usable(make, *args):
    """The new node, or None where the op refuses these inputs (outside its domain), leaves a moderate range,
    or has no finite local gradient there (sqrt or a fractional power at 0)."""
    try:
        node = make(*args)
        local = RULES[node.op].partials(node.data, *(p.data for p in node.parents)) if node.op in RULES else ()
    except (ArithmeticError, ValueError):
        return None
    moderate = abs(node.data) < 1e6 and all(math.isfinite(d) and abs(d) < 1e6 for d in local)
    return node if moderate else None


@st.composite
def random_graph(draw):
    """A random graph over three leaves, reusing nodes so paths branch and merge."""
    leaves = [Value(draw(st.floats(-1.5, 1.5)), name) for name in "abc"]
    nodes = list(leaves)
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            node = usable(UNARY[draw(st.sampled_from(sorted(UNARY)))], draw(st.sampled_from(nodes)))
        else:
            op = BINARY[draw(st.sampled_from(sorted(BINARY)))]
            node = usable(op, draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes)))
        if node is not None:
            nodes.append(node)
    return nodes[-1] * 1.0 + nodes[-2] * 0.5, leaves


@given(graph=random_graph(), max_paths=st.sampled_from([1, 50]))
def test_explain_sums_to_the_gradient_on_random_graphs(graph, max_paths):
    out, leaves = graph
    out.backward()
    for leaf in leaves:
        e = explain(out, leaf, max_paths=max_paths)
        assert math.isclose(e.total, leaf.grad, rel_tol=1e-9, abs_tol=1e-12)
        assert str(e)  # the text renders for every shape of graph


def test_highlight_marks_exactly_the_explained_paths():
    E, w = worked_example()
    E.backward()
    e = explain(E, w[0])
    path_wires = {(a, b) for p in e.paths for a, b in p.steps()}
    assert len(path_wires) == 16  # 9 steps per path, the last 2 shared
    lines = draw_dot(E, highlight=w[0]).source.splitlines()
    lit_wires = [line for line in lines if "->" in line and PATH_COLOUR in line]
    assert len(lit_wires) == len(path_wires)
