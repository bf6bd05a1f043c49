"""Running a function under trace: its inputs' and parameters' data are opaque (autograd_lite/tracing.py).

The inputs and the given leaves (parameters) hold `OPAQUE` while the function runs, and their numbers come
back afterwards, whatever happens. Two threads may trace functions that read the same parameters at once: the
numbers are put aside once, by whichever trace comes first, and come back when the last one ends (a lock
guards only that bookkeeping, never the user's function). Every other leaf the function reads is a constant
of the graph: its number is the one it had while tracing, and `CompiledGraph` refuses a call after it changed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from autograd_lite.modes import switched
from autograd_lite.tracing import OPAQUE, Trace, TracedNumberError
from autograd_lite.value import Value

_lock = threading.Lock()
# Values hash by identity: each opaque Value's number, and how many running traces hold it opaque.
_numbers: dict[Value, float] = {}
_holds: dict[Value, int] = {}


def traced_call(
    function: Callable[..., Any], inputs: Sequence[Value], leaves: Sequence[Value]  # Any: what the user returns
) -> tuple[Any, Trace]:
    """(function(*inputs), its trace), with the data of `inputs` and `leaves` opaque while it runs.

    A refusal the function did not catch ends the call: the output is then None, and the trace says why.
    """
    trace = Trace()
    try:
        with _opaque(list(inputs) + list(leaves)), switched(tracer=trace):
            output = function(*inputs)
    except TracedNumberError:
        if not trace.touches:  # not this trace's (a Value left from another trace): the user's error to see
            raise
        output = None
    return output, trace


@contextmanager
def _opaque(values: list[Value]) -> Iterator[None]:
    """The values' data are OPAQUE inside; their numbers are restored on the way out (after an error too)."""
    numbers, holds, opaque = _numbers, _holds, OPAQUE  # locals: a model's every parameter passes through these loops
    with _lock:
        for v in values:
            if v in holds:
                holds[v] += 1
            else:
                numbers[v] = v.data
                holds[v] = 1
                v.data = opaque  # type: ignore[assignment]  # traced data holds no number
    try:
        yield
    finally:
        with _lock:
            for v in values:
                count = holds[v]
                if count == 1:
                    del holds[v]
                    v.data = numbers.pop(v)
                else:
                    holds[v] = count - 1
