"""Judging one gradient a learner gives: right, or what is wrong and where.

The engine computes the right number; `explain` lists the chain rule's paths. A wrong number is then compared with
the usual slips: the sign, a factor (2 or 3), a missing path or a forgotten fan-out (the number is the sum of only
some paths), the mul gate's swap taken the wrong way round, and a gradient where max or relu route none.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from autograd_lite.backward import topological_order
from autograd_lite.exercises.core import number_text, real_number
from autograd_lite.functional import gradients
from autograd_lite.value import Value

if TYPE_CHECKING:
    from autograd_lite.draw.explain import ChainPath, Explanation

RELATIVE = 1e-4  # an answer is right to 4 significant digits ...
ABSOLUTE = 1e-9  # ... or this close to a zero gradient
MAX_SUBSET_PATHS = 12  # 2**12 sums to try for a missing path


@dataclass(frozen=True)
class Verdict:
    """One answer judged: `ok`, and the lines saying so."""

    ok: bool
    lines: tuple[str, ...]


def close(given: float, expected: float) -> bool:
    """Whether two numbers agree to the checks' tolerance."""
    return abs(given - expected) <= RELATIVE * abs(expected) + ABSOLUTE


def judge_gradient(output: Value, wrt: Value, given: object, what: str | None = None) -> Verdict:
    """Judge a learner's ∂output/∂wrt against the engine, naming the likely slip and the chain rule's paths."""
    from autograd_lite.draw.explain import explain  # drawing code loads graphviz: only when a check runs

    explanation = explain(output, wrt, precision=6)
    what = what or f"∂{explanation.name(output)}/∂{explanation.name(wrt)}"
    expected = gradients(output, [wrt])[0].data
    number = real_number(given)
    if isinstance(number, str):
        return Verdict(False, (f"✗ {what} {number}",))
    if close(number, expected):
        return Verdict(True, (f"✓ {what} = {number_text(number)}",))
    lines = [f"✗ {what}: expected {number_text(expected)}, given {number_text(number)}"]
    hints = slips(number, expected, output, wrt, explanation)
    lines += [f"  likely mistake: {h}" for h in hints] or ["  not one of the usual slips: compare with the paths below"]
    lines.append("  the chain rule, path by path (explain):")
    lines += [f"    {line}" for line in explanation.text_lines()]
    return Verdict(False, tuple(lines))


def slips(given: float, expected: float, output: Value, wrt: Value, explanation: Explanation) -> list[str]:
    """The usual mistakes that give `given` where the right answer is `expected`, most specific first."""
    name = explanation.name(wrt)
    found = [sign_slip(given, expected)]
    found.append(path_slip(given, expected, output, wrt, explanation))
    found.append(factor_slip(given, expected))
    found.append(swap_slip(given, explanation))
    found.append(routing_slip(given, expected, explanation, name))
    hints = [s for s in found if s]
    return hints or [h for h in [rounding_slip(given, expected)] if h]


def rounding_slip(given: float, expected: float) -> str | None:
    """Within a few percent: digits lost on the way (the slides print two)."""
    if abs(given - expected) <= 0.05 * abs(expected):
        return (
            "close, but not to 4 significant digits: keep more digits in the intermediate values "
            "(rounded ones drift along the chain)"
        )
    return None


def sign_slip(given: float, expected: float) -> str | None:
    """The right size with the wrong sign."""
    if expected != 0 and close(-given, expected):
        return (
            "the sign is flipped: the size is right. Check the sign of each local gradient on the path "
            "(a `*-1` gate, t − y against y − t, a step that adds the gradient instead of subtracting it)"
        )
    return None


def factor_slip(given: float, expected: float) -> str | None:
    """Off by a factor of 2 or 3 either way."""
    if expected == 0:
        return None
    for k in (2, 3):
        if close(given, k * expected):
            return f"a factor of {k}: yours is {k} times the gradient (e.g. {factor_cause(k)})"
        if close(given, expected / k):
            return f"a factor of {k}: yours is 1/{k} of the gradient (e.g. {factor_cause(k)})"
    return None


def factor_cause(k: int) -> str:
    """Where a factor k usually comes from."""
    if k == 2:
        return "the ½ in ½(t − y)², which cancels the 2 of d(u²)/du = 2u, or a path counted twice or left out"
    return "d(xⁿ)/dx = n·xⁿ⁻¹ brings down the power n"


def path_slip(given: float, expected: float, output: Value, wrt: Value, explanation: Explanation) -> str | None:
    """The sum of only some paths: a missing path, or (where they part at the input itself) a forgotten fan-out."""
    paths = explanation.paths
    if paths is None or not 1 < len(paths) <= MAX_SUBSET_PATHS:
        return None
    everything = range(len(paths))
    for size in range(len(paths) - 1, 0, -1):
        for chosen in itertools.combinations(everything, size):
            total = math.fsum(paths[i].product for i in chosen)
            if close(given, total) and not close(total, expected):
                missed = [paths[i] for i in everything if i not in chosen]
                return describe_missed(output, wrt, [paths[i] for i in chosen], missed, explanation)
    return None


def describe_missed(
    output: Value, wrt: Value, kept: list[ChainPath], missed: list[ChainPath], explanation: Explanation
) -> str:
    """Say which paths were left out and where they part from the ones that were counted."""
    fork = branch_point(kept, missed[0])
    name = explanation.name
    left_out = "; ".join(" → ".join(name(n) for n in reversed(p.nodes)) for p in missed)
    counted = f"you counted {len(kept)} of the {len(kept) + len(missed)} paths"
    if fork is wrt:
        uses = sum(parent is wrt for node in topological_order(output) for parent in node.parents)
        return (
            f"a forgotten fan-out: {name(wrt)} is used {uses} times, and a value used more than once gets the sum "
            f"of the gradients from each use (a fork adds); {counted}, left out: {left_out}"
        )
    consumers = sorted({name(p.nodes[p.nodes.index(fork) - 1]) for p in [*kept, *missed]})
    return (
        f"a missing path: {name(fork)} feeds {' and '.join(consumers)}, and the chain rule sums a product for every "
        f"path from {name(wrt)} to {name(output)}; {counted}, left out: {left_out}"
    )


def branch_point(kept: list[ChainPath], missed: ChainPath) -> Value:
    """The last node, walking up from wrt, that the missed path shares with a counted one."""
    best = missed.nodes[-1]
    best_depth = 0
    upward = list(reversed(missed.nodes))
    for path in kept:
        other = list(reversed(path.nodes))
        depth = 0
        while depth < min(len(upward), len(other)) and upward[depth] is other[depth]:
            depth += 1
        if depth > best_depth:
            best, best_depth = upward[depth - 1], depth
    return best


def swap_slip(given: float, explanation: Explanation) -> str | None:
    """A mul gate's local gradient taken as the input's own value instead of the other input's."""
    for path in explanation.paths or []:
        for k, (node, below) in enumerate(path.steps()):
            if node.op != "mul" or len(node.parents) != 2 or not all(is_variable(p) for p in node.parents):
                continue
            factors = list(path.factors)
            factors[k] = below.data
            others = math.fsum(p.product for p in explanation.paths or [] if p is not path)
            if math.prod(factors) != path.product and close(given, math.prod(factors) + others):
                other = node.parents[1] if node.parents[0] is below else node.parents[0]
                n = explanation.name
                return (
                    f"mul swaps: the local gradient of {n(node)} = {n(node.parents[0])}·{n(node.parents[1])} "
                    f"with respect to {n(below)} is the other input, {n(other)} = {number_text(other.data)}, "
                    f"not {n(below)} itself ({number_text(below.data)})"
                )
    return None


def is_variable(node: Value) -> bool:
    """Whether a node is an input or a gate, not a constant folded in by an operator (the -1 of `-u`)."""
    return bool(node.parents) or node.requires_grad


def routing_slip(given: float, expected: float, explanation: Explanation, name: str) -> str | None:
    """A gradient given where a max, min or relu gate routes none."""
    if expected != 0 or given == 0:
        return None
    for path in explanation.paths or []:
        for (node, below), factor in zip(path.steps(), path.factors):
            if factor == 0 and node.op in ("max", "min"):
                chosen = node.parents[1] if node.parents[0] is below else node.parents[0]
                n = explanation.name
                return (
                    f"{node.op} routes: {n(node)} = {node.op}({', '.join(n(p) for p in node.parents)}) sends its "
                    f"whole gradient to the input it chose, {n(chosen)} = {number_text(chosen.data)}; {n(below)} "
                    f"gets 0{'' if n(below) == name else f', and so does {name}'}"
                )
            if factor == 0 and node.op == "relu":
                return f"relu routes: {explanation.name(node)}'s input is negative, so it passes no gradient"
    if not explanation.paths:
        return f"{name} does not reach the output: no path, so its gradient is 0"
    return None
