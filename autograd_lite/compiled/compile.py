"""`compile_graph`: trace a function of placeholder Values once, with opaque data, into a `CompiledGraph`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from autograd_lite.compiled.graph import CompileCheckError, CompiledGraph
from autograd_lite.compiled.guard import traced_call
from autograd_lite.value import Value


def compile_graph(
    function: Callable[..., Value | Sequence[Value]],
    inputs: Sequence[Value],
    check: bool = True,
    leaves: Sequence[Value] = (),
    dtype: npt.DTypeLike = np.float64,
    backend: str = "numpy",
) -> CompiledGraph:
    """Compile `function(*inputs)`, a scalar graph built from the placeholder leaves `inputs`, for batches.

    The function runs once, traced: while it runs, the inputs' and the `leaves`' data hold
    no number (autograd_lite/tracing.py), so a function that decides anything from
    them — a comparison, float(), str(), a dict keyed by data, even inside try/except —
    is refused with CompileCheckError naming what it did and where, and every other
    function is replayed right for every sample. Every `forward` raises the scalar
    engine's error (same type, naming the op and the sample) at the first op, in program
    order, that refuses a sample's numbers, and FloatingPointError where a NaN or an
    infinity arises otherwise. Where a gradient is not finite, the scalar engine's is given.
    With `check=True` the first `forward` also compares ops registered with `register_op`
    (their numpy forms) with the scalar engine on its first sample.

    `leaves` (e.g. `model.parameters()`) are the graph's parameters: first in
    `CompiledGraph.leaves`, in that order, used by the graph or not, and read at every
    call (`run` and `gradient` take and give arrays in this order). Every other leaf the
    function reads is a constant of the graph: a call after its number changed is refused
    (pass it in `leaves=`). `dtype=np.float32` computes in single precision (float64, the
    default, gives the scalar engine's numbers). `backend="native"` runs the sweeps as loops
    compiled by numba (the `fast` extra; float64), with the same numbers to about 1e-12 and the same
    errors; ValueError saying why where it cannot (numba missing, an op without a native form).
    """
    if not callable(function) or isinstance(function, Value):
        raise TypeError(
            "compile_graph takes a function that builds the graph from its inputs, e.g. "
            "compile_graph(lambda x, y: x * y, [x, y]); a graph already built from numbers may have decided things "
            f"from those numbers, which cannot be checked (got {type(function).__name__})"
        )
    inputs, leaves = _checked_inputs(inputs), _checked_leaves(leaves, inputs)
    if np.dtype(dtype) not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    if backend not in ("numpy", "native"):
        raise ValueError(f"backend must be 'numpy' or 'native', got {backend!r}")
    output, trace = traced_call(function, inputs, leaves)
    if trace.touches:
        more = f" (and {len(trace.touches) - 3} more)" if len(trace.touches) > 3 else ""
        raise CompileCheckError(
            f"the graph depends on the data: the traced function used the numbers of its data: "
            f"{'; '.join(trace.touches[:3])}{more}. The traced "
            "graph is replayed unchanged for every sample (and every parameter value), so it cannot depend on them; "
            "use the graph ops (relu, max, min, abs) instead of Python decisions on numbers"
        )
    outputs, single = _as_outputs(output)

    def rebuild(placeholders: list[Value]) -> list[Value]:
        return _as_outputs(function(*placeholders))[0]

    return CompiledGraph(outputs, inputs, single, rebuild, check, leaves, dtype, trace.nodes, backend)


def _checked_inputs(inputs: Sequence[Value]) -> list[Value]:
    """The placeholders as a list; TypeError or ValueError naming the first that is not a distinct leaf Value."""
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"inputs[{i}] must be a Value (a placeholder leaf), got {type(x).__name__}")
        if x.parents:
            raise ValueError(f"inputs[{i}] must be a leaf Value, got the result of op {x.op!r}")
    if len({id(x) for x in inputs}) != len(inputs):
        raise ValueError("inputs must be distinct Values")
    return inputs


_parents = attrgetter("parents")


def _checked_leaves(leaves: Sequence[Value], inputs: list[Value]) -> list[Value]:
    """The parameters as a list; ValueError unless they are distinct leaf Values that are not inputs."""
    leaves = list(leaves)
    distinct = set(leaves) if set(map(type, leaves)) == {Value} else None  # C loops: thousands of parameters
    if distinct is None or any(map(_parents, leaves)) or not distinct.isdisjoint(inputs):
        input_ids = {id(x) for x in inputs}
        for i, leaf in enumerate(leaves):
            if not isinstance(leaf, Value) or leaf.parents or id(leaf) in input_ids:
                raise ValueError(f"leaves[{i}] must be a leaf Value that is not an input (a parameter)")
        distinct = set(leaves)
    if len(distinct) != len(leaves):
        raise ValueError("leaves must be distinct Values")
    return leaves


def _as_outputs(output: Any) -> tuple[list[Value], bool]:  # Any: whatever the user's function returned
    """(the outputs as a list, whether a single Value was given)."""
    if isinstance(output, Value):
        return [output], True
    if isinstance(output, (list, tuple)) and output and all(isinstance(v, Value) for v in output):
        return list(output), False
    raise TypeError(f"the output to compile must be a Value or a non-empty list of Values, got {type(output).__name__}")
