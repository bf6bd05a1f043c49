"""backward and topological_order: the slides' examples, fan-out, accumulation, deep graphs, random graphs."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_lite import RULES, Value, apply, gradcheck, topological_order


def test_slides_add_mul_circuit():
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    f.backward()
    assert f.data == -12.0
    assert (x.grad, y.grad, z.grad, f.grad) == (-4.0, -4.0, 3.0, 1.0)
    q = f.parents[0]
    assert q.grad == -4.0  # intermediate nodes get their gradient too


def _sigmoid_gate(fused: bool):
    w0, x0, w1, x1, w2 = (Value(v, n) for v, n in zip((2.0, -1.0, -3.0, -2.0, -3.0), ("w0", "x0", "w1", "x1", "w2")))
    z = w0 * x0 + w1 * x1 + w2
    f = z.sigmoid() if fused else 1 / (1 + (-z).exp())
    f.backward()
    return f, (w0, x0, w1, x1, w2)


@pytest.mark.parametrize("fused", [True, False])
def test_slides_sigmoid_gate(fused):
    f, (w0, x0, w1, x1, w2) = _sigmoid_gate(fused)
    assert round(f.data, 2) == 0.73
    assert [round(v.grad, 2) for v in (w0, x0, w1, x1, w2)] == [-0.20, 0.39, -0.39, -0.59, 0.20]


def test_fused_and_expanded_sigmoid_agree_to_the_last_digits():
    fused, a = _sigmoid_gate(True)
    expanded, b = _sigmoid_gate(False)
    assert fused.data == pytest.approx(expanded.data, rel=1e-15)
    for u, v in zip(a, b):
        assert u.grad == pytest.approx(v.grad, rel=1e-12)
    assert len(topological_order(fused)) < len(topological_order(expanded))


def test_fan_out_adds_up():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0
    y = Value(2.0)
    a = y + 1
    (a * a + a).backward()  # d/da = 2a + 1 = 7
    assert y.grad == 7.0 and a.grad == 7.0


def test_backward_twice_accumulates_like_pytorch():
    x = Value(2.0)
    f = x * x * 3
    f.backward()
    f.backward()
    assert x.grad == 24.0
    assert f.grad == 2.0


def test_backward_seed_scales_gradients():
    x = Value(2.0)
    (x * 5).backward(grad=0.5)
    assert x.grad == 2.5
    with pytest.raises(TypeError, match="grad"):
        (x * 5).backward(grad="1")


def test_topological_order_puts_parents_first_once():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = topological_order(e)
    assert len(order) == len(set(order)) == 5  # a, b, c, d, e: each once, though a and c fan out
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for p in node.parents:
            assert position[p] < position[node]
    assert order[-1] is e


def test_a_million_node_chain_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + x  # also fans x out a million times
    y.backward()
    assert y.data == 1_000_001.0
    assert x.grad == 1_000_001.0


OPS = sorted(RULES)  # every row of the table, built-in ones included as they are added


@st.composite
def programs(draw):
    """A random expression DAG: each step applies a table op to earlier nodes (so fan-out and sharing occur)."""
    n_inputs = draw(st.integers(1, 4))
    xs = [draw(st.floats(-2, 2)) for _ in range(n_inputs)]
    steps = []
    for k in range(draw(st.integers(10, 25))):
        available = n_inputs + k
        op = draw(st.sampled_from(OPS))
        arity = RULES[op].arity or draw(st.integers(1, 5))
        # the last node feeds the next one often, so graphs are deep, not just wide
        args = [available - 1] + [draw(st.integers(0, available - 1)) for _ in range(arity - 1)]
        steps.append((op, args))
    return xs, steps


def into_domain(op, inputs):
    """Each input squashed smoothly into the op's sampling domain (log's inputs positive, pow's base too, ...)."""
    domain = RULES[op].domain
    ranges = [domain[min(i, len(domain) - 1)] for i in range(len(inputs))]
    return [lo + (hi - lo) * v.sigmoid() for v, (lo, hi) in zip(inputs, ranges)]


def run(program, leaves):
    nodes = list(leaves)
    for op, args in program:
        nodes.append(apply(op, *into_domain(op, [nodes[i] for i in args])))
    return nodes[-1], nodes


@given(programs())
def test_random_graphs_match_central_differences(program):
    xs, steps = program
    out, nodes = run(steps, [Value(x) for x in xs])
    for node in nodes:
        assume(math.isfinite(node.data) and abs(node.data) < 1e4)
        rule = RULES.get(node.op)
        if rule is not None and rule.kink is not None:
            assume(rule.kink(*(p.data for p in node.parents)) > 1e-3)
    assert gradcheck(lambda *v: run(steps, v)[0], xs, eps=1e-7, atol=1e-5, rtol=1e-4)
    out.backward()  # and backward agrees with the functional path gradcheck used
    leaves = nodes[: len(xs)]
    numeric = list(_numeric(steps, xs))
    for leaf, g in zip(leaves, numeric):
        assert leaf.grad == pytest.approx(g, rel=1e-4, abs=1e-5)


def _numeric(steps, xs, eps=1e-7):
    for i in range(len(xs)):
        up = [x + eps if j == i else x for j, x in enumerate(xs)]
        down = [x - eps if j == i else x for j, x in enumerate(xs)]
        yield (run(steps, [Value(u) for u in up])[0].data - run(steps, [Value(d) for d in down])[0].data) / (2 * eps)


def _graph_through(op_name: str) -> tuple[Value, list[Value]]:
    """(root, every node): root = op(x·y) + x·y + y, the op's node met half-way through the sweep."""
    from autograd_lite import apply

    x, y = Value(2.0, "x"), Value(-3.0, "y")
    product = x * y
    root = apply(op_name, product) + product + y
    return root, topological_order(root)


@pytest.mark.parametrize("anomaly", [False, True])
def test_a_backward_failing_half_way_changes_no_grad(anomaly):
    from autograd_lite import detect_anomaly, register_op
    from autograd_lite.rules import scoped_rules

    armed = []  # register_op tries the partials: they refuse only once the graph is made

    def refuse(out, x):
        if armed:
            raise ArithmeticError("no slope here")
        return (1.0,)

    with scoped_rules():
        register_op("no_slope", lambda x: x, refuse, lambda x: x)
        root, nodes = _graph_through("no_slope")
        armed.append(True)
        for i, node in enumerate(nodes):
            node.grad = 0.25 * i - 1.0  # earlier gradients, as from an earlier backward
        before = [node.grad for node in nodes]
        with pytest.raises(ArithmeticError, match="no slope here"):
            if anomaly:
                with detect_anomaly():
                    root.backward()
            else:
                root.backward()
    assert [node.grad for node in nodes] == before


def test_backward_through_an_op_no_longer_in_the_table_names_it_and_changes_no_grad():
    from autograd_lite import register_op
    from autograd_lite.rules import scoped_rules

    with scoped_rules():
        register_op("square_then_gone", lambda x: x * x, lambda out, x: (2.0 * x,), lambda x: x * x)
        root, nodes = _graph_through("square_then_gone")
    before = [node.grad for node in nodes]
    with pytest.raises(ValueError, match="'square_then_gone' is no longer in the rule table"):
        root.backward()
    assert [node.grad for node in nodes] == before


def test_a_repeated_backward_adds_its_whole_adjoint_to_the_earlier_grad():
    # .grad += adjoint: this call's contributions summed first (the last op's first), then added to the earlier .grad
    x = Value(0.1, "x")
    root = x * 0.7 + x * 0.2 + x * 0.3
    root.backward()
    first = x.grad
    assert first == (0.3 + 0.2) + 0.7
    root.backward(0.1)
    assert x.grad == first + ((0.1 * 0.3 + 0.1 * 0.2) + 0.1 * 0.7)
    assert x.grad != ((first + 0.1 * 0.3) + 0.1 * 0.2) + 0.1 * 0.7  # not added to .grad one by one
