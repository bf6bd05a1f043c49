"""`autograd-lite train` and `autograd-lite demo`: train an MLP on a toy data set and write what a learner looks at.

Every check that can fail runs before training (options, data, model size, --load,
the --out folder), the four files are made in memory after training, and written
last: a run ends with the files, or with one line naming the problem and the flag.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import nn
from autograd_lite.cli import checkpoint, pictures, svg_figures
from autograd_lite.cli.options import MAX_PARAMETERS, UsageError, resolve
from autograd_lite.cli.paths import refuse_system_folder
from autograd_lite.files import write_atomic
from nn import saving
from nn.training import distributed

if TYPE_CHECKING:
    from autograd_lite import Value


@dataclass(frozen=True)
class Task:
    """Data, targets in the form the loss wants, and the loss itself."""

    X: np.ndarray
    labels: np.ndarray  # class indices 0, 1, ...
    targets: np.ndarray  # what the loss is given
    loss: Callable[..., Value]
    outputs: int


def load_data(args: argparse.Namespace, given: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """The data set named by --data as (X, class indices); options that do not apply to it are errors."""
    if args.data != "spirals" and "classes" in given:
        raise UsageError(f"--classes applies to --data spirals only, not --data {args.data}")
    if args.data == "xor":
        extra = [f"--{name}" for name in ("samples", "noise") if name in given]
        if extra:
            raise UsageError(f"--data xor is its 4 fixed points: {' and '.join(extra)} do not apply")
        return nn.datasets.xor()
    noise = {} if args.noise is None else {"noise": args.noise}
    if args.data == "spirals":
        if args.samples < args.classes:
            raise UsageError(f"--samples {args.samples} is fewer than --classes {args.classes}: one point per arm")
        return nn.datasets.make_spirals(args.samples, classes=args.classes, **noise, seed=args.seed)
    make = nn.datasets.make_moons if args.data == "moons" else nn.datasets.make_circles
    return make(args.samples, **noise, seed=args.seed)


def make_task(X: np.ndarray, labels: np.ndarray, loss_name: str) -> Task:
    """Targets and output count for the loss; UsageError when the loss cannot score these classes."""
    classes = int(labels.max()) + 1
    if loss_name == "cross_entropy":
        return Task(X, labels, labels, nn.cross_entropy, max(classes, 2))
    if classes > 2:
        raise UsageError(f"--loss {loss_name} scores two classes but the data has {classes}; use --loss cross_entropy")
    if loss_name == "bce":
        return Task(X, labels, labels.astype(float), nn.bce_with_logits, 1)
    pm1 = 2.0 * labels - 1.0
    return Task(X, labels, pm1, nn.hinge if loss_name == "hinge" else nn.mse, 1)


def parameter_count(sizes: list[int]) -> int:
    """Weights and biases of an MLP with these layer sizes (inputs first)."""
    return sum((a + 1) * b for a, b in itertools.pairwise(sizes))


def build_model(args: argparse.Namespace, given: set[str], task: Task) -> nn.MLP:
    """A new MLP from the options (size checked first), or the one in --load checked against them."""
    if args.load is None:
        sizes = [2, *args.hidden, task.outputs]
        if parameter_count(sizes) > MAX_PARAMETERS:
            raise UsageError(
                f"--hidden {','.join(map(str, args.hidden))} makes {parameter_count(sizes)} parameters, "
                f"more than the limit of {MAX_PARAMETERS} for this scalar engine"
            )
        return nn.MLP(2, [*args.hidden, task.outputs], activation=args.activation, seed=args.seed)
    return load_model(args, given, task)


def load_model(args: argparse.Namespace, given: set[str], task: Task) -> nn.MLP:
    """The MLP saved at --load; its shape and activation must agree with the task and any flag given."""
    path = Path(args.load)
    if not path.exists():
        raise UsageError(f"--load {args.load}: no such file")
    try:
        check_saved_size(path)
        model = nn.load(str(path))
    except (ValueError, OSError, RecursionError, MemoryError) as e:  # the loader says what is wrong with the file
        raise UsageError(f"--load {args.load}: {e}") from None
    if not isinstance(model, nn.MLP):
        raise UsageError(f"--load {args.load}: holds a {type(model).__name__}, not an MLP")
    if model.nin != 2 or model.nouts[-1] != task.outputs:
        raise UsageError(
            f"--load {args.load}: the model maps {model.nin} inputs to {model.nouts[-1]} outputs, "
            f"but this task needs 2 → {task.outputs}"
        )
    if "hidden" in given and list(model.nouts[:-1]) != args.hidden:
        saved = ",".join(map(str, model.nouts[:-1]))
        raise UsageError(f"--hidden {','.join(map(str, args.hidden))} contradicts the loaded model's {saved}")
    if "activation" in given and model.activation != args.activation:
        raise UsageError(f"--activation {args.activation} contradicts the loaded model's {model.activation}")
    return model


def check_saved_size(path: Path) -> None:
    """The CLI's size limit applied to a saved MLP's recorded layer sizes, before nn builds anything.

    The file is read by nn's bounded reader (size cap before parsing, regular files only): ValueError for a bad one.
    """
    architecture, _ = saving.read_model(path)
    try:
        config = architecture["config"] if architecture else {}
        sizes = [int(config["nin"]), *(int(n) for n in config["nouts"])]
    except (ValueError, TypeError, KeyError):
        return  # not an MLP record: the loader says what is wrong with it
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        raise UsageError(f"--load {path}: the model has {count} parameters, more than the limit of {MAX_PARAMETERS}")


def make_optimizer(
    args: argparse.Namespace, given: set[str], model: nn.MLP
) -> tuple[nn.Optimizer, str, nn.Checkpoint | None]:
    """Adam or SGD over the model's parameters, and the checkpoint to resume (None: a fresh start).

    A --load checkpoint gives the optimizer's kind and lr (unless --optimizer or --lr say otherwise; another
    --optimizer starts a fresh one) and is restored into model and optimizer now, so a state that does not fit
    stops the run before training.
    """
    resume = None
    note = ""
    if args.load is not None:
        try:
            resume = checkpoint.read(args.load)
        except (ValueError, OSError) as e:
            raise UsageError(f"--load {args.load}: {e}") from None
        if resume is None:
            note = " (no optimizer state saved with the model: starting a fresh one)"
        elif "optimizer" in given and args.optimizer != checkpoint.saved_kind(resume):
            note = f" (new {args.optimizer} state; the saved one is {checkpoint.saved_kind(resume)})"
            resume = None
    kind = checkpoint.saved_kind(resume) if resume else args.optimizer
    try:
        saved_lr = checkpoint.saved_lr(resume) if resume else None
        lr = saved_lr if saved_lr is not None and "lr" not in given else args.lr
        params = model.parameters()
        optimizer = nn.Adam(params, lr=lr) if kind == "adam" else nn.SGD(params, lr, momentum=0.9)
        if resume:
            resume.restore(model, optimizer)
    except ValueError as e:
        raise UsageError(f"--load {args.load}: {e}") from None
    if resume:
        note = f" (resumed after step {optimizer.steps}, epoch {resume.epoch})"
    return optimizer, note, resume


def prepare_output(out: Path) -> list[Path]:
    """Create the --out folder now, so a bad one fails before training; return the folders made (for clean-up)."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a folder")
    problem = refuse_system_folder("--out", str(out), out)
    if problem:
        raise UsageError(problem)
    made = [p for p in [out, *out.parents] if not p.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        remove_folders(made)
        raise UsageError(f"--out {out}: cannot write there ({e.strerror or e})") from None
    return made


def remove_folders(made: list[Path]) -> None:
    """Remove the folders `prepare_output` made, deepest first, if they are still empty."""
    for folder in made:
        with contextlib.suppress(OSError):
            folder.rmdir()


class Diverged(UsageError):
    """The loss or the weights stopped being finite numbers."""


def fit_watched(
    args: argparse.Namespace, model: nn.MLP, task: Task, optimizer: nn.Optimizer, resume: nn.Checkpoint | None = None
) -> nn.History:
    """nn.fit with a watch on the loss: Diverged (naming the epoch and --lr) as soon as it is not finite.

    With a checkpoint to resume, the epochs and the shuffling go on from it (so its seed is the one that counts).
    """
    done = [0]

    def watch(epoch: int, history: nn.History) -> bool:
        done[0] = epoch + 1
        return not math.isfinite(history.loss[-1])

    try:
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, as one line
            history = nn.fit(
                model, task.X, task.targets, task.loss, optimizer, args.epochs, batch_size=args.batch_size,
                seed=args.seed if resume is None or resume.history.rng_state is None else None,
                progress=not args.quiet, l2=args.l2, callback=watch, distributed=distributed.launched(), resume=resume,
            )
    except ArithmeticError:  # an overflow inside a step (numpy or float)
        raise Diverged(f"training diverged at epoch {done[0] + 1}: numbers overflowed; try a smaller --lr") from None
    finite_loss = not history.loss or math.isfinite(history.loss[-1])
    if not finite_loss or not all(math.isfinite(p.data) for p in model.parameters()):
        raise Diverged(f"training diverged at epoch {max(done[0], 1)}: the loss is not finite; try a smaller --lr")
    if not finite_state(optimizer):  # weights finite, but the moments overflowed: nothing to resume from
        raise Diverged(f"training diverged by epoch {max(done[0], 1)}: the optimizer's state overflowed; "
                       "try a smaller --lr")
    return history


def finite_state(optimizer: nn.Optimizer) -> bool:
    """Every number the optimizer keeps (Adam's moments, SGD's momentum) is finite, so its state can be saved."""
    return all(np.isfinite(a).all() for a in vars(optimizer).values() if isinstance(a, np.ndarray))


def check_outputs(args: argparse.Namespace, model: nn.MLP, task: Task) -> None:
    """A loaded model whose outputs already overflow on the data cannot be trained (or drawn)."""
    if args.load is None:
        return
    try:
        finite = bool(np.isfinite(nn.predict(model, task.X)).all())
    except ArithmeticError:  # an op overflowed on the way
        finite = False
    if not finite:
        raise UsageError(f"--load {args.load}: the model's outputs are not finite on this data (weights too large)")


def train(args: argparse.Namespace) -> int:
    """Train, report the score, write the four files; UsageError for anything that stops the run."""
    if getattr(args, "workers", 1) > 1 and not distributed.launched():  # torch's launcher runs train(args) per worker
        return int(distributed.run_workers(args.workers, train, args))
    given = resolve(args)
    X, labels = load_data(args, given)
    task = make_task(X, labels, args.loss)
    model = build_model(args, given, task)
    optimizer, note, resume = make_optimizer(args, given, model)
    check_outputs(args, model, task)
    out = Path(args.out)
    made = prepare_output(out)
    try:
        print(f"{model} on {args.data} ({len(X)} samples), {args.loss} loss, {checkpoint.kind_of(optimizer)} "
              f"lr {optimizer.current_lr():g}{note}")
        history = fit_watched(args, model, task, optimizer, resume)
        if not distributed.is_main_process():
            return 0  # rank 0 reports and writes the files
        if history.interrupted:
            print(f"stopped after {history.epochs} epochs")
        predictions = nn.predict(model, X)
        final = f" (final loss {history.loss[-1]:.4g})" if history.loss else ""
        print(pictures.score_line(task.loss, predictions, task.targets) + final)
        files = {
            "decision_boundary.svg": svg_figures.boundary_svg(model, X, labels),
            "loss.svg": svg_figures.curves_svg(history),
            "neuron_graph.svg": pictures.first_neuron_svg(model, X[0].tolist()),
        }
    except BaseException:
        remove_folders(made)
        raise
    write_files(out, files, model, optimizer, history)
    return 0


def write_files(
    out: Path, files: dict[str, bytes], model: nn.MLP, optimizer: nn.Optimizer, history: nn.History
) -> None:
    """The pictures, and model.json as a checkpoint (model, optimizer state, history), each written atomically."""
    try:
        for name, data in files.items():
            write_atomic(out / name, data)
            print(f"wrote {out / name}")
        nn.save_checkpoint(out / "model.json", model, optimizer, history)
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write ({e.strerror or e})") from None
    print(f"wrote {out / 'model.json'} (a checkpoint: --load it to go on training)")
