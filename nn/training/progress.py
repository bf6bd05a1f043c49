"""What `fit` shows and hears while it runs: a progress bar, and Ctrl-C as a request to stop."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType


def _tqdm() -> type | None:
    """tqdm's class: the notebook widget when ipywidgets is there, the text bar otherwise, None without tqdm."""
    try:
        import ipywidgets  # noqa: F401  (without it tqdm.auto falls back to text)
        from tqdm.auto import tqdm
    except ImportError:
        try:
            from tqdm import tqdm  # an extra: fit must work without it
        except ImportError:
            return None
    return tqdm


class Progress:
    """A tqdm bar with loss and accuracy, or a plain text line when tqdm is not installed."""

    def __init__(self, epochs: int, enabled: bool) -> None:
        self.epochs, self.enabled, self.bar = epochs, enabled, None
        if enabled:
            tqdm = _tqdm()
            if tqdm is not None:
                self.bar = tqdm(total=epochs, desc="fit", unit="epoch")

    def update(self, epoch: int, loss: float, accuracy: float | None, epochs: int = 1) -> None:
        """Show the state after `epoch` (0-based), `epochs` epochs after the last update."""
        if not self.enabled:
            return
        text = f"loss {loss:.4g}" + ("" if accuracy is None else f", accuracy {accuracy:.1%}")
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(epochs)
        else:
            print(f"\repoch {epoch + 1}/{self.epochs}: {text}   ", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        """End the bar or the line."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled:
            print(file=sys.stderr, flush=True)


class StopOnInterrupt:
    """Context: the first Ctrl-C sets `requested` (training stops after the current step); a second one raises.

    Only the main thread receives signals; elsewhere Ctrl-C arrives as KeyboardInterrupt as usual.
    """

    def __init__(self) -> None:
        self.requested = False
        self.previous: Callable[[int, FrameType | None], object] | int | None = None  # the handler before ours

    def __enter__(self) -> StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, kind: type | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
