"""Benchmarks of autograd_lite against micrograd 0.1.0 and PyTorch, measured in one process.

    python benchmarks/run.py [--quick]

Prints a markdown report and writes it to benchmarks/results.md. Figures are
medians over repeats (the training section: min / median over interleaved rounds);
micrograd and torch rows are skipped (with a note) when those packages are absent.
numpy's BLAS runs as the user's environment sets it up (nothing of it is changed, so the
figures are what users get); torch runs on one thread and with its default thread count.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import autograd_lite as al  # noqa: E402
from benchmarks import fit as training  # noqa: E402
from benchmarks import jax_peer, jax_table  # noqa: E402
from benchmarks import learner as learner_code  # noqa: E402
from benchmarks import workload as w  # noqa: E402

N = TypeVar("N")  # a graph node, of whichever engine built the graph

DEMO = [2, 16, 16, 1]
TOLERANCE = 1e-9


def median_time(f: Callable[[int], object], repeats: int, number: int = 1, collector: bool = True) -> float:
    """Median over `repeats` of the mean time of `number` back-to-back calls f(k), after one untimed call.

    With `collector` the garbage collector runs as it would in a training loop;
    without, it is off while timing (as in timeit).
    """
    f(0)
    k = 1
    times = []
    for _ in range(repeats):
        gc.collect()
        if not collector:
            gc.disable()
        try:
            start = time.perf_counter()
            for _ in range(number):
                f(k)
                k += 1
            times.append((time.perf_counter() - start) / number)
        finally:
            gc.enable()
    return statistics.median(times)


class Report:
    """Markdown lines, echoed as they come so a long run shows progress."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, *lines: str) -> None:
        for line in lines:
            print(line, flush=True)
            self.lines.append(line)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.add(
            "| " + " | ".join(header) + " |",
            "|" + "|".join("---" for _ in header) + "|",
            *("| " + " | ".join(row) + " |" for row in rows),
            "",
        )


def agreement(report: Report, engines: list[str], steps: int) -> None:
    """Per-step losses of every engine against the scalar engine; raises if any differs by more than 1e-9."""
    X, y = w.make_moons(100)
    traces = w.loss_traces(engines, DEMO, X, y, steps)
    worst = w.max_disagreement(traces, "autograd_lite")
    rows = [[name, f"{worst[name]:.1e}"] for name in engines if name != "autograd_lite"]
    report.add(f"Losses over {steps} SGD steps from identical weights (first: {traces['autograd_lite'][0]:.12f}):", "")
    report.table(["engine", "max per-step |Δloss| vs autograd_lite"], rows)
    bad = {k: v for k, v in worst.items() if not v <= TOLERANCE}
    if bad:
        raise SystemExit(f"loss disagreement above {TOLERANCE}: {bad}")


def demo_step_times(
    report: Report, engines: list[str], repeats: dict[str, tuple[int, int]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Time of one full-batch step of micrograd's demo in each engine, with and without the garbage collector."""
    X, y = w.make_moons(100)
    weights = w.initial_weights(DEMO)
    times, no_gc = {}, {}
    for name in engines:
        times[name] = median_time(w.stepper(name, DEMO, weights, X, y), *repeats[name])
        no_gc[name] = median_time(w.stepper(name, DEMO, weights, X, y), *repeats[name], collector=False)
    rows = []
    for name, t in times.items():
        vs_mg = f"{times['micrograd'] / t:.1f}×" if "micrograd" in times else "–"
        vs_torch = f"{times['torch'] / t:.2f}×" if "torch" in times else "–"
        vs_mg_off = f"{no_gc['micrograd'] / no_gc[name]:.1f}×" if "micrograd" in times else "–"
        rows.append([name, w.fmt_time(t), vs_mg, vs_torch, w.fmt_time(no_gc[name]), vs_mg_off])
    report.add(
        "micrograd's demo step (MLP 2-16-16-1, 100 moons, hinge + L2, full-batch SGD), median per step; "
        "'GC off' times the same step with Python's garbage collector disabled (micrograd's graph is full of "
        "reference cycles, so the collector is a large part of its cost in a real training loop):",
        "",
    )
    report.table(
        ["engine", "time per step", "speed vs micrograd", "speed vs torch", "GC off", "GC off: speed vs micrograd"],
        rows,
    )
    return times, no_gc


def count_nodes(root: N, parents: Callable[[N], Iterable[N]]) -> int:
    """Nodes reachable from root (iterative)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for p in parents(stack.pop()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def graph_bytes(build: Callable[[], N], parents: Callable[[N], Iterable[N]]) -> tuple[int, int]:
    """(bytes allocated while building a graph, its node count) via tracemalloc."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        root = build()
        used = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return used, count_nodes(root, parents)


def memory(report: Report, with_micrograd: bool) -> float | None:
    """Bytes per node of the demo's loss graph in each engine; returns ours / micrograd's."""
    X, y = w.make_moons(100)
    weights = w.initial_weights(DEMO)
    ours = w.ours_setup(DEMO, weights)
    rows = []
    used, n = graph_bytes(lambda: w.ours_loss(ours, X, y), lambda v: v.parents)
    rows.append(["autograd_lite", f"{n}", f"{used / 1e6:.2f} MB", f"{used / n:.0f}"])
    if with_micrograd:
        from micrograd.engine import Value

        model = w.micrograd_setup(DEMO, weights)

        def build() -> Any:  # Any: micrograd ships no types
            inputs = [list(map(Value, row)) for row in X.tolist()]
            losses = [(1 + -yi * model(x)).relu() for yi, x in zip(y.tolist(), inputs)]
            return sum(losses) * (1.0 / len(losses)) + w.ALPHA * sum(p * p for p in model.parameters())

        mg_used, mg_n = graph_bytes(build, lambda v: v._prev)
        rows.append(["micrograd", f"{mg_n}", f"{mg_used / 1e6:.2f} MB", f"{mg_used / mg_n:.0f}"])
        rows.append(["ratio", "", f"{used / mg_used:.2f}", f"{(used / n) / (mg_used / mg_n):.2f}"])
    report.add("Memory of the demo's loss graph (tracemalloc, everything allocated while building it):", "")
    report.table(["engine", "nodes", "graph", "bytes per node"], rows)
    return (used / n) / (mg_used / mg_n) if with_micrograd else None


def chain_backward(report: Report, n: int, repeats: int) -> None:
    """Backward over an n-node chain of tanh gates."""
    times = []
    for _ in range(repeats):
        v = al.Value(0.5)
        for _ in range(n - 1):
            v = v.tanh()
        gc.collect()
        start = time.perf_counter()
        v.backward()
        times.append(time.perf_counter() - start)
        del v
    report.add(
        f"Backward over a {n:,}-node chain of tanh gates: {w.fmt_time(statistics.median(times))} "
        f"(median of {repeats}; micrograd's recursive topological sort cannot take this depth).",
        "",
    )


def scaling(
    report: Report, batches: list[int], sizes_list: list[list[int]], with_torch: bool, budget: float
) -> dict[tuple[str, int], float]:
    """Per-step time of the compiled path (and torch) over batch sizes and MLP sizes; returns torch time / ours."""
    rows, speed = [], {}
    for sizes in sizes_list:
        weights = w.initial_weights(sizes)
        for B in batches:
            X, y = w.make_moons(B)
            ours = w.stepper("compiled", sizes, weights, X, y)
            number = max(1, min(200, int(budget / 15 / max(_one(ours), 1e-6))))
            t_ours = median_time(ours, 15, number)
            row = ["-".join(map(str, sizes)), f"{B:,}", w.fmt_time(t_ours)]
            if with_torch:
                t_torch = median_time(w.stepper("torch", sizes, weights, X, y), 15, number)
                row += [w.fmt_time(t_torch), f"{t_torch / t_ours:.2f}×"]
                speed[row[0], B] = t_torch / t_ours
            rows.append(row)
    header = ["MLP", "batch", "compiled"] + (["torch", "compiled speed vs torch"] if with_torch else [])
    report.add("Scaling: one full-batch SGD step (hinge + L2), median:", "")
    report.table(header, rows)
    return speed


def targets(report: Report, checks: list[tuple[str, float | None, float, bool]]) -> None:
    """The issues' targets against the measured figures: (what, measured, target, higher is better)."""
    rows = []
    for what, measured, target, higher in checks:
        if measured is None:
            rows.append([what, "skipped", f"{target:.3g}", "–"])
            continue
        met = measured >= target if higher else measured <= target
        rows.append([what, f"{measured:.2f}", ("≥ " if higher else "≤ ") + f"{target:.3g}", "met" if met else "MISSED"])
    report.add("Targets:", "")
    report.table(["figure", "measured", "target", ""], rows)


def _one(f: Callable[[int], object]) -> float:
    """Rough time of one call, to size the repeats."""
    start = time.perf_counter()
    f(0)
    return time.perf_counter() - start


def against_jax(report: Report, quick: bool) -> list[tuple[str, float | None, float, bool]]:
    """The JAX tables (end to end with its compile, per step), or a note that JAX is not installed."""
    missing = jax_peer.available()
    if missing:
        report.add(f"- skipped JAX: {missing}", "")
        return []
    return jax_table.end_to_end(report, quick) + jax_table.steady(report, quick)


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark and write the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short smoke run with few repeats")
    parser.add_argument("--out", default=str(Path(__file__).with_name("results.md")), help="where to write the table")
    args = parser.parse_args(argv)

    report = Report()
    missing = {name: why for name in w.ENGINES if (why := w.available(name))}
    engines = [name for name in w.ENGINES if name not in missing]
    report.add(
        "# autograd_lite benchmarks" + (" (quick run)" if args.quick else ""),
        "",
        f"`python benchmarks/run.py{' --quick' if args.quick else ''}` — one process, medians "
        f"(numpy {np.__version__}, Python {sys.version.split()[0]}).",
        "",
    )
    for name, why in missing.items():
        report.add(f"- skipped {name}: {why}")
    if missing:
        report.add("")

    blas = {k: os.environ[k] for k in sorted(os.environ) if "BLAS" in k or k.startswith(("OMP_", "MKL_"))}
    report.add(f"Environment: {', '.join(f'{k}={v}' for k, v in blas.items()) or 'no BLAS variables'}.", "")
    fit_checks = training.training(report, args.quick, "torch" in engines) + against_jax(report, args.quick)
    agreement(report, engines, steps=3 if args.quick else 10)
    # (repeats, calls per repeat)
    repeats = {"micrograd": (3, 1) if args.quick else (7, 1), "autograd_lite": (5, 1) if args.quick else (15, 2)}
    repeats |= dict.fromkeys(("compiled", "torch"), (7, 20) if args.quick else (21, 100))
    times, no_gc = demo_step_times(report, engines, repeats)
    memory_ratio = memory(report, "micrograd" in engines)
    chain_backward(report, 100_000 if args.quick else 1_000_000, 1 if args.quick else 3)
    if "compiled" in engines:
        batches = [10, 100] if args.quick else [10, 100, 1_000, 10_000]
        sizes_list = [DEMO] if args.quick else [[2, 16, 1], DEMO, [2, 64, 64, 1]]
        speed = scaling(report, batches, sizes_list, "torch" in engines, budget=0.2 if args.quick else 2.0)
    else:
        speed = {}

    def ratio(a: str, b: str, table: dict[str, float]) -> float | None:
        return table[a] / table[b] if a in table and b in table else None

    targets(
        report,
        [
            ("scalar engine: speed vs micrograd (GC on)", ratio("micrograd", "autograd_lite", times), 15, True),
            ("scalar engine: speed vs micrograd (GC off)", ratio("micrograd", "autograd_lite", no_gc), 15, True),
            ("scalar engine: bytes per node / micrograd's", memory_ratio, 1 / 3, False),
            *learner_code.checks(report, "micrograd" in engines, rounds=3 if args.quick else 7),
            ("compiled: speed vs micrograd (GC on)", ratio("micrograd", "compiled", times), 300, True),
            ("compiled: speed vs micrograd (GC off)", ratio("micrograd", "compiled", no_gc), 300, True),
            ("compiled: speed vs torch, 2-16-16-1, B=100", speed.get(("2-16-16-1", 100)), 1.0, True),
            ("compiled: speed vs torch, 2-16-16-1, B=10,000", speed.get(("2-16-16-1", 10_000)), 0.5, True),
            *fit_checks,
        ],
    )

    Path(args.out).write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    print(f"(written to {args.out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
