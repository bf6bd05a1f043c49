"""Ctrl-C while `autograd-lite` is still loading (numpy and the engine: the first ~0.3 s) is one line, not a traceback.

Python turns Ctrl-C into a KeyboardInterrupt wherever the program is, and during the
first imports no code of the command is running yet to catch it. So, only when this
process is the `autograd-lite` command (the console script, or `python -m autograd_lite`),
importing this module (the engine's `__init__` does, before its own imports) calls
`quiet_while_loading()`: until `main` starts (and calls `restore()`), Ctrl-C prints one
line and exits with 130, the shell's code for Ctrl-C. Nothing can be half-written then: no file is open yet. From
`main` on, Ctrl-C is a KeyboardInterrupt again, which `nn.fit` turns into a clean stop.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from types import FrameType

COMMAND = "autograd-lite"
EXIT_CODE = 130  # 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C


def is_the_command() -> bool:
    """True when this process was started as `autograd-lite ...` or `python -m autograd_lite ...`."""
    if sys.argv and Path(sys.argv[0]).name.split(".")[0] in (COMMAND, f"{COMMAND}-script"):
        return True
    argv = getattr(sys, "orig_argv", [])  # during `python -m`'s package import, sys.argv[0] is still "-m"
    if "-m" not in argv:
        return False
    target = argv[argv.index("-m") + 1 :][:1]
    return bool(target) and target[0].split(".")[0] == "autograd_lite"


def _leave(signum: int, frame: FrameType | None) -> None:
    os.write(2, f"{COMMAND}: interrupted\n".encode())
    os._exit(EXIT_CODE)  # not an exception: one could surface anywhere in an import, as a traceback


def quiet_while_loading() -> None:
    """Install the one-line Ctrl-C handler when this process is the command and Ctrl-C has Python's default."""
    if not is_the_command() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    with contextlib.suppress(ValueError):  # not the main thread: leave Python's handler
        signal.signal(signal.SIGINT, _leave)


def restore() -> None:
    """Python's own Ctrl-C (KeyboardInterrupt) again, if `quiet_while_loading` replaced it."""
    if signal.getsignal(signal.SIGINT) is _leave:
        signal.signal(signal.SIGINT, signal.default_int_handler)


quiet_while_loading()  # on import, so the engine's __init__ needs one import line and no call between its imports
