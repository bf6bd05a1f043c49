"""The epoch loop: batches in order or shuffled, a trainer's step on each, progress, callbacks and Ctrl-C.

A resumed fit (nn/checkpoint.py) starts after epoch `start`, with the shuffling generator
in the state the checkpoint saved, so it takes the steps an uninterrupted fit would have.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nn.training.history import History, RngState
from nn.training.progress import Progress, StopOnInterrupt

# After each epoch: (epoch, history so far); returning True stops training.
Callback = Callable[[int, History], object]


@dataclass(frozen=True)
class TrainOptions:
    """How fit loops: epochs, batch size, shuffling, progress bar and callback."""

    epochs: int
    size: int  # samples per batch
    shuffle: bool = True
    seed: int | None = None
    progress: bool = True
    callback: Callback | None = None
    start: int = 0  # epochs done before this fit (a resumed one): callbacks and History count on from there
    rng_state: RngState | None = None  # replaces `seed` when given


class Trainer(Protocol):
    """One training step on chosen samples, and writing its state back to the model's Values."""

    @property
    def compiled(self) -> bool: ...  # whether its steps run compiled graphs

    @property
    def backend(self) -> str: ...  # what runs its steps: "numpy" or "native" (compiled graphs), or "scalar"

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]: ...

    def sync(self) -> None: ...


def train_loop(trainer: Trainer, n: int, options: TrainOptions) -> History:
    """The epoch loop around a trainer; the model's Values are up to date at every callback and at the end."""
    history = History(first_epoch=options.start + 1)
    rng = np.random.default_rng(options.seed)
    if options.rng_state is not None:
        rng.bit_generator.state = options.rng_state
    history.rng_state = dict(rng.bit_generator.state)
    size = options.size
    batches = math.ceil(n / size)
    bar = Progress(options.epochs, options.progress)
    try:
        with StopOnInterrupt() as stop:
            for epoch in range(options.epochs):
                order = rng.permutation(n) if options.shuffle and batches > 1 else None
                total, right, done = 0.0, 0, 0
                for start in range(0, n, size):
                    chosen = slice(start, start + size) if order is None else order[start : start + size]
                    value, correct = trainer.step(chosen)
                    total += value * (min(start + size, n) - start)
                    right += correct or 0
                    done += 1
                    if stop.requested:
                        break
                if done < batches:  # interrupted mid-epoch: the epoch is not recorded
                    break
                accuracy = right / n if correct is not None else None
                history.loss.append(total / n)
                history.accuracy.append(accuracy)
                history.rng_state = dict(rng.bit_generator.state)
                bar.update(epoch, total / n, accuracy)
                if options.callback is not None:
                    trainer.sync()  # the callback may read the parameters
                stop_now = options.callback is not None and options.callback(options.start + epoch, history) is True
                if stop_now or stop.requested:
                    break
            history.interrupted = stop.requested
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        trainer.sync()
        bar.close()
    return history
