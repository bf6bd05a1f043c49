"""Higher-order gradients that used to be silently wrong: pow at base 0, and mixed partials through closures.

Closed forms are the reference; PyTorch's torch.autograd.grad(create_graph=True) is a second one when installed.
"""

from __future__ import annotations

import math

import pytest

from autograd_lite import Value, grad, gradients, ops, value_and_grad

try:
    import torch
except ImportError:  # the torch comparisons below skip, naming the reason
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed (optional: pip install torch)")


# --- pow at base exactly 0 -----------------------------------------------------------------------


def test_polynomial_at_zero_has_its_slope():
    x = Value(0.0)
    y = sum(c * x**k for k, c in enumerate([1.0, 2.0, 3.0]))
    y.backward()
    assert y.data == 1.0 and x.grad == 2.0


@pytest.mark.parametrize(
    "f, order, expected",
    [
        (lambda t: t**0, 1, 0.0),
        (lambda t: t**0, 2, 0.0),
        (lambda t: t**1, 1, 1.0),
        (lambda t: t**1, 2, 0.0),
        (lambda t: t**2, 1, 0.0),
        (lambda t: t**2, 2, 2.0),
        (lambda t: t**2, 3, 0.0),
        (lambda t: t**3, 3, 6.0),
        (lambda t: t**3, 4, 0.0),
        (lambda t: t**2.5, 2, 0.0),
        (lambda t: t**0.5, 1, math.inf),
        (lambda t: t**0.5, 2, -math.inf),
    ],
)
def test_nested_grad_of_powers_at_zero(f, order, expected):
    g = f
    for _ in range(order):
        g = grad(g)
    assert g(0.0) == expected


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0])
def test_create_graph_agrees_with_backward_at_zero(p):
    x = Value(0.0)
    y = x**p
    y.backward()
    (g,) = gradients(y, [x], create_graph=True)
    (plain,) = gradients(y, [x])
    assert g.data == plain.data == x.grad


def test_tiny_base_overflowing_slope_is_inf_like_pytorch():
    x = Value(1e-320)
    y = x**0.01
    y.backward()
    assert x.grad == math.inf
    (g,) = gradients(x**0.01, [x], create_graph=True)
    assert g.data == math.inf


@pytest.mark.parametrize("base", [0.0, 2.0, 0.5])
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0])
def test_exponent_gradient_at_base_zero_is_never_nan(base, p):
    x, e = Value(base), Value(p)
    y = x**e
    y.backward()
    assert math.isfinite(e.grad)
    expected = 0.0 if base == 0 else base**p * math.log(base)
    assert e.grad == pytest.approx(expected, rel=1e-15)


@needs_torch
@pytest.mark.parametrize("base", [0.0, 1e-3, 0.7, 2.0, -1.5])
@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0, 0.5, 1.5, -1.0])
def test_pow_value_and_both_gradients_match_torch(base, p):
    """Where torch is finite the engine equals it; where torch is not, the engine raises or says inf, or (∂/∂p at a
    negative base, where torch gives nan from log x) gives its documented 0."""
    tx = torch.tensor(base, dtype=torch.float64, requires_grad=True)
    tp = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    ty = tx**tp
    if not math.isfinite(ty.item()):
        with pytest.raises((ZeroDivisionError, ValueError), match="pow"):
            Value(base) ** Value(p)
        return
    gx, gp = torch.autograd.grad(ty, [tx, tp], create_graph=True)
    x, e = Value(base), Value(p)
    y = x**e
    dx, dp = gradients(y, [x, e], create_graph=True)
    assert y.data == pytest.approx(ty.item(), rel=1e-15)
    assert dx.data == pytest.approx(gx.item(), rel=1e-14)  # inf == inf included (the slope of x**0.5 at 0)
    if math.isfinite(gp.item()):
        assert dp.data == pytest.approx(gp.item(), rel=1e-14)
    else:
        assert base < 0 and dp.data == 0.0
    (gxx,) = torch.autograd.grad(gx, [tx], allow_unused=True)
    if gxx is not None and math.isfinite(gxx.item()):
        assert gradients(dx, [x])[0].data == pytest.approx(gxx.item(), rel=1e-13, abs=1e-300)


# --- mixed partials through closures -------------------------------------------------------------


def test_inner_grad_keeps_its_graph_for_a_closed_over_variable():
    assert grad(lambda y: grad(lambda x: x * y)(2.0))(3.0) == 1.0
    assert grad(lambda y: grad(lambda x: x * x * y)(2.0))(3.0) == 4.0
    assert grad(lambda y: value_and_grad(lambda x: x * y * y)(2.0)[1])(3.0) == 6.0


def test_a_value_argument_outside_argnums_keeps_the_graph():
    y = Value(3.0)
    g = grad(lambda x, z: x * z * z, 0)(2.0, y)
    assert isinstance(g, Value) and g.data == 9.0
    (dy,) = gradients(g, [y])
    assert dy.data == 6.0
    constant_y = Value(3.0, requires_grad=False)
    assert grad(lambda x, z: x * z, 0)(2.0, constant_y) == 3.0  # nothing needs a gradient: a plain float


def test_numbers_only_still_give_floats():
    g = grad(lambda x: x * x)(3.0)
    assert type(g) is float and g == 6.0


# f(x, y), and its partial derivatives by multi-index (i, j) = d^(i+j) f / dx^i dy^j, in closed form
MIXED = [
    (
        "x*y**2",
        lambda x, y: x * y**2,
        {(1, 0): lambda x, y: y**2, (0, 1): lambda x, y: 2 * x * y, (1, 1): lambda x, y: 2 * y,
         (1, 2): lambda x, y: 2.0, (2, 2): lambda x, y: 0.0, (0, 2): lambda x, y: 2 * x},
    ),
    (
        "exp(x*y)",
        lambda x, y: ops.exp(x * y),
        {(1, 0): lambda x, y: y * math.exp(x * y), (1, 1): lambda x, y: (1 + x * y) * math.exp(x * y),
         (2, 1): lambda x, y: (2 * y + x * y * y) * math.exp(x * y),
         (2, 2): lambda x, y: (2 + 4 * x * y + x * x * y * y) * math.exp(x * y)},
    ),
    (
        "sin(x)*cos(y)",
        lambda x, y: ops.sin(x) * ops.cos(y),
        {(1, 1): lambda x, y: -math.cos(x) * math.sin(y), (3, 1): lambda x, y: math.cos(x) * math.sin(y),
         (2, 2): lambda x, y: math.sin(x) * math.cos(y)},
    ),
    (
        "x**y",
        lambda x, y: x**y,
        {(1, 1): lambda x, y: x ** (y - 1) * (1 + y * math.log(x)),
         (0, 2): lambda x, y: x**y * math.log(x) ** 2,
         (1, 2): lambda x, y: x ** (y - 1) * math.log(x) * (2 + y * math.log(x))},
    ),
    (
        "log(x+y)*sqrt(y)",
        lambda x, y: ops.log(x + y) * ops.sqrt(y),
        {(1, 1): lambda x, y: -math.sqrt(y) / (x + y) ** 2 + 0.5 / (math.sqrt(y) * (x + y)),
         (2, 0): lambda x, y: -math.sqrt(y) / (x + y) ** 2},
    ),
]
POINT = (1.3, 0.7)


def nested(f, order):
    """d^(i+j) f / dx^i dy^j as a function of (x, y), by nesting `grad` with closures over the other variable."""
    i, j = order
    if i == 0 and j == 0:
        return f
    if j > 0:
        inner = nested(f, (i, j - 1))
        return lambda x, y: grad(lambda t: inner(x, t))(y)
    inner = nested(f, (i - 1, j))
    return lambda x, y: grad(lambda t: inner(t, y))(x)


@pytest.mark.parametrize("name, f, partials", MIXED, ids=[m[0] for m in MIXED])
def test_nested_grad_through_closures_matches_closed_forms(name, f, partials):
    for order, closed in partials.items():
        got = nested(f, order)(*POINT)
        assert float(got) == pytest.approx(closed(*POINT), rel=1e-11, abs=1e-12), f"{name} d{order}"


@pytest.mark.parametrize("name, f, partials", MIXED, ids=[m[0] for m in MIXED])
def test_gradients_to_fourth_order_match_closed_forms(name, f, partials):
    x, y = Value(POINT[0]), Value(POINT[1])
    derivative = {(0, 0): f(x, y)}
    for total in range(1, 5):
        for i in range(total + 1):
            j = total - i
            source, var = ((i - 1, j), x) if i > 0 else ((i, j - 1), y)
            (derivative[(i, j)],) = gradients(derivative[source], [var], create_graph=True)
    for order, closed in partials.items():
        assert derivative[order].data == pytest.approx(closed(*POINT), rel=1e-11, abs=1e-12), f"{name} d{order}"


TORCH_FORMS = {
    "x*y**2": lambda x, y: x * y**2,
    "exp(x*y)": lambda x, y: torch.exp(x * y),
    "sin(x)*cos(y)": lambda x, y: torch.sin(x) * torch.cos(y),
    "x**y": lambda x, y: x**y,
    "log(x+y)*sqrt(y)": lambda x, y: torch.log(x + y) * torch.sqrt(y),
}


@needs_torch
@pytest.mark.parametrize("name, f, partials", MIXED, ids=[m[0] for m in MIXED])
def test_every_partial_to_fourth_order_matches_torch(name, f, partials):
    tx, ty = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in POINT)
    theirs = {(0, 0): TORCH_FORMS[name](tx, ty)}
    for total in range(1, 5):
        for i in range(total + 1):
            j = total - i
            source, var = ((i - 1, j), tx) if i > 0 else ((i, j - 1), ty)
            found = None
            if theirs[source].requires_grad:
                (found,) = torch.autograd.grad(theirs[source], [var], create_graph=True, allow_unused=True)
            theirs[(i, j)] = found if found is not None else torch.zeros((), dtype=torch.float64)
    for order, value in theirs.items():
        if sum(order) == 0:
            continue
        ours = float(nested(f, order)(*POINT))
        assert ours == pytest.approx(value.item(), rel=1e-11, abs=1e-12), f"{name} d{order}"

    value, slope = value_and_grad(lambda a: nested(f, (0, 1))(a, POINT[1]))(POINT[0])
    assert value == pytest.approx(theirs[(0, 1)].item(), rel=1e-12)
    assert slope == pytest.approx(theirs[(1, 1)].item(), rel=1e-11)
