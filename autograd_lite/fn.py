"""Math that works on floats, Values and numpy arrays alike.

Gradient rules are written with these functions and ordinary arithmetic, so the
same rule serves the float backward pass, differentiable (higher-order)
gradients on Values, and the vectorized numpy path. Dispatch is by duck typing:
a Value has the method, an ndarray goes to numpy, anything else is a float.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray)


def exp(x: Any) -> Any:
    """e ** x."""
    if _is_array(x):
        return np.exp(x)
    return x.exp() if hasattr(x, "exp") else math.exp(x)


def log(x: Any) -> Any:
    """Natural logarithm."""
    if _is_array(x):
        return np.log(x)
    return x.log() if hasattr(x, "log") else math.log(x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent."""
    if _is_array(x):
        return np.tanh(x)
    return x.tanh() if hasattr(x, "tanh") else math.tanh(x)


def sigmoid(x: Any) -> Any:
    """Logistic function 1 / (1 + e**-x)."""
    if _is_array(x):
        e = np.exp(-np.abs(x))  # never overflows
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    if hasattr(x, "sigmoid"):
        return x.sigmoid()
    e = math.exp(-abs(x))
    return 1.0 / (1.0 + e) if x >= 0 else e / (1.0 + e)


def power(x: Any, p: Any) -> Any:
    """x ** p, giving inf (as numpy and PyTorch do) where Python floats would raise for 0 ** negative."""
    if _is_array(x) or _is_array(p):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.power(x, p)
    if hasattr(x, "exp") or hasattr(p, "exp"):  # a Value: record the op (its forward checks the domain)
        return x**p
    return math.inf if x == 0 and p < 0 else x**p


def data(x: Any) -> Any:
    """The plain number(s) behind x: `.data` of a Value, x itself otherwise."""
    return x if _is_array(x) else getattr(x, "data", x)  # an ndarray's .data is its buffer


# Piecewise-constant functions: their own derivative is zero almost everywhere,
# so on a Value they return a plain float, never a graph node.


def step(x: Any) -> Any:
    """1 where x > 0, else 0 (relu's slope; 0 at the kink, like PyTorch)."""
    x = data(x)
    return (x > 0).astype(float) if _is_array(x) else float(x > 0)


def sign(x: Any) -> Any:
    """-1, 0 or 1 (abs's slope; 0 at the kink, like PyTorch)."""
    x = data(x)
    return np.sign(x) if _is_array(x) else float((x > 0) - (x < 0))


def ge(x: Any, y: Any) -> Any:
    """1 where x >= y, else 0 (routes max's gradient; ties go to x)."""
    x, y = data(x), data(y)
    out = x >= y
    return out.astype(float) if _is_array(out) else float(out)


def le(x: Any, y: Any) -> Any:
    """1 where x <= y, else 0 (routes min's gradient; ties go to x)."""
    x, y = data(x), data(y)
    out = x <= y
    return out.astype(float) if _is_array(out) else float(out)


def log_where_positive(x: Any) -> Any:
    """log(x) where x > 0, else 0: d(x**p)/dp = x**p·log x, taken as 0 where log x is undefined."""
    if _is_array(x):
        return np.log(np.where(x > 0, x, 1.0))
    return log(x) if data(x) > 0 else 0.0
