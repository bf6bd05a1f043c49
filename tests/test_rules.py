"""Every row of the rule table, checked automatically: a new op is tested without a new test."""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_lite import RULES, Value, apply, gradients, ops

EPS = 1e-6


def inputs_for(rule, data) -> list[float]:
    """Draw a point inside the rule's documented domain, away from its kinks."""
    n = rule.arity if rule.arity is not None else data.draw(st.integers(1, 5), label="n")
    ranges = [rule.domain[min(i, len(rule.domain) - 1)] for i in range(n)]
    xs = [data.draw(st.floats(lo, hi, allow_nan=False), label=f"x{i}") for i, (lo, hi) in enumerate(ranges)]
    if rule.kink is not None:
        assume(rule.kink(*xs) > 1e-3)
    return xs


def central_difference(f, xs: list[float], i: int) -> float:
    up, down = list(xs), list(xs)
    up[i] += EPS
    down[i] -= EPS
    return (f(*up) - f(*down)) / (2 * EPS)


def close(a: float, b: float, tol: float = 1e-5) -> bool:
    return abs(a - b) <= tol * (1 + abs(b))


RULE_NAMES = sorted(RULES)


@pytest.mark.parametrize("name", RULE_NAMES)
@given(data=st.data())
def test_partials_match_central_differences(name, data):
    rule = RULES[name]
    xs = inputs_for(rule, data)
    out = rule.forward(*xs)
    partials = rule.partials(out, *xs)
    assert len(partials) == len(xs), "one local derivative per input"
    for i, d in enumerate(partials):
        numeric = central_difference(rule.forward, xs, i)
        assert close(d, numeric), f"{name}: d/dx{i} analytic {d} vs numeric {numeric} at {xs}"


@pytest.mark.parametrize("name", RULE_NAMES)
@given(data=st.data())
def test_partials_on_values_agree_with_floats(name, data):
    """The same rule on Values (the differentiable path) gives the same numbers as on floats."""
    rule = RULES[name]
    xs = inputs_for(rule, data)
    leaves = [Value(x) for x in xs]
    node = apply(name, *leaves)
    assert node.data == rule.forward(*xs)
    on_values = rule.partials(node, *leaves)
    on_floats = rule.partials(node.data, *xs)
    for a, b in zip(on_values, on_floats):
        assert math.isclose(float(getattr(a, "data", a)), b, rel_tol=1e-12, abs_tol=1e-12)


@pytest.mark.parametrize("name", RULE_NAMES)
@given(data=st.data())
def test_second_derivatives_match_central_differences(name, data):
    """Differentiating each partial (create_graph) agrees with central differences of that partial."""
    rule = RULES[name]
    xs = inputs_for(rule, data)
    leaves = [Value(x) for x in xs]
    out = apply(name, *leaves)
    first = gradients(out, leaves, create_graph=True)
    for i, g in enumerate(first):
        second = gradients(g, leaves)
        for j, s in enumerate(second):

            def partial_i(*ys, i=i):
                return rule.partials(rule.forward(*ys), *ys)[i]

            numeric = central_difference(partial_i, xs, j)
            assert close(s.data, numeric, 1e-4), f"{name}: d2/dx{i}dx{j} {s.data} vs {numeric} at {xs}"


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].vectorized is not None])
@given(data=st.data())
def test_vectorized_form_matches_floats(name, data):
    """The numpy form and the partials on arrays agree with the float rule element by element."""
    rule = RULES[name]
    n = rule.arity if rule.arity is not None else 3
    rule_n = rule if rule.arity is not None else rule.__class__(**{**rule.__dict__, "arity": n})
    points = [inputs_for(rule_n, data) for _ in range(4)]
    columns = [np.array(col) for col in zip(*points)]
    out = rule.vectorized(*columns)
    partials = rule.partials(out, *columns)
    for b, xs in enumerate(points):
        expected_out = rule.forward(*xs)
        assert math.isclose(out[b], expected_out, rel_tol=1e-12, abs_tol=1e-12)
        for d, e in zip(partials, rule.partials(expected_out, *xs)):
            value = d[b] if np.ndim(d) else d
            assert math.isclose(value, e, rel_tol=1e-12, abs_tol=1e-12)


BIG = sys.float_info.max
EXTREMES = [-BIG, -1e300, -710.0, -1.0, -5e-324, 0.0, 5e-324, 1e-300, 1.0, 710.0, 1e300, BIG]


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].keeps_finite])
def test_rows_that_keep_finite_numbers_finite_do(name):
    """keeps_finite lets compiled code skip checking an op's values: finite inputs, even extreme ones, stay finite."""
    rule = RULES[name]
    n = rule.arity if rule.arity is not None else 3
    grid = [np.array(column) for column in zip(*itertools.product(EXTREMES, repeat=n))]
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # not even inside the numpy form
        assert np.isfinite(rule.vectorized(*grid)).all()
    for xs in zip(*(column.tolist() for column in grid)):
        assert math.isfinite(rule.forward(*xs)), f"{name}{xs}"


def test_every_rule_has_what_drawings_and_tests_need():
    for name, rule in RULES.items():
        assert rule.name == name
        assert rule.symbol, f"{name} has no drawing symbol"
        assert rule.domain and all(lo < hi for lo, hi in rule.domain)


def sample_point(rule) -> list[float]:
    """The middle of the rule's domain for each input (3 inputs for an n-ary rule)."""
    n = rule.arity if rule.arity is not None else 3
    return [sum(rule.domain[min(i, len(rule.domain) - 1)]) / 2 + 0.1 * i for i in range(n)]


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].arity == 1])
def test_one_input_rows_are_value_methods(name):
    rule = RULES[name]
    (x0,) = sample_point(rule)
    x = Value(x0)
    out = getattr(x, name)()
    assert out.op == name and out.parents == (x,) and out.data == rule.forward(x0)
    assert getattr(Value, name).__doc__ == rule.doc


@pytest.mark.parametrize("name", RULE_NAMES)
def test_ops_runs_every_row_on_floats_values_and_arrays(name):
    rule = RULES[name]
    xs = sample_point(rule)
    assert ops.call(name, *xs) == getattr(ops, name)(*xs) == rule.forward(*xs)
    node = ops.call(name, *[Value(x) for x in xs])
    assert node.op == name and node.data == rule.forward(*xs)
    if rule.vectorized is not None:
        batch = ops.call(name, *[np.array([x, x]) for x in xs])
        assert np.allclose(batch, rule.forward(*xs), rtol=1e-12, atol=0)


def test_ops_refuses_unknown_names():
    with pytest.raises(AttributeError, match="rule table"):
        ops.no_such_op  # noqa: B018
    with pytest.raises(ValueError, match="unknown op"):
        ops.call("no_such_op", 1.0)
