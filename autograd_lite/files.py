"""Writing files all or nothing: a temporary file beside the target, then a rename over it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

FILE_MODE = 0o666  # an ordinary file: the OS takes the process umask off, as for open(path, "w")


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never half of one."""
    target = Path(path)
    temp, fd = _create_beside(target)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        os.unlink(temp)
        raise


def _create_beside(target: Path) -> tuple[Path, int]:
    """A new, empty temporary file in target's folder, created with FILE_MODE, and its open descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):  # a clash with another temporary name is astronomically rare; retry anyway
        temp = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
        try:
            return temp, os.open(temp, flags, FILE_MODE)
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file beside {target}")
