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
_put_aside: dict[int, list[Any]] = {}  # id -> [the Value, its number, how many traces hold it]; Any: mixed entries


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
    put_aside, opaque = _put_aside, OPAQUE  # locals: a model's every parameter passes through these loops
    with _lock:
        for v in values:
            held = put_aside.get(id(v))
            if held is None:
                put_aside[id(v)] = [v, v.data, 1]
                v.data = opaque  # type: ignore[assignment]  # traced data holds no number
            else:
                held[2] += 1
    try:
        yield
    finally:
        with _lock:
            for v in values:
                held = put_aside[id(v)]
                if held[2] == 1:
                    del put_aside[id(v)]
                    v.data = held[1]
                else:
                    held[2] -= 1
