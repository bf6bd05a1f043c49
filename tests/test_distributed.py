"""Data-parallel fit on torch.distributed: 2 workers on 127.0.0.1 end where 1 worker ends.

The 2-worker runs start in a subprocess (this file run as a script) so that a hung rendezvous or
collective is killed by the subprocess timeout instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import nn

try:
    import torch
except ImportError:  # the distributed path is part of the optional torch extra
    torch = None  # type: ignore[assignment]

needs_torch = pytest.mark.skipif(torch is None, reason='torch is not installed (pip install "autograd-lite[torch]")')
TIME_LIMIT = 300  # seconds for a whole 2-worker launch, start-up included (the machine is shared)
WEIGHT_TOL = 1e-9



@dataclass(frozen=True)
class Scenario:
    """How to train: data size, loss, batch size (None: full batch), optimizer, l2, epochs, engine."""

    n: int
    loss: str
    batch: int | None
    optimizer: str
    l2: float
    epochs: int
    compiled: bool | None = None


SCENARIOS = {
    # mse: under the hinge loss the output bias's gradient cancels to almost 0, where Adam (which divides by its
    # root mean square) turns the last bits of summing in another order into differences of about 1e-6
    "equal shards, full batch, adam": Scenario(100, "mse", None, "adam", 1e-4, 40),
    "unequal shards, full batch, bce": Scenario(101, "bce", None, "sgd", 0.0, 40),
    "mini-batches, shuffled": Scenario(101, "mse", 8, "sgd", 1e-3, 6),
    "sum loss with l2": Scenario(61, "squared_error", 7, "sgd", 1e-3, 6),
    "batches of 1 (one worker idle)": Scenario(9, "hinge", 1, "adam", 1e-4, 3),
    "scalar engine": Scenario(24, "hinge", None, "sgd", 1e-4, 4, compiled=False),
}
LOSSES = {"hinge": nn.hinge, "bce": nn.bce_with_logits, "mse": nn.mse, "squared_error": nn.squared_error}


def train(scenario: Scenario, distributed: bool) -> dict:
    """Train the scenario's MLP from a fixed start; its final weights and history."""
    X, labels = nn.datasets.make_moons(scenario.n, seed=1)
    targets = 2.0 * labels - 1.0 if scenario.loss != "bce" else labels.astype(float)
    model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=2)
    optimizer: nn.Optimizer
    if scenario.optimizer == "adam":
        optimizer = nn.Adam(model.parameters(), lr=0.02)
    else:
        optimizer = nn.SGD(model.parameters(), lr=0.05, momentum=0.9)
    history = nn.fit(
        model, X, targets, LOSSES[scenario.loss], optimizer, scenario.epochs, batch_size=scenario.batch,
        seed=4, progress=False, l2=scenario.l2, compiled=scenario.compiled, distributed=distributed,
    )
    return {"weights": [p.data for p in model.parameters()], "loss": history.loss, "accuracy": history.accuracy}


def replica_spread(weights: list[float]) -> float:
    """The largest difference between this worker's weights and rank 0's, over all workers."""
    import torch.distributed as dist

    mine = torch.tensor(weights, dtype=torch.float64)
    rank0 = mine.clone()
    dist.broadcast(rank0, src=0)
    spread = (mine - rank0).abs().max().reshape(1)
    dist.all_reduce(spread, op=dist.ReduceOp.MAX)
    return float(spread.item())


def worker_job() -> dict:
    """What each of the 2 workers runs: every scenario, plus a run where the workers hold different data."""
    results: dict[str, Any] = {}
    for name, scenario in SCENARIOS.items():
        result = train(scenario, distributed=True)
        result["replica_spread"] = replica_spread(result["weights"])
        results[name] = result
    X, y = nn.datasets.make_moons(20, seed=int(os.environ["RANK"]))  # each worker its own data: refused
    model = nn.MLP(2, [4, 1], seed=0)
    try:
        nn.fit(model, X, 2.0 * y - 1.0, nn.hinge, nn.SGD(model.parameters(), lr=0.1), 1, progress=False,
               distributed=True)
        results["different data"] = "accepted"
    except ValueError as e:
        results["different data"] = str(e)
    return results


def run_two_workers(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), *sys.path])}
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(name, None)
    return subprocess.run(args, capture_output=True, text=True, timeout=TIME_LIMIT, env=env)


@pytest.fixture(scope="module")
def two_workers() -> dict:
    result = run_two_workers([sys.executable, __file__])
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@needs_torch
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_two_workers_end_with_the_weights_of_one(two_workers, name):
    single = train(SCENARIOS[name], distributed=False)
    double = two_workers[name]
    assert double["replica_spread"] == 0.0  # every replica holds the same numbers
    np.testing.assert_allclose(double["weights"], single["weights"], rtol=0, atol=WEIGHT_TOL)
    np.testing.assert_allclose(double["loss"], single["loss"], rtol=1e-9, atol=1e-12)
    assert double["accuracy"] == single["accuracy"]
    assert double["weights"] != train(replace(SCENARIOS[name], epochs=1), distributed=False)["weights"]  # it trained


@needs_torch
def test_workers_with_different_data_are_refused(two_workers):
    assert "hold different data" in two_workers["different data"]


@needs_torch
def test_fit_outside_a_process_group_says_how_to_start_one(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    model = nn.MLP(2, [3, 1], seed=0)
    X, y = nn.datasets.make_moons(10, seed=0)
    with pytest.raises(RuntimeError, match="torchrun"):
        nn.fit(model, X, 2.0 * y - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1), 1, distributed=True)


def test_a_loss_that_does_not_say_how_it_reduces_is_refused():
    model = nn.MLP(2, [3, 1], seed=0)
    X, y = nn.datasets.make_moons(10, seed=0)
    before = model.state_dict()

    def my_loss(pred, target):
        return nn.mse(pred, target)

    with pytest.raises(ValueError, match="reduction = 'mean' or 'sum'"):
        nn.fit(model, X, y, my_loss, nn.SGD(model.parameters(), lr=0.1), 1, distributed=True, progress=False)
    with pytest.raises(ValueError, match="distributed must be True or False"):
        nn.fit(model, X, y, nn.mse, nn.SGD(model.parameters(), lr=0.1), 1, distributed="yes", progress=False)
    assert model.state_dict() == before


@needs_torch
def test_cli_workers_trains_like_one_worker(tmp_path):
    command = [sys.executable, "-m", "autograd_lite", "train", "--epochs", "20", "--quiet", "--hidden", "8"]
    one = subprocess.run([*command, "--out", str(tmp_path / "one")], capture_output=True, text=True, timeout=120)
    assert one.returncode == 0, one.stderr
    two = run_two_workers([*command, "--workers", "2", "--out", str(tmp_path / "two")])
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("training accuracy") == 1  # rank 0 alone reports
    states = [json.loads((tmp_path / d / "model.json").read_text())["state"] for d in ("one", "two")]
    assert max(abs(states[0][k] - states[1][k]) for k in states[0]) < WEIGHT_TOL


if __name__ == "__main__":  # the 2-worker launch the fixture runs: results of rank 0 as one JSON line
    from nn.training import distributed

    print(json.dumps(distributed.run_workers(2, worker_job)))
