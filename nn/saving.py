"""The checkpoint file: JSON (never pickle), written atomically, checked fully when read.

Layout, version 1:
    {"format": "autograd_lite.nn", "version": 1,
     "architecture": {"class": "nn.layers.MLP", "config": {...}} or null,
     "state": {"layers.0.neurons.0.w.0": 0.123, ...}}
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

from autograd_lite.files import write_atomic

FORMAT = "autograd_lite.nn"
VERSION = 1


def write_checkpoint(path: str | os.PathLike, architecture: dict[str, Any] | None, state: dict[str, float]) -> None:
    """Write the checkpoint to a temp file beside `path`, then rename it over `path` (all or nothing)."""
    text = json.dumps(
        {"format": FORMAT, "version": VERSION, "architecture": architecture, "state": state},
        indent=1,
        allow_nan=False,
    )
    write_atomic(path, text)


def read_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any] | None, dict[str, float]]:
    """(architecture, state) from a checkpoint; ValueError naming what is wrong with a bad file."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a checkpoint (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: corrupt or truncated checkpoint ({error})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not an autograd_lite.nn checkpoint (no format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported checkpoint version {data.get('version')!r} (this reads {VERSION})")
    return _architecture(data.get("architecture"), path), _state(data.get("state"), path)


def _architecture(architecture: Any, path: str | os.PathLike) -> dict[str, Any] | None:
    if architecture is None:
        return None
    if (
        not isinstance(architecture, dict)
        or set(architecture) != {"class", "config"}
        or not isinstance(architecture["class"], str)
        or not isinstance(architecture["config"], dict)
    ):
        raise ValueError(f"{path}: malformed architecture record {architecture!r}")
    return architecture


def _state(state: Any, path: str | os.PathLike) -> dict[str, float]:
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the checkpoint has no parameter state")
    for name, value in state.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{path}: parameter {name} has a bad value {value!r}")
    return {name: float(value) for name, value in state.items()}
