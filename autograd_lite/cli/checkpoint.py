"""What `train --load` resumes from: the checkpoint nn writes (`nn.save_checkpoint`), read with nn's limits.

`train` writes model.json as an nn checkpoint: the model (so `nn.load` reads it), the
optimizer's state keyed by parameter name, and the history with its last epoch and the
shuffling state. `--load` of such a file goes on where training stopped (`nn.fit(resume=...)`);
a model file without training state (`model.save`) gives the weights and a fresh optimizer.
The reading, its limits and its checks are nn's (nn/saving.py, nn/checkpoint.py), not this file's.
"""

from __future__ import annotations

import os

import nn
from nn.checkpoint import NotACheckpoint
from nn.checks import number

KINDS = {"Adam": "adam", "SGD": "sgd"}  # an nn optimizer class -> the --optimizer name that builds it


def kind_of(optimizer: nn.Optimizer) -> str:
    """'adam' or 'sgd'."""
    return "adam" if isinstance(optimizer, nn.Adam) else "sgd"


def read(path: str | os.PathLike[str]) -> nn.Checkpoint | None:
    """The checkpoint at `path`, or None for a model file without training state; ValueError for a bad file."""
    try:
        checkpoint = nn.load_checkpoint(path)
    except NotACheckpoint:
        return None
    if checkpoint.optimizer_state.get("kind") not in KINDS:
        raise ValueError(f"{path}: holds the state of a {checkpoint.optimizer_state.get('kind')!r} optimizer, "
                         f"not of {' or '.join(KINDS)}")
    return checkpoint


def saved_kind(checkpoint: nn.Checkpoint) -> str:
    """The --optimizer name of the checkpoint's optimizer ('adam' or 'sgd')."""
    return KINDS[str(checkpoint.optimizer_state["kind"])]  # one of KINDS: load_checked refused any other


def saved_lr(checkpoint: nn.Checkpoint) -> float | None:
    """The learning rate the checkpoint's optimizer was built with (None: a schedule); ValueError for a bad one."""
    settings = checkpoint.optimizer_state.get("settings")
    lr = settings.get("lr") if isinstance(settings, dict) else None
    return None if lr is None else number(lr, "the saved lr", 0, low_open=True)
