"""The options of `train` and `demo`: one table of defaults, argparse types that name the flag, explicit-flag tracking.

Every training option's default lives in `DEFAULTS` and nowhere else: argparse is given
`SUPPRESS`, so after parsing the options a user typed are exactly the attributes present,
and `resolve` fills in the rest. That is how `--load` can tell a contradicting `--hidden`
from the default one.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from autograd_lite import RULES

DATASETS = ("moons", "circles", "spirals", "xor")
LOSSES = ("hinge", "bce", "mse", "cross_entropy")
OPTIMIZERS = ("adam", "sgd")
ACTIVATIONS = tuple(name for name, rule in RULES.items() if rule.activation)  # the rows nn may use as one
MAX_SAMPLES = 100_000  # points of a generated data set
MAX_CLASSES = 8  # spiral arms (one colour each in the plots)
MAX_WORKERS = 16  # local processes for --workers
MAX_PARAMETERS = 50_000  # model size: checked before the model is built, so a typo cannot eat the memory
MAX_HIDDEN_LAYERS = 32
MAX_EPOCHS = 100_000  # the demo's 100 epochs a thousand times over; a typo (1000000000000) must not run for ever
MAX_NOISE = 10.0  # the data sets span about 3 units: noise 10 is already pure noise, 1e300 would overflow
MAX_LR = 1000.0  # large enough to show divergence, small enough to stay a number
MAX_L2 = 100.0
MAX_SEED = 2**32 - 1  # numpy's and torch's usual seed range



class UsageError(ValueError):
    """A bad option, or a combination that cannot work: reported as one line with exit code 2."""


DEFAULTS: dict[str, Any] = {  # Any: each option's own type (argparse reads them)
    "out": "out",
    "epochs": 100,
    "quiet": False,
    "data": "moons",
    "samples": 100,
    "noise": None,  # None: the data set's own
    "classes": 3,
    "hidden": [16, 16],
    "activation": "relu",
    "loss": "hinge",
    "optimizer": "adam",
    "lr": 0.05,
    "batch_size": None,  # None: full batch
    "l2": 1e-4,
    "seed": 0,
    "load": None,
    "workers": 1,  # data-parallel processes (torch.distributed); 1: no torch needed
}


def hidden_sizes(text: str) -> list[int]:
    """'16,16' -> [16, 16]; an argparse type, so a bad value is a usage error naming --hidden."""
    parts = [part.strip() for part in text.split(",")]
    if "" in parts:  # "16,,16" or "16,16,": a size left out is a typo, not a smaller model
        raise argparse.ArgumentTypeError(f"a size is missing in {text!r}: write sizes like 16,16")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be integers like 16,16, got {text!r}") from None
    if len(sizes) > MAX_HIDDEN_LAYERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(sizes)}")
    if any(s < 1 or s > MAX_PARAMETERS for s in sizes):
        raise argparse.ArgumentTypeError(f"each size must be between 1 and {MAX_PARAMETERS}, got {text!r}")
    return sizes


def integer_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type for an int in [low, high]."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, got {text}")
        return value

    parse.__name__ = "integer"
    return parse


def number_in(low: float, high: float, low_inclusive: bool = True) -> Callable[[str], float]:
    """An argparse type for a float in [low, high] (or (low, high] when not low_inclusive)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        above = value >= low if low_inclusive else value > low
        if not (above and value <= high):  # also false for nan; inf is above every high
            relation = "at least" if low_inclusive else "above"
            raise argparse.ArgumentTypeError(f"must be {relation} {low:g} and at most {high:g}, got {text}")
        return value

    parse.__name__ = "number"
    return parse


def add_training_arguments(p: argparse.ArgumentParser, demo: bool) -> None:
    """The options `train` takes; `demo` gets only --out, --epochs and --quiet."""
    d = DEFAULTS
    add = p.add_argument
    add("--out", default=argparse.SUPPRESS, help=f"folder for the four output files (default: {d['out']})")
    epochs = f"passes over the data, 1 to {MAX_EPOCHS} (default: {d['epochs']})"
    add("--epochs", type=integer_in(1, MAX_EPOCHS), default=argparse.SUPPRESS, help=epochs)
    add("--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bar")
    if demo:
        return
    add("--data", choices=DATASETS, default=argparse.SUPPRESS, help=f"toy data set (default: {d['data']})")
    add(
        "--samples", type=integer_in(2, MAX_SAMPLES), default=argparse.SUPPRESS,
        help=f"points to generate, 2 to {MAX_SAMPLES} (default: {d['samples']}; not for xor, which has 4)",
    )
    add(
        "--noise", type=number_in(0.0, MAX_NOISE), default=argparse.SUPPRESS,
        help=f"noise of the data set, 0 to {MAX_NOISE:g} (default: the data set's own; not for xor)",
    )
    add(
        "--classes", type=integer_in(2, MAX_CLASSES), default=argparse.SUPPRESS,
        help=f"spiral arms, 2 to {MAX_CLASSES}, only with --data spirals (default: {d['classes']})",
    )
    add(
        "--hidden", type=hidden_sizes, default=argparse.SUPPRESS,
        help=f"hidden layer sizes, at most {MAX_HIDDEN_LAYERS} layers (default: {','.join(map(str, d['hidden']))}); "
        f"the model may have at most {MAX_PARAMETERS} parameters",
    )
    add("--activation", choices=ACTIVATIONS, default=argparse.SUPPRESS, help=f"hidden activation ({d['activation']})")
    add("--loss", choices=LOSSES, default=argparse.SUPPRESS, help=f"training loss (default: {d['loss']})")
    add(
        "--optimizer", choices=OPTIMIZERS, default=argparse.SUPPRESS,
        help=f"adam or sgd with momentum 0.9 (default: {d['optimizer']}, or the one saved with --load)",
    )
    add(
        "--lr", type=number_in(0.0, MAX_LR, low_inclusive=False), default=argparse.SUPPRESS,
        help=f"learning rate, above 0 and at most {MAX_LR:g} (default: {d['lr']}, or the one saved with --load)",
    )
    add(
        "--batch-size", type=integer_in(1, MAX_SAMPLES), default=argparse.SUPPRESS,
        help=f"mini-batch size, 1 to {MAX_SAMPLES} (default: full batch)",
    )
    add(
        "--l2", type=number_in(0.0, MAX_L2), default=argparse.SUPPRESS,
        help=f"weight of the L2 penalty Σp², 0 to {MAX_L2:g} (default: {d['l2']})",
    )
    add(
        "--seed", type=integer_in(0, MAX_SEED), default=argparse.SUPPRESS,
        help=f"seed, 0 to {MAX_SEED}, for data, weights and shuffling (default: {d['seed']})",
    )
    add(
        "--load", default=argparse.SUPPRESS,
        help="resume training the model saved in this JSON file (with its optimizer state, when saved beside it)",
    )
    add(
        "--workers", type=integer_in(1, MAX_WORKERS), default=argparse.SUPPRESS,
        help=f"train data-parallel in N local processes, 1 to {MAX_WORKERS} (needs the torch extra; default: 1)",
    )


def resolve(args: argparse.Namespace) -> set[str]:
    """Fill in every option the user did not give from DEFAULTS; return the names of those given."""
    given = {name for name in DEFAULTS if hasattr(args, name)}
    for name, value in DEFAULTS.items():
        if name not in given:
            setattr(args, name, value)
    return given
