"""Global switches: recording the graph (`no_grad`) and checking for NaN/inf (`detect_anomaly`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


class _Modes:
    """Mutable flags read on every op; a plain object keeps the lookup cheap."""

    __slots__ = ("anomaly", "grad_enabled", "tracer")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        # Set by compile_graph while it traces: sees every op's result so it can mark data that came from inputs.
        self.tracer: Callable[[float, tuple[Any, ...]], float] | None = None


modes = _Modes()


@contextmanager
def _switched(flag: str, value: bool) -> Iterator[None]:
    """Set one flag for the duration of a `with` block, restoring it even after an error."""
    previous = getattr(modes, flag)
    setattr(modes, flag, value)
    try:
        yield
    finally:
        setattr(modes, flag, previous)


def no_grad() -> AbstractContextManager[None]:
    """Inside, ops record no parents: results are leaves, cheap for inference."""
    return _switched("grad_enabled", False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph again, e.g. inside a `no_grad` block."""
    return _switched("grad_enabled", True)


def detect_anomaly() -> AbstractContextManager[None]:
    """Inside, a NaN or inf made in forward or backward raises FloatingPointError naming the op."""
    return _switched("anomaly", True)
