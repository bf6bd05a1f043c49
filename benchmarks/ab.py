"""Two source trees of autograd_lite side by side: nn.fit's set-up and its time per epoch, as users run it.

    python benchmarks/ab.py OLD_TREE NEW_TREE [--rounds 7]

Each round runs one subprocess per tree, in rotated order (the trees cannot share a process: both are
`autograd_lite` and `nn`). A subprocess times `nn.fit` with 1 and with 1 + E epochs (the quickest of 5
each): set-up plus the first step is the first, the time per epoch their difference over E. The report gives
min / median per tree and the median (range) of the per-round ratios NEW / OLD.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

CASES = [("2-16-16-1", [16, 16, 1], 100), ("2-64-64-1", [64, 64, 1], 100), ("2-64-64-1", [64, 64, 1], 1000)]
EPOCHS = 200

WORKER = """
import json, sys, time, warnings
import numpy as np
import nn
cases, epochs = json.loads(sys.argv[1]), int(sys.argv[2])
out = {}
for name, sizes, batch in cases:
    X, y = nn.datasets.make_moons(batch, noise=0.1, seed=0)
    y = 2.0 * y - 1.0
    def run(k):
        model = nn.MLP(2, sizes, activation="relu", seed=0)
        opt = nn.SGD(model.parameters(), lr=0.05)
        start = time.perf_counter()
        nn.fit(model, X, y, nn.hinge, opt, epochs=k, progress=False)
        return time.perf_counter() - start
    one = min(run(1) for _ in range(5))
    many = min(run(1 + epochs) for _ in range(5))
    out[f"{name} B={batch}"] = [one, (many - one) / epochs]
print(json.dumps(out))
"""


def measure(tree: str) -> dict[str, list[float]]:
    """{case: [set-up + first step, per epoch]} in seconds, from a subprocess importing `tree`."""
    env = os.environ | {"PYTHONPATH": tree}
    done = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(CASES), str(EPOCHS)],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    trees = {"old": os.path.abspath(args.old), "new": os.path.abspath(args.new)}
    runs: dict[str, list[dict[str, list[float]]]] = {"old": [], "new": []}
    start = time.perf_counter()
    for k in range(args.rounds):
        for name in (["old", "new"] if k % 2 == 0 else ["new", "old"]):
            runs[name].append(measure(trees[name]))
    print(f"{args.rounds} rounds in {time.perf_counter() - start:.0f} s; times min / median; ratio new/old per round")
    print("| case | what | old | new | new/old median (range) |")
    print("|---|---|---|---|---|")
    for case in runs["old"][0]:
        for i, what in enumerate(("set-up + first step", "per epoch")):
            old = [r[case][i] for r in runs["old"]]
            new = [r[case][i] for r in runs["new"]]
            ratios = [n / o for n, o in zip(new, old, strict=True)]
            print(
                f"| {case} | {what} | {_ms(old)} | {_ms(new)} | {statistics.median(ratios):.3f} "
                f"({min(ratios):.3f}–{max(ratios):.3f}) |"
            )


def _ms(times: list[float]) -> str:
    return f"{min(times) * 1e3:.3f} / {statistics.median(times) * 1e3:.3f} ms"


if __name__ == "__main__":
    main()
