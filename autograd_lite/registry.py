"""What a rule is (`Rule`), the table of rules (`RULES`), and the only ways rows enter and leave it.

The rows themselves are in `rules.py`; this module holds no op, so the engine (value, backward) can read the
table without importing the rows that are written with it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

# A rule's functions take any number of inputs (n-ary sum, dot), hence `...`. Partials run on floats, Values and
# arrays alike (see `ops`) and give back the same kind they were given, which a Callable type cannot say; the numpy
# form is often numpy's own function, which numpy's stubs type loosely: so the results are typed loosely too.
Forward = Callable[..., float]
Partials = Callable[..., tuple[Any, ...]]  # Any: floats, Values or arrays, as given
Vectorized = Callable[..., Any]  # Any: numpy's loosely typed results
# A high-precision reference: `reference(mpmath, *xs)` with the mpmath module passed in, so the engine never imports it.
Reference = Callable[..., Any]  # Any: mpmath's numbers (mpmath ships no types)


@dataclass(frozen=True)
class Missing:
    """A row's explicit "there is none": the reason an op has no torch form or no high-precision reference."""

    reason: str


@dataclass(frozen=True)
class NativeForm:
    """A row on single floats in code numba compiles, for the native step (the `fast` extra).

    `forward(*xs)` is the op's number and `slope(j, out, *xs)` is ∂out/∂x_j, each written with arithmetic and the
    math module only, and raising nothing: a NaN or an infinity is found after the step, and the numpy path then
    gives the scalar engine's error. An op of any arity (sum, dot) takes its inputs as one sequence instead:
    `forward(xs)` and `slope(j, out, xs)`. The table tests hold both to the row's float forms.
    """

    forward: Callable[..., float]
    slope: Callable[..., float]


@dataclass(frozen=True)
class Rule:
    """What one primitive op means: forward, local derivatives, numpy form, drawing symbol."""

    name: str
    forward: Forward
    partials: Partials
    vectorized: Vectorized | None = None
    symbol: str = ""
    arity: int | None = None  # None: any number of inputs (n-ary sum, dot)
    domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),)  # samples for checks are drawn here, per input
    kink: Callable[..., float] | None = None  # distance to the nearest point where the slope jumps
    doc: str = ""  # one line: what the op computes (the Value method's docstring, the README's op table)
    keeps_finite: bool = False  # finite inputs always give a finite output, so compiled code need not check it
    # The partials are selections (relu, abs, max, min): where one is 0 the op did not pass that input through, and
    # the upstream gradient is dropped there, never multiplied by the 0 (PyTorch's where-based backward: no 0·inf).
    selects: bool = False
    torch: str | Missing | None = None  # the torch form's dotted name ("torch.exp"), imported only by to_torch
    reference: Reference | Missing | None = None  # the value at high precision, for the differential suite
    activation: str = ""  # the torch.nn layer ("Tanh") when the op can be a network's activation; "" if not
    method: bool = False  # also a Value method: x.exp() for one input, x.max(y) for two
    # What compiled code may know of the partials without calling them (`check_rule` holds each row to it):
    # a slope per input that is always that number (add: (1.0, 1.0); an n-ary op's one entry is every input's), and
    # whether the partials read the inputs at all (exp, tanh, relu read only `out`, so the inputs need not be kept).
    constant_slopes: tuple[float, ...] = ()
    slopes_read_inputs: bool = True
    native: NativeForm | None = None  # the op in numba-compiled loops; None: graphs using it run with numpy

    def constant_slope(self, position: int, count: int) -> float | None:
        """The slope of input `position` (of `count`) if it is always one number, else None."""
        slopes = self.constant_slopes
        if len(slopes) == 1 and count != 1:
            return slopes[0]  # n-ary: every input alike
        return slopes[position] if len(slopes) == count else None

    def torch_form(self) -> Callable[..., Any]:  # Any: a torch function
        """The torch function this row names (imports torch); NotImplementedError if the row has none."""
        if not isinstance(self.torch, str):
            why = f": {self.torch.reason}" if isinstance(self.torch, Missing) else ""
            raise NotImplementedError(f"op {self.name!r} has no torch form{why}")
        return resolve(self.torch)


def resolve(dotted: str) -> Any:  # Any: whatever the name names (a torch function, a torch.nn layer class)
    """The object a dotted name such as "torch.nn.functional.softplus" names: the longest importable module, then
    attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:cut])
        try:
            found: object = importlib.import_module(module)
        except ModuleNotFoundError as error:
            if error.name == module:  # that prefix is not a module (or not installed): try a shorter one
                continue
            raise
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    return importlib.import_module(parts[0])  # ModuleNotFoundError naming what is not installed


RULES: dict[str, Rule] = {}


def add_rule(rule: Rule) -> Rule:
    """Put a rule in the table; names are unique so a drawing or a saved graph means one thing."""
    if not isinstance(rule.name, str) or not rule.name.isidentifier():
        raise ValueError(f"op name must be an identifier, got {rule.name!r}")
    if rule.name in RULES:
        raise ValueError(f"op {rule.name!r} is already in the rule table")
    if not callable(rule.forward) or not callable(rule.partials):
        raise TypeError(f"op {rule.name!r}: forward and partials must be callable")
    if rule.vectorized is not None and not callable(rule.vectorized):
        raise TypeError(f"op {rule.name!r}: vectorized must be callable or None")
    if rule.native is not None and not (
        isinstance(rule.native, NativeForm) and callable(rule.native.forward) and callable(rule.native.slope)
    ):
        raise TypeError(f"op {rule.name!r}: native must be a NativeForm(forward, slope) or None")
    if rule.kink is not None and not callable(rule.kink):
        raise TypeError(f"op {rule.name!r}: kink must be callable or None")
    if not all(type(c) is float for c in rule.constant_slopes):
        raise TypeError(f"op {rule.name!r}: constant_slopes must be a tuple of floats")
    for flag in ("keeps_finite", "selects", "method", "slopes_read_inputs"):
        if getattr(rule, flag) not in (True, False):
            raise TypeError(f"op {rule.name!r}: {flag} must be True or False")
    if rule.method and rule.arity not in (1, 2):
        raise ValueError(f"op {rule.name!r}: only a one- or two-input op can be a Value method")
    if rule.activation and rule.arity != 1:
        raise ValueError(f"op {rule.name!r}: only a one-input op can be an activation")
    RULES[rule.name] = rule
    return rule


def forward_allowing_infinity(rule: Rule, *xs: float) -> float:
    """rule.forward(*xs), except that an overflow or 0 ** negative gives ±inf (from the numpy form) instead of an error.

    Derivatives need this: a slope is infinite where a curve is vertical, and PyTorch reports inf there.
    """
    try:
        return rule.forward(*xs)
    except (OverflowError, ZeroDivisionError):
        if rule.vectorized is None:
            raise
        with np.errstate(all="ignore"):
            return float(rule.vectorized(*[np.float64(x) for x in xs]))


def remove_rule(name: str) -> None:
    """Take a row out of the table (a custom op that is no longer wanted)."""
    del RULES[name]


@contextmanager
def scoped_rules() -> Iterator[dict[str, Rule]]:
    """Inside, ops may be registered freely; on exit the table is exactly as it was (tests, experiments)."""
    saved = dict(RULES)
    try:
        yield RULES
    finally:
        RULES.clear()
        RULES.update(saved)
