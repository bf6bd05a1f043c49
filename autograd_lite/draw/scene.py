"""What a drawing shows, before any graphviz: node kinds, folded constants, collapsed subgraphs, frames.

Reads only the public node attributes (data, label, op, parents, requires_grad),
`topological_order` and the rule table; the engine never imports this module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from autograd_lite.backward import topological_order
from autograd_lite.rules import RULES
from autograd_lite.value import Value

Collapse = str | Iterable[str] | Callable[[str], bool] | None
# node -> the names of the frames around it, outermost first (empty: no frame). A library that builds graphs
# (nn's `model.drawing_groups()`) supplies it, so the renderer never guesses from names. It names a frame's
# leaves and the gates the frame outputs; the frame then holds every node on a path between them (`regions`).
Grouping = Callable[[Value], Sequence[str]]


def kind(node: Value) -> str:
    """'gate' (made by an op), 'parameter' (leaf needing a gradient), 'input' (labelled data) or 'constant'."""
    if node.parents:
        return "gate"
    if node.requires_grad:
        return "parameter"
    return "input" if node.label else "constant"


def format_number(x: float, precision: int) -> str:
    """x to `precision` significant digits; nan, inf and -inf spelled out, -0 shown as 0."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return "0" if x == 0 else f"{x:.{precision}g}"


def symbol(node: Value) -> str:
    """The gate's symbol from the rule table (its op name for ops without one)."""
    rule = RULES.get(node.op)
    return (rule.symbol or rule.name) if rule else node.op


def fold_label(gate: Value, precision: int) -> str | None:
    """The slides' label for a gate with its constant operand folded in (`*-1`, `+1`, `1/x`, `**2`), or None."""
    consts = [i for i, p in enumerate(gate.parents) if kind(p) == "constant"]
    if gate.op == "sum" and consts and len(consts) < len(gate.parents):
        total = sum(gate.parents[i].data for i in consts)
        return f"Σ{_signed(total, precision)}"
    if len(gate.parents) != 2 or len(consts) != 1:
        return None
    i = consts[0]
    c = gate.parents[i].data
    text = format_number(c, precision)
    if gate.op == "add":
        return _signed(c, precision)
    if gate.op == "mul":
        return f"*{text}"
    if gate.op == "pow":
        if i == 0:
            return f"{text}**x"
        return "1/x" if c == -1 else f"**{text}"
    return f"{symbol(gate)} {text}"


def _signed(c: float, precision: int) -> str:
    text = format_number(c, precision)
    return text if text.startswith("-") else f"+{text}"


@dataclass
class Scene:
    """A graph ready to draw: which nodes appear, which stand for a collapsed subgraph, which cluster holds them."""

    root: Value
    order: list[Value]
    index: dict[Value, int]  # node -> position in `order`, its stable DOT id
    consumers: dict[Value, list[tuple[Value, int]]]
    folds: dict[Value, str]  # gate -> its label with a constant operand folded in
    unit: dict[Value, Value]  # node -> the drawn node standing for it (itself, or its collapsed box)
    drawn: list[Value]
    neuron: dict[Value, str]  # drawn node -> the innermost frame holding it (an nn neuron)
    outer: dict[str, str]  # frame -> the frame around it (an nn layer), for frames that have one
    titles: dict[Value, str]  # collapsed box -> the frame it stands for (boxes collapsed by label: their label)

    def folded(self, parent: Value, gate: Value) -> bool:
        """Whether the wire parent -> gate is a constant folded into the gate's label."""
        return gate in self.folds and kind(parent) == "constant"

    def layer_of(self, frame: str) -> str | None:
        """The frame around `frame` (an nn neuron's layer), or None."""
        return self.outer.get(frame)

    def is_outer(self, frame: str) -> bool:
        """Whether `frame` holds other frames (an nn layer), even if they are collapsed into boxes."""
        return frame in self.outer.values()

    def collapsed(self, node: Value) -> bool:
        """Whether node is drawn as the box of a collapsed subgraph."""
        return node.parents != () and any(self.unit[p] is node for p in node.parents)

    def box_outputs(self, box: Value) -> list[Value]:
        """The members of a collapsed box whose values leave it (wired to other nodes, or the root)."""
        return [
            n
            for n in self.order
            if self.unit[n] is box and (n is self.root or any(self.unit[c] is not box for c, _ in self.consumers[n]))
        ]


def build_scene(
    root: Value, fold: bool, precision: int, collapse: Collapse, cluster: Grouping | bool | None, max_nodes: int
) -> Scene:
    """Work out what to draw for `root`; ValueError if more than max_nodes would be drawn."""
    order = topological_order(root)
    consumers: dict[Value, list[tuple[Value, int]]] = {n: [] for n in order}
    for c in order:
        for i, p in enumerate(c.parents):
            consumers[p].append((c, i))
    folds = {}
    if fold:
        folds = {g: label for g in order if g.parents and (label := fold_label(g, precision)) is not None}
    chains = regions(order, consumers, cluster)
    group, titles = collapse_groups(order, consumers, collapse, chains)
    unit = {n: group.get(n, n) for n in order}
    index = {n: i for i, n in enumerate(order)}
    scene = Scene(root, order, index, consumers, folds, unit, [], {}, {}, titles)
    scene.drawn = [n for n in order if unit[n] is n and (n is root or not _all_folded(scene, n))]
    if len(scene.drawn) > max_nodes:
        raise ValueError(
            f"the graph has {len(scene.drawn)} nodes to draw, more than max_nodes={max_nodes}; fold labelled "
            "subgraphs with collapse=[...] (e.g. whole neurons), draw a smaller part, or raise max_nodes"
        )
    scene.neuron, scene.outer = drawn_frames(scene, chains)
    return scene


def _all_folded(scene: Scene, node: Value) -> bool:
    uses = scene.consumers[node]
    return bool(uses) and all(scene.folded(node, c) for c, _ in uses)


def subgraph_of(order: list[Value], consumers: dict[Value, list[tuple[Value, int]]], top: Value) -> set[Value]:
    """`top` and the ancestors feeding only into it, stopping at nodes labelled outside `top.label + '.'`."""
    prefix = top.label + "."
    members = {top}
    for n in reversed(order[: order.index(top)]):  # ancestors come before top
        if n.label and not n.label.startswith(prefix):
            continue
        uses = consumers[n]
        if uses and all(c in members for c, _ in uses):
            members.add(n)
    return members


def collapse_groups(
    order: list[Value],
    consumers: dict[Value, list[tuple[Value, int]]],
    collapse: Collapse,
    chains: dict[Value, tuple[str, ...]],
) -> tuple[dict[Value, Value], dict[Value, str]]:
    """(member -> the node standing for its box, box -> its title).

    A name that is a frame of the grouping (an nn neuron or layer) folds that frame's region, whatever
    its nodes are labelled; any other name is a label whose subgraph (see `subgraph_of`) is folded.
    """
    if collapse is None:
        return {}, {}
    frame_names = {name for chain in chains.values() for name in chain}
    if callable(collapse):
        frames = sorted(name for name in frame_names if collapse(name))
        tops = [n for n in order if n.label and n.label not in frame_names and collapse(n.label)]
    else:
        names = {collapse} if isinstance(collapse, str) else set(collapse)
        for name in names:
            if not isinstance(name, str):
                raise TypeError(f"collapse names must be str, got {type(name).__name__}")
        missing = sorted(names - frame_names - {n.label for n in order})
        if missing:
            raise ValueError(f"collapse: no node labelled {', '.join(map(repr, missing))} in the graph (nor a frame)")
        frames = sorted(names & frame_names)
        tops = [n for n in order if n.label in names - frame_names]
    group: dict[Value, Value] = {}
    titles: dict[Value, str] = {}
    for frame in sorted(frames, key=len):  # a layer before its neurons: the outer box takes them all
        members = [n for n in order if frame in chains.get(n, ()) and n not in group]
        box = next((n for n in reversed(members) if n.parents), None)
        if box is None or len(members) < 2:
            continue  # nothing to fold: a frame of leaves only, or a single node
        group.update((m, box) for m in members)
        titles[box] = frame
    top_set = set(tops)
    for top in tops:
        if top in group:
            continue
        for m in subgraph_of(order, consumers, top):
            if m is top or (m not in top_set and m not in group):
                group[m] = top
    return group, titles


def regions(
    order: list[Value], consumers: dict[Value, list[tuple[Value, int]]], cluster: Grouping | bool | None
) -> dict[Value, tuple[str, ...]]:
    """node -> the frames around it, outermost first, for nodes inside some frame.

    The grouping names a frame's leaves (a neuron's parameters) and the gates it outputs; the
    frame holds them and every node on a path from one of them to an output it names. Nodes are
    never framed by their labels, so relabelling a neuron's output changes nothing.
    """
    if cluster is None or cluster is False:
        return {}
    if not callable(cluster):
        raise TypeError("cluster must be a grouping (node -> frame names), such as model.drawing_groups(), or False")
    named: dict[str, list[Value]] = {}
    chain_of: dict[str, tuple[str, ...]] = {}
    chains: dict[Value, tuple[str, ...]] = {}
    for n in order:
        names = _frame_names(cluster, n)
        if names:
            named.setdefault(names[-1], []).append(n)
            chain_of.setdefault(names[-1], names)
            chains[n] = names
    index = {n: i for i, n in enumerate(order)}
    for frame, nodes in named.items():
        for n in between(order, index, consumers, nodes):
            chains.setdefault(n, chain_of[frame])
    return chains


def between(
    order: list[Value], index: dict[Value, int], consumers: dict[Value, list[tuple[Value, int]]], named: list[Value]
) -> set[Value]:
    """The nodes on some path from a node of `named` to a gate of `named` (the named nodes included)."""
    outputs = [n for n in named if n.parents]
    if not outputs:
        return set(named)
    first, last = min(index[n] for n in named), max(index[n] for n in outputs)
    seeds = set(named)
    below = set()  # reached from a named node
    for n in order[first : last + 1]:
        if n in seeds or any(p in below for p in n.parents):
            below.add(n)
    above = set(outputs)  # reaching a named output
    for n in reversed(order[first : last + 1]):
        if n in above or any(c in above for c, _ in consumers[n]):
            above.add(n)
    return seeds | (below & above)


def drawn_frames(scene: Scene, chains: dict[Value, tuple[str, ...]]) -> tuple[dict[Value, str], dict[str, str]]:
    """(drawn node -> innermost frame, frame -> the frame around it); a box sits in the frames around its own."""
    outer = {chain[i + 1]: chain[i] for chain in chains.values() for i in range(len(chain) - 1)}
    neuron: dict[Value, str] = {}
    for n in scene.drawn:
        chain = chains.get(n, ())
        title = scene.titles.get(n)
        if title is not None and title in chain:
            chain = chain[: chain.index(title)]
        if chain:
            neuron[n] = chain[-1]
    return neuron, outer


def _frame_names(grouping: Grouping, node: Value) -> tuple[str, ...]:
    names = tuple(grouping(node) or ())
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"a grouping must give frame names as str, got {names!r}")
    return names


def local_gradients(gate: Value) -> tuple[float, ...]:
    """∂gate/∂parent for each parent, from the rule table (nan where the rule cannot say)."""
    xs = [p.data for p in gate.parents]
    try:
        return tuple(float(d) for d in RULES[gate.op].partials(gate.data, *xs))
    except (ArithmeticError, ValueError):
        return (math.nan,) * len(xs)


def on_paths(order: list[Value], start: Value) -> set[Value]:
    """Nodes on some path from `start` up to the root (the last node of `order`)."""
    reached = {start}
    for n in order:
        if any(p in reached for p in n.parents):
            reached.add(n)
    return reached
