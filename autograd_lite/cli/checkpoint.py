"""The optimizer's half of a checkpoint: Adam's moments or SGD's momentum buffers, the step count and the lr.

Saved beside the model as `<model>.optimizer.json` (JSON, written atomically), keyed
by parameter name, so `--load` resumes where training stopped instead of starting a
fresh Adam whose first steps undo a converged model. Read from and written to the
optimizer's public attributes (`steps`, `lr`, `m`/`v`, `velocity`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

import nn
from autograd_lite.files import write_atomic


class OptimizerState(TypedDict):
    """What `read_state` gives and `restore` takes."""

    optimizer: str
    steps: int
    lr: float | None
    buffers: dict[str, list[float]]  # buffer name -> one float per parameter, in named_parameters order


FORMAT = "autograd_lite.cli.optimizer"
VERSION = 1
MAX_BYTES = 64 * 1024 * 1024  # larger than any state of a model within options.MAX_PARAMETERS
BUFFERS = {"adam": ("m", "v"), "sgd": ("velocity",)}


def state_path(model_path: str | os.PathLike[str]) -> Path:
    """Where the optimizer state of the model saved at `model_path` lives: `model.json` -> `model.optimizer.json`."""
    path = Path(model_path)
    return path.with_name(f"{path.stem}.optimizer.json")


def kind_of(optimizer: nn.Optimizer) -> str:
    """'adam' or 'sgd'."""
    return "adam" if isinstance(optimizer, nn.Adam) else "sgd"


def save_state(path: Path, model: nn.Module, optimizer: nn.Optimizer) -> None:
    """Write the optimizer's state for `model`'s parameters to `path`, atomically."""
    names = [name for name, _ in model.named_parameters()]
    kind = kind_of(optimizer)
    buffers = {b: dict(zip(names, getattr(optimizer, b), strict=True)) for b in BUFFERS[kind]}
    lr = optimizer.lr if isinstance(optimizer.lr, (int, float)) else None
    record = {"format": FORMAT, "version": VERSION, "optimizer": kind, "steps": optimizer.steps, "lr": lr}
    write_atomic(path, json.dumps({**record, "buffers": buffers}, allow_nan=False))


def read_state(path: Path, model: nn.Module) -> OptimizerState:
    """The saved state checked against `model`: {"optimizer", "steps", "lr", "buffers": {name: [floats]}}.

    ValueError naming the file and the problem for anything malformed.
    """
    if not path.is_file():
        raise ValueError(f"{path}: not a regular file")
    if path.stat().st_size > MAX_BYTES:
        raise ValueError(f"{path}: larger than {MAX_BYTES} bytes, not an optimizer state")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError(f"{path}: not an optimizer state (not readable JSON)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError(f"{path}: not an optimizer state of version {VERSION}")
    kind, steps, lr = data.get("optimizer"), data.get("steps"), data.get("lr")
    if kind not in BUFFERS or isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"{path}: bad optimizer kind or step count")
    if lr is not None and not _finite_number(lr, positive=True):
        raise ValueError(f"{path}: bad learning rate {lr!r}")
    names = [name for name, _ in model.named_parameters()]
    buffers = data.get("buffers")
    if not isinstance(buffers, dict) or set(buffers) != set(BUFFERS[kind]):
        raise ValueError(f"{path}: expected the buffers {', '.join(BUFFERS[kind])}")
    rows = {b: _buffer(path, b, buffers[b], names) for b in BUFFERS[kind]}
    return {"optimizer": kind, "steps": steps, "lr": lr, "buffers": rows}


def _buffer(path: Path, name: str, values: object, names: list[str]) -> list[float]:
    if not isinstance(values, dict) or set(values) != set(names):
        raise ValueError(f"{path}: buffer {name} does not match the model's parameters")
    if not all(_finite_number(values[n]) for n in names):
        raise ValueError(f"{path}: buffer {name} holds a value that is not a finite number")
    return [float(values[n]) for n in names]


def _finite_number(x: Any, positive: bool = False) -> bool:  # Any: a JSON value, checked here
    ok = not isinstance(x, bool) and isinstance(x, (int, float)) and math.isfinite(x)
    return ok and (x > 0 or not positive)


def restore(optimizer: nn.Optimizer, state: OptimizerState) -> None:
    """Put a state from `read_state` into an optimizer of the same kind over the same parameters."""
    optimizer.steps = state["steps"]
    for name, values in state["buffers"].items():
        setattr(optimizer, name, np.array(values, dtype=float))  # the optimizers keep their buffers as arrays
