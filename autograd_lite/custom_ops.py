"""`register_op`: add your own op to the rule table, after checking its row the way the test suite checks a built-in
one — callables, one partial per input, first and second derivatives against central differences, the numpy form
against the float form. A row that fails is refused with an error naming the op, and the table is left as it was.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite.functional import gradients
from autograd_lite.modes import switched
from autograd_lite.registry import Forward, Partials, Rule, Vectorized, add_rule, remove_rule
from autograd_lite.value import Value, apply

if TYPE_CHECKING:
    from autograd_lite.types import FloatOrValue

_FRACTIONS = (0.382, 0.618, 0.27, 0.73, 0.15, 0.85, 0.45)  # where in its domain a row is sampled (away from ends)
_STEP = 1e-5  # central differences: relative step, and the agreement asked of them
_TOLERANCE = 1e-4


def register_op(
    name: str,
    forward: Forward,
    partials: Partials,
    vectorized: Vectorized | None = None,
    symbol: str = "",
    arity: int | None = None,
    domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),),
    kink: Callable[..., float] | None = None,
) -> Callable[..., Value]:
    """Add a custom op to the rule table and return a function applying it to Values or numbers.

    `partials(out, *inputs)` returns one local derivative per input; write it with arithmetic and
    `autograd_lite.ops` (`ops.cos(x)`, `ops.sigmoid(x)`, ...), not `math`, so it also serves higher-order
    gradients and numpy. `arity` defaults to forward's number of positional parameters.
    """
    for what, f in (("forward", forward), ("partials", partials)):
        if not callable(f):
            raise TypeError(f"op {name!r}: {what} must be callable, got {type(f).__name__}")
    if arity is None:
        arity = _positional_count(forward)
    _check_domain(name, domain)

    def forward_float(*xs: float) -> float:
        return float(forward(*xs))

    rule = Rule(name, forward_float, partials, vectorized, symbol or name, arity, domain, kink, f"custom op {name}")
    add_rule(rule)
    try:
        with switched(grad_enabled=True, anomaly=False, tracer=None):  # the caller's modes must not skew the checks
            check_rule(rule)
    except Exception:
        remove_rule(name)
        raise

    def op(*args: FloatOrValue) -> Value:
        return apply(name, *args)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Apply the custom op {name!r}."
    return op


def check_rule(rule: Rule) -> None:
    """Raise TypeError/ValueError naming the op if its row disagrees with itself at a sample point of its domain."""
    xs = _sample_point(rule)
    slopes = _float_partials(rule, xs)
    for i, d in enumerate(slopes):
        numeric = _central_difference(rule.forward, xs, i)
        if not _close(d, numeric):
            raise ValueError(
                f"op {rule.name!r}: partials give d/dx{i} = {d!r} at {xs}, but central differences of forward "
                f"give {numeric!r}"
            )
    _check_second_derivatives(rule, xs)
    _check_declared_slopes(rule, xs, slopes)
    if rule.vectorized is not None:
        _check_numpy_form(rule, xs)


def _check_declared_slopes(rule: Rule, xs: list[float], slopes: list[float]) -> None:
    """The row's constant slopes are its partials, and partials said not to read the inputs do not."""
    for i, d in enumerate(slopes):
        constant = rule.constant_slope(i, len(xs))
        if constant is not None and constant != d:
            raise ValueError(f"op {rule.name!r}: constant_slopes says d/dx{i} = {constant!r}, its partials give {d!r}")
    if rule.constant_slopes and len(rule.constant_slopes) not in (1, len(xs)):
        count = len(rule.constant_slopes)
        raise ValueError(f"op {rule.name!r}: constant_slopes has {count} entries for {len(xs)} inputs")
    if rule.slopes_read_inputs:
        return
    try:
        blind = [float(d) for d in rule.partials(rule.forward(*xs), *([None] * len(xs)))]
    except (TypeError, ValueError, ArithmeticError) as error:
        message = f"op {rule.name!r}: slopes_read_inputs=False, but its partials read an input ({error})"
        raise ValueError(message) from None
    if blind != slopes:
        raise ValueError(f"op {rule.name!r}: slopes_read_inputs=False, but its partials change with the inputs")


def _check_domain(name: str, domain: Sequence[tuple[float, float]]) -> None:
    try:
        valid = len(domain) > 0 and all(math.isfinite(lo) and math.isfinite(hi) and lo < hi for lo, hi in domain)
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(f"op {name!r}: domain must be ((low, high), ...) with finite low < high, got {domain!r}")


def _sample_point(rule: Rule) -> list[float]:
    """A point of the row's domain where forward gives a finite number, away from kinks."""
    n = rule.arity if rule.arity is not None else 3
    for shift in range(len(_FRACTIONS)):
        xs = []
        for i in range(n):
            lo, hi = rule.domain[min(i, len(rule.domain) - 1)]
            xs.append(lo + _FRACTIONS[(shift + i) % len(_FRACTIONS)] * (hi - lo))
        if _usable(rule, xs):
            return xs
    raise ValueError(f"op {rule.name!r}: forward gives no finite number away from kinks at samples of {rule.domain}")


def _usable(rule: Rule, xs: list[float]) -> bool:
    try:
        out = rule.forward(*xs)
    except (ArithmeticError, ValueError):
        return False
    except TypeError as error:
        raise TypeError(f"op {rule.name!r}: forward failed on {len(xs)} float input(s): {error}") from error
    return math.isfinite(out) and (rule.kink is None or rule.kink(*xs) > 1e-2)


def _float_partials(rule: Rule, xs: list[float]) -> list[float]:
    slopes = rule.partials(rule.forward(*xs), *xs)
    if not isinstance(slopes, (tuple, list)) or len(slopes) != len(xs):
        count = len(slopes) if isinstance(slopes, (tuple, list)) else f"a {type(slopes).__name__}, not a tuple,"
        raise ValueError(f"op {rule.name!r}: partials returned {count} derivative(s) for {len(xs)} input(s)")
    try:
        return [float(d) for d in slopes]
    except (TypeError, ValueError) as error:
        raise TypeError(f"op {rule.name!r}: partials must return numbers on float inputs: {error}") from error


def _check_second_derivatives(rule: Rule, xs: list[float]) -> None:
    """Differentiate the partials on Values (as grad(grad(f)) does) and compare with differences of the partials."""
    leaves = [Value(x) for x in xs]
    try:
        first = gradients(apply(rule.name, *leaves), leaves, create_graph=True)
        second = [gradients(g, leaves) for g in first]
    except TypeError as error:
        raise TypeError(f"op {rule.name!r}: higher-order gradients cannot go through it: {error}") from error
    for i in range(len(xs)):

        def partial_i(*ys: float, i: int = i) -> float:
            return float(rule.partials(rule.forward(*ys), *ys)[i])

        for j, s in enumerate(second[i]):
            numeric = _central_difference(partial_i, xs, j)
            if not _close(s.data, numeric):
                hint = " (partials returned a plain number on Values: use autograd_lite.ops, not math)"
                plain = not isinstance(rule.partials(Value(rule.forward(*xs)), *leaves)[i], Value)
                raise ValueError(
                    f"op {rule.name!r}: the second derivative d2/dx{i}dx{j} on Values is {s.data!r} at {xs}, but "
                    f"central differences of partials give {numeric!r}{hint if plain else ''}"
                )


def _check_numpy_form(rule: Rule, xs: list[float]) -> None:
    """The numpy form and the partials on arrays (what compile_graph runs) agree with the float forms."""
    points = [xs, *([x + (k + 1) * 1e-3 * (1 + abs(x)) for x in xs] for k in range(2))]
    points = [p for p in points if _usable(rule, p)]
    columns = [np.array(column) for column in zip(*points)]
    assert rule.vectorized is not None
    shape = (len(points),)
    try:
        out = np.broadcast_to(np.asarray(rule.vectorized(*columns), dtype=float), shape)
        slopes = [np.broadcast_to(np.asarray(d, dtype=float), shape) for d in rule.partials(out, *columns)]
    except Exception as error:
        raise TypeError(f"op {rule.name!r}: its numpy form or partials failed on arrays: {error}") from error
    for b, point in enumerate(points):
        expected = rule.forward(*point)
        if not math.isclose(out[b], expected, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(f"op {rule.name!r}: its numpy form gives {out[b]!r} at {point}, its forward {expected!r}")
        for i, (d, e) in enumerate(zip(slopes, _float_partials(rule, point), strict=True)):
            if not math.isclose(d[b], e, rel_tol=1e-9, abs_tol=1e-12):
                message = f"partials on arrays give d/dx{i} = {d[b]!r} at {point}, on floats {e!r}"
                raise ValueError(f"op {rule.name!r}: {message}")


def _central_difference(f: Callable[..., float], xs: list[float], i: int) -> float:
    h = _STEP * (1 + abs(xs[i]))
    up, down = list(xs), list(xs)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= _TOLERANCE * (1 + abs(b))


def _positional_count(f: Callable[..., object]) -> int | None:
    try:
        params = inspect.signature(f).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
