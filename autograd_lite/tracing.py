"""Tracing with opaque values: while compile_graph traces, a traced node's `.data` holds no number at all.

compile_graph runs the user's function once and replays the graph it builds for every sample. That is right
only if nothing in the function depends on the numbers of the sample it was traced on. So, as JAX's tracers
do, a traced node's data is an `Opaque`: every conversion (float, int, str, format, hash), comparison,
arithmetic, attribute and type test on it refuses with `TracedNumberError` and is recorded on the trace of
the context that touched it. compile_graph then refuses the graph, even if the function caught the error.
Ops on opaque inputs record their structure only (no forward runs); domain errors are found at replay, per
sample. There is no list of ways to read a number to keep up to date: there is no number to read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from autograd_lite.modes import current

if TYPE_CHECKING:
    from autograd_lite.value import Value


class TracedNumberError(TypeError):
    """A traced value's number was asked for while compile_graph traced: there is none to give."""


@dataclass
class Trace:
    """One compile_graph trace: what the traced function touched, and the nodes it made, in program order."""

    touches: list[str] = field(default_factory=list)
    nodes: list[Value] = field(default_factory=list)  # every op node made from opaque data, as it was made


class Opaque:
    """The data of a traced node: no number inside, so nothing can branch on one."""

    __slots__ = ()

    def refuse(self, what: str, depth: int = 2) -> NoReturn:
        """Record `what` on the toucher's trace (with the line that did it) and raise TracedNumberError."""
        caller = sys._getframe(depth)  # the line that asked: the dunder's caller, or the Value method's
        where = f"{caller.f_code.co_filename}:{caller.f_lineno}"
        trace = current().tracer
        if trace is None:
            raise TracedNumberError(
                f"{what} at {where}: this Value belongs to a graph that compile_graph is tracing (or traced), so "
                "it holds no number; use CompiledGraph.forward for numbers"
            )
        trace.touches.append(f"{what} at {where}")
        raise TracedNumberError(
            f"{what} at {where}: while compile_graph traces, a traced value holds no number (the graph is "
            "replayed for every sample, so it cannot depend on one); use graph ops (relu, max, min, abs) instead"
        )

    def __repr__(self) -> str:
        self.refuse("repr() of traced data")

    def __getattr__(self, name: str) -> Any:  # Any: any attribute: .real, .is_integer(), .hex(), __array__ ...
        self.refuse(f"the attribute .{name} of traced data")

    @property  # type: ignore[misc]  # isinstance(x, float) reads __class__ once type(x) is not float
    def __class__(self) -> type:  # a recorded type test, then a refusal
        self.refuse("a type test (isinstance) on traced data")


def _refusing(name: str, what: str) -> Callable[..., NoReturn]:
    def refuse(self: Opaque, *args: object) -> NoReturn:
        self.refuse(what)

    refuse.__name__ = name
    return refuse


_CONVERSIONS = {
    "__bool__": "a truth test", "__float__": "float()", "__int__": "int()", "__index__": "use as an index",
    "__complex__": "complex()", "__round__": "round()", "__trunc__": "math.trunc()", "__floor__": "math.floor()",
    "__ceil__": "math.ceil()", "__hash__": "hash() (a dict or set key)", "__str__": "str()",
    "__format__": "formatting", "__bytes__": "bytes()", "__len__": "len()", "__iter__": "iteration",
    "__contains__": "`in`", "__getitem__": "indexing", "__call__": "a call",
}
_COMPARISONS = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">=", "__eq__": "==", "__ne__": "!="}
_ARITHMETIC = (
    "add", "sub", "mul", "truediv", "floordiv", "mod", "divmod", "pow", "matmul", "lshift", "rshift", "and", "or",
    "xor",
)

for _name, _what in _CONVERSIONS.items():
    setattr(Opaque, _name, _refusing(_name, f"{_what} of traced data"))
for _name, _symbol in _COMPARISONS.items():
    setattr(Opaque, _name, _refusing(_name, f"a comparison ({_symbol}) on traced data"))
for _op in _ARITHMETIC:
    for _name in (f"__{_op}__", f"__r{_op}__", f"__i{_op}__"):
        setattr(Opaque, _name, _refusing(_name, f"Python arithmetic ({_op}, outside the graph) on traced data"))
for _name in ("__neg__", "__pos__", "__abs__", "__invert__"):
    _what = f"Python arithmetic ({_name.strip('_')}, outside the graph) on traced data"
    setattr(Opaque, _name, _refusing(_name, _what))

OPAQUE = Opaque()  # the data of every traced node: it carries nothing, so one object serves every trace


def is_opaque(x: object) -> bool:
    """Whether x is traced data (a plain type check: it records nothing)."""
    return type(x) is Opaque
