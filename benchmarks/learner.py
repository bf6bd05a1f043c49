"""micrograd's demo step written as a learner writes it, in micrograd and in our scalar engine.

A neuron is `sum((wi * xi for ...), b)`, one node per + and × (micrograd's README), not `nn`'s one-node `dot`:
this measures the engine itself. The two systems run in one process, in rounds whose order rotates, and each
round's ratio is reported (min and median), with the garbage collector on and off.
"""

from __future__ import annotations

import gc
import itertools
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_lite as al
from benchmarks import workload as w

DEMO = [2, 16, 16, 1]  # micrograd's demo MLP


def learner_step(value: Callable[[float], Any], sizes: list[int], weights: list[float],  # Any: either engine's node
                 X: np.ndarray, y: np.ndarray) -> Callable[[], None]:
    """One full-batch SGD step of the demo, written line for line as micrograd's README writes a network."""
    flat = iter(weights)
    layers = [[([value(next(flat)) for _ in range(nin)], value(next(flat))) for _ in range(nout)]
              for nin, nout in itertools.pairwise(sizes)]
    params = [p for layer in layers for ws, b in layer for p in [*ws, b]]
    rows, labels = X.tolist(), y.tolist()

    def score(x: list[Any]) -> Any:  # Any: either engine's node
        for i, layer in enumerate(layers):
            x = [sum((wi * xi for wi, xi in zip(ws, x)), b) for ws, b in layer]
            x = [v.relu() for v in x] if i < len(layers) - 1 else x
        return x[0]

    def step() -> None:
        losses = [(1 + -yi * score(list(map(value, x)))).relu() for x, yi in zip(rows, labels)]
        total = sum(losses) * (1.0 / len(losses)) + w.ALPHA * sum(p * p for p in params)
        for p in params:
            p.grad = 0.0
        total.backward()
        for p in params:
            p.data -= 0.01 * p.grad

    return step


def _round(steps: dict[str, Callable[[], None]], order: list[str], collector: bool) -> dict[str, float]:
    """Seconds per step of each system, timed in `order`."""
    seconds = {}
    for name in order:
        gc.collect()
        if not collector:
            gc.disable()
        try:
            start = time.perf_counter()
            steps[name]()
            seconds[name] = time.perf_counter() - start
        finally:
            gc.enable()
    return seconds


def learner_ratios(rounds: int, collector: bool) -> tuple[float, float, float, float]:
    """(min, median) of micrograd's time over ours per round, and our and micrograd's median step time."""
    from micrograd.engine import Value

    X, y = w.make_moons(100)
    weights = w.initial_weights(DEMO)
    steps = {"micrograd": learner_step(Value, DEMO, weights, X, y),
             "autograd_lite": learner_step(al.Value, DEMO, weights, X, y)}
    names = list(steps)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))  # micrograd's recursive topological sort
    per_round = [_round(steps, names[r % 2:] + names[:r % 2], collector) for r in range(rounds)]
    ratios = [t["micrograd"] / t["autograd_lite"] for t in per_round]
    ours = statistics.median(t["autograd_lite"] for t in per_round)
    theirs = statistics.median(t["micrograd"] for t in per_round)
    return min(ratios), statistics.median(ratios), ours, theirs


def learner_rows(report: Any, rounds: int) -> dict[bool, float]:  # Any: run.Report (run imports this module)
    """The table of the learner's code, GC on and off; returns the median speed vs micrograd by collector on/off."""
    rows, medians = [], {}
    for collector in (True, False):
        low, medians[collector], ours, theirs = learner_ratios(rounds, collector)
        rows.append(["on" if collector else "off", w.fmt_time(theirs), w.fmt_time(ours), f"{medians[collector]:.2f}×",
                     f"{low:.2f}×"])
    report.add("The learner's code: the demo step written as micrograd's README writes it (a neuron as "
               f"`sum(wi * xi ...)`, a node per op), both engines; {rounds} rounds in rotated order, per-round "
               "ratios:", "")
    report.table(["GC", "micrograd", "autograd_lite", "speed vs micrograd (median)", "min"], rows)
    return medians


def checks(report: Any, with_micrograd: bool, rounds: int) -> list[tuple[str, float | None, float, bool]]:
    """The learner's code's table (when micrograd is installed) and its targets, as `run.targets` takes them."""
    medians = learner_rows(report, rounds) if with_micrograd else {}
    return [
        ("learner's code: speed vs micrograd (GC on)", medians.get(True), 5, True),
        ("learner's code: speed vs micrograd (GC off)", medians.get(False), 1.5, True),
    ]
