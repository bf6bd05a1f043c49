"""`explain(output, wrt)`: the chain rule written out, as the lectures derive a gradient by hand.

Every path from `wrt` up to `output`, each local gradient on it with its number,
each path's product, and their sum; or, past `max_paths` paths, the node deltas
δ_u = ∂output/∂u = Σ_c δ_c · ∂c/∂u. Prints as text; Markdown/LaTeX in Jupyter.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from autograd_lite.backward import topological_order
from autograd_lite.draw.scene import format_number, kind, local_gradients, symbol
from autograd_lite.rules import RULES
from autograd_lite.value import Value

GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi"}


@dataclass(frozen=True)
class ChainPath:
    """One path from the output down to `wrt`: its nodes, the local gradient of each step, their product."""

    nodes: tuple[Value, ...]  # output first, wrt last
    factors: tuple[float, ...]  # factors[k] = ∂nodes[k]/∂nodes[k+1]
    product: float

    def steps(self) -> list[tuple[Value, Value]]:
        """(node, the node below it) for each step, output first."""
        return list(zip(self.nodes, self.nodes[1:], strict=False))


@dataclass(frozen=True)
class Delta:
    """δ of one node: the sum over its consumers c of δ_c · ∂c/∂node."""

    node: Value
    terms: tuple[tuple[Value, float], ...]  # (consumer, ∂consumer/∂node)
    value: float


class Explanation:
    """∂output/∂wrt written out; `total` equals `wrt.grad` after `output.backward()`."""

    def __init__(self, output: Value, wrt: Value, max_paths: int = 50, precision: int = 6) -> None:
        self.output, self.wrt, self.precision = output, wrt, precision
        order = topological_order(output)
        self.names = node_names(order)
        self.path_count = count_paths(order, wrt)
        self.paths: list[ChainPath] | None = None
        self.deltas: list[Delta] | None = None
        if self.path_count <= max_paths:
            paths = list_paths(output, wrt, order)
            # a path through 0·inf is nan where backward, which sums δ before multiplying, may give inf: then deltas
            if all(math.isfinite(p.product) for p in paths):
                self.paths = paths
                self.total = math.fsum(p.product for p in paths)
        if self.paths is None:
            self.deltas = node_deltas(order, wrt)
            self.total = self.deltas[-1].value
        self.max_paths = max_paths

    def __float__(self) -> float:
        return self.total

    def name(self, node: Value) -> str:
        """How the text calls a node: its label, or op and number (`add_1`), or a constant's value."""
        return self.names.get(node) or format_number(node.data, self.precision)

    def number(self, x: float) -> str:
        """x to the explanation's precision."""
        return format_number(x, self.precision)

    def __str__(self) -> str:
        return "\n".join(self.text_lines())

    __repr__ = __str__

    def heading(self) -> str:
        """The one-line summary: the gradient and how many paths make it."""
        d = f"∂{self.name(self.output)}/∂{self.name(self.wrt)}"
        n = self.path_count
        if self.paths is None:
            why = f"more than {self.max_paths}" if n > self.max_paths else "a path's product is not finite"
            return (
                f"{d} = {self.number(self.total)}: {n} paths from {self.name(self.wrt)} to {self.name(self.output)}, "
                f"{why}, so here are the node deltas δ[u] = ∂{self.name(self.output)}/∂u "
                "(each the sum over u's consumers c of δ[c]·∂c/∂u) instead of the paths"
            )
        s = "" if n == 1 else "s"
        return f"{d} = {self.number(self.total)}, the sum over {n} path{s} of the product of local gradients"

    def text_lines(self) -> list[str]:
        """The explanation as plain text lines."""
        lines = [self.heading()]
        if self.paths is not None:
            for k, p in enumerate(self.paths, 1):
                lines.append(f"  path {k}: {' → '.join(self.name(n) for n in reversed(p.nodes))}")
                symbols = " · ".join(f"∂{self.name(a)}/∂{self.name(b)}" for a, b in p.steps())
                numbers = " · ".join(f"({self.number(f)})" for f in p.factors)
                lines.append(f"    {symbols or '1'} = {numbers or '1'} = {self.number(p.product)}")
            if len(self.paths) > 1:
                parts = " + ".join(f"({self.number(p.product)})" for p in self.paths)
                lines.append(f"  sum: {parts} = {self.number(self.total)}")
        else:
            for d in self.deltas or []:
                terms = " + ".join(f"δ[{self.name(c)}]·({self.number(g)})" for c, g in d.terms)
                value = f"{terms} = {self.number(d.value)}" if terms else "1 (the output)"
                lines.append(f"  δ[{self.name(d.node)}] = {value}")
        lines.extend(f"  where {w}" for w in self.definitions())
        return lines

    def shown_nodes(self) -> list[Value]:
        """The nodes the explanation mentions, output first."""
        seen: dict[Value, None] = {}
        for p in self.paths or []:
            seen.update(dict.fromkeys(p.nodes))
        for d in self.deltas or []:
            seen[d.node] = None
        return list(seen)

    def definitions(self) -> list[str]:
        """What each unlabelled node mentioned is: `add_1 = x + y = 3`."""
        out = []
        for n in self.shown_nodes():
            if n.label or not n.parents:
                continue
            args = [self.name(p) for p in n.parents]
            if is_infix(n.op) and len(args) == 2:
                expr = f"{args[0]} {symbol(n)} {args[1]}"
            elif n.op == "dot":
                k = len(args) // 2
                products = [f"{a}·{b}" for a, b in zip(args[:k], args[k : 2 * k], strict=True)]
                expr = " + ".join(products + args[2 * k :])
            else:
                expr = f"{symbol(n)}({', '.join(args)})"
            out.append(f"{self.name(n)} = {expr} = {self.number(n.data)}")
        return out

    def latex_lines(self) -> list[str]:
        """The explanation as lines of a LaTeX `aligned` block."""
        o = latex_name(self.name(self.output))
        lines = []
        if self.paths is not None:
            for k, p in enumerate(self.paths, 1):
                fracs = r"\,".join(
                    rf"\frac{{\partial {latex_name(self.name(a))}}}{{\partial {latex_name(self.name(b))}}}"
                    for a, b in p.steps()
                )
                numbers = r" \cdot ".join(f"({self.number(f)})" for f in p.factors)
                lines.append(rf"\text{{path {k}:}}\ & {fracs or '1'} = {numbers or '1'} = {self.number(p.product)}")
        else:
            for d in self.deltas or []:
                terms = " + ".join(rf"\delta_{{{latex_name(self.name(c))}}}({self.number(g)})" for c, g in d.terms)
                lines.append(rf"\delta_{{{latex_name(self.name(d.node))}}} &= {terms or '1'} = {self.number(d.value)}")
        w = latex_name(self.name(self.wrt))
        lines.append(rf"\frac{{\partial {o}}}{{\partial {w}}} &= {self.number(self.total)}")
        return lines

    def _repr_latex_(self) -> str:
        return "$$\\begin{aligned}\n" + " \\\\\n".join(self.latex_lines()) + "\n\\end{aligned}$$"

    def _repr_markdown_(self) -> str:
        where = "".join(f"\n- `{w}`" for w in self.definitions())
        return f"{_markdown_text(self.heading())}\n\n{self._repr_latex_()}\n{where}"


def explain(output: Value, wrt: Value, max_paths: int = 50, precision: int = 6) -> Explanation:
    """∂output/∂wrt as the chain rule written out: every path's local gradients, products and their sum.

    More than `max_paths` paths: node deltas instead, and the text says so. The total
    equals `wrt.grad` after `output.backward()` (from zero gradients).
    """
    for what, v in (("output", output), ("wrt", wrt)):
        if not isinstance(v, Value):
            raise TypeError(f"explain: {what} must be a Value, got {type(v).__name__}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 1:
        raise ValueError(f"explain: max_paths must be a positive int, got {max_paths!r}")
    return Explanation(output, wrt, max_paths, precision)


def is_infix(op: str) -> bool:
    """Whether the rule table's op is written between its two inputs: its symbol is an operator (+, ×, **)."""
    rule = RULES.get(op)
    return rule is not None and rule.arity == 2 and bool(rule.symbol) and not rule.symbol.isidentifier()


def node_names(order: list[Value]) -> dict[Value, str]:
    """Each node's name: its label, or `<op>_<k>` numbered in topological order; constants get none."""
    taken = {n.label for n in order if n.label}
    names: dict[Value, str] = {}
    counts: dict[str, int] = {}
    for n in order:
        if n.label:
            names[n] = n.label
        elif kind(n) == "gate":
            while True:
                counts[n.op] = counts.get(n.op, 0) + 1
                name = f"{n.op}_{counts[n.op]}"
                if name not in taken:
                    break
            names[n] = name
    return names


def count_paths(order: list[Value], wrt: Value) -> int:
    """How many paths lead from wrt to the last node of `order` (a parent used twice counts twice)."""
    count: dict[Value, int] = {wrt: 1}
    for n in order:
        if n is not wrt:
            count[n] = sum(count.get(p, 0) for p in n.parents)
    return count.get(order[-1], 0) if wrt in count and order else 0


def list_paths(output: Value, wrt: Value, order: list[Value]) -> list[ChainPath]:
    """Every path from output down to wrt, in the order of each node's parents."""
    reaches = {wrt}
    for n in order:
        if any(p in reaches for p in n.parents):
            reaches.add(n)
    if output not in reaches:
        return []
    paths: list[ChainPath] = []
    stack: list[tuple[tuple[Value, ...], tuple[float, ...]]] = [((output,), ())]
    while stack:
        nodes, factors = stack.pop()
        node = nodes[-1]
        if node is wrt:
            paths.append(ChainPath(nodes, factors, math.prod(factors)))
            continue
        local = local_gradients(node)
        # pushed in reverse, so the first parent's paths come out first
        for p, d in reversed(list(zip(node.parents, local, strict=True))):
            if p in reaches:
                stack.append(((*nodes, p), (*factors, d)))
    return paths


def node_deltas(order: list[Value], wrt: Value) -> list[Delta]:
    """δ for every node on a path from wrt to the output, output first, wrt last."""
    on_path = {wrt}
    for n in order:
        if any(p in on_path for p in n.parents):
            on_path.add(n)
    delta: dict[Value, float] = {}
    terms: dict[Value, list[tuple[Value, float]]] = {n: [] for n in on_path}
    out: list[Delta] = []
    for n in reversed(order):
        if n not in on_path:
            continue
        value = 1.0 if n is order[-1] else _sum([delta[c] * g for c, g in terms[n]])
        delta[n] = value
        out.append(Delta(n, tuple(terms[n]), value))
        if n is wrt:
            break
        for p, g in zip(n.parents, local_gradients(n), strict=True):
            if p in on_path:
                terms[p].append((n, g))
    return out


def _sum(values: list[float]) -> float:
    """Exact sum of finite numbers; with an inf or nan, the sum backward makes (fsum refuses inf + -inf)."""
    return math.fsum(values) if all(map(math.isfinite, values)) else sum(values)


_LATEX_SPECIAL = {c: "\\" + c for c in "#$%&_{}"} | {"\\": r"\backslash ", "^": r"\hat{}", "~": r"\sim ", " ": r"\ "}


def latex_name(name: str) -> str:
    """A node name as LaTeX: `w1` -> w_{1}, `out_o1` -> \\mathrm{out}_{o1}, anything else escaped."""
    m = re.fullmatch(r"([A-Za-z]+)(?:_([A-Za-z0-9]+)|([0-9]+))?", name)
    if m:
        base, sub = m.group(1), m.group(2) or m.group(3)
        if base.lower() in GREEK:
            base = "\\" + base
        elif len(base) > 1:
            base = rf"\mathrm{{{base}}}"
        return f"{base}_{{{sub}}}" if sub else base
    if re.fullmatch(r"-?[0-9.e+\-]+|nan|inf|-inf", name):  # a constant's value
        return name
    return r"\mathrm{" + "".join(_LATEX_SPECIAL.get(c, c) for c in name.replace("\n", " ")) + "}"


def _markdown_text(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]<>()#+!|])", r"\\\1", text)
