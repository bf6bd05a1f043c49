"""nn.fit per step against jax.jit, jax.lax.scan and hand-written numpy, and end to end against JAX's compile.

Every system trains benchmarks/fit.py's MLP (same weights, data, hinge loss, l2 and schedule) in float64, in
one process, the systems interleaved in rotated rounds; a ratio is taken within each round and reported as
the median over the rounds with its range.
"""

from __future__ import annotations

from collections.abc import Callable

from autograd_lite.compiled import native_startup_seconds
from benchmarks import fit
from benchmarks import jax_peer as jp
from benchmarks.workload import fmt_time, initial_weights

# nn.fit native: the same step with backend="native", when the fast extra is installed
SYSTEMS = ["nn.fit", *(["nn.fit native"] if native_startup_seconds() is not None else []), "jax.jit", "jax.scan",
           "numpy"]
SHAPES = [([2, 16, 16, 1], [10, 100, 1000]), ([2, 64, 64, 1], [10, 100]), ([2, 256, 256, 1], [100])]


def _measure(sizes: list[int], weights: list[float], B: int, count: int) -> Callable[[str], float]:
    """measure(system): seconds per steady epoch at batch B."""
    X, y = fit.moons(B)

    def measure(system: str) -> float:
        if system.startswith("jax"):
            return jp.per_epoch(jp.model(sizes, weights), X, y, count, scanned=system == "jax.scan")
        return fit.per_epoch(system, sizes, weights, X, y, count)

    return measure


def steady(report: fit.Report, quick: bool) -> list[fit.Check]:
    """The per-step table of issue 24: our column, each peer's, and the ratios."""
    rounds = 3 if quick else 7
    rows, checks = [], []
    for sizes, batches in SHAPES[:2] if quick else SHAPES:
        weights = initial_weights(sizes)
        for B in batches[:2] if quick else batches:
            expected_us = 60 + 3e-4 * B * sizes[1] * sizes[2]
            count = max(5, min(200, int(30_000 / expected_us)))
            raw = fit.rounds(SYSTEMS, _measure(sizes, weights, B, count), rounds)
            t = fit.summary(raw)
            name = "-".join(map(str, sizes))
            jit_speed, jit_text = fit._per_round(raw, "jax.jit", "nn.fit")
            scan_speed, scan_text = fit._per_round(raw, "jax.scan", "nn.fit")
            native = []
            if "nn.fit native" in SYSTEMS:
                native_jit, native_jit_text = fit._per_round(raw, "jax.jit", "nn.fit native")
                native_scan, native_scan_text = fit._per_round(raw, "jax.scan", "nn.fit native")
                native = [native_jit_text, native_scan_text]
                checks.append((f"per step {name}, B={B:,}: native speed vs jax.jit", native_jit, 1.0, True))
                if sizes[1] == 16 and B <= 100:
                    checks.append((f"per step {name}, B={B:,}: native speed vs jax.lax.scan", native_scan, 1.0, True))
            rows.append([name, f"{B:,}", *(fit._cell(t, s) for s in SYSTEMS), jit_text, scan_text, *native,
                         fit._per_round(raw, "nn.fit", "numpy")[1]])
            checks.append((f"per step {name}, B={B:,}: speed vs jax.jit", jit_speed, 1.0, True))
            if sizes[1] == 16 and B <= 100:
                checks.append((f"per step {name}, B={B:,}: speed vs jax.lax.scan", scan_speed, 1.0, True))
    report.add(
        "## Per step against JAX (issue 24)",
        "",
        f"Steady time per full-batch step, set-up and compile excluded, min / median of {rounds} rotated rounds. "
        "jax.jit: one jitted step per call; jax.scan: the steps of each timing in one `lax.scan` call. "
        "Speed = their time / nn.fit's, per round: median (range). nn.fit and nn.fit native: nn.fit's epoch loop "
        "after its set-up, with `backend=\"numpy\"` and `backend=\"native\"` (the fast extra; full-batch epochs "
        "in calls of up to 256 steps, as lax.scan; its one-time start-up excluded, as JAX's compile is); a call of no "
        "epochs is timed before each run and taken off (the loop's once-per-fit costs).",
        "",
    )
    native = ["native speed vs jax.jit", "native speed vs jax.scan"] if "nn.fit native" in SYSTEMS else []
    report.table(["MLP", "batch", *SYSTEMS, "speed vs jax.jit", "speed vs jax.scan", *native, "nn.fit / numpy time"],
                 rows)
    return checks


def end_to_end(report: fit.Report, quick: bool) -> list[fit.Check]:
    """The demo (2-16-16-1, 100 samples, 100 epochs) with set-up, against JAX with its compile."""
    demo = [2, 16, 16, 1]
    X, y = fit.moons(100)
    weights = initial_weights(demo)
    ours, jax_total, jax_compile = [], [], []
    for r in range(3 if quick else 7):
        for system in (["nn.fit", "jax"] if r % 2 == 0 else ["jax", "nn.fit"]):
            if system == "jax":
                total, compile_time = jp.fit(jp.model(demo, weights), X, y, 100)
                jax_total.append(total)
                jax_compile.append(compile_time)
            else:
                ours.append(fit.timed("nn.fit", demo, weights, X, y, 100))
    ratios = sorted(j / o for j, o in zip(jax_total, ours, strict=True))
    mid = ratios[len(ratios) // 2]
    loss_ours = fit.final_losses(demo, X, y, 100, ["nn.fit"])["nn.fit"]
    loss_jax = jp.final_loss(jp.model(demo, weights), X, y, 100)
    report.add(
        f"End to end, the demo with set-up (nn.fit) and compile (JAX, a fresh `jax.jit`, jax already imported): "
        f"nn.fit {fmt_time(min(ours))} / {fmt_time(sorted(ours)[len(ours) // 2])}, JAX {fmt_time(min(jax_total))} "
        f"/ {fmt_time(sorted(jax_total)[len(jax_total) // 2])} of which compiling {fmt_time(min(jax_compile))} / "
        f"{fmt_time(sorted(jax_compile)[len(jax_compile) // 2])} (min / median); nn.fit is {mid:.1f}× "
        f"({ratios[0]:.1f}–{ratios[-1]:.1f}×) faster. Final losses: nn.fit {loss_ours:.12f}, JAX {loss_jax:.12f}.",
        "",
    )
    return [("end to end: speed vs JAX with its compile", mid, 20.0, True)]
