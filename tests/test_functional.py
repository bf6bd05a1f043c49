"""gradients, grad/value_and_grad (any order), no_grad, detect_anomaly, gradcheck and custom ops."""

from __future__ import annotations

import math

import pytest

import autograd_lite as ag
from autograd_lite import GradcheckError, Value, grad, gradcheck, gradients, ops, value_and_grad


def test_gradients_leave_grad_untouched():
    x, y = Value(2.0), Value(3.0)
    f = x * y + x
    gx, gy = gradients(f, [x, y])
    assert (gx.data, gy.data) == (4.0, 2.0)
    assert x.grad == y.grad == f.grad == 0.0


def test_gradients_of_an_unrelated_input_are_zero():
    x, unrelated = Value(2.0), Value(7.0)
    (g,) = gradients(x * 3, [unrelated])
    assert g.data == 0.0


def test_gradients_validate_their_arguments():
    x = Value(1.0)
    with pytest.raises(TypeError, match="output"):
        gradients(1.0, [x])
    with pytest.raises(TypeError, match=r"inputs\[1\]"):
        gradients(x * 2, [x, 3.0])


def test_create_graph_gives_differentiable_gradients():
    x = Value(1.5)
    f = x**4
    (g,) = gradients(f, [x], create_graph=True)  # 4x^3
    (h,) = gradients(g, [x], create_graph=True)  # 12x^2
    (k,) = gradients(h, [x])  # 24x
    assert (g.data, h.data, k.data) == pytest.approx((4 * 1.5**3, 12 * 1.5**2, 24 * 1.5))


CLOSED_FORMS = [
    # f, f', f'', f'''
    (lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x, lambda x: 6.0),
    (lambda x: x.exp(), math.exp, math.exp, math.exp),
    (lambda x: x.log(), lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3),
    (
        lambda x: x.tanh(),
        lambda x: 1 - math.tanh(x) ** 2,
        lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2),
        lambda x: (1 - math.tanh(x) ** 2) * (6 * math.tanh(x) ** 2 - 2),
    ),
    (
        lambda x: x.sigmoid(),
        lambda x: _s(x) * (1 - _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 2 * _s(x)),
        lambda x: _s(x) * (1 - _s(x)) * (1 - 6 * _s(x) + 6 * _s(x) ** 2),
    ),
    (lambda x: 1 / x, lambda x: -1 / x**2, lambda x: 2 / x**3, lambda x: -6 / x**4),
    (lambda x: x**x, lambda x: x**x * (math.log(x) + 1), None, None),
]


def _s(x: float) -> float:
    return 1 / (1 + math.exp(-x))


@pytest.mark.parametrize("f, d1, d2, d3", CLOSED_FORMS)
@pytest.mark.parametrize("x", [0.7, 1.3, 2.0])
def test_nested_grad_matches_closed_forms(f, d1, d2, d3, x):
    assert grad(f)(x) == pytest.approx(d1(x), rel=1e-12)
    if d2 is not None:
        assert grad(grad(f))(x) == pytest.approx(d2(x), rel=1e-12)
        assert grad(grad(grad(f)))(x) == pytest.approx(d3(x), rel=1e-12)


def test_x_to_the_x_second_derivative():
    x = 1.7
    expected = x**x * (math.log(x) + 1) ** 2 + x ** (x - 1)
    assert grad(grad(lambda v: v**v))(x) == pytest.approx(expected, rel=1e-12)


def test_grad_returns_floats_for_numbers():
    g = grad(lambda x: x * x)(3.0)
    assert type(g) is float and g == 6.0


def test_value_and_grad_with_several_argnums():
    f = lambda x, y, z: x * y + z**2  # noqa: E731
    value, (gx, gz) = value_and_grad(f, argnums=(0, 2))(2.0, 3.0, 4.0)
    assert (value, gx, gz) == (22.0, 3.0, 8.0)
    assert grad(f, argnums=1)(2.0, 3.0, 4.0) == 2.0
    with pytest.raises(IndexError, match="argnums"):
        grad(f, argnums=5)(1.0, 2.0, 3.0)
    with pytest.raises(TypeError, match="str"):
        grad(f)("1", 2.0, 3.0)


def test_grad_of_a_constant_function_is_zero():
    assert grad(lambda x: 3.0)(1.0) == 0.0


def test_nested_grad_does_not_confuse_variables():
    # d/dx [ d/dy (x*y) at y=x ] = d/dx x = 1, not 2 (perturbation confusion)
    assert grad(lambda x: grad(lambda y: x * y)(x))(3.0) == 1.0
    # d/dx [ x · d/dy (x + y) at y=x ] = d/dx x = 1 (a known tape-confusion case)
    assert grad(lambda x: x * grad(lambda y: x + y)(x))(5.0) == 1.0


def test_no_grad_records_no_parents():
    x = Value(2.0)
    with ag.no_grad():
        y = (x * 3).exp()
    assert y.parents == () and y.op == "" and y.data == pytest.approx(math.exp(6))
    assert (x * 3).parents  # recording is back on afterwards
    with ag.no_grad(), ag.enable_grad():
        assert (x * 3).parents


def test_no_grad_is_restored_after_an_error():
    with pytest.raises(ValueError), ag.no_grad():
        Value(-1.0).log()
    assert (Value(1.0) * 2).parents


def test_detect_anomaly_names_the_op_in_forward():
    plus, minus = Value(float("inf")), Value(float("-inf"))
    assert math.isnan((plus + minus).data)  # silently NaN without the mode
    with ag.detect_anomaly(), pytest.raises(FloatingPointError, match="add") as info:
        plus + minus
    assert "nan" in str(info.value) and "inf" in str(info.value)


def test_detect_anomaly_names_the_op_in_backward():
    tiny = Value(1e-310)
    f = tiny.log() * 2  # finite forward; log's slope 1/x overflows to inf
    with ag.detect_anomaly(), pytest.raises(FloatingPointError, match="backward through log"):
        f.backward()
    assert tiny.grad == 0.0 and f.grad == 0.0  # the failed backward wrote no .grad


def test_infinite_slope_gives_inf_like_pytorch():
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf
    with ag.detect_anomaly(), pytest.raises(FloatingPointError, match="pow"):
        (Value(0.0) ** 0.5).backward()


def test_gradcheck_passes_and_reports_mismatches():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, [0.3, 1.2])
    # the bug gradcheck is for: a number taken out of the graph (b.data) is a constant to the engine
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda a, b: a + b * b.data, [1.0, 2.0])
    err = info.value
    assert err.index == 1 and err.analytic == pytest.approx(2.0) and err.numeric == pytest.approx(4.0)
    assert "input 1" in str(err) and "analytic" in str(err) and "numeric" in str(err)


def test_gradcheck_of_a_function_closing_over_a_parameter():
    w = Value(1.5)
    assert gradcheck(lambda x: (x * w).tanh(), [0.3])


def test_custom_op_works_everywhere():
    softplus = ag.register_op(
        "softplus_test",
        lambda x: math.log1p(math.exp(x)),
        lambda out, x: (ops.sigmoid(x),),
        vectorized=lambda x: __import__("numpy").logaddexp(0.0, x),
        symbol="softplus",
    )
    x = Value(0.4)
    y = softplus(x) * 2
    assert y.parents[0].op == "softplus_test"
    y.backward()
    assert x.grad == pytest.approx(2 * _s(0.4))
    assert gradcheck(lambda v: softplus(v * v), [0.9])
    # higher order through the custom op: d2/dx2 softplus = s(x)(1-s(x))
    assert grad(grad(softplus))(0.4) == pytest.approx(_s(0.4) * (1 - _s(0.4)), rel=1e-12)
    assert ag.RULES["softplus_test"].arity == 1
