"""Every op of the rule table as one function on floats, Values and numpy arrays alike.

`ops.call("cos", x)` (or `ops.cos(x)`) records a node when an input is a Value, runs the row's numpy form on arrays
and its forward on numbers. Rules' partials are written with it and plain arithmetic, so one formula serves the
float backward pass, higher-order gradients on Values and the compiled numpy path.

A result too large for a float (an overflow, 0 ** negative) is ±inf on numbers and arrays, as numpy and PyTorch
give it: a slope is infinite where a curve is vertical, and partials must say so rather than fail. On Values it is
the op itself, errors included (`ops.exp(v)` is `v.exp()`), except while the engine takes partials on Values for
higher-order gradients, where it is ±inf the same way.

The piecewise-constant helpers (`step`, `sign`, `wins`, `masked`) decide on the numbers behind their inputs:
their own derivative is zero almost everywhere, so they never record a node.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from autograd_lite.modes import current
from autograd_lite.registry import RULES, forward_allowing_infinity
from autograd_lite.types import FloatOrArray, Operand
from autograd_lite.value import Value, apply, apply_allowing_infinity


def call(name: str, *args: Operand) -> Operand:
    """The rule-table op `name` on `args`: a node if any is a Value, numpy on arrays, a float otherwise."""
    rule = RULES.get(name)
    if rule is None:
        raise ValueError(f"unknown op {name!r}; the rule table has: {', '.join(RULES)}")
    for a in args:
        if type(a) is Value:
            # (an array beside a Value is refused by `apply`; mypy cannot see that the others are numbers)
            return apply_allowing_infinity(name, *args) if current().taking_partials else apply(name, *args)  # type: ignore[arg-type]
    for a in args:
        if isinstance(a, np.ndarray):
            if rule.vectorized is None:
                raise NotImplementedError(f"op {name!r} has no numpy form (vectorized), so it cannot run on arrays")
            with np.errstate(divide="ignore", over="ignore"):
                return rule.vectorized(*args)
    return forward_allowing_infinity(rule, *args)  # type: ignore[arg-type]  # no Value, no array: numbers


def __getattr__(name: str) -> Callable[..., Operand]:
    """`ops.cos`, `ops.sigmoid`, ...: any op of the table by name, including ops added with register_op."""
    if name not in RULES:
        raise AttributeError(f"autograd_lite.ops has no {name!r}; the rule table has: {', '.join(RULES)}")

    def op(*args: Operand) -> Operand:
        return call(name, *args)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The rule-table op {name!r} on floats, Values or numpy arrays."
    return op


def data(x: Operand) -> FloatOrArray:
    """The plain number(s) behind x: `.data` of a Value, x itself otherwise."""
    # (an ndarray's own .data is its memory buffer); `type(x) is` is exact, so mypy cannot narrow the other branch
    return x.data if type(x) is Value else x  # type: ignore[return-value]


def masked(condition: bool | npt.NDArray[np.bool_], compute: Callable[[], Operand]) -> Operand:
    """compute() where condition holds and 0 elsewhere, like PyTorch's masks in derivative formulas.

    On numbers `compute` runs only when needed, so a masked-out 0 ** -1 is never formed (no 0·inf); on arrays
    it runs on every element, with numpy's warnings off, and the masked-out ones are dropped.
    """
    if isinstance(condition, np.ndarray):
        with np.errstate(all="ignore"):
            return np.where(condition, compute(), 0.0)  # type: ignore[arg-type]  # on arrays, compute gives arrays
    return compute() if condition else 0.0


def step(x: Operand) -> FloatOrArray | npt.NDArray[np.bool_]:
    """1 where x > 0 or x is NaN, else 0 (relu's slope: 0 at the kink and a NaN passes its gradient, as in PyTorch).

    On arrays it is a boolean mask, which relu's backward applies as a selection (`np.where`), not a product.
    """
    x = data(x)
    return ~(x <= 0) if isinstance(x, np.ndarray) else float(not x <= 0)


def sign(x: Operand) -> FloatOrArray:
    """-1, 0 or 1 (abs's slope; 0 at the kink, like PyTorch)."""
    x = data(x)
    return np.sign(x) if isinstance(x, np.ndarray) else float((x > 0) - (x < 0))


def wins(x: Operand, y: Operand) -> FloatOrArray:
    """max's slope for x: 1 where x > y, 0.5 on a tie, 0 where x < y, and 1 if either is NaN (torch.maximum's)."""
    xd, yd = data(x), data(y)
    if isinstance(xd, np.ndarray) or isinstance(yd, np.ndarray):
        return np.where(xd < yd, 0.0, np.where(xd == yd, 0.5, 1.0))
    return 0.0 if xd < yd else 0.5 if xd == yd else 1.0
