"""Exercise 4: write a new op's row for `register_op`; the check runs the row's own checks and says, in the
learner's terms, which part of the row is wrong (the forward, the slope, the second order, the numpy form)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from autograd_lite import ops
from autograd_lite.custom_ops import register_op
from autograd_lite.exercises.core import (
    Answer,
    Exercise,
    Part,
    Result,
    call_learner,
    checked_mapping,
    is_blank,
    number_text,
    real_number,
)
from autograd_lite.exercises.diagnose import close, factor_slip, sign_slip
from autograd_lite.functional import grad
from autograd_lite.rules import scoped_rules
from autograd_lite.types import Operand

POINTS = (-1.7, -0.4, 0.6, 1.3)  # where the learner's forward and partials are compared with the op's
KEYS = ["forward", "partials", "vectorized"]
Slip = tuple[Callable[[float], float], str]  # a wrong slope as a function of x, and what it means
Row = dict[str, Callable[..., object]]  # forward, partials, vectorized: each takes and gives its own kinds


@dataclass(frozen=True)
class Target:
    """The op the learner writes a row for: its forward and slope, and the slopes learners often write instead."""

    name: str
    formula: str
    forward: Callable[[float], float]
    slope: Callable[[float], float]
    curvature: Callable[[float], float]  # the second derivative, shown when the row is right
    slips: tuple[Slip, ...]
    solution: Callable[[], Row]


def cube_row() -> Row:
    """The row of x³: partials written with arithmetic, so they run on floats, Values and arrays."""

    def forward(x: float) -> float:
        return x**3

    def partials(out: Operand, x: Operand) -> tuple[Operand]:
        return (3 * x**2,)

    def vectorized(x: np.ndarray) -> np.ndarray:
        return x**3

    return {"forward": forward, "partials": partials, "vectorized": vectorized}


def softplus_row() -> Row:
    """The row of softplus(x) = log(1 + eˣ): its slope is σ(x), written with `ops.sigmoid`."""

    def forward(x: float) -> float:
        return max(x, 0.0) + math.log1p(math.exp(-abs(x)))  # log(1 + eˣ) without overflow for large x

    def partials(out: Operand, x: Operand) -> tuple[Operand]:
        return (ops.sigmoid(x),)

    def vectorized(x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, x)

    return {"forward": forward, "partials": partials, "vectorized": vectorized}


def sigmoid(x: float) -> float:
    """σ(x) on a float."""
    return 1.0 / (1.0 + math.exp(-x))


CUBE = Target(
    "cube", "x³", lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x,
    ((lambda x: 3 * x, "3x is the slope of 1.5x², not of x³: d(xⁿ)/dx = n·xⁿ⁻¹ gives 3x²"),),
    cube_row,
)
SOFTPLUS = Target(
    "softplus", "log(1 + eˣ)", lambda x: math.log1p(math.exp(x)), sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x)),
    (
        (lambda x: sigmoid(-x), "that is σ(−x) = 1/(1 + eˣ): the chain rule through log gives eˣ/(1 + eˣ) = σ(x)"),
        (math.exp, "eˣ is only the inner derivative: divide by 1 + eˣ (the derivative of log is 1/its input)"),
        (lambda x: 1 / (1 + math.exp(x)) * math.exp(x) * math.exp(x), "eˣ counted twice: the slope is eˣ/(1 + eˣ)"),
    ),
    softplus_row,
)


def check_row(target: Target, answer: Answer) -> Result:
    """Judge a row: its parts are callables, its forward and slope match the op, then register_op's own checks."""
    row = checked_mapping(answer, KEYS, "the row")
    if isinstance(row, str):
        return Result(False, f"not yet: {row} (register_op's forward, partials and vectorized)")
    for key in KEYS:
        if is_blank(row[key]):
            return Result(False, f"not yet: {key} is still blank (None or ...): write it as a def or a lambda")
        if not callable(row[key]):
            return Result(False, f"not yet: {key} is {row[key]!r}, not a function: write it as a def or a lambda")
    problem = wrong_forward(target, row["forward"]) or wrong_slope(target, row["partials"])
    if problem:
        return Result(False, f"not yet: {problem}")
    with scoped_rules():  # the learner's op is gone from the table after the check
        try:
            op = register_op(f"exercise_{target.name}", row["forward"], row["partials"], row["vectorized"])
        except Exception as error:  # register_op runs the learner's code, which may raise anything
            return Result(False, f"not yet: {in_learner_terms(error)}\n  register_op said: {error}")
        x = POINTS[-1]
        second = grad(grad(op))(x)
    return Result(
        True,
        f"right: your row of {target.formula} passes register_op's checks (the slope against central differences "
        "of forward, the second derivative through the graph, the numpy form against the float form); "
        f"grad(grad({target.name}))({x}) = {number_text(float(second))}, the exact {number_text(target.curvature(x))}.",
    )


def wrong_forward(target: Target, forward: Callable[..., Operand]) -> str | None:
    """What is wrong with forward at the sample points, or None."""
    for x in POINTS:
        out, error = call_learner(forward, x)
        if error:
            return f"forward({x}) {error}"
        number = real_number(out)
        if isinstance(number, str):
            return f"forward({x}) {number}"
        expected = target.forward(x)
        if not close(number, expected):
            hint = sign_slip(number, expected) or factor_slip(number, expected) or ""
            return (
                f"forward({x}) = {number_text(number)}, but {target.formula} at x = {x} is {number_text(expected)}"
                + (f"; likely mistake: {hint}" if hint else "")
            )
    return None


def wrong_slope(target: Target, partials: Callable[..., Operand]) -> str | None:
    """What is wrong with partials(out, x) at the sample points, or None."""
    for x in POINTS:
        out = target.forward(x)
        slopes, error = call_learner(partials, out, x)
        if error:
            return f"partials(out, {x}) {error}"
        if not isinstance(slopes, (tuple, list)) or len(slopes) != 1:
            return (
                f"partials(out, x) returned {slopes!r}: it must return one derivative per input, as a tuple "
                "(for one input: `return (slope,)`)"
            )
        number = real_number(slopes[0])
        if isinstance(number, str):
            return f"partials(out, {x})[0] {number}"
        expected = target.slope(x)
        if not close(number, expected):
            hint = slope_slip(target, x, out, number, expected)
            return (
                f"the slope at x = {x}: partials gives {number_text(number)}, d/dx {target.formula} is "
                f"{number_text(expected)}" + (f"; likely mistake: {hint}" if hint else "")
            )
    return None


def slope_slip(target: Target, x: float, out: float, given: float, expected: float) -> str | None:
    """The usual wrong slopes: a sign, a factor, the op's known slips, the output itself."""
    for slope, meaning in target.slips:
        if close(given, slope(x)):
            return meaning
    if close(given, out):
        return "that is the op's output (out), not its slope"
    return sign_slip(given, expected) or factor_slip(given, expected)


def in_learner_terms(error: Exception) -> str:
    """Which part of the row register_op's check refused, said as what to change."""
    message = str(error)
    if "second derivative" in message or "higher-order" in message:
        return (
            "the second order: the engine differentiates your partials again (grad of grad, hessian), so write "
            "them with arithmetic and autograd_lite.ops (ops.exp, ops.sigmoid, x ** 2), not math or numpy"
        )
    if "numpy form gives" in message:
        return "the numpy form: vectorized computes a different function from forward on the same numbers"
    if "partials on arrays give" in message:
        return "the numpy form: partials on arrays give other slopes than on floats"
    if "numpy form" in message or "on arrays" in message:
        return (
            "the numpy form: compiled code runs the row on whole arrays, so vectorized must take and return numpy "
            "arrays (np.exp, np.log1p), and partials must work on arrays too (no math.*)"
        )
    if "central differences" in message:
        return "the slope: your partials disagree with the slope of your forward (central differences)"
    return f"register_op refused the row: its checks ran your code, which raised {type(error).__name__}"


def row_part(name: str, target: Target, extra: str) -> Part:
    """A part asking for the row of `target`."""
    task = (
        f"Write the row of {target.name}(x) = {target.formula} as a dict "
        '{"forward": f(x) on floats, "partials": p(out, x) returning a 1-tuple, "vectorized": f on numpy arrays}. '
        + extra
    )
    worked = {
        "cube": "forward x ** 3; partials (3 * x ** 2,), plain arithmetic, so it runs on floats, Values and "
        "arrays; vectorized x ** 3 (numpy's power).",
        "softplus": "forward max(x, 0) + log1p(exp(−|x|)) (no overflow); partials (ops.sigmoid(x),), since "
        "d/dx log(1 + eˣ) = eˣ/(1 + eˣ) = σ(x); vectorized np.logaddexp(0, x).",
    }[target.name]
    return Part(name, task, lambda answer: check_row(target, answer), target.solution, worked)


def exercise_4() -> Exercise:
    """A new op's row for register_op."""
    intro = (
        "register_op(name, forward, partials, vectorized) adds an op to the rule table after checking the row: "
        "the slope against central differences of forward, the second derivative on Values, the numpy form "
        "against the float form. The check compares your row with the op at a few points, then runs those checks."
    )
    parts = [
        row_part("a", CUBE, "partials must also work on Values and arrays: use arithmetic."),
        row_part("b", SOFTPLUS, "Write partials with autograd_lite.ops (ops.sigmoid, ops.exp), not math."),
    ]
    return Exercise(4, "a new op's row", intro, {p.name: p for p in parts})
