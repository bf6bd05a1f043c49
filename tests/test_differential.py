"""Differential suite: random expression DAGs over every op of the rule table, checked against mpmath at 50 digits.

Values, first and second derivatives (third on a sample) of the engine are compared with an independent
reference: the same DAG evaluated by mpmath, differentiated by mpmath's high-precision differences. Bases at
exactly 0, reused nodes and constants on either side occur. A disagreement is judged against the reference (rtol
1e-9), so only the engine can be blamed. Points where the reference has no derivative (a kink, a complex value,
a non-finite one) are not compared; PyTorch's conventions there are tested in test_functional and test_value.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import pytest

from autograd_lite import RULES, Value, apply, gradients
from autograd_lite.registry import Missing

mpmath = pytest.importorskip("mpmath")
mp = mpmath.mp

GRAPHS = 2000
RTOL = 1e-9
CONSTANTS = (0.0, 1.0, 2.0, 3.0, -1.0, 0.5, -2.5, 1.5)


def reference_form(name):
    """The row's own high-precision form (`Rule.reference`, given the mpmath module), or None if it has none."""
    reference = RULES[name].reference
    if not callable(reference):
        return None
    return lambda *xs: reference(mpmath, *xs)


@dataclass
class Graph:
    """A DAG as steps (op, argument list); an argument is ("node", i) or ("const", value)."""

    inputs: list[float]
    steps: list[tuple[str, list[tuple[str, float]]]] = field(default_factory=list)


def run_engine(graph: Graph, leaves: list[Value]) -> list[Value]:
    nodes = list(leaves)
    for op, args in graph.steps:
        nodes.append(apply(op, *[nodes[int(a)] if kind == "node" else a for kind, a in args]))
    return nodes


def run_reference(graph: Graph, xs, every_node: bool = False):
    nodes = list(xs)
    for op, args in graph.steps:
        nodes.append(reference_form(op)(*[nodes[int(a)] if kind == "node" else mpmath.mpf(a) for kind, a in args]))
    return nodes if every_node else nodes[-1]


def random_graph(rng: random.Random, ops: list[str]) -> Graph:
    n_inputs = rng.randint(1, 3)
    graph = Graph([0.0 if rng.random() < 0.2 else round(rng.uniform(-2, 2), 3) for _ in range(n_inputs)])
    nodes = run_engine(graph, [Value(x) for x in graph.inputs])
    for _ in range(rng.randint(3, 8)):
        op = rng.choice(ops)
        arity = RULES[op].arity or rng.randint(1, 4)
        args = []
        for k in range(arity):
            if rng.random() < 0.25:
                args.append(("const", rng.choice(CONSTANTS)))
            else:  # the newest node often, so graphs are deep; earlier ones too, so nodes are reused
                i = len(nodes) - 1 if k == 0 and rng.random() < 0.6 else rng.randrange(len(nodes))
                args.append(("node", float(i)))
        try:
            node = apply(op, *[nodes[int(a)] if kind == "node" else a for kind, a in args])
        except (ValueError, ZeroDivisionError, OverflowError):
            continue  # outside the op's domain: the engine refused, as it should; draw another step
        if not math.isfinite(node.data) or abs(node.data) > 1e6:
            continue
        graph.steps.append((op, args))
        nodes.append(node)
    return graph


def without_finite_slopes(nodes: list[Value]) -> bool:
    """True if some node sits on a kink, at a singular power, or where its slope is infinite (sqrt at 0).

    There the engine follows PyTorch (slope 0 at a kink; inf at a vertical tangent, and 0·inf = nan when a
    constant multiplies it away), which test_functional and test_value check case by case.
    """
    for node in nodes:
        rule = RULES.get(node.op)
        if rule is None or not node.parents:
            continue
        xs = [p.data for p in node.parents]
        if node.op == "pow" and xs[0] == 0 and (node.parents[1].requires_grad or not xs[1].is_integer()):
            return True  # 0 ** p is smooth in x only for a constant whole p; x**x at 0 has no derivative
        if rule.kink is not None and rule.kink(*xs) < 1e-9:
            return True
        if not all(math.isfinite(float(d)) for d in rule.partials(node.data, *xs)):
            return True
    return False


class Tally:
    def __init__(self) -> None:
        self.graphs = self.comparisons = self.skipped = self.without_slopes = 0
        self.mismatches: list[str] = []

    def compare(self, what: str, engine: float, reference) -> None:
        if isinstance(reference, mpmath.mpc) or not mpmath.isfinite(reference):
            self.skipped += 1  # the reference has no real finite value here: nothing to judge against
            return
        self.comparisons += 1
        ref = float(reference)
        if not (math.isfinite(engine) and abs(engine - ref) <= RTOL * abs(ref) + 1e-12):
            self.mismatches.append(f"{what}: engine {engine!r}, mpmath {mpmath.nstr(reference, 17)}")


def check_graph(graph: Graph, tally: Tally, third: bool) -> None:
    leaves = [Value(x) for x in graph.inputs]
    nodes = run_engine(graph, leaves)
    out, n = nodes[-1], len(leaves)
    xs = [mpmath.mpf(x) for x in graph.inputs]
    tally.graphs += 1
    for k, (node, reference) in enumerate(zip(nodes[n:], run_reference(graph, xs, every_node=True)[n:])):
        tally.compare(f"value of node {n + k} {graph}", node.data, reference)
    if without_finite_slopes(nodes):
        tally.without_slopes += 1
        return

    def f(*ys):
        return run_reference(graph, list(ys))

    def derivative(orders):
        try:
            return mpmath.diff(f, xs, orders)
        except (ValueError, TypeError, ZeroDivisionError):  # complex on the way: no real derivative here
            return mpmath.mpf("nan")

    first = gradients(out, leaves, create_graph=True)
    out.backward()
    for i in range(n):
        orders = tuple(int(k == i) for k in range(n))
        reference = derivative(orders)
        tally.compare(f"d/dx{i} {graph}", first[i].data, reference)
        tally.compare(f"backward d/dx{i} {graph}", leaves[i].grad, reference)
        second = gradients(first[i], leaves, create_graph=third)
        for j in range(i, n):
            orders2 = tuple(int(k == i) + int(k == j) for k in range(n))
            tally.compare(f"d2/dx{i}dx{j} {graph}", second[j].data, derivative(orders2))
            if third:
                for k, g3 in enumerate(gradients(second[j], leaves)[j:], start=j):
                    orders3 = tuple(int(m == i) + int(m == j) + int(m == k) for m in range(n))
                    tally.compare(f"d3/dx{i}dx{j}dx{k} {graph}", g3.data, derivative(orders3))


def test_random_graphs_match_mpmath(capsys):
    ops = sorted(name for name in RULES if reference_form(name) is not None)
    without_reference = sorted(set(RULES) - set(ops))
    assert all(isinstance(RULES[name].reference, Missing) for name in without_reference), (
        "rows without a reference must say why (Rule.reference=Missing(...)): "
        + ", ".join(name for name in without_reference if not isinstance(RULES[name].reference, Missing))
    )
    rng = random.Random(20261125)
    tally = Tally()
    with mpmath.workdps(50):
        for g in range(GRAPHS):
            check_graph(random_graph(rng, ops), tally, third=g % 6 == 0)
    with capsys.disabled():
        print(
            f"\ndifferential suite: {tally.graphs} graphs over {len(ops)} ops, {tally.comparisons} comparisons with "
            f"mpmath (50 digits), {len(tally.mismatches)} mismatches; {tally.skipped} points without a reference, "
            f"{tally.without_slopes} graphs through a kink or an infinite slope (values only)"
            + "".join(f"; {name} has no reference: {RULES[name].reference.reason}" for name in without_reference)
        )
    assert not tally.mismatches, "\n".join(tally.mismatches[:10])
    assert tally.comparisons > 10 * GRAPHS


def test_every_op_appears_in_the_random_graphs():
    ops = sorted(name for name in RULES if reference_form(name) is not None)
    rng = random.Random(20261125)
    seen = {op for _ in range(GRAPHS) for op, _ in random_graph(rng, ops).steps}
    assert seen == set(ops)
