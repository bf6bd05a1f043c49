"""The fast paths of the Value operators and methods, and of the float backward, against the general path.

`a + b`, `a * b`, `a ** b` and one-input methods (`x.relu()`) skip `apply`'s general steps when nothing but recording
is switched on, and the float backward unrolls two-input rows: here each gives what `apply` and the general backward
(the one detect_anomaly runs) give, bit for bit, with the same errors.
"""

from __future__ import annotations

import math
import operator
import random

import numpy as np
import pytest

from autograd_lite import RULES, Value, apply, compile_graph, detect_anomaly, no_grad

# The Python operators whose dunders have a fast path, by the row each one applies.
OPERATORS = {"add": operator.add, "mul": operator.mul, "pow": operator.pow}
UNARY_METHODS = [name for name, rule in RULES.items() if rule.method and rule.arity == 1]


def _same(x: float, y: float) -> bool:
    """Bit for bit: equal with the same sign of zero, or both NaN."""
    return (math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1.0, x) == math.copysign(1.0, y))


def _operands(name: str, seed: int) -> list[tuple[float, float]]:
    """Random pairs in the row's domain (and a zero and a negative zero among them)."""
    rng = random.Random(seed)
    domain = RULES[name].domain
    lo_a, hi_a = domain[0]
    lo_b, hi_b = domain[min(1, len(domain) - 1)]
    pairs = [(rng.uniform(lo_a, hi_a), rng.uniform(lo_b, hi_b)) for _ in range(20)]
    return [*pairs, (lo_a, 0.0), (hi_a, -0.0)]


def _fast_and_general(name: str, a: float, b: float, kind: str) -> tuple[Value, Value, list[Value], list[Value]]:
    """The operator's node and apply's node, each on fresh leaves; `kind` says which operands are Values."""
    fast_leaves = [Value(a, "a"), Value(b, "b")]
    general_leaves = [Value(a, "a"), Value(b, "b")]
    if kind == "value-float":
        fast = OPERATORS[name](fast_leaves[0], b)
        general = apply(name, general_leaves[0], b)
    elif kind == "float-value":
        fast = OPERATORS[name](a, fast_leaves[1])
        general = apply(name, a, general_leaves[1])
    else:
        fast = OPERATORS[name](*fast_leaves)
        general = apply(name, *general_leaves)
    return fast, general, fast_leaves, general_leaves


@pytest.mark.parametrize("kind", ["value-value", "value-float", "float-value"])
@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_an_operator_gives_applys_node_and_grads_bit_for_bit(name, kind):
    assert name in RULES
    for i, (a, b) in enumerate(_operands(name, seed=i_seed(name, kind))):
        fast, general, fast_leaves, general_leaves = _fast_and_general(name, a, b, kind)
        assert _same(fast.data, general.data), (a, b)
        assert (fast.op, len(fast.parents), fast.requires_grad) == (general.op, len(general.parents), True)
        (fast * fast).backward()  # the float sweep's two-input step, through this row and mul's
        with detect_anomaly():  # the general sweep (its results are finite here)
            (general * general).backward()
        for f, g in zip(fast_leaves, general_leaves):
            assert _same(f.grad, g.grad), (name, a, b, i)


def i_seed(name: str, kind: str) -> int:
    """A seed per test case, fixed so a failure repeats."""
    return sum(map(ord, name + kind))


@pytest.mark.parametrize("name", UNARY_METHODS)
def test_a_one_input_method_gives_applys_node_and_grads_bit_for_bit(name):
    rng = random.Random(name)
    lo, hi = RULES[name].domain[0]
    for x in [rng.uniform(lo, hi) for _ in range(20)]:
        fast_leaf, general_leaf = Value(x), Value(x)
        fast, general = getattr(fast_leaf, name)(), apply(name, general_leaf)
        assert _same(fast.data, general.data) and fast.op == general.op == name
        (fast * 3.0).backward()
        with detect_anomaly():
            (general * 3.0).backward()
        assert _same(fast_leaf.grad, general_leaf.grad), (name, x)


@pytest.mark.parametrize(("name", "a", "b"), [("add", 1e308, 1e308), ("mul", 1e200, 1e200), ("pow", 1e200, 2.0)])
def test_an_overflow_is_the_same_error_naming_the_op(name, a, b):
    with pytest.raises(OverflowError) as general:
        apply(name, Value(a), b)
    for left, right in [(Value(a), b), (a, Value(b)), (Value(a), Value(b))]:
        with pytest.raises(OverflowError, match=name) as fast:
            OPERATORS[name](left, right)
        assert str(fast.value) == str(general.value)


def test_nan_flows_as_in_the_general_path_and_detect_anomaly_names_the_op():
    nan = float("nan")
    x = Value(nan)
    assert math.isnan((x + 1.0).data) and math.isnan((x * 2).data) and math.isnan(x.relu().data)
    (x * 2.0).backward()
    assert x.grad == 2.0  # a NaN input does not stop its gradient
    for name, make in [("add", lambda: x + 1.0), ("mul", lambda: 2 * x), ("relu", lambda: x.relu())]:
        with detect_anomaly(), pytest.raises(FloatingPointError, match=f"^{name} produced nan"):
            make()


def test_a_selection_drops_an_infinite_upstream_gradient_in_the_float_sweep():
    x, y, w = Value(-1.0), Value(2.0), Value(2.0)
    (x.relu() * w).backward(math.inf)  # relu passes nothing below 0: its slope drops the infinite gradient
    (x.max(y)).backward(math.inf)  # max's two-input step: x loses, so it gets 0, not 0 · inf
    assert x.grad == 0.0 and not math.isnan(x.grad)
    assert math.isinf(y.grad)


def test_under_no_grad_the_operators_make_constants_as_apply_does():
    w = Value(0.5)
    with no_grad():
        nodes = [w + 1.0, 2.0 * w, w**2.0, w.relu(), apply("add", w, 1.0)]
    assert all(not n.parents and not n.requires_grad for n in nodes)
    assert [n.data for n in nodes] == [1.5, 1.0, 0.25, 0.5, 1.5]


def test_traced_operands_record_structure_and_replay_as_the_eager_engine():
    def f(x: Value) -> Value:
        return (x * x + 1.0).relu() * 2.0 + (3.0 * x) ** 2.0

    graph = compile_graph(f, [Value(0.0, "x", requires_grad=False)])
    xs = np.array([-1.5, 0.0, 0.25, 2.0])
    assert list(graph.forward(xs)) == [f(Value(float(x))).data for x in xs]


def test_opaque_data_outside_the_trace_is_refused_by_the_operators():
    kept = []

    def f(x: Value) -> Value:
        out = x + 1.0
        kept.append(out)
        return out

    compile_graph(f, [Value(0.0, "x", requires_grad=False)])
    with pytest.raises(TypeError, match="traced"):
        kept[0] + 1.0
    with pytest.raises(TypeError, match="traced"):
        kept[0].relu()
