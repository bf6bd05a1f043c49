"""`History`: what `fit` records per epoch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# numpy's bit generator state, as numpy types it (a name, nested ints).
RngState = dict[str, Any]  # Any: numpy's own type for `bit_generator.state`


@dataclass
class History:
    """Per-epoch training record: `loss` (batch losses averaged over the epoch, weighted by batch size,
    including the l2 term) and `accuracy` (fraction right during the epoch's steps; None for regression).

    `first_epoch` is the number of the epoch `loss[0]` belongs to, counting from 1: 41 for a fit
    resumed from a checkpoint after epoch 40 (nn/checkpoint.py), so pictures show the true epochs.
    `rng_state` is the shuffling generator's state after the last recorded epoch (numpy's
    `bit_generator.state`); a checkpoint saves it so that a resumed fit draws the batches an
    uninterrupted one would have.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float | None] = field(default_factory=list)
    interrupted: bool = False  # stopped by Ctrl-C
    compiled: bool = False  # trained by the compiled (batch) path
    backend: str = "scalar"  # what ran the steps: "numpy" or "native" (the compiled path), or "scalar"
    first_epoch: int = 1
    rng_state: RngState | None = None

    @property
    def epochs(self) -> int:
        """How many epochs completed."""
        return len(self.loss)

    @property
    def last_epoch(self) -> int:
        """The number of the last recorded epoch, counting from 1 (first_epoch - 1 when none is)."""
        return self.first_epoch - 1 + len(self.loss)
