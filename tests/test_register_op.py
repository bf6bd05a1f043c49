"""register_op checks a row before it enters the table; higher order through a custom op is right or an error."""

from __future__ import annotations

import math

import numpy as np
import pytest

import autograd_lite as ag
from autograd_lite import RULES, Value, grad, gradients, ops


def _s(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_a_good_row_works_everywhere_and_the_fixture_removes_it():
    softplus = ag.register_op(
        "softplus_ok",
        lambda x: math.log1p(math.exp(x)),
        lambda out, x: (ops.sigmoid(x),),
        vectorized=lambda x: np.logaddexp(0.0, x),
        symbol="softplus",
    )
    x = Value(0.4)
    (softplus(x) * 2).backward()
    assert x.grad == pytest.approx(2 * _s(0.4), rel=1e-15)
    assert grad(grad(softplus))(0.4) == pytest.approx(_s(0.4) * (1 - _s(0.4)), rel=1e-12)
    assert grad(grad(grad(softplus)))(0.4) == pytest.approx(_s(0.4) * (1 - _s(0.4)) * (1 - 2 * _s(0.4)), rel=1e-12)
    assert ops.softplus_ok(np.array([0.4]))[0] == pytest.approx(math.log1p(math.exp(0.4)))
    assert RULES["softplus_ok"].arity == 1 and RULES["softplus_ok"].symbol == "softplus"


def test_registered_ops_do_not_outlive_their_test():
    assert "softplus_ok" not in RULES


def test_partials_written_with_ops_differentiate_again():
    square = ag.register_op(
        "square_ops", lambda x: x * x, lambda out, x: (2 * ops.exp(ops.log(x)),), domain=((0.5, 3.0),)
    )
    assert grad(grad(square))(2.0) == pytest.approx(2.0, rel=1e-15)
    assert ops.sigmoid(0.0) == 0.5 and ops.step(2.0) == 1.0


def _cos_on_numbers_and_values(out, x):
    return (ops.cos(x) if isinstance(x, Value) else math.cos(x),)  # math.cos refuses an array


def _row(forward, partials, **more):
    return {"forward": forward, "partials": partials, **more}


BAD_ROWS = [
    ("forward_not_callable", _row(5, lambda out, x: (1.0,)), TypeError, "forward"),
    ("partials_not_callable", _row(lambda x: x, None), TypeError, "partials"),
    ("too_few_partials", _row(lambda x, y: x * y, lambda out, x, y: (y,)), ValueError, "1 derivative"),
    ("too_many_partials", _row(lambda x: 2 * x, lambda out, x: (2.0, 0.0)), ValueError, "2 derivative"),
    ("wrong_slope", _row(lambda x: x * x, lambda out, x: (3 * x,)), ValueError, "d/dx0"),
    ("math_in_partials", _row(math.sin, lambda out, x: (math.cos(x),)), TypeError, "higher-order"),
    ("data_in_partials", _row(math.sin, lambda out, x: (math.cos(ops.data(x)),)), ValueError, "second derivative"),
    ("bad_numpy_form", _row(lambda x: x**3, lambda out, x: (3 * x * x,), vectorized=lambda x: x**2), ValueError,
     "numpy form"),
    ("partials_not_on_arrays", _row(math.sin, _cos_on_numbers_and_values, vectorized=np.sin), TypeError, "arrays"),
    ("bad_domain", _row(lambda x: x, lambda out, x: (1.0,), domain=((1.0, 0.0),)), ValueError, "domain"),
    ("no_finite_sample", _row(lambda x: math.inf, lambda out, x: (0.0,)), ValueError, "finite"),
]


@pytest.mark.parametrize("name, row, error, words", BAD_ROWS, ids=[b[0] for b in BAD_ROWS])
def test_a_bad_row_is_refused_naming_the_op_and_nothing_is_added(name, row, error, words):
    before = dict(RULES)
    with pytest.raises(error) as info:
        ag.register_op(name, **row)
    assert repr(name) in str(info.value) and words in str(info.value)
    assert before == RULES


@pytest.mark.parametrize(
    "name, error, words",
    [("add", ValueError, "already"), ("not a name", ValueError, "identifier"), ("x" * 0, ValueError, "identifier")],
)
def test_names_are_checked(name, error, words):
    with pytest.raises(error, match=words):
        ag.register_op(name, lambda x: x, lambda out, x: (1.0,))


def test_unknown_ops_and_wrong_arity_are_refused():
    with pytest.raises(ValueError, match="unknown op"):
        ag.apply("nonexistent", 1.0)
    with pytest.raises(TypeError, match="takes 1"):
        ag.apply("exp", 1.0, 2.0)


def test_float_of_a_node_inside_partials_is_an_error_naming_the_op_not_a_zero():
    """A row that slips past the sample check (math only away from the sample) still cannot give a silent 0."""
    sneaky = ag.rules.Rule(
        "sneaky_sin", math.sin, lambda out, x: (math.cos(x) if ops.data(x) > 2 else ops.cos(x),), np.sin, "s", 1
    )
    ag.rules.add_rule(sneaky)
    x = Value(2.5)
    y = ag.apply("sneaky_sin", x)
    y.backward()
    assert x.grad == pytest.approx(math.cos(2.5))  # first order is fine on floats
    with pytest.raises(TypeError, match="sneaky_sin"):
        gradients(ag.apply("sneaky_sin", x), [x], create_graph=True)
    with pytest.raises(TypeError, match="sneaky_sin"):
        grad(grad(lambda t: ag.apply("sneaky_sin", t)))(2.5)


def test_n_ary_custom_op_is_checked_too():
    prod = ag.register_op("prod3", lambda *xs: math.prod(xs), lambda out, *xs: tuple(
        math.prod(x for j, x in enumerate(xs) if j != i) if not isinstance(out, Value) else _prod_except(xs, i)
        for i in range(len(xs))))
    assert grad(lambda a: prod(a, 2.0, 3.0))(1.0) == 6.0
    with pytest.raises(ValueError, match="prod_bad"):
        ag.register_op("prod_bad", lambda *xs: math.prod(xs), lambda out, *xs: tuple(1.0 for _ in xs))


def _prod_except(xs, i):
    out = 1.0
    for j, x in enumerate(xs):
        if j != i:
            out = x * out
    return out
