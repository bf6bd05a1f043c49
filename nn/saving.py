"""The checkpoint file: JSON (never pickle), written atomically, read within fixed limits and checked in full.

Layout, version 1:
    {"format": "autograd_lite.nn", "version": 1,
     "architecture": {"class": "nn.layers.MLP", "config": {...}} or null,
     "state": {"layers.0.neurons.0.w.0": 0.123, ...}}

A file may come from anyone, so reading it takes bounded time and memory whatever it
holds. Before parsing: at most MAX_FILE_BYTES (64 MiB) are read; at most MAX_BRACKETS
(256) "[" or "{" and about MAX_PARAMETERS (1,000,000) values may appear. While parsing:
integers of more than MAX_DIGITS (20) digits, NaN and Infinity are refused. After
parsing: nesting deeper than MAX_DEPTH (32) and non-finite parameters are refused.
Before building: the architecture's parameter count (its class's `parameter_count`)
must be within MAX_PARAMETERS and equal the number of values in the file. Each is a
ValueError naming the problem; a model is built only from a file that passed them all.
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from typing import Any, BinaryIO

from autograd_lite import write_atomic
from nn.checks import clip, first_few, short

Path = str | os.PathLike[str]
# {"class": the module kind's name, "config": its constructor's keyword arguments}: JSON, so its values are Any.
Architecture = dict[str, Any]
FORMAT = "autograd_lite.nn"
VERSION = 1
MAX_FILE_BYTES = 64 * 2**20  # 64 MiB: about a million parameters at the ~60 bytes each that `save` writes
MAX_PARAMETERS = 1_000_000  # far past what a scalar engine trains, small enough to build in seconds
MAX_DEPTH = 32  # a checkpoint nests 4 deep; configs of user modules get room to spare
MAX_DIGITS = 20  # digits of an integer (sizes, seeds); more is not a size a model can have
MAX_BRACKETS = 256  # "[" and "{" in the whole file: a checkpoint has about 5, and each one parsed costs memory
_CHUNK = 2**20  # bytes per read
_SLACK = 1000  # values a file may hold besides its parameters (the architecture record)


class _Refused(Exception):
    """Raised by the parse hooks; turned into a ValueError that names the file."""


def write_checkpoint(path: Path, architecture: Architecture | None, state: dict[str, float]) -> None:
    """Write the checkpoint to a temp file beside `path`, then rename it over `path` (all or nothing)."""
    text = json.dumps(
        {"format": FORMAT, "version": VERSION, "architecture": architecture, "state": state},
        indent=1,
        allow_nan=False,
    )
    if len(text) > MAX_FILE_BYTES:  # a character is at least a byte: the file would be too large to load
        raise ValueError(f"cannot save {len(text):,} characters: load reads at most {MAX_FILE_BYTES // 2**20} MiB")
    write_atomic(path, text)


def read_checkpoint(path: Path) -> tuple[Architecture | None, dict[str, float]]:
    """(architecture, state) from a checkpoint; ValueError naming what is wrong with a bad or too big file."""
    text = _read_text(path)
    _check_shape(text, path)
    try:
        data = json.loads(
            text, parse_int=_integer, parse_constant=_no_constant, object_pairs_hook=_object_without_repeats
        )
    except _Refused as refused:
        raise ValueError(f"{path}: {refused}") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: corrupt or truncated checkpoint ({error})") from None
    if _nesting(data) > MAX_DEPTH:
        raise ValueError(f"{path}: JSON nested more than {MAX_DEPTH} deep (a checkpoint nests 4 deep)")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not an autograd_lite.nn checkpoint (no format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported checkpoint version {short(data.get('version'))} (this reads {VERSION})")
    return _architecture(data.get("architecture"), path), _state(data.get("state"), path)


def _read_text(path: Path) -> str:
    """The file as text, reading at most MAX_FILE_BYTES + 1 bytes (so /dev/zero or a huge file ends quickly)."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size  # 0 for devices and pipes: the bounded read below still stops them
        raw = b"" if size > MAX_FILE_BYTES else _read_at_most(f, MAX_FILE_BYTES + 1)
    if size > MAX_FILE_BYTES or len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{path}: larger than the {MAX_FILE_BYTES // 2**20} MiB a checkpoint may have")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a checkpoint (not UTF-8 text)") from None


def _read_at_most(f: BinaryIO, limit: int) -> bytearray:
    """Up to `limit` bytes, read in pieces (one big read would reserve `limit` bytes even for a small file)."""
    data = bytearray()
    while len(data) < limit and (piece := f.read(min(_CHUNK, limit - len(data)))):
        data += piece
    return data


def _check_shape(text: str, path: Path) -> None:
    """Refuse, before parsing, text whose parse would build many containers or values (each costs memory)."""
    brackets = text.count("[") + text.count("{")
    if brackets > MAX_BRACKETS:
        raise ValueError(f"{path}: {brackets:,} '[' or '{{' (at most {MAX_BRACKETS}; a checkpoint has about 5)")
    if text.count(",") > MAX_PARAMETERS + _SLACK:
        raise ValueError(f"{path}: more than {MAX_PARAMETERS:,} values (the limit of parameters in a file)")


def _nesting(data: Any) -> int:  # Any: parsed JSON, containers told apart by isinstance
    """How deep lists and dicts nest in parsed JSON (1 for a flat dict); only containers are visited."""
    deepest, todo = 0, [(data, 1)] if isinstance(data, (dict, list)) else []
    while todo:
        item, depth = todo.pop()
        deepest = max(deepest, depth)
        children = item.values() if isinstance(item, dict) else item
        todo.extend([(c, depth + 1) for c in children if isinstance(c, (dict, list))])
    return deepest


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"an integer with {len(text.lstrip('-'))} digits (at most {MAX_DIGITS} are read)")
    return int(text)


def _no_constant(name: str) -> float:
    raise _Refused(f"{name} in the file (parameters must be finite numbers)")


def _object_without_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # json would silently keep the last of two values under one name
        counts = Counter(key for key, _ in pairs)
        repeated = [clip(key) for key, n in counts.items() if n > 1]
        raise _Refused(f"a name appears twice: {first_few(repeated)}")
    return obj


def _architecture(architecture: object, path: Path) -> Architecture | None:
    if architecture is None:
        return None
    if (
        not isinstance(architecture, dict)
        or set(architecture) != {"class", "config"}
        or not isinstance(architecture["class"], str)
        or not isinstance(architecture["config"], dict)
    ):
        raise ValueError(f"{path}: malformed architecture record {short(architecture)}")
    return architecture


def _state(state: object, path: Path) -> dict[str, float]:
    if not isinstance(state, dict):
        raise ValueError(f"{path}: the checkpoint has no parameter state")
    if len(state) > MAX_PARAMETERS:
        raise ValueError(f"{path}: {len(state):,} parameters, more than the limit of {MAX_PARAMETERS:,}")
    bad = [name for name, value in state.items() if not _finite_number(value)]
    if bad:
        shown = [f"{clip(name)} = {short(state[name])}" for name in bad[:3]] + bad[3:]
        raise ValueError(f"{path}: parameters with a bad value (not a finite number): {first_few(shown)}")
    return {name: float(value) for name, value in state.items()}


def _finite_number(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
