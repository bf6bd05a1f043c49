"""`History`: what `fit` records per epoch."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch training record: `loss` (batch losses averaged over the epoch, weighted by batch size,
    including the l2 term) and `accuracy` (fraction right during the epoch's steps; None for regression)."""

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C
    compiled: bool = False  # trained by the compiled (numpy batch) path

    @property
    def epochs(self) -> int:
        """How many epochs completed."""
        return len(self.loss)
