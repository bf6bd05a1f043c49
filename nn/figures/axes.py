"""The one way every figure of nn gets its matplotlib Axes (matplotlib is imported only when one is made)."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

EXTRA = "nn's figures need matplotlib: pip install 'autograd-lite[notebooks]'"


def pyplot() -> ModuleType:
    """matplotlib.pyplot, or an ImportError that says how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(EXTRA) from None
    return plt


def axes_or_new(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """`ax`, or the axes of a new figure when it is None; TypeError for anything else."""
    plt = pyplot()
    if ax is None:
        return plt.subplots(figsize=figsize)[1]
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax
