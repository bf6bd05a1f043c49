"""The epoch loop: batches in order or shuffled, a trainer's step on each, progress, callbacks and Ctrl-C."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from nn.training.history import History
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


class Trainer(Protocol):
    """One training step on chosen samples, and writing its state back to the model's Values."""

    @property
    def compiled(self) -> bool: ...  # whether its steps run compiled graphs

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]: ...

    def sync(self) -> None: ...


def train_loop(trainer: Trainer, n: int, options: TrainOptions) -> History:
    """The epoch loop around a trainer; the model's Values are up to date at every callback and at the end."""
    history = History()
    rng = np.random.default_rng(options.seed)
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
                bar.update(epoch, total / n, accuracy)
                if options.callback is not None:
                    trainer.sync()  # the callback may read the parameters
                if (options.callback is not None and options.callback(epoch, history) is True) or stop.requested:
                    break
            history.interrupted = stop.requested
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        trainer.sync()
        bar.close()
    return history
