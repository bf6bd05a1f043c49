"""Switches read on every op — recording the graph (`no_grad`), checking for NaN/inf (`detect_anomaly`), the
compile tracer — kept per thread and per asyncio task (a `contextvars` variable), so one thread's `no_grad()`
never changes what another thread records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from autograd_lite.tracing import Trace
    from autograd_lite.value import Value


@dataclass(frozen=True, slots=True)
class Modes:
    """The switches in force in one thread or task; frozen, so a `with` block swaps the whole object."""

    grad_enabled: bool = True
    anomaly: bool = False
    # Set by compile_graph while it traces: ops on opaque data record their structure here, and touches of it.
    tracer: Trace | None = None
    # True while partials are taken on Values (create_graph): float() of a node would cut the graph there.
    taking_partials: bool = False
    # The variables of the grad/value_and_grad calls running f (outer ones included), so an inner call knows
    # that its result depends on an outer variable and keeps its graph (mixed partials through closures).
    grad_variables: frozenset[Value] = frozenset()
    # While grad or jacobian runs f: the numbers float() took from graph nodes (f returning one is a cut graph).
    float_reads: list[float] | None = None


_DEFAULT = Modes()
_CURRENT: ContextVar[Modes] = ContextVar("autograd_lite_modes", default=_DEFAULT)  # frozen: safe to share
current: Callable[[], Modes] = _CURRENT.get  # the switches of the calling thread or task


@contextmanager
def switched(**changes: Any) -> Iterator[None]:  # Any: each switch has its own type
    """Change switches for the duration of a `with` block in this thread or task, restoring them even after an error."""
    token = _CURRENT.set(replace(_CURRENT.get(), **changes))
    try:
        yield
    finally:
        _CURRENT.reset(token)


class _ModesView:
    """`modes.tracer`, `modes.grad_enabled`, `modes.anomaly` as attributes of the calling thread's switches.

    Reading gives the current value; assigning changes it for the rest of the current thread or task (callers
    that assign restore the old value themselves, as compile_graph's tracer does).
    """

    def __getattr__(self, name: str) -> Any:  # Any: each switch has its own type
        return getattr(_CURRENT.get(), name)

    def __setattr__(self, name: str, value: Any) -> None:  # Any: each switch has its own type
        _CURRENT.set(replace(_CURRENT.get(), **{name: value}))


modes = _ModesView()


def no_grad() -> AbstractContextManager[None]:
    """Inside, ops record no parents: results are leaves, cheap for inference."""
    return switched(grad_enabled=False)


def enable_grad() -> AbstractContextManager[None]:
    """Record the graph again, e.g. inside a `no_grad` block."""
    return switched(grad_enabled=True)


def detect_anomaly() -> AbstractContextManager[None]:
    """Inside, a NaN or inf made in forward or backward raises FloatingPointError naming the op."""
    return switched(anomaly=True)
