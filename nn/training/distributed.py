"""Data-parallel training on torch.distributed: `fit(..., distributed=True)` in every worker that torchrun started.

Every worker reads the same data set and takes the same batches (one shuffling seed, sent from rank 0);
of each batch, worker r trains on rows r, r + W, r + 2W, ... (W workers), as torch's DistributedSampler
shards. After each worker's backward, one `all_reduce` (gloo, on CPU) adds the workers' gradient arrays,
each weighted by its share of the batch (a mean loss) or by 1 (a sum loss), so the summed gradient is the
whole batch's, whatever the shard sizes; the same reduction gives every worker the batch loss and
predictions. Every worker then takes the same optimizer step, so the replicas stay identical (rank 0's
initial parameters are broadcast first). Only rank 0 shows progress. torch does the launching (torchrun),
the rendezvous and the communication; nothing here re-implements them.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TypeVar

import numpy as np

from autograd_lite import Value
from nn.checks import short
from nn.torch_bridge import require_torch
from nn.training.choose import TrainSetup
from nn.training.compiled_step import ArrayTrainer
from nn.training.loop import Trainer
from nn.training.metrics import Prediction, Target
from nn.training.scalar_step import StepFunction, ValueTrainer

T = TypeVar("T")

LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")  # what torchrun sets for each worker
_MAX_DIGITS = 9  # of RANK and WORLD_SIZE: far past any real group, and int() of it is cheap


def launcher_variables() -> tuple[int, int] | None:
    """(rank, world size) from torchrun's variables, or None when they are not all set.

    Checked before torch sees them, as a bad one makes torch wait for ever (RANK=3 of
    WORLD_SIZE=2) or fail with a bare "invalid literal for int()": ValueError naming it.
    """
    if not all(name in os.environ for name in LAUNCHER_VARIABLES):
        return None
    rank = _whole_number("RANK", 0, 10**_MAX_DIGITS)
    world = _whole_number("WORLD_SIZE", 1, 10**_MAX_DIGITS)
    if rank >= world:
        raise ValueError(f"launcher variable RANK={rank} must be below WORLD_SIZE={world} (ranks are 0 to {world - 1})")
    _whole_number("MASTER_PORT", 1, 65536)
    if not os.environ["MASTER_ADDR"].strip():
        raise ValueError("launcher variable MASTER_ADDR is empty (it names rank 0's machine, e.g. 127.0.0.1)")
    return rank, world


def _whole_number(name: str, least: int, below: int) -> int:
    """The environment variable `name` as an int in [least, below); ValueError naming it otherwise."""
    text = os.environ[name]
    digits = len(str(below))  # checked before int(), which refuses (and slowly) thousands of digits
    if not (text.isascii() and text.isdigit() and len(text) <= digits and least <= int(text) < below):
        raise ValueError(f"launcher variable {name}={short(text)} must be a whole number from {least} to {below - 1}")
    return int(text)


def launched() -> bool:
    """Whether this process is a worker that torchrun (or `autograd-lite train --workers`) started."""
    return launcher_variables() is not None


def _group_started() -> bool:
    """Whether a torch.distributed default group exists (never imports torch: none can exist before it is loaded)."""
    dist = sys.modules.get("torch.distributed")
    return bool(dist is not None and dist.is_available() and dist.is_initialized())


def is_main_process() -> bool:
    """True on rank 0 of a process group, and in a process that is not a distributed worker."""
    if _group_started():
        return bool(sys.modules["torch.distributed"].get_rank() == 0)
    variables = launcher_variables()
    return variables is None or variables[0] == 0


def process_group() -> ModuleType:
    """torch.distributed with a gloo-capable default group, started from torchrun's variables if need be."""
    variables = None if _group_started() else launcher_variables()  # checked before any torch call
    dist = require_torch().distributed
    if not dist.is_available():
        raise RuntimeError("this build of torch has no torch.distributed")
    if not dist.is_initialized():
        if variables is None:
            raise RuntimeError(
                "fit(distributed=True) needs a process group: start the script with torchrun "
                "(e.g. torchrun --standalone --nproc-per-node 2 train.py) or call "
                "torch.distributed.init_process_group('gloo') first"
            )
        dist.init_process_group("gloo")
    backend = str(dist.get_backend())
    if "gloo" not in backend:
        raise RuntimeError(f"fit(distributed=True) reduces CPU arrays, which needs the gloo backend; got {backend!r}")
    return dist


def join_workers(setup: TrainSetup, seed: int | None) -> tuple[str, int]:
    """(the loss's reduction, the shared seed), once every worker is known to hold the same data and seed and
    rank 0's parameters (broadcast to all, as DistributedDataParallel starts its replicas)."""
    loss = setup.loss
    reduction = getattr(loss, "reduction", None)
    if reduction not in ("mean", "sum"):
        raise ValueError(
            f"fit(distributed=True) must know how loss {getattr(loss, '__name__', loss)!r} reduces a batch to "
            "combine the workers' shares: set its attribute reduction = 'mean' or 'sum'"
        )
    dist = process_group()
    torch = require_torch()
    _same_everywhere(dist, torch, _fingerprint(setup.xs, setup.ys), "data (X and y)")
    seed = _shared_seed(dist, torch, seed)
    params = setup.model.parameters()
    weights = torch.tensor([p.data for p in params], dtype=torch.float64)
    dist.broadcast(weights, src=0)
    for p, value in zip(params, weights.tolist(), strict=True):
        p.data = value
    return reduction, seed


def sharded(trainer: Trainer, setup: TrainSetup, reduction: str) -> Trainer:
    """`trainer` (as choose_trainer made it) on this worker's rows of each batch, gradients summed across workers."""
    if isinstance(trainer, ArrayTrainer):
        return ShardedArrayTrainer(trainer, reduction, len(setup.xs))
    if not isinstance(trainer, ValueTrainer):
        raise TypeError(f"fit(distributed=True) cannot shard a {type(trainer).__name__}")
    params = setup.model.parameters()
    step = sharded_step(trainer.step_function, setup.l2, params, reduction)
    return ValueTrainer(step, trainer.optimizer, trainer.xs, trainer.ys, setup.loss, trainer.backend)


def shows_progress(progress: bool) -> bool:
    """Whether this worker shows fit's progress bar: only rank 0 does."""
    return progress and process_group().get_rank() == 0


class ShardedArrayTrainer:
    """The compiled array trainer on this worker's rows of each batch, gradients summed across workers."""

    compiled = True

    def __init__(self, inner: ArrayTrainer, reduction: str, n: int) -> None:
        self.inner, self.reduction, self.n = inner, reduction, n
        self.backend = inner.backend
        self.dist, self.torch = process_group(), require_torch()

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]:
        """One step on the batch `chosen`: this worker computes its shard, the sum goes to every worker."""
        rows = np.arange(self.n)[chosen]
        mine = rows[self.dist.get_rank() :: self.dist.get_world_size()]
        k = len(self.inner.params)
        if len(mine):
            value, grads, right = self.inner.loss_and_gradients(mine)
        else:
            value, grads, right = 0.0, np.zeros(k), 0
        share = len(mine) / len(rows) if self.reduction == "mean" else float(len(mine) > 0)
        buffer = self.torch.from_numpy(np.concatenate([grads * share, [value * share, float(right or 0)]]))
        self.dist.all_reduce(buffer)
        total = buffer.numpy()
        value = self.inner.update_with(float(total[k]), total[:k].copy())
        return value, None if self.inner.accuracy is None else round(float(total[k + 1]))

    def full_batch_epochs(self, count: int) -> list[tuple[float, int | None]] | None:
        """None: every step's gradient is summed across the workers."""
        return None

    def sync(self) -> None:
        """Write the parameters back into their Values."""
        self.inner.sync()


def sharded_step(step: StepFunction, l2: float, params: list[Value], reduction: str) -> StepFunction:
    """`step` on this worker's rows of each batch, with the gradients of `params` summed across workers."""
    dist = process_group()
    torch = require_torch()
    rank, workers = dist.get_rank(), dist.get_world_size()
    width: list[int] = []  # numbers per prediction, learned on the first step (0: one float per sample)

    def sharded_step(bx: list[list[float]], by: list[Target]) -> tuple[float, list[Prediction]]:
        mine = list(range(rank, len(bx), workers))
        value, preds = step([bx[i] for i in mine], [by[i] for i in mine]) if mine else (0.0, [])
        if not width:
            width.append(_reduce_max(dist, torch, len(preds[0]) if preds and isinstance(preds[0], list) else 0))
        share = len(mine) / len(bx) if reduction == "mean" else float(len(mine) > 0)
        grads = np.array([p.grad for p in params]) * share
        value *= share
        if rank == 0 and l2:  # the l2 term, counted once per worker, must count once in all
            extra = 1.0 - (1.0 if reduction == "mean" else min(workers, len(bx)))
            data = np.array([p.data for p in params])
            grads += extra * 2.0 * l2 * data
            value += extra * l2 * float(data @ data)
        columns = max(width[0], 1)
        table = np.zeros((len(bx), columns))
        if mine:
            table[mine] = np.asarray(preds, dtype=float).reshape(len(mine), columns)
        buffer = torch.from_numpy(np.concatenate([grads, [value], table.ravel()]))
        dist.all_reduce(buffer)
        total = buffer.numpy()
        for p, g in zip(params, total[: len(params)].tolist(), strict=True):
            p.grad = g
        table = total[len(params) + 1 :].reshape(len(bx), columns)
        return float(total[len(params)]), table.tolist() if width[0] else table[:, 0].tolist()

    return sharded_step


def _fingerprint(xs: list[list[float]], ys: list[Target]) -> list[float]:
    """Shapes and a hash of the bytes of X and y: equal on two workers only if they hold the same data."""
    x, y = np.asarray(xs, dtype="<f8"), np.asarray(ys, dtype="<f8")
    digest = hashlib.blake2b(x.tobytes() + y.tobytes(), digest_size=6).digest()  # 48 bits: exact in a float64
    return [*map(float, x.shape), *map(float, y.shape), float(int.from_bytes(digest, "little"))]


def _same_everywhere(dist: ModuleType, torch: ModuleType, numbers: Sequence[float], what: str) -> None:
    """ValueError on every worker if any worker's `numbers` differ from rank 0's."""
    mine = torch.tensor(list(numbers), dtype=torch.float64)
    theirs = mine.clone()
    dist.broadcast(theirs, src=0)
    differs = torch.tensor([float(not torch.equal(mine, theirs))], dtype=torch.float64)
    dist.all_reduce(differs)
    if differs.item():
        raise ValueError(f"fit(distributed=True): the workers hold different {what}; every worker must load the same")


def _shared_seed(dist: ModuleType, torch: ModuleType, seed: int | None) -> int:
    """The shuffling seed every worker uses: the given one (the same everywhere), or one drawn by rank 0."""
    _same_everywhere(dist, torch, [float(seed is None)], "seed= settings")
    if seed is not None:
        _same_everywhere(dist, torch, [float(seed)], "seed= values")
        return seed
    drawn = torch.tensor([int(np.random.SeedSequence().generate_state(1)[0])], dtype=torch.int64)
    dist.broadcast(drawn, src=0)
    return int(drawn.item())


def _reduce_max(dist: ModuleType, torch: ModuleType, number: int) -> int:
    value = torch.tensor([number], dtype=torch.int64)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return int(value.item())


def run_workers(workers: int, function: Callable[..., T], *args: object) -> T:
    """Run `function(*args)` in `workers` local processes started as `torchrun --standalone` does; rank 0's result.

    Each worker sees torchrun's variables, so `fit(..., distributed=True)` inside it joins the group. Only rank 0's
    output is shown. `function` must be importable by name (a module-level function). Across machines, run
    torchrun itself on each (see the README).
    """
    require_torch()
    from torch.distributed.elastic.multiprocessing import DefaultLogsSpecs, Std
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    with tempfile.TemporaryDirectory(prefix="autograd-lite-workers-") as logs:
        config = LaunchConfig(
            min_nodes=1,
            max_nodes=1,
            nproc_per_node=workers,
            run_id=str(uuid.uuid4()),
            rdzv_backend="c10d",
            rdzv_endpoint="127.0.0.1:0",  # a free port on this machine, as torchrun --standalone picks
            max_restarts=0,
            logs_specs=DefaultLogsSpecs(log_dir=logs, redirects=dict.fromkeys(range(1, workers), Std.ALL)),
        )
        return elastic_launch(config, function)(*args)[0]
