"""The playground's data sets, deterministic from the settings' data seed.

Moons, circles and spirals come from `nn.datasets`; XOR (many noisy points, not four) and
the regression set are made here with numpy, by the same lines "copy as code" writes
(`code.py`), so the code a teacher copies builds exactly these points.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import numpy as np

from autograd_lite.playground.settings import Settings

MARGIN = 0.15  # of the data's extent, around it, in the plane the heat maps cover


@dataclass(frozen=True)
class Dataset:
    """Points X (n, 2), the targets `nn.fit` trains on, and the plane (x0, x1, y0, y1) the page draws."""

    X: np.ndarray
    targets: np.ndarray  # ±1 (hinge, mse), 0/1 (bce), or real numbers (regression)
    domain: tuple[float, float, float, float]

    def as_dict(self) -> dict[str, list[float]]:
        """The points for the page."""
        return {"x": self.X[:, 0].tolist(), "y": self.X[:, 1].tolist(), "t": self.targets.tolist()}


def make_xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in the square [-1, 1]²: class 1 where exactly one coordinate is positive; noise moves them after."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    y = (X[:, 0] * X[:, 1] < 0).astype(int)
    return X + rng.normal(0, noise, X.shape), y


def make_regression(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]² with the target sin(2·x0)·cos(2·x1) plus noise."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, 2))
    return X, np.sin(2 * X[:, 0]) * np.cos(2 * X[:, 1]) + rng.normal(0, noise, n)


def make_data(nn: ModuleType, settings: Settings) -> Dataset:
    """The data set the settings name, with targets as their loss wants them."""
    n, noise, seed = settings.samples, settings.noise, settings.dseed
    if settings.data == "moons":
        X, y = nn.datasets.make_moons(n, noise=noise, seed=seed)
    elif settings.data == "circles":
        X, y = nn.datasets.make_circles(n, noise=noise, seed=seed)
    elif settings.data == "spirals":
        X, y = nn.datasets.make_spirals(n, classes=2, noise=noise, seed=seed)
    elif settings.data == "xor":
        X, y = make_xor(n, noise, seed)
    else:
        X, y = make_regression(n, noise, seed)
    if not settings.regression and settings.loss != "bce":
        y = 2 * y - 1  # labels ±1 for the hinge loss and for mse on two classes
    return Dataset(np.asarray(X, float), np.asarray(y), plane(np.asarray(X, float)))


def plane(X: np.ndarray) -> tuple[float, float, float, float]:
    """A square around the points with a margin, so the surface shows a little beyond the data."""
    low, high = X.min(axis=0), X.max(axis=0)
    centre, half = (low + high) / 2, float((high - low).max()) / 2 * (1 + MARGIN) or 1.0
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))
