"""Guards for tracing: find where a traced function decides something from the numbers of one sample.

A compiled graph is traced on one sample and replayed unchanged for every other
sample, so it is right only if the function's structure does not depend on the
data. While tracing, the inputs' data and everything computed from them are
`Traced` floats: they behave as floats, keep their mark through arithmetic, and
record every decision taken on them — comparisons, truth tests, and numbers
taken out with float(), int(), round() (e.g. `Value(x.data)`). The engine's own
comparisons (inside a rule's forward, e.g. relu's `x <= 0`, or the division
check) are not decisions of the traced function and are not recorded.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from autograd_lite.modes import modes

_ENGINE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the autograd_lite package
_ENGINE_FILES = ("rules.py", "ops.py", "registry.py", "backward.py", "functional.py")
_RULE_FILES = {os.path.join(_ENGINE, name) for name in _ENGINE_FILES}
_VALUE_FILE = os.path.join(_ENGINE, "value.py")
_VALUE_TAKES_NUMBERS = {"as_float"}  # value.py functions that take a number out of the graph (Value(x.data))
_FLOAT_WARNING = "__float__ returned non-float"  # float(v) of a Value whose data is Traced


class _Recorder:
    """The decisions seen while a trace is running (None when no trace runs)."""

    decisions: list[str] | None = None


def _is_engine(frame: FrameType | None) -> bool:
    """Whether the caller is the engine computing an op (not the traced function deciding something)."""
    if frame is None:
        return True
    name = frame.f_code.co_filename
    if name in _RULE_FILES:
        return True
    if name == _VALUE_FILE and frame.f_code.co_name not in _VALUE_TAKES_NUMBERS:
        return True
    f: FrameType | None = frame
    while f is not None:  # inside a rule's forward (a custom op's may live in user code)
        if f.f_code.co_filename == _VALUE_FILE and f.f_code.co_name == "_apply":
            return True
        f = f.f_back
    return False


def _user_location(frame: FrameType | None) -> str:
    """file:line of the first caller outside autograd_lite."""
    while frame is not None and frame.f_code.co_filename.startswith(_ENGINE + os.sep):
        frame = frame.f_back
    return "" if frame is None else f" at {frame.f_code.co_filename}:{frame.f_lineno}"


def _record(what: str) -> None:
    decisions = _Recorder.decisions
    if decisions is None:
        return
    caller = sys._getframe(2)  # the frame that used the Traced float
    if not _is_engine(caller):
        decisions.append(what + _user_location(caller))


class Traced(float):
    """A float computed from a traced input: arithmetic keeps the mark, decisions are recorded."""

    __slots__ = ()

    def __bool__(self) -> bool:
        _record("a truth test on data")
        return float.__ne__(self, 0.0)

    def __float__(self) -> float:
        _record("a number taken out with float() (or Value(x.data))")
        return float.__float__(self)

    def __int__(self) -> int:
        _record("a number taken out with int()")
        return float.__int__(self)

    def __round__(self, ndigits: Any = None) -> Any:
        _record("a number taken out with round()")
        return float.__round__(self, ndigits)

    def __trunc__(self) -> int:
        _record("a number taken out with math.trunc()")
        return float.__trunc__(self)

    def __floor__(self) -> int:
        _record("a number taken out with math.floor()")
        return float.__floor__(self)

    def __ceil__(self) -> int:
        _record("a number taken out with math.ceil()")
        return float.__ceil__(self)

    def __hash__(self) -> int:
        return float.__hash__(self)


def _comparison(name: str, symbol: str) -> Callable[[float, Any], Any]:
    method = getattr(float, name)

    def compare(self: float, other: Any) -> Any:
        _record(f"a comparison ({symbol}) on data")
        return method(self, other)

    compare.__name__ = name
    return compare


def _binary(name: str) -> Callable[[float, Any], Any]:
    method = getattr(float, name)

    def operate(self: float, other: Any) -> Any:  # called for every op on traced data: kept lean
        result = method(self, other)
        return Traced(result) if type(result) is float else result

    operate.__name__ = name
    return operate


def _unary(name: str) -> Callable[[float], Any]:
    method = getattr(float, name)

    def operate(self: float) -> Any:
        return Traced(method(self))

    operate.__name__ = name
    return operate


for _name, _symbol in (("__lt__", "<"), ("__le__", "<="), ("__gt__", ">"), ("__ge__", ">="),
                       ("__eq__", "=="), ("__ne__", "!=")):
    setattr(Traced, _name, _comparison(_name, _symbol))
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__"):
    setattr(Traced, _name, _binary(_name))
for _name in ("__neg__", "__pos__", "__abs__"):
    setattr(Traced, _name, _unary(_name))


def _mark(out: float, parents: tuple[Any, ...]) -> float:
    """The tracer hook: an op's result is Traced when any of its inputs is."""
    for p in parents:
        if type(p.data) is Traced:
            return Traced(out)
    return out


@contextmanager
def guarded(inputs: list[Any]) -> Iterator[list[str]]:
    """Trace with the inputs' data marked; yields the list of decisions found. Restores everything afterwards."""
    saved = [x.data for x in inputs]
    previous_tracer, previous_decisions = modes.tracer, _Recorder.decisions
    decisions: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DeprecationWarning)
            for x, v in zip(inputs, saved, strict=True):
                x.data = Traced(v)
            modes.tracer, _Recorder.decisions = _mark, decisions
            yield decisions
        for w in caught:  # float(v) of a Value: Python warns that Value.__float__ returned a Traced
            if _FLOAT_WARNING in str(w.message):
                decisions.append(f"a number taken out with float() at {w.filename}:{w.lineno}")
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    finally:
        modes.tracer, _Recorder.decisions = previous_tracer, previous_decisions
        for x, v in zip(inputs, saved, strict=True):
            x.data = v


def untrace(nodes: list[Any]) -> None:
    """Make the data of traced nodes plain floats again (the values are unchanged)."""
    for node in nodes:
        if type(node.data) is Traced:
            node.data = float.__float__(node.data)
