"""The epoch loop: batches in order or shuffled, a trainer's step on each, progress, callbacks and Ctrl-C.

A resumed fit (nn/checkpoint.py) starts after epoch `start`, with the shuffling generator
in the state the checkpoint saved, so it takes the steps an uninterrupted fit would have.
"""

from __future__ import annotations

import math
import time
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

    def full_batch_epochs(self, count: int) -> list[tuple[float, int | None]] | None:
        """Up to `count` full-batch epochs in one call, each (loss, right predictions or None); None if it
        cannot (take them with `step`); fewer than `count` if it stopped before one (take that one with `step`)."""
        ...

    def sync(self) -> None: ...


# Full-batch epochs a trainer may take in one call: the first call asks for FIRST_CALL_EPOCHS, and each call that
# took less than QUICK_CALL_SECONDS doubles the next, up to EPOCHS_PER_CALL (Ctrl-C and the progress bar are seen
# between calls, so a slow step is not taken hundreds of times before they are).
FIRST_CALL_EPOCHS = 8
EPOCHS_PER_CALL = 256
QUICK_CALL_SECONDS = 0.05


def train_loop(trainer: Trainer, n: int, options: TrainOptions) -> History:
    """The epoch loop around a trainer; the model's Values are up to date at every callback and at the end."""
    history = History(first_epoch=options.start + 1)
    rng = np.random.default_rng(options.seed)
    if options.rng_state is not None:
        rng.bit_generator.state = options.rng_state
    history.rng_state = dict(rng.bit_generator.state)
    batches = math.ceil(n / options.size)
    # full batch, no callback: nothing outside the trainer needs the model between epochs
    together = batches == 1 and options.callback is None
    shuffled = options.shuffle and batches > 1  # else the generator is never drawn from: its state stays
    bar = Progress(options.epochs, options.progress)
    per_call = FIRST_CALL_EPOCHS
    try:
        with StopOnInterrupt() as stop:
            epoch = 0
            while epoch < options.epochs:
                started = time.perf_counter()
                epochs = trainer.full_batch_epochs(min(per_call, options.epochs - epoch)) if together else None
                together = together and epochs is not None
                if time.perf_counter() - started < QUICK_CALL_SECONDS:
                    per_call = min(2 * per_call, EPOCHS_PER_CALL)
                if not epochs:  # one epoch the ordinary way (also the step a call of many stopped before)
                    done = _epoch(trainer, rng, n, options, stop)
                    if done is None:  # interrupted mid-epoch: the epoch is not recorded
                        break
                    epochs = [done]
                _record(history, epochs, n, rng if shuffled else None)
                epoch += len(epochs)
                bar.update(epoch - 1, history.loss[-1], history.accuracy[-1], len(epochs))
                if options.callback is not None:  # (then every call took one epoch)
                    trainer.sync()  # the callback may read the parameters
                stop_now = options.callback is not None and options.callback(options.start + epoch - 1, history) is True
                if stop_now or stop.requested:
                    break
            history.interrupted = stop.requested
    except KeyboardInterrupt:
        history.interrupted = True
    finally:
        trainer.sync()
        bar.close()
    return history


def _record(
    history: History, epochs: list[tuple[float, int | None]], n: int, rng: np.random.Generator | None
) -> None:
    """Each epoch's (loss, right predictions) into the history, and the shuffling generator's state if it drew."""
    for value, right in epochs:
        history.loss.append(value)
        history.accuracy.append(None if right is None else right / n)
    if rng is not None:
        history.rng_state = dict(rng.bit_generator.state)


def _epoch(trainer: Trainer, rng: np.random.Generator, n: int, options: TrainOptions,
           stop: StopOnInterrupt) -> tuple[float, int | None] | None:
    """One epoch of steps: (mean loss, right predictions or None), or None if Ctrl-C stopped it midway."""
    size = options.size
    batches = math.ceil(n / size)
    order = rng.permutation(n) if options.shuffle and batches > 1 else None
    total, right, done = 0.0, 0, 0
    correct: int | None = None
    for start in range(0, n, size):
        chosen = slice(start, start + size) if order is None else order[start : start + size]
        value, correct = trainer.step(chosen)
        total += value * (min(start + size, n) - start)
        right += correct or 0
        done += 1
        if stop.requested:
            break
    if done < batches:
        return None
    return total / n, None if correct is None else right
