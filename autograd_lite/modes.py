"""Global switches: recording the graph (`no_grad`) and checking for NaN/inf (`detect_anomaly`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class _Modes:
    """Mutable flags read on every op; a plain object keeps the lookup cheap."""

    __slots__ = ("anomaly", "grad_enabled")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False


modes = _Modes()


@contextmanager
def no_grad() -> Iterator[None]:
    """Inside, ops record no parents: results are leaves, cheap for inference."""
    previous = modes.grad_enabled
    modes.grad_enabled = False
    try:
        yield
    finally:
        modes.grad_enabled = previous


@contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again, e.g. inside a `no_grad` block."""
    previous = modes.grad_enabled
    modes.grad_enabled = True
    try:
        yield
    finally:
        modes.grad_enabled = previous


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Inside, a NaN or inf made in forward or backward raises FloatingPointError naming the op."""
    previous = modes.anomaly
    modes.anomaly = True
    try:
        yield
    finally:
        modes.anomaly = previous
