"""Regenerate the README's pictures of explore and fit(live=True): `python docs/live_pictures.py` from the root.

- docs/live_strip.png: frames of the live figure (nn/live.py) after epochs 1, 10, 30 and 100 of the
  two-moons training of notebook 05, stacked top to bottom.
- docs/explore.png: taken by the real-browser test in headless chromium, which this runs with
  EXPLORE_SCREENSHOT set (it needs chromium, Playwright's Python client, nbconvert and npm).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import nn
from nn.figures.live import LiveFigure

DOCS = Path(__file__).resolve().parent
FRAMES = (1, 10, 30, 100)  # epochs shown


def frame(live: LiveFigure, history: nn.History) -> np.ndarray:
    """The live figure after this epoch as an RGBA array."""
    import matplotlib.image

    live.draw(history)
    buffer = io.BytesIO()
    live.figure.savefig(buffer, format="png", dpi=80)
    buffer.seek(0)
    return matplotlib.image.imread(buffer)


def live_strip(path: Path) -> None:
    """Train notebook 05's model and stack the live figure's frames at FRAMES into one PNG."""
    import matplotlib.image

    X, labels = nn.datasets.make_moons(100, noise=0.1, seed=1)
    y = 2 * labels - 1
    model = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    optimizer = nn.SGD(model.parameters(), lr=lambda step: 1.0 - 0.9 * step / FRAMES[-1])
    live = LiveFigure(model, X, y, nn.hinge, FRAMES[-1])
    frames: list[np.ndarray] = []

    def keep(epoch: int, history: nn.History) -> None:
        if epoch + 1 in FRAMES:
            frames.append(frame(live, history))

    nn.fit(model, X, y, nn.hinge, optimizer, FRAMES[-1], l2=1e-4, progress=False, callback=keep)
    matplotlib.image.imsave(path, np.concatenate(frames, axis=0))


def explore_screenshot(path: Path) -> None:
    """Run the browser test, which saves its screenshot of the exported explore widget to `path`."""
    env = {**os.environ, "EXPLORE_SCREENSHOT": str(path)}
    test = "tests/test_explore.py::test_the_exported_widget_renders_in_chromium"
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:nbmake", "-o", "addopts=", test],
                   cwd=DOCS.parent, env=env, check=True)


if __name__ == "__main__":
    live_strip(DOCS / "live_strip.png")
    explore_screenshot(DOCS / "explore.png")
