"""Finding a Graphviz `dot` for the `graphviz` package: the system one, else graphviz-pure's."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

INSTALL_HINT = (
    "no Graphviz `dot` program found: install graphviz-pure (`pip install graphviz-pure`, "
    "a self-contained dot) or system Graphviz (https://graphviz.org/download/, e.g. `apt install graphviz`)"
)


def fallback_dirs() -> list[Path]:
    """Where pip puts graphviz-pure's program: next to this Python, and the scripts directories."""
    dirs = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        dirs.append(Path(sysconfig.get_path("scripts", user_scheme)))
    return dirs


def locate_dot(path: str | None = None, extra_dirs: Iterable[Path] | None = None) -> Path:
    """A `dot` on `path` (default: $PATH), else graphviz-pure there or in `extra_dirs`; RuntimeError if none."""
    path = os.environ.get("PATH", "") if path is None else path
    system_dot = shutil.which("dot", path=path)
    if system_dot:
        return Path(system_dot)
    dirs = [*(fallback_dirs() if extra_dirs is None else extra_dirs)]
    search = os.pathsep.join([*map(str, dirs), path])
    pure = shutil.which("graphviz-pure", path=search)
    if pure:
        return Path(pure)
    raise RuntimeError(INSTALL_HINT)


def ensure_dot(path: str | None = None, extra_dirs: Iterable[Path] | None = None) -> Path:
    """Point the `graphviz` package at the `dot` that `locate_dot` finds, and return it."""
    from graphviz.backend import dot_command

    binary = locate_dot(path, extra_dirs)
    dot_command.DOT_BINARY = binary
    return binary
