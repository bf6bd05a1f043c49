"""The one table of local-gradient rules: every primitive op is one row.

A row says what the op computes on floats (`forward`, which also rejects bad
input with a clear error), its local partial derivatives (`partials`: given the
output and the inputs, one derivative per input), and optionally its numpy form
(`vectorized`). `partials` is written with arithmetic and `autograd_lite.fn`, so
it runs on floats (backward), on Values (higher-order gradients) and on numpy
arrays (compiled batches) unchanged. Composite ops (sub, div, neg, ...) live in
`Value` as combinations of these rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from operator import mul
from typing import Any

import numpy as np

from autograd_lite import fn

Number = float


@dataclass(frozen=True)
class Rule:
    """What one primitive op means: forward, local derivatives, numpy form, drawing symbol."""

    name: str
    forward: Callable[..., float]
    partials: Callable[..., tuple[Any, ...]]
    vectorized: Callable[..., Any] | None = None
    symbol: str = ""
    arity: int | None = None  # None: any number of inputs (n-ary sum, dot)
    domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),)  # gradcheck samples here, per input
    kink: Callable[..., float] | None = None  # distance to the nearest point where the slope jumps


RULES: dict[str, Rule] = {}


def add_rule(rule: Rule) -> Rule:
    """Put a rule in the table; names are unique so a drawing or a saved graph means one thing."""
    if not isinstance(rule.name, str) or not rule.name.isidentifier():
        raise ValueError(f"op name must be an identifier, got {rule.name!r}")
    if rule.name in RULES:
        raise ValueError(f"op {rule.name!r} is already in the rule table")
    if not callable(rule.forward) or not callable(rule.partials):
        raise TypeError(f"op {rule.name!r}: forward and partials must be callable")
    if rule.vectorized is not None and not callable(rule.vectorized):
        raise TypeError(f"op {rule.name!r}: vectorized must be callable or None")
    RULES[rule.name] = rule
    return rule


# --- forwards on floats, each naming the op and the value it refuses ---------


def _exp(x: Number) -> Number:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp overflows float64 at x={x!r} (the limit is about 709.78)") from None


def _log(x: Number) -> Number:
    if x <= 0:
        raise ValueError(f"log is defined only for x > 0, got x={x!r}")
    return math.log(x)


def _pow(x: Number, p: Number) -> Number:
    if x == 0 and p < 0:
        raise ZeroDivisionError(f"pow: 0.0 ** {p!r} divides by zero")
    if x < 0 and not float(p).is_integer():
        raise ValueError(f"pow: negative base {x!r} to the non-integer power {p!r} has no real value")
    try:
        return x**p
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {p!r} overflows float64") from None


def _sigmoid(x: Number) -> Number:
    e = math.exp(-abs(x))  # exp of a non-positive number never overflows
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


def _dot(*xs: Any) -> Any:
    """a·b (+ bias): inputs are a1..an, b1..bn and, when their count is odd, a bias last."""
    n = len(xs) // 2
    total = sum(map(mul, xs[:n], xs[n : 2 * n]))
    return total + xs[-1] if len(xs) % 2 else total


def _dot_partials(out: Any, *xs: Any) -> tuple[Any, ...]:
    n = len(xs) // 2
    bias = (1.0,) if len(xs) % 2 else ()
    return (*xs[n : 2 * n], *xs[:n], *bias)


# --- the table ----------------------------------------------------------------

for _rule in (
    Rule("add", lambda x, y: x + y, lambda out, x, y: (1.0, 1.0), lambda x, y: x + y, "+", 2),
    Rule("mul", lambda x, y: x * y, lambda out, x, y: (y, x), lambda x, y: x * y, "×", 2),
    Rule(
        "pow",
        _pow,
        lambda out, x, p: (p * fn.power(x, p - 1), out * fn.log_where_positive(x)),
        fn.power,
        "**",
        2,
        domain=((0.2, 3.0), (-3.0, 3.0)),
    ),
    Rule("exp", _exp, lambda out, x: (out,), np.exp, "exp", 1),
    Rule("log", _log, lambda out, x: (1.0 / x,), np.log, "log", 1, domain=((0.05, 10.0),)),
    Rule("tanh", math.tanh, lambda out, x: (1.0 - out * out,), np.tanh, "tanh", 1),
    Rule("sigmoid", _sigmoid, lambda out, x: (out * (1.0 - out),), fn.sigmoid, "σ", 1, domain=((-8.0, 8.0),)),
    Rule(
        "relu",
        lambda x: 0.0 if x <= 0 else x,
        lambda out, x: (fn.step(x),),
        lambda x: np.maximum(x, 0.0),
        "relu",
        1,
        kink=lambda x: abs(x),
    ),
    Rule("abs", abs, lambda out, x: (fn.sign(x),), np.abs, "abs", 1, kink=lambda x: abs(x)),
    Rule(
        "max",
        lambda x, y: x if x >= y else y,
        lambda out, x, y: (fn.ge(x, y), 1.0 - fn.ge(x, y)),
        lambda x, y: np.where(x >= y, x, y),
        "max",
        2,
        kink=lambda x, y: abs(x - y),
    ),
    Rule(
        "min",
        lambda x, y: x if x <= y else y,
        lambda out, x, y: (fn.le(x, y), 1.0 - fn.le(x, y)),
        lambda x, y: np.where(x <= y, x, y),
        "min",
        2,
        kink=lambda x, y: abs(x - y),
    ),
    Rule("sum", lambda *xs: sum(xs), lambda out, *xs: (1.0,) * len(xs), lambda *xs: sum(xs), "Σ"),
    Rule("dot", _dot, _dot_partials, _dot, "·"),
):
    add_rule(_rule)
