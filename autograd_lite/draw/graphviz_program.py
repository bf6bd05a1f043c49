"""The Graphviz program that lays drawings out: the system `dot`, else graphviz-pure's, run explicitly.

A drawing picks its program once (`locate_dot`) and runs it with `run_dot`; the
`graphviz` package's own module-level DOT_BINARY is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

INSTALL_HINT = (
    "no Graphviz `dot` program found: install graphviz-pure (`pip install graphviz-pure`, "
    "a self-contained dot) or system Graphviz (https://graphviz.org/download/, e.g. `apt install graphviz`)"
)
LAYOUT_TIMEOUT = 120  # seconds: a layout running longer is stopped, never left to hang


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


def run_dot(binary: Path, source: str, fmt: str, engine: str = "dot", quiet: bool = True) -> bytes:
    """Lay out and render DOT `source` with the program `binary` (chosen by the caller, passed explicitly).

    RuntimeError with dot's own message when it fails, or when it runs past LAYOUT_TIMEOUT seconds.
    With quiet=False dot's warnings go to stderr.
    """
    try:
        done = subprocess.run(
            [str(binary), f"-K{engine}", f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=LAYOUT_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"graph layout took more than {LAYOUT_TIMEOUT} s; draw a smaller graph") from None
    except OSError as e:
        raise RuntimeError(f"cannot run {binary}: {e.strerror or e}") from None
    warnings = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0:
        raise RuntimeError(f"{binary.name} failed (exit code {done.returncode}): {warnings or 'no message'}")
    if warnings and not quiet:
        print(warnings, file=sys.stderr)
    return done.stdout
