"""The rule table's rows: every primitive op is one row, and adding an op means adding one row here.

A row says what the op computes on floats (`forward`, which also rejects bad input with a clear error naming the
op), its local partial derivatives (`partials`: given the output and the inputs, one derivative per input), its
numpy form (`vectorized`), its drawing symbol, arity, sampling domain, kink, a one-line doc, whether finite
inputs always give a finite output (`keeps_finite`), whether its partials select (`selects`), its torch form, its
high-precision reference, whether it is a `Value` method and whether nn may use it as an activation. `partials` is
written with arithmetic and `autograd_lite.ops` (any op of this table, by name), so it runs on floats (backward),
on Values (higher-order gradients) and on numpy arrays (compiled batches) unchanged. Composite ops (sub, div,
neg, ...) live in `Value` as combinations of these rows.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from operator import mul
from typing import Any, TypeVar

import numpy as np

from autograd_lite import ops
from autograd_lite.registry import RULES, NativeForm, Rule, add_rule, remove_rule, scoped_rules
from autograd_lite.types import Array, Operand
from autograd_lite.value import add_op

__all__ = ["RULES", "Rule", "add_rule", "remove_rule", "scoped_rules"]

# A row's forward and numpy form in one function: floats in, a float out; arrays in, an array out.
FloatOrArrayT = TypeVar("FloatOrArrayT", float, Array)


# --- forwards on floats, each naming the op and the value it refuses ---------


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp overflows float64 at x={x!r} (the limit is about 709.78)") from None


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log is defined only for x > 0, got x={x!r}")
    return math.log(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise ValueError(f"sqrt is defined only for x >= 0, got x={x!r}")
    return math.sqrt(x) + 0.0  # + 0.0 turns -0.0 into 0.0, so the slope at -0.0 is +inf, as x ** 0.5's


def _sqrt_numpy(x: Array) -> Array:
    return np.sqrt(x) + 0.0


def _periodic(name: str, f: Callable[[float], float]) -> Callable[[float], float]:
    def forward(x: float) -> float:
        if math.isinf(x):
            raise ValueError(f"{name} is not defined at x={x!r}")
        return f(x)

    forward.__name__ = f"_{name}"
    return forward


def _pow(x: float, p: float) -> float:
    if x == 0 and p < 0:
        raise ZeroDivisionError(f"pow: 0.0 ** {p!r} divides by zero")
    if x < 0 and not float(p).is_integer():
        raise ValueError(f"pow: negative base {x!r} to the non-integer power {p!r} has no real value")
    try:
        out = x**p
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {p!r} overflows float64") from None
    if math.isinf(out) and math.isfinite(x):  # 2 ** inf: an overflow too, though Python returns inf for it
        raise OverflowError(f"pow: {x!r} ** {p!r} overflows float64")
    return out


def _pow_numpy(x: Array | float, p: Array | float) -> Array:
    """x ** p on arrays: inf (as numpy and PyTorch give) where a float would raise for 0 ** negative."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        return np.power(x, p)


_RECIPROCAL_OVERFLOWS = 1.0 / sys.float_info.max  # below this |x|, x ** -1 is inf


def _pow_partials(out: Any, x: Any, p: Any) -> tuple[Operand, Operand]:  # Any: all floats, all Values or arrays
    """∂/∂x = p·x**(p-1) and ∂/∂p = x**p·log x, masked as PyTorch does so that no 0·inf appears.

    ∂/∂x is 0 where p == 0 and x**-1 is inf (x = 0: the slope of x**0 at 0 is 0); elsewhere the product is kept,
    so its derivative in p (the mixed partial, 1/x at p = 0) stays right. ∂/∂p is 0 where x <= 0 (log x undefined).
    At a base of exactly 0, ∂/∂x is taken as constant in p (its p-factor is the number p), so that its derivative
    in p is 0, as is the x-derivative of the masked ∂/∂p there: the Hessian stays symmetric.
    """
    xd, pd = ops.data(x), ops.data(p)
    factor: Any = pd if type(x) is not type(xd) and xd == 0 else p  # Any: as x; the number p on Values at base 0
    return (
        ops.masked(
            (pd != 0) | (abs(xd) > _RECIPROCAL_OVERFLOWS),  # type: ignore[operator]  # numpy stubs: `!=` on arrays
            lambda: factor * ops.call("pow", x, p - 1.0),
        ),
        ops.masked(xd > 0, lambda: out * ops.call("log", x)),
    )


def _sigmoid(x: float) -> float:
    e = math.exp(-abs(x))  # exp of a non-positive number never overflows
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


def _sigmoid_numpy(x: Array) -> Array:
    e = np.exp(-np.abs(x))  # never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dot(*xs: FloatOrArrayT) -> FloatOrArrayT:
    """a·b (+ bias): inputs are a1..an, b1..bn and, when their count is odd, a bias last."""
    n = len(xs) // 2
    total = sum(map(mul, xs[:n], xs[n : 2 * n]))
    return total + xs[-1] if len(xs) % 2 else total


def _overflowed(name: str, out: float, xs: tuple[float, ...]) -> float:
    """`out` (a NaN or an infinity): OverflowError naming the op if finite inputs made ±inf, as exp and pow do."""
    if math.isinf(out) and all(math.isfinite(x) for x in xs):
        shown = ", ".join(repr(x) for x in xs[:4]) + (", ..." if len(xs) > 4 else "")
        raise OverflowError(f"{name} overflows float64 with inputs ({shown})")
    return out


# `out - out == 0.0` is False only for NaN and ±inf: the one extra operation on the common path (0.0, not 0: a
# float compared with a float is a comparison Python specializes, one with an int is not).
def _add(x: float, y: float) -> float:
    out = x + y
    return out if out - out == 0.0 else _overflowed("add", out, (x, y))


def _mul(x: float, y: float) -> float:
    out = x * y
    return out if out - out == 0.0 else _overflowed("mul", out, (x, y))


# math.fsum: the correctly rounded sum, so no error grows with the number of terms (and no slower than sum() on a
# few). Where fsum refuses (an overflow on the way, inf - inf), the plain sum, which _overflowed then judges.
def _sum(*xs: float) -> float:
    try:
        out = math.fsum(xs)
    except (OverflowError, ValueError):
        out = sum(xs)
    return out if out - out == 0.0 else _overflowed("sum", out, xs)


def _dot_float(*xs: float) -> float:
    n = len(xs) // 2
    try:
        out = math.fsum(map(mul, xs[:n], xs[n : 2 * n]))
    except (OverflowError, ValueError):
        out = sum(map(mul, xs[:n], xs[n : 2 * n]))
    if len(xs) % 2:
        out += xs[-1]  # the bias: one more rounding, as a neuron's w·x + b
    return out if out - out == 0.0 else _overflowed("dot", out, xs)


def _dot_partials(out: Operand, *xs: Operand) -> tuple[Operand, ...]:
    n = len(xs) // 2
    bias = (1.0,) if len(xs) % 2 else ()
    return (*xs[n : 2 * n], *xs[:n], *bias)


def _distance_to_zero(x: float) -> float:
    return abs(x)


def _distance_to_tie(x: float, y: float) -> float:
    return abs(x - y)


# --- native forms: one float at a time, in code numba compiles (math only, nothing raised) -----------------
# The numpy forms' numbers exactly: where a float form raises, these give the numpy form's NaN or inf, which the
# native step finds after it ran and hands to the numpy path (that names the op and the sample).


def _log_native(x: float) -> float:
    return math.log(x) if x > 0.0 else -math.inf if x == 0.0 else math.nan  # np.log's numbers where _log raises


def _sqrt_native(x: float) -> float:
    return math.sqrt(x) + 0.0 if x >= 0.0 else math.nan


def _pow_native(x: float, p: float) -> float:
    return x**p


def _pow_slope(j: int, out: float, x: float, p: float) -> float:
    if j == 0:  # _pow_partials' masks, on one number
        return p * x ** (p - 1.0) if p != 0.0 or abs(x) > _RECIPROCAL_OVERFLOWS else 0.0
    return out * math.log(x) if x > 0.0 else 0.0


def _sigmoid_slope(j: int, out: float, x: float) -> float:
    e = math.exp(-abs(x))
    return out * (e / (1.0 + e) if x >= 0.0 else 1.0 / (1.0 + e))  # out · σ(-x), as _sigmoid computes σ(-x)


# An op of any arity (sum, dot) gets its inputs as one sequence: forward(xs), slope(j, out, xs).
def _sum_native(xs: Sequence[float]) -> float:
    total = 0.0  # sum()'s order: 0 + x1 + x2 + ...
    for x in xs:
        total += x
    return total


def _dot_native(xs: Sequence[float]) -> float:
    n = len(xs) // 2
    total = 0.0  # _dot's order: 0 + a1·b1 + ... + an·bn, then the bias
    for k in range(n):
        total += xs[k] * xs[n + k]
    return total + xs[-1] if len(xs) % 2 else total


def _dot_slope(j: int, out: float, xs: Sequence[float]) -> float:
    n = len(xs) // 2
    return xs[j + n] if j < n else xs[j - n] if j < 2 * n else 1.0


def _wins_slope(j: int, out: float, x: float, y: float) -> float:
    """max's slopes (ops.wins): 1 to the larger, 0.5 each on a tie; 1 to x where a NaN makes it win."""
    a, b = (x, y) if j == 0 else (y, x)
    return 0.0 if a < b else 0.5 if a == b else 1.0


def _loses_slope(j: int, out: float, x: float, y: float) -> float:
    """min's slopes: max's with the inputs swapped (ops.wins(y, x) for x)."""
    a, b = (y, x) if j == 0 else (x, y)
    return 0.0 if a < b else 0.5 if a == b else 1.0


def _one(j: int, out: float, *xs: object) -> float:
    """add's and sum's slope for every input."""
    return 1.0


# --- the table ----------------------------------------------------------------
# Per row: name, forward, partials, numpy form, symbol, arity, then by keyword: `torch` (the torch form's name),
# `reference` (the value at high precision: `reference(mpmath, *xs)`), `method` (a Value method), `activation`
# (the torch.nn layer when nn may use the op as an activation), `selects` (partials are selections, see Rule).

_TORCH_FORMS = "autograd_lite.compiled.torch_module"  # the forms torch has no single function for


def _mp_pow(m: Any, x: Any, p: Any) -> Any:  # Any: mpmath numbers
    return m.mpf(1) if x == 0 and p == 0 else m.power(x, p)


def _mp_dot(m: Any, *xs: Any) -> Any:  # Any: mpmath numbers
    n = len(xs) // 2
    return m.fsum([*map(mul, xs[:n], xs[n : 2 * n]), *xs[2 * n :]])


for _rule in (
    Rule("add", _add, lambda out, x, y: (1.0, 1.0), lambda x, y: x + y, "+", 2, doc="x + y",
         torch="operator.add", reference=lambda m, x, y: x + y, constant_slopes=(1.0, 1.0), slopes_read_inputs=False,
         native=NativeForm(lambda x, y: x + y, _one)),
    Rule("mul", _mul, lambda out, x, y: (y, x), lambda x, y: x * y, "×", 2, doc="x · y",
         torch="operator.mul", reference=lambda m, x, y: x * y,
         native=NativeForm(lambda x, y: x * y, lambda j, out, x, y: y if j == 0 else x)),
    Rule("pow", _pow, _pow_partials, _pow_numpy, "**", 2, domain=((0.2, 3.0), (-3.0, 3.0)),
         doc="x ** p; a negative x needs a whole-number p, 0 ** negative raises ZeroDivisionError",
         torch=f"{_TORCH_FORMS}.pow_form", reference=_mp_pow,
         native=NativeForm(_pow_native, _pow_slope)),
    Rule("exp", _exp, lambda out, x: (out,), np.exp, "exp", 1, doc="e ** x; OverflowError above about 709.78",
         torch="torch.exp", reference=lambda m, x: m.exp(x), method=True, slopes_read_inputs=False,
         native=NativeForm(lambda x: math.exp(x), lambda j, out, x: out)),
    Rule("log", _log, lambda out, x: (ops.call("pow", x, -1.0),), np.log, "log", 1, domain=((0.05, 10.0),),
         doc="natural logarithm; ValueError for x <= 0", torch="torch.log", reference=lambda m, x: m.log(x),
         method=True,
         native=NativeForm(_log_native, lambda j, out, x: x**-1.0)),
    Rule("sqrt", _sqrt, lambda out, x: (0.5 * ops.call("pow", out, -1.0),), _sqrt_numpy, "√", 1,
         domain=((0.05, 9.0),), doc="square root; ValueError for x < 0, slope inf at 0 (as in PyTorch)",
         torch="torch.sqrt", reference=lambda m, x: m.sqrt(x), method=True, slopes_read_inputs=False,
         native=NativeForm(_sqrt_native, lambda j, out, x: 0.5 * out**-1.0)),
    Rule("sin", _periodic("sin", math.sin), lambda out, x: (ops.call("cos", x),), np.sin, "sin", 1, doc="sine",
         keeps_finite=True, torch="torch.sin", reference=lambda m, x: m.sin(x), method=True,
         native=NativeForm(lambda x: math.sin(x), lambda j, out, x: math.cos(x))),
    Rule("cos", _periodic("cos", math.cos), lambda out, x: (-ops.call("sin", x),), np.cos, "cos", 1, doc="cosine",
         keeps_finite=True, torch="torch.cos", reference=lambda m, x: m.cos(x), method=True,
         native=NativeForm(lambda x: math.cos(x), lambda j, out, x: -math.sin(x))),
    Rule("tanh", math.tanh, lambda out, x: (1.0 - out * out,), np.tanh, "tanh", 1,
         doc="hyperbolic tangent (1.0 at 1000, no overflow)", keeps_finite=True,
         torch="torch.tanh", reference=lambda m, x: m.tanh(x), method=True, activation="Tanh",
         slopes_read_inputs=False,
         native=NativeForm(lambda x: math.tanh(x), lambda j, out, x: 1.0 - out * out)),
    # σ' = σ(x)·σ(-x): both factors exact where σ saturates, unlike out·(1 - out), whose 1 - out cancels
    Rule("sigmoid", _sigmoid, lambda out, x: (out * ops.call("sigmoid", -x),), _sigmoid_numpy, "σ", 1,
         domain=((-8.0, 8.0),),
         doc="1 / (1 + e**-x) as one σ gate (about 0 at -1000, no overflow)", keeps_finite=True,
         torch="torch.sigmoid", reference=lambda m, x: 1 / (1 + m.exp(-x)), method=True, activation="Sigmoid",
         native=NativeForm(_sigmoid, _sigmoid_slope)),
    # relu's slope read from its output (out > 0 exactly where x > 0): the compiled backward need not keep x
    Rule("relu", lambda x: 0.0 if x <= 0.0 else x, lambda out, x: (ops.step(out),), lambda x: np.maximum(x, 0.0),
         "relu", 1, kink=_distance_to_zero, doc="max(x, 0); slope 0 at 0, like PyTorch", keeps_finite=True,
         selects=True, torch="torch.relu", reference=lambda m, x: x if x > 0 else m.mpf(0), method=True,
         activation="ReLU", slopes_read_inputs=False,
         native=NativeForm(lambda x: 0.0 if x <= 0.0 else x, lambda j, out, x: 0.0 if out <= 0.0 else 1.0)),
    Rule("abs", abs, lambda out, x: (ops.sign(x),), np.abs, "abs", 1, kink=_distance_to_zero,
         doc="absolute value; slope 0 at 0, like PyTorch", keeps_finite=True, selects=True,
         torch="torch.abs", reference=lambda m, x: abs(x), method=True,
         native=NativeForm(lambda x: abs(x), lambda j, out, x: 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0)),
    # `x != x`: a NaN on either side is the result, as in torch.maximum (max(nan, 1) must not be 1)
    Rule("max", lambda x, y: x if x >= y or x != x else y, lambda out, x, y: (ops.wins(x, y), ops.wins(y, x)),
         lambda x, y: np.where((x >= y) | (x != x), x, y), "max", 2, kink=_distance_to_tie,
         doc="the larger of x and y; the gradient goes to the chosen one, half to each on a tie (as in PyTorch)",
         keeps_finite=True, selects=True, torch="torch.maximum", reference=lambda m, x, y: x if x >= y else y,
         method=True,
         native=NativeForm(lambda x, y: x if x >= y or x != x else y, _wins_slope)),
    Rule("min", lambda x, y: x if x <= y or x != x else y, lambda out, x, y: (ops.wins(y, x), ops.wins(x, y)),
         lambda x, y: np.where((x <= y) | (x != x), x, y), "min", 2, kink=_distance_to_tie,
         doc="the smaller of x and y; the gradient goes to the chosen one, half to each on a tie (as in PyTorch)",
         keeps_finite=True, selects=True, torch="torch.minimum", reference=lambda m, x, y: x if x <= y else y,
         method=True,
         native=NativeForm(lambda x, y: x if x <= y or x != x else y, _loses_slope)),
    Rule("sum", _sum, lambda out, *xs: (1.0,) * len(xs), lambda *xs: sum(xs), "Σ",
         doc="x1 + x2 + ... as one node (correctly rounded)", torch=f"{_TORCH_FORMS}.sum_form",
         reference=lambda m, *xs: m.fsum(xs), constant_slopes=(1.0,), slopes_read_inputs=False,
         native=NativeForm(_sum_native, _one)),
    Rule("dot", _dot_float, _dot_partials, _dot, "·", doc="a1·b1 + ... + an·bn (+ bias) as one node",
         torch=f"{_TORCH_FORMS}.dot_form", reference=_mp_dot,
         native=NativeForm(_dot_native, _dot_slope)),
):
    add_op(_rule)
