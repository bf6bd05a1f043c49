"""The benchmark's correctness parts on a tiny batch: every engine's losses agree step by step (no timing)."""

from __future__ import annotations

import importlib.util

import pytest

from benchmarks import workload

ENGINES = ["autograd_lite", "compiled", "micrograd", "torch"]
TOLERANCE = 1e-9


def installed(name: str) -> bool:
    module = {"micrograd": "micrograd", "torch": "torch"}.get(name)
    return module is None or importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("engine", [e for e in ENGINES if e != "autograd_lite"])
def test_losses_agree_with_the_scalar_engine(engine):
    if not installed(engine):
        pytest.skip(f"{engine} is not installed (benchmark-only dependency)")
    X, y = workload.make_moons(12, seed=3)
    traces = workload.loss_traces(["autograd_lite", engine], [2, 4, 3, 1], X, y, steps=3)
    assert len(set(traces["autograd_lite"])) == 3, "the loss changes from step to step"
    worst = workload.max_disagreement(traces, "autograd_lite")[engine]
    assert worst <= TOLERANCE, f"{engine} differs from the scalar engine by {worst}"


def test_moons_are_deterministic_and_balanced():
    X, y = workload.make_moons(101, seed=5)
    X2, y2 = workload.make_moons(101, seed=5)
    assert X.shape == (101, 2) and (X == X2).all() and (y == y2).all()
    assert sorted(set(y.tolist())) == [-1.0, 1.0] and abs(int(y.sum())) == 1
