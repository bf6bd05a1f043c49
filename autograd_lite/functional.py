"""Gradients as return values: `gradients`, JAX-style `grad`/`value_and_grad`, and `gradcheck`."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeGuard, overload

import numpy as np

from autograd_lite.backward import adjoints, topological_order
from autograd_lite.modes import current, enable_grad, no_grad, switched
from autograd_lite.value import Value, apply, as_float, constant

if TYPE_CHECKING:
    from autograd_lite.types import FloatOrValue, Gradient


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d(output)/d(input) for each input, leaving every `.grad` untouched.

    With `create_graph=True` the results are nodes of a new graph, so they can be
    differentiated again (gradients of gradients, to any order).
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients: output must be a Value, got {type(output).__name__}")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs[{i}] must be a Value, got {type(x).__name__}")
    if create_graph:
        with enable_grad():
            adj = adjoints(output, constant(1.0), create_graph=True)
        return [adj.get(x, constant(0.0)) for x in inputs]
    slopes = adjoints(output, 1.0)
    return [Value(slopes.get(x, 0.0), requires_grad=False) for x in inputs]


@overload
def value_and_grad(f: Callable[..., object], argnums: int = 0) -> Callable[..., tuple[FloatOrValue, FloatOrValue]]: ...
@overload
def value_and_grad(
    f: Callable[..., object], argnums: Sequence[int]
) -> Callable[..., tuple[FloatOrValue, tuple[FloatOrValue, ...]]]: ...
def value_and_grad(
    f: Callable[..., object], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[FloatOrValue, Gradient]]:
    """f's value and its gradient in the arguments `argnums`, as a function of f's arguments.

    It returns floats, unless f's result depends on a Value that needs a gradient — an argument passed as a Value
    (as when nested, `grad(grad(f))`) or one f closes over — and then Values, so the result can be differentiated
    again (`grad(lambda y: grad(lambda x: x * y)(2.0))(3.0)` is 1.0).
    """
    single, positions = checked_argnums(argnums)

    def wrapped(*args: Any) -> tuple[FloatOrValue, Gradient]:  # Any: arguments not in argnums go to f untouched
        for i in positions:
            if not -len(args) <= i < len(args):
                raise IndexError(f"argnums {i} is out of range for {len(args)} argument(s)")
        xs = list(args)
        with enable_grad():
            for i in positions:
                # A fresh node per call, so an inner grad does not confuse its variable with the outer one it was
                # called with (perturbation confusion). It is a one-input sum, not a leaf, so an outer call does
                # not take it for a Value f closed over.
                xs[i] = apply("sum", args[i] if isinstance(args[i], Value) else as_float(args[i], "argument"))
            variables = [xs[i] for i in positions]
            outer = current().grad_variables
            out = call_differentiated(f, xs, variables)
            out = out if isinstance(out, Value) else constant(as_float(out, "f's result"))
            passed_values = any(isinstance(args[i], Value) for i in positions)
            nested = passed_values or _needs_graph(out, outer)
            grads = gradients(out, variables, create_graph=nested)
        results: list[Value] | list[float] = grads if nested else [g.data for g in grads]
        value: FloatOrValue = out if nested else out.data
        return value, results[0] if single else tuple(results)

    wrapped.__name__ = f"value_and_grad({getattr(f, '__name__', 'f')})"
    return wrapped


def checked_argnums(argnums: object) -> tuple[bool, tuple[int, ...]]:
    """(whether argnums is a single int, the positions as a tuple); TypeError/ValueError for bad argnums."""
    if _is_int(argnums):
        return True, (int(argnums),)
    if isinstance(argnums, (str, bytes)) or not isinstance(argnums, Sequence) or not argnums:
        raise TypeError(f"argnums must be an int or a non-empty sequence of ints, got {argnums!r}")
    if not all(_is_int(i) for i in argnums):
        raise TypeError(f"argnums must be an int or a non-empty sequence of ints, got {argnums!r}")
    positions = tuple(int(i) for i in argnums)
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnums lists a position twice: {argnums!r}")
    return False, positions


def _is_int(x: object) -> TypeGuard[numbers.Integral]:
    return isinstance(x, numbers.Integral) and not isinstance(x, (bool, np.bool_))


def call_differentiated(f: Callable[..., object], xs: list[object], variables: list[Value]) -> object:
    """f(*xs) with `variables` known to inner calls; TypeError if f returns a plain number it took with float().

    `math.sin(x)` is `math.sin(float(x))`: its result would be a constant, and its gradient a silent 0.0.
    """
    reads: list[float] = []
    with switched(grad_variables=current().grad_variables.union(variables), float_reads=reads):
        out = f(*xs)
    plain = [o for o in (out if isinstance(out, (list, tuple, np.ndarray)) else [out]) if not isinstance(o, Value)]
    if reads and plain:
        raise TypeError(
            f"f returned a plain number ({plain[0]!r}) after taking float() of a Value (data={reads[0]!r}), which "
            "cuts the graph, so its gradient would be 0; use the Value's methods (x.sin(), x.exp(), ...), not math"
        )
    return out


def _needs_graph(out: Value, outer_variables: frozenset[Value]) -> bool:
    """Whether `out` depends on a Value that needs a gradient: a leaf that requires one, or an outer grad's variable."""
    return any(
        (not node.parents and node.requires_grad) or node in outer_variables for node in topological_order(out)
    )


@overload
def grad(f: Callable[..., object], argnums: int = 0) -> Callable[..., FloatOrValue]: ...
@overload
def grad(f: Callable[..., object], argnums: Sequence[int]) -> Callable[..., tuple[FloatOrValue, ...]]: ...
def grad(f: Callable[..., object], argnums: int | Sequence[int] = 0) -> Callable[..., Gradient]:
    """The gradient of f in the arguments `argnums`, as a function; nest it for higher derivatives."""
    vg = value_and_grad(f, argnums)

    def wrapped(*args: Any) -> Gradient:  # Any: as in value_and_grad
        return vg(*args)[1]

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    return wrapped


class GradcheckError(AssertionError):
    """The engine's gradient and the central difference disagree for one input."""

    def __init__(self, index: int, analytic: float, numeric: float) -> None:
        self.index, self.analytic, self.numeric = index, analytic, numeric
        super().__init__(
            f"gradient mismatch for input {index}: analytic {analytic!r}, numeric (central difference) {numeric!r}"
        )


def gradcheck(
    f: Callable[..., object], inputs: Sequence[float], eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3
) -> bool:
    """Check f's gradient at `inputs` against central differences; True, or GradcheckError."""
    xs = [as_float(x, f"gradcheck inputs[{i}]") for i, x in enumerate(inputs)]
    slopes = grad(f, argnums=tuple(range(len(xs))))(*xs) if xs else ()
    analytic = [g.data if isinstance(g, Value) else g for g in slopes]  # Values when f closes over parameters
    for i, a in enumerate(analytic):
        numeric = (_evaluate(f, xs, i, eps) - _evaluate(f, xs, i, -eps)) / (2 * eps)
        if not abs(a - numeric) <= atol + rtol * abs(numeric):
            raise GradcheckError(i, a, numeric)
    return True


def _evaluate(f: Callable[..., object], xs: list[float], i: int, shift: float) -> float:
    moved = [Value(x + shift if j == i else x) for j, x in enumerate(xs)]
    with no_grad():
        out = f(*moved)
    return out.data if isinstance(out, Value) else as_float(out, "f's result")
