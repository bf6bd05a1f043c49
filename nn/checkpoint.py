"""Checkpoints, as PyTorch has them: the model, the optimizer's state, the epoch and the history in one file.

    history = nn.fit(model, X, y, nn.mse, optimizer, epochs=40, seed=0)
    nn.save_checkpoint("run.json", model, optimizer, history)
    ...  # later, in a new process: the same model class and optimizer settings
    history = nn.fit(model, X, y, nn.mse, optimizer, epochs=5, resume="run.json")   # epochs 41 to 45

`fit(resume=...)` takes a path or a `Checkpoint` (from `load_checkpoint`). It fills the model
and the optimizer from it (all or nothing), numbers the epochs on from the checkpoint's
(`history.first_epoch` is 41, callbacks get 40 to 44, as `fit` counts from 0), and shuffles
with the generator state the checkpoint saved, so 40 epochs plus 5 resumed end with the
weights of 45 epochs, bit for bit (same data, loss, batch size and optimizer settings: loading
restores the optimizer's step count and buffers, not its settings). The returned History holds
the new epochs only; `nn.plot.loss_curves({"first": old, "resumed": new})` draws both on one axis.

The file is a model file (nn/saving.py) with a "training" record added, so `nn.load` reads its
model, and it is read with the same limits: JSON only, written atomically, a size cap checked
before parsing, no repeated names, finite numbers. What the file holds must fit the model and
optimizer it is loaded into (names, kind, Adam's second moments >= 0): each problem is a short
ValueError, and a failed load changes nothing.

    "training": {"optimizer": optimizer.state_dict(model),
                 "history": {"first_epoch": 1, "loss": [...], "accuracy": [...], "interrupted": false,
                             "compiled": true, "backend": "numpy",
                             "rng": {"bit_generator": "PCG64", "state": "<hex>", "inc": "<hex>",
                                     "has_uint32": 0, "uinteger": 0} or null}}

A checkpoint saved after Ctrl-C in the middle of an epoch keeps that epoch's finished steps in
the weights; the resumed fit starts that epoch again. A history saved before "backend" was
recorded reads as "numpy" when compiled, else "scalar".
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from nn import saving
from nn.checks import first_few, integer, keys_of, number, short
from nn.module import architecture_differences, model_record
from nn.saving import Record
from nn.training.history import History, RngState

if TYPE_CHECKING:
    from nn.module import Module
    from nn.optim import Optimizer
    from nn.training.loop import TrainOptions

Path = str | os.PathLike[str]
HISTORY_KEYS = ("first_epoch", "loss", "accuracy", "interrupted", "compiled", "backend", "rng")
BACKENDS = ("numpy", "native", "scalar")
RNG_KEYS = ("bit_generator", "state", "inc", "has_uint32", "uinteger")
_HEX_128 = re.compile(r"[0-9a-f]{1,32}")  # PCG64's state and increment: 128-bit numbers, as hex digits


class NotACheckpoint(ValueError):
    """The file is a model file (`model.save`) without the training record a checkpoint adds."""


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds: the model's architecture and state, the optimizer's state, the history."""

    architecture: saving.Architecture | None
    model_state: dict[str, float]
    optimizer_state: Mapping[str, object]  # as read from the file: the optimizer's load_state_dict checks it
    history: History

    @property
    def epoch(self) -> int:
        """The last epoch trained before the checkpoint, counting from 1 (0 for none)."""
        return self.history.last_epoch

    def restore(self, model: Module, optimizer: Optimizer) -> None:
        """Fill `model` and `optimizer` with the saved state; ValueError if it does not fit (then neither changes)."""
        differences = architecture_differences(model, self.architecture)
        if differences:
            raise ValueError(f"the saved model differs from this one: {first_few(differences)}")
        if not callable(getattr(optimizer, "load_state_dict", None)):
            raise ValueError(f"cannot restore a checkpoint into {short(optimizer)}: it has no load_state_dict()")
        before = model.state_dict()
        model.load_state_dict(self.model_state)  # checks everything before it changes a parameter
        try:
            optimizer.load_state_dict(self.optimizer_state, model)
        except BaseException:
            model.load_state_dict(before)  # the optimizer refused: the model goes back as it was
            raise


def save_checkpoint(path: Path, model: Module, optimizer: Optimizer, history: History | None = None) -> None:
    """Write model, optimizer state and history (the epoch is its last) to `path` as JSON, atomically."""
    record = model_record(model)  # ValueError for weights that could not be loaded back
    if not callable(getattr(optimizer, "state_dict", None)):
        raise ValueError(f"cannot save the state of {short(optimizer)}: it has no state_dict()")
    history = History() if history is None else history
    if not isinstance(history, History):
        raise ValueError(f"history must be the History fit returned, got {short(history)}")
    training = {"optimizer": optimizer.state_dict(model), "history": _history_record(history)}
    saving.write_record(path, {**record, "training": training})


def load_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint saved at `path`, checked; ValueError naming the file and what is wrong (NotACheckpoint for
    a model file without training state). Nothing is loaded into a model until `restore` or `fit(resume=...)`."""
    data = saving.read_record(path)
    architecture, state = saving.model_parts(data, path)
    training = data.get("training")
    if training is None:
        raise NotACheckpoint(f"{path}: a model file without training state (saved by save(), not save_checkpoint())")
    if not isinstance(training, dict) or sorted(training) != ["history", "optimizer"]:
        raise ValueError(f"{path}: the training record must hold optimizer and history, got {keys_of(training)}")
    if not isinstance(training["optimizer"], dict):
        raise ValueError(f"{path}: the optimizer state must be a record, got {keys_of(training['optimizer'])}")
    try:
        history = _history(training["history"])
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from None
    return Checkpoint(architecture, state, training["optimizer"], history)


def resumed(
    resume: Checkpoint | Path | None, model: Module, optimizer: Optimizer, options: TrainOptions
) -> TrainOptions:
    """fit's options continuing `resume`, once model and optimizer hold its state (unchanged on ValueError)."""
    if resume is None:
        return options
    checkpoint = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume)
    rng_state = checkpoint.history.rng_state
    if options.seed is not None and rng_state is not None:
        raise ValueError("resume= continues the checkpoint's shuffling: leave seed= out (the two would disagree)")
    try:
        checkpoint.restore(model, optimizer)
    except ValueError as error:
        where = "the checkpoint" if isinstance(resume, Checkpoint) else str(resume)
        raise ValueError(f"{where}: {error}") from None
    return replace(options, start=checkpoint.epoch, rng_state=rng_state)


def _history_record(history: History) -> Record:
    """The history as the file holds it; ValueError for what JSON cannot hold (a loss that is not finite)."""
    bad = [i for i, loss in enumerate(history.loss) if not np.isfinite(loss)]
    if bad:
        epoch, loss = history.first_epoch + bad[0], history.loss[bad[0]]
        raise ValueError(f"cannot save a checkpoint: the loss of epoch {epoch} is {loss!r} (JSON holds finite numbers)")
    return {
        "first_epoch": history.first_epoch,
        "loss": [float(v) for v in history.loss],
        "accuracy": [None if a is None else float(a) for a in history.accuracy],
        "interrupted": history.interrupted,
        "compiled": history.compiled,
        "backend": history.backend,
        "rng": None if history.rng_state is None else _rng_record(history.rng_state),
    }


def _rng_record(state: RngState) -> Record:
    """numpy's PCG64 state with its two 128-bit numbers as hex text (the reader takes integers of 20 digits)."""
    if state.get("bit_generator") != "PCG64":
        raise ValueError(f"cannot save the shuffling state of a {short(state.get('bit_generator'))} generator")
    inner = state["state"]
    return {
        "bit_generator": "PCG64",
        "state": f"{inner['state']:x}",
        "inc": f"{inner['inc']:x}",
        "has_uint32": int(state["has_uint32"]),
        "uinteger": int(state["uinteger"]),
    }


def _history(record: object) -> History:
    """A History from the file's record; ValueError naming what is malformed."""
    if isinstance(record, dict) and "backend" not in record and "compiled" in record:  # saved before backend was
        record = {**record, "backend": "numpy" if record["compiled"] is True else "scalar"}
    if not isinstance(record, dict) or sorted(record) != sorted(HISTORY_KEYS):
        raise ValueError(f"the history must hold {', '.join(HISTORY_KEYS)}, got {keys_of(record)}")
    loss, accuracy = record["loss"], record["accuracy"]
    if not isinstance(loss, list) or not isinstance(accuracy, list) or len(loss) != len(accuracy):
        raise ValueError("the history's loss and accuracy must be lists of one number per epoch")
    if not all(isinstance(record[k], bool) for k in ("interrupted", "compiled")):
        raise ValueError("the history's interrupted and compiled must be true or false")
    if record["backend"] not in BACKENDS or (record["backend"] != "scalar") != record["compiled"]:
        raise ValueError(
            f"the history's backend must be one of {', '.join(BACKENDS)} and agree with compiled, got "
            f"{short(record['backend'])} with compiled {str(record['compiled']).lower()}"
        )
    return History(
        loss=[number(v, "a loss in the history") for v in loss],
        accuracy=[None if a is None else number(a, "an accuracy in the history", 0, 1, high_open=False)
                  for a in accuracy],
        interrupted=record["interrupted"],
        compiled=record["compiled"],
        backend=record["backend"],
        first_epoch=integer(record["first_epoch"], "the history's first_epoch", 1),
        rng_state=None if record["rng"] is None else _rng_state(record["rng"]),
    )


def _rng_state(record: object) -> RngState:
    """numpy's PCG64 state from the file's record, checked by numpy itself too."""
    if not isinstance(record, Mapping) or sorted(record) != sorted(RNG_KEYS) or record["bit_generator"] != "PCG64":
        raise ValueError(f"the shuffling state must be PCG64 with {', '.join(RNG_KEYS)}, got {keys_of(record)}")
    if not all(isinstance(record[k], str) and _HEX_128.fullmatch(record[k]) for k in ("state", "inc")):
        raise ValueError("the shuffling state's state and inc must be hex numbers of at most 32 digits")
    has_uint32 = integer(record["has_uint32"], "the shuffling state's has_uint32", 0)
    uinteger = integer(record["uinteger"], "the shuffling state's uinteger", 0)
    if has_uint32 > 1 or uinteger >= 2**32:
        raise ValueError("the shuffling state's has_uint32 must be 0 or 1 and uinteger below 2**32")
    state: RngState = {
        "bit_generator": "PCG64",
        "state": {"state": int(record["state"], 16), "inc": int(record["inc"], 16)},
        "has_uint32": has_uint32,
        "uinteger": uinteger,
    }
    bits: np.random.BitGenerator = np.random.PCG64()
    try:
        bits.state = state
    except (TypeError, ValueError) as error:
        raise ValueError(f"numpy refuses the shuffling state: {error}") from None
    return state
