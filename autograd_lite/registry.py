"""What a rule is (`Rule`), the table of rules (`RULES`), and the only ways rows enter and leave it.

The rows themselves are in `rules.py`; this module holds no op, so the engine (value, backward) can read the
table without importing the rows that are written with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

# A rule's functions take any number of inputs (n-ary sum, dot), hence `...`. Partials run on floats, Values and
# arrays alike (see `ops`) and give back the same kind they were given, which a Callable type cannot say; the numpy
# form is often numpy's own function, which numpy's stubs type loosely: so the results are typed loosely too.
Forward = Callable[..., float]
Partials = Callable[..., tuple[Any, ...]]
Vectorized = Callable[..., Any]


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
    if rule.kink is not None and not callable(rule.kink):
        raise TypeError(f"op {rule.name!r}: kink must be callable or None")
    if rule.keeps_finite not in (True, False):
        raise TypeError(f"op {rule.name!r}: keeps_finite must be True or False")
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
