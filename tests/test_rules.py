"""Every row of the rule table, checked automatically: a new op is tested without a new test."""

from __future__ import annotations

import itertools
import math
import random
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import RULES, Value, apply, compile_graph, gradients, ops
from autograd_lite.registry import Missing

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


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].native is not None])
@given(data=st.data())
def test_native_form_matches_floats(name, data):
    """The native step's forms (run here as Python; numba compiles the same code) give the float rule's numbers."""
    rule = RULES[name]
    n = rule.arity if rule.arity is not None else data.draw(st.integers(1, 5), label="n")
    rule_n = rule if rule.arity is not None else rule.__class__(**{**rule.__dict__, "arity": n})
    xs = inputs_for(rule_n, data)
    native = rule.native

    def call(f, *lead):
        return f(*lead, xs) if rule.arity is None else f(*lead, *xs)  # an n-ary form takes one sequence

    out = rule.forward(*xs)
    assert math.isclose(call(native.forward), out, rel_tol=1e-12, abs_tol=1e-12)
    for j, expected in enumerate(rule.partials(out, *xs)):
        assert math.isclose(call(native.slope, j, out), expected, rel_tol=1e-12, abs_tol=1e-12), f"d/dx{j}"


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].vectorized is not None])
@given(data=st.data())
def test_what_a_row_declares_of_its_slopes_holds_on_arrays(name, data):
    """Compiled code trusts constant_slopes and slopes_read_inputs instead of calling the partials: both hold."""
    rule = RULES[name]
    n = rule.arity if rule.arity is not None else 3
    rule_n = rule if rule.arity is not None else rule.__class__(**{**rule.__dict__, "arity": n})
    columns = [np.array(col) for col in zip(*[inputs_for(rule_n, data) for _ in range(4)])]
    out = rule.vectorized(*columns)
    partials = rule.partials(out, *columns)
    for j, d in enumerate(partials):
        constant = rule.constant_slope(j, n)
        if constant is not None:
            assert np.all(np.asarray(d) == constant), f"{name}: d/dx{j} is not always {constant}"
    if not rule.slopes_read_inputs:
        blind = rule.partials(out, *([None] * n))
        for d, e in zip(blind, partials, strict=True):
            assert np.array_equal(np.broadcast_to(d, out.shape), np.broadcast_to(e, out.shape))


@pytest.mark.parametrize(("name", "change"), [
    ("mul", {"constant_slopes": (1.0, 1.0)}),  # mul's slopes are the other input, not 1
    ("sin", {"slopes_read_inputs": False}),  # sin's slope is cos(x): it reads x
    ("add", {"constant_slopes": (1.0, 1.0, 1.0)}),  # three slopes for two inputs
])
def test_a_row_that_misstates_its_slopes_is_refused(name, change):
    import dataclasses

    from autograd_lite.custom_ops import check_rule

    with pytest.raises(ValueError, match=name):
        check_rule(dataclasses.replace(RULES[name], **change))


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


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].method])
def test_method_rows_are_value_methods(name):
    rule = RULES[name]
    xs = sample_point(rule)
    x = Value(xs[0])
    out = getattr(x, name)(*xs[1:])  # x.exp(), x.max(2.0)
    assert out.op == name and out.parents[0] is x and out.data == rule.forward(*xs)
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


# --- every row says everything the rest of the project reads of it ------------------------------


def mypy_rejects(snippet: str, tmp_path: Path) -> str:
    """mypy's complaints about `snippet`, checked with the project's configuration (and its rule-table plugin)."""
    api = pytest.importorskip("mypy.api")
    source = tmp_path / "uses_every_method.py"
    source.write_text(snippet)
    root = Path(__file__).resolve().parent.parent
    report, _, status = api.run(
        ["--config-file", str(root / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"), str(source)]
    )
    return "" if status == 0 else report


def test_every_row_has_a_torch_form_a_reference_and_a_stub(tmp_path):
    """One list of what is missing, each as `row: field`: a torch form and a reference (or Missing with the reason
    why there is none), and for a method row, a method mypy knows."""
    missing = [f"{name}: torch" for name, rule in RULES.items() if not isinstance(rule.torch, (str, Missing))]
    missing += [f"{name}: reference" for name, rule in RULES.items()
                if not (callable(rule.reference) or isinstance(rule.reference, Missing))]
    calls = {name: f"Value(1.0).{name}({'' if RULES[name].arity == 1 else '2.0'})" for name in RULES
             if RULES[name].method}
    snippet = "from autograd_lite import Value\n\n" + "".join(
        f"{name}_: Value = {call}  # row {name}\n" for name, call in calls.items()
    )
    report = mypy_rejects(snippet, tmp_path)
    missing += [f"{name}: stub (mypy: {line.split(': error: ')[-1]})" for name in calls for line in report.splitlines()
                if f"# row {name}" in snippet.splitlines()[int(line.split(":")[1]) - 1] and ": error:" in line]
    assert not missing, "rows missing a field:\n" + "\n".join(missing)
    assert "error" not in report, report


def test_the_stub_check_can_fail(tmp_path):
    assert "has no attribute" in mypy_rejects("from autograd_lite import Value\nValue(1.0).no_such_row()\n", tmp_path)


# --- item 8: a selection passes 0, never 0·inf -----------------------------------------------


def selected_away(rule) -> tuple[list[float], int]:
    """A point where the selecting op's output is 0 (so out ** 0.5 has an infinite slope) and one input's partial is
    exactly 0 (the op did not pass it through), and that input's position."""
    n = rule.arity or 2
    for xs in itertools.product((-1.0, 0.0, 1.0), repeat=n):
        if rule.forward(*xs) == 0.0:
            partials = rule.partials(0.0, *xs)
            for i, d in enumerate(partials):
                if d == 0:
                    return list(xs), i
    raise AssertionError(f"{rule.name}: no point found where it selects an input away at output 0")


def through_an_infinite_slope(name):
    """f(xs) = op(xs) ** 0.5 + Σ xs: every input's gradient is 1 where op's output is 0 and its partial is 0."""
    return lambda *xs: apply(name, *xs) ** 0.5 + al.sum_values(xs)


SELECTING = [n for n in RULE_NAMES if RULES[n].selects]


@pytest.mark.parametrize("name", SELECTING)
def test_a_selection_passes_zero_not_nan_on_every_path(name):
    xs, i = selected_away(RULES[name])
    f = through_an_infinite_slope(name)
    leaves = [Value(x) for x in xs]
    f(*leaves).backward()
    assert leaves[i].grad == 1.0, f"backward: {name} at {xs}"
    leaves = [Value(x) for x in xs]
    first = gradients(f(*leaves), leaves, create_graph=True)
    assert first[i].data == 1.0, f"gradients(create_graph=True): {name} at {xs}"
    assert al.grad(f, argnums=i)(*xs) == 1.0, f"grad: {name} at {xs}"
    inputs = [Value(0.0, f"x{k}", requires_grad=False) for k in range(len(xs))]
    graph = compile_graph(f, inputs)
    columns = [np.array([x, 0.5 + k]) for k, x in enumerate(xs)]  # the selection in sample 0, a smooth point after
    graph.forward(*columns)
    assert graph.backward(input_grads=True)[i][0] == 1.0, f"compiled backward: {name} at {xs}"


def test_relu_below_zero_under_a_square_root_is_as_in_torch():
    torch = pytest.importorskip("torch")
    x = Value(-1.0)
    (x.relu() ** 0.5 + x).backward()
    t = torch.tensor(-1.0, dtype=torch.float64, requires_grad=True)
    (torch.relu(t) ** 0.5 + t).backward()
    assert x.grad == t.grad.item() == 1.0


# --- item 9: PyTorch's conventions at NaN, ties and zeros ------------------------------------


def torch_gradients(name, xs):
    torch = pytest.importorskip("torch")
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    RULES[name].torch_form()(*ts).backward()
    return [t.grad.item() for t in ts]


def engine_gradients(name, xs):
    leaves = [Value(x) for x in xs]
    apply(name, *leaves).backward()
    return [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("name", SELECTING)
def test_a_nan_input_gets_the_gradient_torch_gives(name):
    n = RULES[name].arity
    for position in range(n):
        xs = [1.0] * n
        xs[position] = math.nan
        assert engine_gradients(name, xs) == torch_gradients(name, xs), f"{name}{tuple(xs)}"
    if name != "abs":  # torch multiplies by abs's sign (sgn(nan) = 0); the others pass the gradient: 1
        assert engine_gradients(name, [math.nan] + [1.0] * (n - 1))[0] == 1.0


@pytest.mark.parametrize("name", [n for n in SELECTING if RULES[n].arity == 2])
def test_a_tie_splits_the_gradient_as_torch_does(name):
    for x in (-1.5, 0.0, 2.0):
        assert engine_gradients(name, [x, x]) == torch_gradients(name, [x, x]) == [0.5, 0.5]
        leaves = [Value(x), Value(x)]
        first = gradients(apply(name, *leaves), leaves, create_graph=True)
        assert [g.data for g in first] == [0.5, 0.5]
        assert all(s.data == 0.0 for g in first for s in gradients(g, leaves))  # piecewise constant: no curvature


def test_sqrt_and_half_power_have_one_slope_at_minus_zero():
    x, y = Value(-0.0), Value(-0.0)
    x.sqrt().backward()
    (y**0.5).backward()
    assert x.grad == y.grad == math.inf  # torch says -inf for both: see the README's "Things worth knowing"
    assert al.grad(lambda v: v.sqrt())(-0.0) == al.grad(lambda v: v**0.5)(-0.0) == math.inf


@pytest.mark.parametrize("point", [[0.0, 0.4], [0.0, 2.0], [0.0, 1.0], [0.0, 3.0], [0.5, 0.4], [2.0, -1.5]])
def test_the_hessian_of_pow_is_symmetric_even_at_base_zero(point):
    h = al.hessian(lambda v: v[0] ** v[1])(point)
    assert h[0][1] == pytest.approx(h[1][0], rel=1e-12, abs=0), h  # (exactly 0 and 0 at base 0)
    if point[0] > 0:  # a smooth point: the closed form x**(p-1)·(1 + p·log x)
        x, p = point
        assert h[0][1] == pytest.approx(x ** (p - 1) * (1 + p * math.log(x)), rel=1e-12)


# --- item 10: long sums are correctly rounded -----------------------------------------------


def mixed_magnitudes(n: int, seed: int = 10) -> list[float]:
    rng = random.Random(seed)
    return [rng.uniform(-1, 1) * 10.0 ** rng.randint(-8, 8) for _ in range(n)]


@pytest.mark.parametrize("name", [n for n in RULE_NAMES if RULES[n].arity is None])
def test_n_ary_rows_over_many_terms_are_at_least_as_accurate_as_numpy(name):
    terms = mixed_magnitudes(200_000)
    if name == "dot":  # a·1: the products are the terms themselves, exactly
        xs = [*terms, *([1.0] * len(terms))]
    else:
        xs = terms
    exact = math.fsum(terms)
    ours = RULES[name].forward(*xs)
    numpy_error = abs(float(np.sum(np.array(terms))) - exact)
    assert abs(ours - exact) <= numpy_error, f"{name}: error {abs(ours - exact)!r}, numpy's {numpy_error!r}"
    assert abs(ours - exact) <= math.ulp(exact)


def test_sum_values_and_dot_are_correctly_rounded():
    terms = mixed_magnitudes(100_000, seed=3)
    exact = math.fsum(terms)
    assert al.sum_values(terms).data == exact
    assert al.dot(terms, [1.0] * len(terms)).data == exact
    with pytest.raises(OverflowError, match="sum overflows"):  # as before: an overflow on the way is an error
        al.sum_values([1e308, 1e308, -1e308])
    assert math.isnan(al.sum_values([math.inf, -math.inf]).data)  # an infinity given as input is carried
