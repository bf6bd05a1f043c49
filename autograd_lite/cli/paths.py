"""Where the command may write: anywhere the user can, except the kernel's own folders.

As root, `draw -o /dev/full.svg` or `train --out /dev/run` would otherwise create
regular files among the device files (and /proc and /sys are not storage at all).
"""

from __future__ import annotations

from pathlib import Path

SYSTEM_FOLDERS = (Path("/dev"), Path("/proc"), Path("/sys"))


def system_folder(folder: Path) -> Path | None:
    """The kernel folder (/dev, /proc or /sys) that `folder` is or lies in, after following links; else None."""
    resolved = folder.resolve()
    return next((s for s in SYSTEM_FOLDERS if resolved == s or s in resolved.parents), None)


def refuse_system_folder(flag: str, given: str, folder: Path) -> str | None:
    """One line saying why `flag given` may not write into `folder`, or None when it may."""
    system = system_folder(folder)
    if system is None:
        return None
    return f"{flag} {given}: {system} holds the system's devices and kernel files, not output; choose another folder"
