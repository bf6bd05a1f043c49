"""Toy data sets: shapes, labels, determinism by seed, geometry, and argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from nn import datasets

MAKERS = [
    (lambda seed: datasets.make_moons(101, noise=0.1, seed=seed), 2),
    (lambda seed: datasets.make_circles(101, noise=0.05, seed=seed), 2),
    (lambda seed: datasets.make_spirals(101, classes=3, seed=seed), 3),
]


@pytest.mark.parametrize(("make", "classes"), MAKERS)
def test_shapes_labels_and_determinism(make, classes):
    X, y = make(0)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype.kind == "i"
    assert set(y.tolist()) == set(range(classes))
    assert abs(np.bincount(y).max() - np.bincount(y).min()) <= 1, "classes are balanced"
    X2, y2 = make(0)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    assert not np.array_equal(make(1)[0], X)


def test_seeded_data_leaves_global_numpy_state_alone():
    np.random.seed(5)
    before = np.random.random()
    np.random.seed(5)
    datasets.make_moons(50, seed=1)
    assert np.random.random() == before


def test_moons_geometry_without_noise():
    X, y = datasets.make_moons(40, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_circles_geometry_without_noise():
    X, y = datasets.make_circles(40, noise=0.0, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0) and np.allclose(radius[y == 1], 0.3)


def test_xor():
    X, y = datasets.xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y.tolist() == [int(a != b) for a, b in X.tolist()]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: datasets.make_moons(1), "n must be an integer >= 2"),
        (lambda: datasets.make_moons(10.5), "n must be an integer"),
        (lambda: datasets.make_moons(10, noise=-0.1), "noise must be a finite number >= 0"),
        (lambda: datasets.make_circles(10, factor=1.0), r"factor must be a finite number in \(0, 1\)"),
        (lambda: datasets.make_circles(10, noise=float("nan")), "noise must be a finite number"),
        (lambda: datasets.make_spirals(10, classes=1), "classes must be an integer >= 2"),
        (lambda: datasets.make_spirals(2, classes=3), "n must be at least classes"),
        (lambda: datasets.make_spirals(10, turns=0), "turns must be a finite number > 0"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
