"""JAX-style `jacobian` and `hessian` of functions of numbers and vectors, built on `gradients(create_graph=True)`.

`jacobian(f)(x)` is the (outputs × inputs) matrix of ∂f_i/∂x_j; `hessian(f)(x)` is
the (inputs × inputs) matrix of ∂²f/∂x_i∂x_j of a scalar f, computed as the
Jacobian of its gradient. Called with numbers they return float arrays; called
with Values (inside `grad`, `jacobian` or `hessian`) they return arrays of
Values, so they nest like `grad` does.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_lite.backward import topological_order
from autograd_lite.functional import call_differentiated, checked_argnums, gradients
from autograd_lite.modes import current, enable_grad
from autograd_lite.value import Value, apply, as_float, constant

if TYPE_CHECKING:
    from typing import TypeGuard

    from autograd_lite.types import FloatOrValue

Argnums = int | Sequence[int]
# One (outputs, inputs) array per argument: floats, or Values (dtype object) when nested.
Jacobian = np.ndarray | tuple[np.ndarray, ...]
Hessian = np.ndarray | tuple[tuple[np.ndarray, ...], ...]


def jacobian(f: Callable[..., object], argnums: Argnums = 0) -> Callable[..., Jacobian]:
    """∂f/∂x as an (outputs, inputs) array, as a function of f's arguments.

    The arguments at `argnums` are numbers (one input each) or flat sequences of
    numbers; f returns a Value (one output) or a flat sequence of Values. With a
    tuple `argnums` the result is a tuple of arrays, one per argument.
    """
    single, positions = checked_argnums(argnums)

    def wrapped(*args: object) -> Jacobian:
        blocks = _jacobian_blocks(f, args, positions, "jacobian")
        return blocks[0] if single else tuple(blocks)

    wrapped.__name__ = f"jacobian({getattr(f, '__name__', 'f')})"
    return wrapped


def hessian(f: Callable[..., object], argnums: Argnums = 0) -> Callable[..., Hessian]:
    """∂²f/∂x² of a scalar f as an (inputs, inputs) array: the Jacobian of f's gradient.

    With a tuple `argnums` the result is a tuple of tuples: block [i][j] holds
    ∂²f/∂(argument i)∂(argument j).
    """
    single, positions = checked_argnums(argnums)

    def gradient(*args: object) -> list[Value]:
        xs, _ = _variables(args, positions, "hessian")
        out = _outputs(f(*xs), "hessian")
        if len(out) != 1:
            raise ValueError(f"hessian needs f to return a single Value (a scalar), got {len(out)} outputs")
        flat = [x for i in positions for x in _as_list(xs[i])]
        return gradients(out[0], flat, create_graph=True)

    def wrapped(*args: object) -> Hessian:
        columns = _jacobian_blocks(gradient, args, positions, "hessian")
        if single:
            return columns[0]
        starts = np.cumsum([0, *(_size(args[i]) for i in positions)])
        n = len(positions)
        return tuple(tuple(columns[j][starts[i] : starts[i + 1]] for j in range(n)) for i in range(n))

    wrapped.__name__ = f"hessian({getattr(f, '__name__', 'f')})"
    return wrapped


# --- the work -------------------------------------------------------------------------


def _jacobian_blocks(
    f: Callable[..., object], args: tuple[object, ...], positions: tuple[int, ...], who: str
) -> list[np.ndarray]:
    """One (outputs, n_i) array per position: floats, or Values when an argument held Values (nested)."""
    _check_positions(args, positions)
    with enable_grad():  # under no_grad too: the fresh variables must be graph nodes to differentiate through
        xs, nested = _variables(args, positions, who)
        flat = [x for i in positions for x in _as_list(xs[i])]
        outer = current().grad_variables
        outputs = _outputs(call_differentiated(f, xs, flat), who)
        # f may close over an outer grad's or jacobian's variable: then keep the graph, as value_and_grad does
        nested = nested or (bool(outer) and any(n in outer for out in outputs for n in topological_order(out)))
        rows = [gradients(out, flat, create_graph=nested) for out in outputs]
    matrix = np.empty((len(outputs), len(flat)), dtype=object if nested else float)
    for r, row in enumerate(rows):
        matrix[r] = row if nested else [g.data for g in row]
    sizes = [_size(args[i]) for i in positions]
    starts = np.cumsum([0, *sizes])
    return [matrix[:, starts[k] : starts[k + 1]] for k in range(len(sizes))]


def _variables(args: tuple[object, ...], positions: tuple[int, ...], who: str) -> tuple[list[object], bool]:
    """args with those at `positions` made fresh variables, and whether any of them held a Value."""
    xs = list(args)
    nested = False
    for i in positions:
        items = _checked_argument(args[i], i, who)
        nested = nested or any(isinstance(v, Value) for v in items)
        # a fresh node per call, as in value_and_grad: an inner derivative must not take
        # the outer one's variable for its own (perturbation confusion)
        fresh = [apply("sum", v) if isinstance(v, Value) else Value(v) for v in items]
        xs[i] = fresh[0] if _is_number(args[i]) else fresh
    return xs, nested


def _checked_argument(arg: object, i: int, who: str) -> list[FloatOrValue]:
    """The argument's entries (floats or Values); ValueError/TypeError for anything but a number or a flat sequence."""
    if _is_number(arg):
        return [arg if isinstance(arg, Value) else as_float(arg, f"{who}: argument {i}")]
    if isinstance(arg, np.ndarray) and arg.ndim != 1:
        raise ValueError(f"{who}: argument {i} must be a number or a 1-D sequence of numbers, got shape {arg.shape}")
    if isinstance(arg, (str, bytes)) or not isinstance(arg, (Sequence, np.ndarray)):
        raise TypeError(f"{who}: argument {i} must be a number or a sequence of numbers, got {type(arg).__name__}")
    return [_entry(v, f"{who}: argument {i}", k) for k, v in enumerate(arg)]


def _outputs(out: object, who: str) -> list[Value]:
    """f's result as a list of Values (numbers become constants); ValueError for a nested or non-numeric result."""
    if _is_number(out):
        return [constant(out if isinstance(out, Value) else as_float(out, f"{who}: f's result"))]
    if isinstance(out, np.ndarray) and out.ndim != 1:
        raise ValueError(f"{who}: f must return a Value or a flat sequence of Values, got shape {out.shape}")
    if isinstance(out, (str, bytes)) or not isinstance(out, (Sequence, np.ndarray)):
        raise TypeError(f"{who}: f must return a Value or a sequence of Values, got {type(out).__name__}")
    return [constant(_entry(v, f"{who}: f's result", k)) for k, v in enumerate(out)]


def _entry(v: object, what: str, k: int) -> FloatOrValue:
    """Entry k of a flat sequence as a Value or float; ValueError if it is itself a sequence, TypeError if no number."""
    if isinstance(v, Value):
        return v
    if isinstance(v, (Sequence, np.ndarray)) and not isinstance(v, (str, bytes)):
        raise ValueError(f"{what} must be a flat sequence of numbers, got a nested sequence at index {k}")
    return as_float(v, f"{what}[{k}]")


def _check_positions(args: tuple[object, ...], positions: tuple[int, ...]) -> None:
    for i in positions:
        if not -len(args) <= i < len(args):
            raise IndexError(f"argnums {i} is out of range for {len(args)} argument(s)")


def _is_number(x: object) -> TypeGuard[Value | numbers.Number]:
    return isinstance(x, (Value, numbers.Number))


def _as_list(x: Any) -> list[Value]:  # Any: a Value or a list of them, which the caller's list[object] lost
    return [x] if isinstance(x, Value) else list(x)


def _size(arg: Any) -> int:  # Any: an argument already checked to be a number or a flat sequence
    return 1 if _is_number(arg) else len(arg)
