"""Model and checkpoint files: JSON (never pickle), written atomically, read within fixed limits and checked in full.

Layout, version 1:
    {"format": "autograd_lite.nn", "version": 1,
     "architecture": {"class": "nn.layers.MLP", "config": {...}} or null,
     "state": {"layers.0.neurons.0.w.0": 0.123, ...}}
A checkpoint (nn/checkpoint.py) is such a file with a "training" record added, so
`nn.load` reads its model; this module reads both, with the same limits.

A file may come from anyone, so reading it takes bounded time and memory whatever it
holds. Before opening: anything but a regular file (a folder, a FIFO with no writer,
a device) is refused. Before parsing: at most MAX_FILE_BYTES (64 MiB) are read; at
most MAX_BRACKETS (256) "[" or "{" and about MAX_VALUES (4,000,000) values may appear. While parsing:
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
import stat
from collections import Counter
from typing import BinaryIO

from autograd_lite import write_atomic
from autograd_lite.types import JSONObject
from nn.checks import clip, first_few, short

Path = str | os.PathLike[str]
# JSON records: built by nn when written; when read, each reader checks with isinstance the part it takes.
Record = JSONObject
Config = Record  # a module's constructor keyword arguments, `cls(**config)`
Architecture = Record  # {"class": the module kind's name, "config": a Config}
FORMAT = "autograd_lite.nn"
VERSION = 1
MAX_FILE_BYTES = 64 * 2**20  # 64 MiB: about a million parameters at the ~60 bytes each that `save` writes
MAX_PARAMETERS = 1_000_000  # far past what a scalar engine trains, small enough to build in seconds
MAX_VALUES = 4 * MAX_PARAMETERS  # numbers in a file: a checkpoint holds up to 3 per parameter, and its history
MAX_DEPTH = 32  # a checkpoint nests 5 deep; configs of user modules get room to spare
MAX_DIGITS = 20  # digits of an integer (sizes, seeds); more is not a size a model can have
MAX_BRACKETS = 256  # "[" and "{" in the whole file: a checkpoint has about 12, and each one parsed costs memory
_CHUNK = 2**20  # bytes per read
_SLACK = 1000  # values a file may hold besides its numbers (the architecture record)


class _Refused(Exception):
    """Raised by the parse hooks; turned into a ValueError that names the file."""


def model_record(architecture: Architecture | None, state: dict[str, float]) -> Record:
    """The top-level record of a model file (a checkpoint adds "training" to it)."""
    return {"format": FORMAT, "version": VERSION, "architecture": architecture, "state": state}


def write_record(path: Path, record: Record) -> None:
    """Write `record` as JSON to a temp file beside `path`, then rename it over `path` (all or nothing)."""
    text = json.dumps(record, indent=1, allow_nan=False)
    if len(text) > MAX_FILE_BYTES:  # a character is at least a byte: the file would be too large to load
        raise ValueError(f"cannot save {len(text):,} characters: load reads at most {MAX_FILE_BYTES // 2**20} MiB")
    write_atomic(path, text)


def read_model(path: Path) -> tuple[Architecture | None, dict[str, float]]:
    """(architecture, state) from a model file; ValueError naming what is wrong with a bad or too big file."""
    return model_parts(read_record(path), path)


def model_parts(data: Record, path: Path) -> tuple[Architecture | None, dict[str, float]]:
    """(architecture, state) of a record `read_record` gave, checked."""
    return _architecture(data.get("architecture"), path), _state(data.get("state"), path)


def read_record(path: Path) -> Record:
    """The top-level record of a model or checkpoint file, read and parsed within the limits above."""
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
        raise ValueError(f"{path}: JSON nested more than {MAX_DEPTH} deep (a checkpoint nests 5 deep)")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path}: not an autograd_lite.nn checkpoint (no format {FORMAT!r})")
    if data.get("version") != VERSION:
        raise ValueError(f"{path}: unsupported checkpoint version {short(data.get('version'))} (this reads {VERSION})")
    return data


def _read_text(path: Path) -> str:
    """The file as text, reading at most MAX_FILE_BYTES + 1 bytes (so a huge or growing file ends quickly)."""
    _check_regular(os.stat(path).st_mode, path)  # before opening: opening a FIFO with no writer waits for ever
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with open(fd, "rb") as f:
        info = os.fstat(f.fileno())
        _check_regular(info.st_mode, path)  # what was opened, in case the path was swapped since the stat
        raw = b"" if info.st_size > MAX_FILE_BYTES else _read_at_most(f, MAX_FILE_BYTES + 1)
    if info.st_size > MAX_FILE_BYTES or len(raw) > MAX_FILE_BYTES:
        raise ValueError(f"{path}: larger than the {MAX_FILE_BYTES // 2**20} MiB a checkpoint may have")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a checkpoint (not UTF-8 text)") from None


def _check_regular(mode: int, path: Path) -> None:
    """ValueError unless `mode` is a regular file's (a folder, FIFO, socket or device is not a checkpoint)."""
    if not stat.S_ISREG(mode):
        kinds = {stat.S_ISDIR: "a folder", stat.S_ISFIFO: "a FIFO (named pipe)", stat.S_ISSOCK: "a socket"}
        kind = next((name for test, name in kinds.items() if test(mode)), "a device")
        raise ValueError(f"{path}: {kind}, not a regular file")


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
        raise ValueError(f"{path}: {brackets:,} '[' or '{{' (at most {MAX_BRACKETS}; a checkpoint has about 12)")
    if text.count(",") > MAX_VALUES + _SLACK:
        raise ValueError(f"{path}: more than {MAX_VALUES:,} values (the limit of numbers in a file)")


def _nesting(data: object) -> int:  # containers told apart by isinstance
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
