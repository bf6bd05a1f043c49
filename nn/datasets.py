"""Toy 2-D classification data sets, deterministic by seed (a local numpy Generator).

Each returns `(X, y)`: X a float array of shape (n, 2), y an int array of shape
(n,). Labels are class indices 0, 1, ... like scikit-learn's; for the hinge loss
use labels ±1: `y = 2 * y - 1`.
"""

from __future__ import annotations

import math

import numpy as np

from nn.checks import integer, number


def _shuffled(X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(len(y))
    return X[order], y[order]


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles: the upper one (centre (0, 0)) is class 0, the lower (centre (1, 0.5)) class 1."""
    n, noise = integer(n, "n", 2), number(noise, "noise", 0)
    rng = np.random.default_rng(seed)
    upper, lower = n - n // 2, n // 2
    a, b = np.linspace(0.0, math.pi, upper), np.linspace(0.0, math.pi, lower)
    X = np.concatenate([np.c_[np.cos(a), np.sin(a)], np.c_[1.0 - np.cos(b), 0.5 - np.sin(b)]])
    y = np.repeat([0, 1], [upper, lower])
    return _shuffled(X + rng.normal(0.0, noise, X.shape), y, rng)


def make_circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A unit circle (class 0) around a smaller one of radius `factor` (class 1)."""
    n, noise = integer(n, "n", 2), number(noise, "noise", 0)
    factor = number(factor, "factor", 0, 1, low_open=True)
    rng = np.random.default_rng(seed)
    outer, inner = n - n // 2, n // 2
    a = np.linspace(0.0, 2 * math.pi, outer, endpoint=False)
    b = np.linspace(0.0, 2 * math.pi, inner, endpoint=False)
    X = np.concatenate([np.c_[np.cos(a), np.sin(a)], factor * np.c_[np.cos(b), np.sin(b)]])
    y = np.repeat([0, 1], [outer, inner])
    return _shuffled(X + rng.normal(0.0, noise, X.shape), y, rng)


def make_spirals(
    n: int = 100, classes: int = 3, noise: float = 0.2, turns: float = 0.65, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """`classes` spiral arms from the origin, one per class (labels 0 .. classes−1), n points in all."""
    n, classes, noise = integer(n, "n"), integer(classes, "classes", 2), number(noise, "noise", 0)
    if n < classes:
        raise ValueError(f"n must be at least classes ({classes}), got {n}")
    turns = number(turns, "turns", 0, low_open=True)
    rng = np.random.default_rng(seed)
    sizes = [n // classes + (k < n % classes) for k in range(classes)]
    arms = []
    for k, m in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, m)
        angle = 2 * math.pi * (k / classes + turns * radius) + rng.normal(0.0, noise, m)
        arms.append(radius[:, None] * np.c_[np.cos(angle), np.sin(angle)])
    y = np.repeat(np.arange(classes), sizes)
    return _shuffled(np.concatenate(arms), y, rng)


def xor() -> tuple[np.ndarray, np.ndarray]:
    """The four XOR points: class 1 where exactly one input is 1."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return X, np.array([0, 1, 1, 0])
