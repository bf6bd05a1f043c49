"""Argument checks shared by nn: a clear ValueError naming the argument and what it must be."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


def integer(value: Any, what: str, least: int = 1) -> int:
    """value as an int if it is an integer >= least (a bool is not); ValueError naming `what` otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{what} must be an integer >= {least}, got {value!r}")
    return int(value)


def number(
    value: Any,
    what: str,
    low: float = -math.inf,
    high: float = math.inf,
    low_open: bool = False,
    high_open: bool = True,
) -> float:
    """value as a float if it is a finite real number in the interval; ValueError naming `what` otherwise."""
    real = not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)
    if real and math.isfinite(value):
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if above and below:
            return float(value)
    raise ValueError(f"{what} must be a finite number{_interval(low, high, low_open, high_open)}, got {value!r}")


def _interval(low: float, high: float, low_open: bool, high_open: bool) -> str:
    if math.isinf(low) and math.isinf(high):
        return ""
    if math.isinf(high):
        return f" {'>' if low_open else '>='} {low:g}"
    if math.isinf(low):
        return f" {'<' if high_open else '<='} {high:g}"
    return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
