"""The playground's settings: one table of choices and ranges, and `parse`, which checks every value.

A setting arrives from the page as JSON or as text from the URL's hash ("lr=0.03&layers=8,8"),
so numbers may come as strings; anything out of range or malformed is a `SettingsError` whose
message names the setting and what it must be (the page shows it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from autograd_lite.types import JSONObject

# A setting's check: (the value the page sent, the setting's name) -> the value, or SettingsError.
Check = Callable[[object, str], object]

DATASETS = ("moons", "circles", "spirals", "xor", "regression")
ACTIVATIONS = ("tanh", "relu", "sigmoid")
LOSSES = ("hinge", "bce", "mse")
OPTIMIZERS = ("sgd", "adam")
BATCHES = ("full", "online", "mini")  # mini: mini-batches of MINI_BATCH samples
MINI_BATCH = 10
MAX_LAYERS = 4
MAX_NEURONS = 16
LR_RANGE = (1e-5, 100.0)
L2_RANGE = (0.0, 1.0)
NOISE_RANGE = (0.0, 0.5)
SAMPLES_RANGE = (10, 1000)
SEED_RANGE = (0, 1_000_000)
SPEED_RANGE = (0, 10_000)  # epochs per second; 0: as fast as it goes
# Changing any other setting builds a new model (and data): a reset. These three apply to the run going on.
LIVE = frozenset({"lr", "l2", "speed"})
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


class SettingsError(ValueError):
    """A setting the page sent is unknown, malformed or out of range."""


@dataclass(frozen=True)
class Settings:
    """Everything that defines a playground run; `as_dict` is what the page and the URL hash hold."""

    data: str = "moons"
    samples: int = 200
    noise: float = 0.1
    dseed: int = 0  # the data's seed ("regenerate" moves it on)
    layers: tuple[int, ...] = (8, 8)
    activation: str = "tanh"
    loss: str = "hinge"
    optimizer: str = "sgd"
    lr: float = 0.03
    l2: float = 0.0
    batch: str = "full"
    seed: int = 0  # the model's initial weights and fit's shuffling
    speed: int = 0

    @property
    def regression(self) -> bool:
        """Whether the data set has real-valued targets (the others have two classes)."""
        return self.data == "regression"

    @property
    def batch_size(self) -> int | None:
        """What `nn.fit` takes: None for full batch."""
        return {"full": None, "online": 1, "mini": MINI_BATCH}[self.batch]

    def as_dict(self) -> JSONObject:
        """The settings as JSON-ready values (layers as a list)."""
        out = asdict(self)
        out["layers"] = list(self.layers)
        return out


def parse(changes: object, base: Settings | None = None) -> Settings:
    """`base` (the defaults if None) with `changes` applied, every value checked; SettingsError naming the bad one."""
    if not isinstance(changes, dict):
        raise SettingsError(f"settings must be an object of name: value, got {type(changes).__name__}")
    base = base or Settings()
    fields = base.as_dict()
    updates: JSONObject = {}  # each value checked by its setting's check
    for name, value in changes.items():
        if name not in fields:
            known = ", ".join(fields)
            raise SettingsError(f"unknown setting {str(name)[:40]!r}; the settings are {known}")
        updates[name] = _CHECKS[name](value, name)
    settings = replace(base, **updates)
    if settings.regression and settings.loss != "mse":
        raise SettingsError(f"the regression data set needs the mse loss, not {settings.loss}")
    return settings


def _choice(options: tuple[str, ...]) -> Callable[[object, str], str]:
    def check(value: object, name: str) -> str:
        if not isinstance(value, str) or value not in options:
            raise SettingsError(f"{name} must be one of {', '.join(options)}, got {_shown(value)}")
        return value

    return check


def _number(value: object, name: str) -> float:
    """A JSON number, or text that is exactly a decimal number (as the URL hash gives)."""
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SettingsError(f"{name} must be a number, got {_shown(value)}")
    return float(value)


def _in_range(low: float, high: float, low_open: bool = False) -> Callable[[object, str], float]:
    def check(value: object, name: str) -> float:
        x = _number(value, name)
        if x > high or x < low or (low_open and x == low):
            raise SettingsError(f"{name} must be between {low:g} and {high:g}, got {_shown(value)}")
        return x

    return check


def _integer(low: int, high: int) -> Callable[[object, str], int]:
    def check(value: object, name: str) -> int:
        x = _number(value, name)
        if x != int(x) or not low <= x <= high:
            raise SettingsError(f"{name} must be a whole number from {low} to {high}, got {_shown(value)}")
        return int(x)

    return check


def _layers(value: object, name: str) -> tuple[int, ...]:
    """Hidden layer sizes: a list, or text like "8,8" ("" for none)."""
    if isinstance(value, str):
        parts = [p for p in value.split(",") if p.strip()]
    elif isinstance(value, list):
        parts = value
    else:
        raise SettingsError(f"{name} must be a list of layer sizes like [8, 8], got {_shown(value)}")
    if len(parts) > MAX_LAYERS:
        raise SettingsError(f"{name}: at most {MAX_LAYERS} hidden layers, got {len(parts)}")
    size = _integer(1, MAX_NEURONS)
    return tuple(size(p, f"{name}[{i}] (neurons)") for i, p in enumerate(parts))


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


_CHECKS: dict[str, Check] = {
    "data": _choice(DATASETS),
    "samples": _integer(*SAMPLES_RANGE),
    "noise": _in_range(*NOISE_RANGE),
    "dseed": _integer(*SEED_RANGE),
    "layers": _layers,
    "activation": _choice(ACTIVATIONS),
    "loss": _choice(LOSSES),
    "optimizer": _choice(OPTIMIZERS),
    "lr": _in_range(*LR_RANGE),
    "l2": _in_range(*L2_RANGE),
    "batch": _choice(BATCHES),
    "seed": _integer(*SEED_RANGE),
    "speed": _integer(*SPEED_RANGE),
}
