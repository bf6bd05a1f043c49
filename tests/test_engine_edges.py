"""The engine where a wrong number could pass without a word: a NaN beside max/min, float() of a variable inside
grad, transforms nested in transforms, results made under no_grad, argnums, huge ints, an op taken out of the table.
Each gives the right number or a clear error."""

from __future__ import annotations

import math

import pytest

from autograd_lite import Value, apply, grad, hessian, jacobian

NAN = float("nan")


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("args", [(NAN, 1.0), (1.0, NAN), (NAN, -1e300), (0.0, NAN)])
def test_max_min_do_not_hide_a_nan(op, args):
    # torch.maximum / torch.minimum propagate a NaN from either side; max(nan, 1) used to be 1.0
    out = apply(op, *[Value(a) for a in args])
    assert math.isnan(out.data)


def test_max_min_give_a_nan_input_gradient_1_as_torch_does():
    # torch.maximum's backward masks by x < y and x > y, both False beside a NaN: each side gets the gradient
    # (test_rules.py compares every selecting row with its torch form at NaN)
    x, y = Value(NAN), Value(1.0)
    x.max(y).backward()
    assert (x.grad, y.grad) == (1.0, 1.0)


@pytest.mark.parametrize(
    "f",
    [lambda x: math.sin(x), lambda x: float(x) * 2.0, lambda x: math.exp(x * 2.0)],
    ids=["math.sin", "float", "math.exp of a node"],
)
def test_float_of_a_variable_inside_grad_is_refused_not_zero(f):
    # f cuts the graph with float(): its gradient used to come out as 0.0 without a word
    with pytest.raises(TypeError, match="float"):
        grad(f)(1.0)


def test_float_of_a_variable_inside_jacobian_is_refused_not_zero():
    with pytest.raises(TypeError, match="float"):
        jacobian(lambda x: [x * 2.0, math.sin(x)])(1.0)


def test_float_as_a_read_inside_grad_is_fine():
    # README: float(v) is v.data; reading it to branch is fine as long as the result is still a Value
    assert grad(lambda x: x * 3.0 if float(x) > 0 else x)(1.0) == 3.0
    assert grad(lambda x: x * float(Value(3.0, requires_grad=False)))(1.0) == 3.0


def test_jacobian_inside_grad_keeps_the_outer_variable():
    # d/dy of (d/dx x·y) is 1; it used to be 0.0
    assert _number(grad(lambda y: jacobian(lambda x: x * y)(2.0)[0, 0])(3.0)) == 1.0


def test_hessian_inside_grad_keeps_the_outer_variable():
    # d/dy of (d²/dx² x³·y at x = 2) is 12
    assert _number(grad(lambda y: hessian(lambda x: x**3 * y)(2.0)[0, 0])(3.0)) == 12.0


def test_jacobian_inside_jacobian_keeps_the_outer_variable():
    outer = jacobian(lambda y: [jacobian(lambda x: x * y * y)(2.0)[0, 0]])(3.0)
    assert _number(outer[0, 0]) == 6.0


def _number(r):
    """A result as a float: grad gives a Value when its result still depends on a variable, a float otherwise."""
    return r.data if isinstance(r, Value) else float(r)


@pytest.mark.parametrize("argnums, error", [(True, TypeError), ("0", TypeError), ((0, 0), ValueError), ((), TypeError)])
def test_grad_checks_argnums_as_jacobian_does(argnums, error):
    # True was taken as position 1 (d/dy returned for d/dx), "0" failed with "'<=' not supported ..."
    with pytest.raises(error, match="argnums"):
        grad(lambda x, y: x * y, argnums)(2.0, 3.0)


def test_backward_of_a_result_made_under_no_grad_is_an_error_not_zero_grads():
    # PyTorch raises here; the engine used to leave x.grad at 0.0 without a word
    from autograd_lite import no_grad

    x = Value(3.0)
    with no_grad():
        y = x * x
    assert not y.requires_grad
    with pytest.raises(ValueError, match="no_grad"):
        y.backward()
    assert x.grad == 0.0


def test_a_result_made_under_no_grad_does_not_count_as_a_parameter_for_grad():
    # a closure over a no_grad result is a constant: grad gives a plain number, not a Value
    from autograd_lite import no_grad

    with no_grad():
        c = Value(2.0) * 3.0
    assert grad(lambda x: x * c)(1.0) == 6.0


def test_the_cli_draws_an_expression_of_constants_only(tmp_path, capsys):
    from autograd_lite.cli.main import main

    assert main(["draw", "2 + 3", "-o", str(tmp_path / "g.svg")]) == 0
    assert "f = 5" in capsys.readouterr().out


@pytest.mark.parametrize(
    "make",
    [lambda: Value(10**400), lambda: Value(1.0) * 10**400, lambda: 10**400 + Value(1.0), lambda: Value(10**5000)],
)
def test_an_int_too_large_for_a_float_names_what_it_was(make):
    # float() alone said "int too large to convert to float" without saying which number or where
    with pytest.raises(OverflowError, match=r"(Value data|operand) \(an int\) is beyond the float64 range"):
        make()


@pytest.mark.parametrize("create_graph", [False, True])
def test_backward_through_an_op_no_longer_in_the_table_names_it(create_graph):
    from autograd_lite import gradients, register_op
    from autograd_lite.rules import scoped_rules

    with scoped_rules():
        square = register_op("square_then_removed", lambda x: x * x, lambda out, x: (2.0 * x,), lambda x: x * x)
        x = Value(3.0)
        y = square(x)
    with pytest.raises(ValueError, match="'square_then_removed' is no longer in the rule table"):  # was a bare KeyError
        gradients(y, [x], create_graph=create_graph)
