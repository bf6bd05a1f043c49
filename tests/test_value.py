"""Value: construction, operators, composites, errors, and the promise that a failed op leaves no trace."""

from __future__ import annotations

import gc
import math
from fractions import Fraction

import numpy as np
import pytest

from autograd_lite import Value, dot, sum_values


@pytest.mark.parametrize("data", [3, 3.0, np.float64(3.0), np.float32(3.0), np.int64(3), Fraction(3)])
def test_real_numbers_are_stored_as_float(data):
    v = Value(data)
    assert type(v.data) is float and v.data == 3.0
    assert v.grad == 0.0 and v.op == "" and v.parents == () and v.label == ""


@pytest.mark.parametrize(
    "bad, name",
    [("1", "str"), (None, "NoneType"), (1j, "complex"), ([1.0], "list"), (np.array([1.0]), "ndarray"),
     (np.array(1.0), "ndarray"), (True, "bool"), (np.bool_(True), "bool")],
)
def test_anything_else_is_refused_naming_its_type(bad, name):
    with pytest.raises(TypeError, match=name):
        Value(bad)


def test_label_must_be_text():
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_repr_shows_data_grad_and_label():
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2.0, "x")) == "Value(data=2.0, grad=0.0, label='x')"


def test_identity_equality_and_hashing():
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b, a}) == 2


def test_float_gives_data():
    assert float(Value(-1.5)) == -1.5


def test_parents_keep_argument_order_and_duplicates():
    x, y = Value(2.0), Value(3.0)
    assert (x * x).parents == (x, x)
    assert (y - x).op == "add" and (y - x).parents[0] is y
    two_plus = 2 + x
    assert two_plus.parents[1] is x and two_plus.parents[0].data == 2.0
    assert not two_plus.parents[0].requires_grad  # a wrapped number is a constant


@pytest.mark.parametrize(
    "expr, expected",
    [
        (lambda x, y: x + y, 5.0), (lambda x, y: x - y, -1.0), (lambda x, y: x * y, 6.0),
        (lambda x, y: x / y, 2 / 3), (lambda x, y: x**y, 8.0), (lambda x, y: -x, -2.0),
        (lambda x, y: x + 1, 3.0), (lambda x, y: 1 + x, 3.0), (lambda x, y: x - 1, 1.0),
        (lambda x, y: 1 - x, -1.0), (lambda x, y: x * 4, 8.0), (lambda x, y: 4 * x, 8.0),
        (lambda x, y: x / 4, 0.5), (lambda x, y: 4 / x, 2.0), (lambda x, y: x**2, 4.0),
        (lambda x, y: 2**y, 8.0), (lambda x, y: abs(-x), 2.0), (lambda x, y: x.max(y), 3.0),
        (lambda x, y: x.min(y), 2.0), (lambda x, y: x.max(1), 2.0), (lambda x, y: x.relu(), 2.0),
        (lambda x, y: x.exp(), math.exp(2)), (lambda x, y: x.log(), math.log(2)),
        (lambda x, y: x.tanh(), math.tanh(2)), (lambda x, y: x.sigmoid(), 1 / (1 + math.exp(-2))),
    ],
)
def test_operators_compute_the_math(expr, expected):
    out = expr(Value(2.0), Value(3.0))
    assert isinstance(out, Value)
    assert out.data == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize("scalar", [np.float64(2.0), np.float32(2.0), np.int32(2)])
def test_numpy_scalars_on_either_side_give_values(scalar):
    x = Value(3.0)
    for out in (scalar + x, x + scalar, scalar * x, x * scalar, scalar - x, scalar / x, x / scalar, scalar**x):
        assert type(out) is Value


@pytest.mark.parametrize("other", ["2", None, [1.0], 1j, np.array([1.0, 2.0])])
def test_operators_refuse_non_numbers(other):
    x = Value(1.0)
    for op in (lambda: x + other, lambda: other * x, lambda: x - other, lambda: x / other, lambda: x**other):
        with pytest.raises(TypeError):
            op()
    with pytest.raises(TypeError):
        x.max(other)


def test_composites_are_built_from_primitives():
    x, y = Value(2.0), Value(4.0)
    assert (-x).op == "mul" and (-x).parents[1].data == -1.0
    quotient = x / y
    assert quotient.op == "mul" and quotient.parents[1].op == "pow"
    reciprocal = 1 / x
    assert reciprocal.op == "pow" and reciprocal.parents[1].data == -1.0  # one 1/x gate
    assert (x.sigmoid()).op == "sigmoid" and len((x.sigmoid()).parents) == 1


def test_n_ary_sum_and_dot_are_single_nodes():
    a = [Value(float(i)) for i in range(1, 4)]
    b = [Value(float(i)) for i in range(4, 7)]
    s = sum_values(a)
    assert s.op == "sum" and s.data == 6.0 and s.parents == tuple(a)
    d = dot(a, b, bias=0.5)
    assert d.op == "dot" and d.data == 1 * 4 + 2 * 5 + 3 * 6 + 0.5 and len(d.parents) == 7
    assert sum_values([]).data == 0.0 and dot([], []).data == 0.0
    with pytest.raises(ValueError, match="equal length"):
        dot(a, b[:2])


def test_stable_forms_do_not_overflow():
    assert Value(-1000.0).sigmoid().data == pytest.approx(0.0, abs=1e-300)
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).tanh().data == 1.0 and Value(-1000.0).tanh().data == -1.0


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: Value(0.0).log(), ValueError, ["log", "0.0"]),
        (lambda: Value(-2.0).log(), ValueError, ["log", "-2.0"]),
        (lambda: Value(1.0) / Value(0.0), ZeroDivisionError, ["division", "0.0"]),
        (lambda: Value(1.0) / 0, ZeroDivisionError, ["division"]),
        (lambda: 3 / Value(0.0), ZeroDivisionError, ["division"]),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, ["pow", "0.0"]),
        (lambda: Value(0.0) ** Value(-2.0), ZeroDivisionError, ["pow"]),
        (lambda: Value(-8.0) ** 0.5, ValueError, ["pow", "-8.0", "0.5"]),
        (lambda: Value(800.0).exp(), OverflowError, ["exp", "800.0"]),
        (lambda: Value(10.0) ** 400, OverflowError, ["pow"]),
        (lambda: Value(2.0) ** math.inf, OverflowError, ["pow", "inf"]),
        (lambda: Value(2.0) ** Value(math.inf), OverflowError, ["pow", "inf"]),
        (lambda: 2.0 ** Value(math.inf), OverflowError, ["pow", "inf"]),
        (lambda: Value(1.0) / 1e-320, OverflowError, ["division", "1e-320"]),
        (lambda: Value(1.0) / Value(1e-320), OverflowError, ["division", "1e-320"]),
        (lambda: 1.0 / Value(1e-320), OverflowError, ["division", "1e-320"]),
        (lambda: Value(-1.0).sqrt(), ValueError, ["sqrt", "-1.0"]),
        (lambda: Value(math.inf).sin(), ValueError, ["sin", "inf"]),
        (lambda: Value(-math.inf).cos(), ValueError, ["cos", "inf"]),
    ],
)
def test_bad_input_raises_a_clear_error(make, error, words):
    with pytest.raises(error) as info:
        make()
    for word in words:
        assert word in str(info.value)


def _count_values() -> int:
    gc.collect()
    return sum(type(o) is Value for o in gc.get_objects())


@pytest.mark.parametrize(
    "failing",
    [lambda x: x.log(), lambda x: x / (x - x), lambda x: (x - 3).log(), lambda x: (x * -1000).exp(),
     lambda x: x**0.5],
)
def test_a_failed_op_creates_no_node_and_changes_no_grad(failing):
    x = Value(-1.0)
    y = x * 2
    y.backward()
    before_grads = (x.grad, y.grad)
    before = _count_values()
    with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
        failing(x)
    # the constants and intermediate nodes made before the failing op are collected: nothing new survives
    assert _count_values() == before
    assert (x.grad, y.grad) == before_grads
    assert y.parents == (x, y.parents[1])


def test_division_by_a_value_or_a_number_is_the_same_op():
    for divisor in (3.0, 1e-300, -7.5):
        by_number, by_value = Value(1.0) / divisor, Value(1.0) / Value(divisor)
        assert by_number.data == by_value.data


def test_sqrt_at_zero_follows_pytorch():
    x = Value(0.0)
    y = x.sqrt()
    y.backward()
    assert y.data == 0.0 and x.grad == math.inf


def test_negative_base_to_integer_power_is_fine():
    assert (Value(-2.0) ** 3).data == -8.0
    assert (Value(-2.0) ** Value(2.0)).data == 4.0
