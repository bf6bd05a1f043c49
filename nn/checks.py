"""Argument checks shared by nn: a clear ValueError naming the argument and what it must be."""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Mapping, Sequence

import numpy as np


def integer(value: object, what: str, least: int = 1) -> int:
    """value as an int if it is an integer >= least (a bool is not); ValueError naming `what` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{what} must be an integer >= {least}, got {short(value)}")
    return int(value)


def number(
    value: object,
    what: str,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """value as a float if it is a finite real number in the interval; ValueError naming `what` otherwise."""
    if type(value) is float:  # first, without the ABC checks: an lr schedule's value is checked every step
        finite = math.isfinite(value)
    else:
        finite = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and _finite(value)
    if finite:
        x = float(value)  # type: ignore[arg-type]  # a finite real number, so no overflow
        above = x > low if low_open else x >= low
        below = x < high if high_open else x <= high
        if above and below:
            return x
    raise ValueError(f"{what} must be a finite number{_interval(low, high, low_open, high_open)}, got {short(value)}")


def short(value: object) -> str:
    """repr(value), cut to about 60 characters however big or deep the value is (for error messages)."""
    try:
        return _SHORT.repr(value)
    except ValueError:  # an int past Python's 4300-digit str limit
        return f"<a {type(value).__name__} too large to show>"


def clip(text: str, limit: int = 60) -> str:
    """text itself, or its start and "..." when longer than `limit` characters (names in error messages)."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def first_few(items: Sequence[str], shown: int = 3) -> str:
    """The first `shown` items joined by ", ", then "and N more": error messages stay short for any input."""
    text = ", ".join(items[:shown])
    return f"{text} and {len(items) - shown} more" if len(items) > shown else text


def keys_of(record: object) -> str:
    """A mapping's first few keys, or a short repr of anything else (messages stay short for a big record)."""
    if isinstance(record, Mapping):
        return "keys " + (first_few([clip(str(k)) for k in record]) or "none")
    return short(record)


def _finite(value: numbers.Real) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float, such as 10**400
        return False


def _short_repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxlevel, r.maxstring, r.maxother, r.maxlong = 3, 60, 60, 40
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = 4
    return r


_SHORT = _short_repr()


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if math.isinf(low) and math.isinf(high):
        return ""
    if math.isinf(high):
        return f" {'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f" {'<' if high_open else '<='} {high:g}"
    return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
