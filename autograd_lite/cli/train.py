"""`autograd-lite train` and `autograd-lite demo`: train an MLP on a toy data set and write what a learner looks at."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd_lite.files import write_atomic

DATASETS = ("moons", "circles", "spirals", "xor")
LOSSES = ("hinge", "bce", "mse", "cross_entropy")
OPTIMIZERS = ("adam", "sgd")


class UsageError(ValueError):
    """A bad combination of arguments: reported with exit code 2."""


@dataclass(frozen=True)
class Task:
    """Data, targets in the form the loss wants, and the loss itself."""

    X: np.ndarray
    labels: np.ndarray  # class indices 0, 1, ...
    targets: np.ndarray  # what the loss is given
    loss: Callable[..., Any]
    outputs: int


def hidden_sizes(text: str) -> list[int]:
    """'16,16' -> [16, 16]; an argparse type, so a bad value is a usage error."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--hidden must be integers like 16,16, got {text!r}") from None
    if not sizes or any(s < 1 or s > 4096 for s in sizes):
        raise argparse.ArgumentTypeError(f"--hidden sizes must be between 1 and 4096, got {text!r}")
    return sizes


def positive(kind: type) -> Callable[[str], Any]:
    """An argparse type for a positive int or float."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def load_data(name: str, samples: int, noise: float | None, seed: int, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """The named toy data set as (X, class indices)."""
    from nn import datasets

    if name == "xor":
        return datasets.xor()
    if name == "spirals":
        return datasets.make_spirals(samples, classes=classes, **_noise(noise), seed=seed)
    make = datasets.make_moons if name == "moons" else datasets.make_circles
    return make(samples, **_noise(noise), seed=seed)


def _noise(noise: float | None) -> dict[str, float]:
    return {} if noise is None else {"noise": noise}


def make_task(X: np.ndarray, labels: np.ndarray, loss_name: str) -> Task:
    """Targets and output count for the loss; UsageError when the loss cannot score these classes."""
    import nn

    classes = int(labels.max()) + 1
    if loss_name == "cross_entropy":
        return Task(X, labels, labels, nn.cross_entropy, classes)
    if classes > 2:
        raise UsageError(f"--loss {loss_name} scores two classes but the data has {classes}; use --loss cross_entropy")
    if loss_name == "bce":
        return Task(X, labels, labels.astype(float), nn.bce_with_logits, 1)
    pm1 = 2.0 * labels - 1.0
    return Task(X, labels, pm1, nn.hinge if loss_name == "hinge" else nn.mse, 1)


def build_model(args: argparse.Namespace, task: Task) -> Any:
    """A new MLP from the arguments, or the one in --load (checked against the data)."""
    import nn

    if args.load is None:
        return nn.MLP(2, [*args.hidden, task.outputs], activation=args.activation, seed=args.seed)
    model = nn.load(args.load)
    sizes = _sizes(model)
    if sizes and (sizes[0] != 2 or sizes[-1] != task.outputs):
        raise UsageError(
            f"--load {args.load}: the model maps {sizes[0]} inputs to {sizes[-1]} outputs, "
            f"but this task needs 2 → {task.outputs}"
        )
    return model


def _sizes(model: Any) -> list[int]:
    layers = getattr(model, "layers", None)
    if not layers:
        return []
    return [len(layers[0].neurons[0].w), *(len(layer.neurons) for layer in layers)]


def make_optimizer(args: argparse.Namespace, model: Any) -> Any:
    """Adam or SGD over the model's parameters."""
    import nn

    if args.optimizer == "adam":
        return nn.Adam(model.parameters(), lr=args.lr)
    return nn.SGD(model.parameters(), lr=args.lr, momentum=0.9)


def neuron_graph(model: Any, X: np.ndarray) -> Any:
    """The first hidden neuron on the first sample, backpropagated from its own output (gradient 1 there)."""
    from autograd_lite import draw_dot, topological_order

    out = model(X[0].tolist())
    neuron = next(n for n in topological_order(out) if n.label == "layers.0.neurons.0")
    neuron.backward()
    return draw_dot(neuron)


def write_outputs(out: Path, model: Any, task: Task, history: Any) -> list[Path]:
    """decision_boundary.png, loss.png, neuron_graph.svg and model.json in `out`."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no window, works without a display
    import matplotlib.pyplot as plt

    from nn import plot

    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "decision_boundary.png", out / "loss.png", out / "neuron_graph.svg", out / "model.json"]
    ax = plot.decision_boundary(model, task.X, task.labels, title="decision boundary")
    ax.figure.savefig(paths[0], dpi=100, bbox_inches="tight")
    plt.close(ax.figure)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    plot.loss_curves(history, ax=left, metric="loss", title="loss")
    if any(a is not None for a in history.accuracy):
        plot.loss_curves(history, ax=right, metric="accuracy", title="accuracy")
    else:
        right.set_axis_off()
    fig.savefig(paths[1], dpi=100, bbox_inches="tight")
    plt.close(fig)
    graph = neuron_graph(model, task.X)
    write_atomic(paths[2], graph.pipe(format="svg"))
    model.save(str(paths[3]))
    return paths


def train(args: argparse.Namespace) -> int:
    """Train, report accuracy, write the four files; 2 for bad arguments, 1 for a failure to write."""
    import nn
    from nn import distributed

    try:
        if args.workers > 1 and not distributed.launched():  # torch's launcher runs train(args) in each worker
            return int(distributed.run_workers(args.workers, train, args))
        X, labels = load_data(args.data, args.samples, args.noise, args.seed, args.classes)
        task = make_task(X, labels, args.loss)
        model = build_model(args, task)
        optimizer = make_optimizer(args, model)
        print(f"{model} on {args.data} ({len(X)} samples), {args.loss} loss, {args.optimizer} lr {args.lr:g}")
        # fit checks every argument and the data before its first step
        history = nn.fit(
            model, X, task.targets, task.loss, optimizer, args.epochs, batch_size=args.batch_size,
            seed=args.seed, progress=not args.quiet, l2=args.l2, distributed=distributed.launched(),
        )
    except (ValueError, OSError, ImportError) as e:  # UsageError included; OSError: a --load file that cannot be read
        print(f"autograd-lite {args.command}: error: {e}", file=sys.stderr)
        return 2
    if not distributed.is_main_process():
        return 0  # rank 0 reports and writes the files
    if history.interrupted:
        print(f"stopped after {history.epochs} epochs")
    accuracy = nn.accuracy(model, X, task.targets, loss=task.loss)
    final = f" (final loss {history.loss[-1]:.4g})" if history.loss else ""
    print(f"training accuracy: {accuracy:.1%}{final}")
    try:
        paths = write_outputs(Path(args.out), model, task, history)
    except OSError as e:
        print(f"autograd-lite {args.command}: error: cannot write to {args.out}: {e}", file=sys.stderr)
        return 1
    for path in paths:
        print(f"wrote {path}")
    return 0


def add_training_arguments(p: argparse.ArgumentParser, demo: bool) -> None:
    """The options `train` takes; `demo` gets only --out, --epochs and --quiet."""
    p.add_argument("--out", default="out", help="folder for the four output files (default: out)")
    p.add_argument("--epochs", type=positive(int), default=100, help="passes over the data (default: 100)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    defaults = {
        "data": "moons", "samples": 100, "noise": None, "classes": 3, "hidden": [16, 16], "activation": "relu",
        "loss": "hinge", "optimizer": "adam", "lr": 0.05, "batch_size": None, "l2": 1e-4, "seed": 0, "load": None,
        "workers": 1,
    }
    if demo:
        p.set_defaults(**defaults)
        return
    p.add_argument("--data", choices=DATASETS, default="moons", help="toy data set (default: moons)")
    p.add_argument("--samples", type=positive(int), default=100, help="points to generate (default: 100)")
    p.add_argument("--noise", type=float, default=None, help="noise of the data set (default: the data set's own)")
    p.add_argument("--classes", type=positive(int), default=3, help="spiral arms for --data spirals (default: 3)")
    p.add_argument("--hidden", type=hidden_sizes, default=[16, 16], help="hidden layer sizes (default: 16,16)")
    p.add_argument("--activation", choices=("relu", "tanh", "sigmoid"), default="relu", help="hidden activation")
    p.add_argument("--loss", choices=LOSSES, default="hinge", help="training loss (default: hinge)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="adam (default) or sgd (momentum 0.9)")
    p.add_argument("--lr", type=positive(float), default=0.05, help="learning rate (default: 0.05)")
    p.add_argument("--batch-size", type=positive(int), default=None, help="mini-batch size (default: full batch)")
    p.add_argument("--l2", type=float, default=1e-4, help="weight of the L2 penalty Σp² (default: 1e-4)")
    p.add_argument("--seed", type=int, default=0, help="seed for data, weights and shuffling (default: 0)")
    p.add_argument("--load", default=None, help="continue training the model saved in this JSON file")
    p.add_argument("--workers", type=positive(int), default=1, help="train data-parallel in N local processes (torch)")
