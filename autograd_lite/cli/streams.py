"""The command's stdout and stderr: readable in any encoding, and a reader that stops early is not a write error.

- `PYTHONIOENCODING=ascii` (or an old terminal): "→", "Σ", "²" are written as "->",
  "sum ", "^2" instead of failing the run with UnicodeEncodeError.
- `autograd-lite train | head -2`: once the reader has gone, what is printed is dropped
  and the run goes on to write its files; `main` then says that stdout was closed,
  instead of blaming the file being written when the pipe broke.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import TextIO, cast

ERRORS = "autograd_lite.ascii"
SPELLINGS = {
    "→": "->", "←": "<-", "×": "x", "·": "*", "²": "^2", "³": "^3", "Σ": "sum ", "σ": "sigma", "∂": "d",
    "…": "...", "≈": "~", "≤": "<=", "≥": ">=", "—": "-", "–": "-", "‘": "'", "’": "'", "“": '"', "”": '"',
}
SAMPLE = "".join(SPELLINGS)  # what the command prints beyond ASCII


def _spell(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: the ASCII spelling of each character the stream cannot encode, else '?'."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(SPELLINGS.get(c, "?") for c in text), error.end


codecs.register_error(ERRORS, _spell)


class Guarded:
    """A text stream whose writes never raise BrokenPipeError: after the reader has gone they are dropped."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        """Write text, or drop it when the reader has gone."""
        if not self.broken:
            with self._watch():
                return self.stream.write(text)
        return len(text)

    def flush(self) -> None:
        """Flush, or nothing when the reader has gone."""
        if not self.broken:
            with self._watch():
                self.stream.flush()

    @contextlib.contextmanager
    def _watch(self) -> Iterator[None]:
        try:
            yield
        except BrokenPipeError:
            self.broken = True
            with contextlib.suppress(OSError, ValueError):  # no real descriptor (a test's capture): nothing to do
                # what is still buffered goes to /dev/null, so Python's flush at exit has nothing to complain about
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)  # encoding, isatty, fileno, ... as the real stream has them


def _fit_encoding(stream: TextIO) -> Callable[[], None]:
    """Give the stream ASCII spellings if it cannot encode what we print; return what puts it back."""
    try:
        SAMPLE.encode(stream.encoding or "ascii")
        return lambda: None
    except (UnicodeEncodeError, LookupError):
        pass
    reconfigure = getattr(stream, "reconfigure", None)  # io.TextIOWrapper has it; a replaced sys.stdout may not
    if reconfigure is None:
        return lambda: None
    old = stream.errors
    reconfigure(errors=ERRORS)
    return lambda: reconfigure(errors=old)


@contextlib.contextmanager
def guarded() -> Iterator[tuple[Guarded, Guarded]]:
    """sys.stdout and sys.stderr guarded (see the module's docstring) for the duration of a command."""
    real = sys.stdout, sys.stderr
    undo = [_fit_encoding(s) for s in real]
    out, err = Guarded(real[0]), Guarded(real[1])
    sys.stdout, sys.stderr = cast(TextIO, out), cast(TextIO, err)
    try:
        yield out, err
    finally:
        out.flush()
        err.flush()
        sys.stdout, sys.stderr = real
        for put_back in undo:
            put_back()
