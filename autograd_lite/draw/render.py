"""`draw_dot`: a graph drawn like the backprop lecture slides ("wires") or like micrograd ("records").

Wires style: inputs on the left, each op a small round gate with its symbol, and
each wire carrying its forward value (green, above) and the gradient flowing back
along it (red, below). Where a value feeds several gates, each wire carries its
share of the gradient; the shares add up to the node's `.grad`, shown under a
leaf's name. Records style: one box per value (`label | data | grad`) with op
nodes in between. Parameters (leaves with requires_grad) are orange, labelled
data inputs (requires_grad=False) blue, unlabelled constants grey.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import graphviz  # graphviz ships no type hints

from autograd_lite.draw.fixed_layout import FixedLayout
from autograd_lite.draw.graphviz_program import locate_dot, run_dot
from autograd_lite.draw.markup import html_text
from autograd_lite.draw.placement import Placement, node_id, place_nodes, placement
from autograd_lite.draw.scene import (
    Collapse,
    Grouping,
    Scene,
    build_scene,
    format_number,
    kind,
    local_gradients,
    on_paths,
    symbol,
)
from autograd_lite.files import write_atomic
from autograd_lite.value import Value

STYLES = ("wires", "records")
RANKDIRS = ("LR", "RL", "TB", "BT")
VALUE_COLOUR = "#2e7d32"  # green: forward values, as on the slides
GRAD_COLOUR = "#c62828"  # red: gradients, as on the slides
PATH_COLOUR = "#1565c0"  # blue: the paths `explain` lists (highlight=)
CURRENT_FILL = "#fff176"  # yellow: the gate a backward step is at
FILL = {"parameter": "#ffe0b2", "input": "#bbdefb", "constant": "#eeeeee", "gate": "white"}
FONT = "Arial"
GATE = {"shape": "circle", "width": "0.45", "margin": "0.02", "fontsize": "14"}



def fit_width(svg: bytes) -> bytes:
    """The SVG scaled down to fit a narrower page or notebook cell (never up), its proportions kept."""
    start = svg.find(b"<svg ")
    if start < 0 or b"style=" in svg[start : svg.find(b">", start)]:
        return svg  # not an SVG, or scaled already
    return svg[:start] + b'<svg style="max-width: 100%; height: auto" ' + svg[start + 5 :]


LAYOUT_BUDGET = 3000  # layout size (see `layout_size`) allowed per 500 max_nodes: a few seconds in graphviz-pure
_NODE_LINE = re.compile(r"\s*(?:n\d+(?:_op)?|output|legend) \[")
_ENTRY_OUT = re.compile(r"\s*e\d+_\d+ -> ")


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` rendered by the `dot` program it was given, quietly by default.

    The program is chosen when the drawing is made and run explicitly (graphviz's
    module-level DOT_BINARY is never changed). graphviz-pure (like Graphviz without
    fonts) warns on stderr about every non-ASCII glyph (×, σ, Σ) it sizes; in a notebook
    that would be red noise under each graph. Errors still raise, with dot's message.
    """

    def __init__(self, *args: Any, dot_binary: Path | None = None, **kwargs: Any) -> None:  # Any: graphviz's own
        super().__init__(*args, **kwargs)
        self.dot_binary = dot_binary
        self.fixed: FixedLayout | None = None  # a layout shared with other frames: its SVG is drawn on that one

    def __repr__(self) -> str:
        # a wire cut at a frame's entry point is counted once (its part into the entry); order ties are no wires
        wires = sum("->" in line and "style=invis" not in line and not _ENTRY_OUT.match(line) for line in self.body)
        nodes = sum(bool(_NODE_LINE.match(line)) and "->" not in line for line in self.body)
        return f"<Drawing: {nodes} nodes, {wires} wires; .pipe(format='svg') or .render() to save>"

    @overload
    def pipe(
        self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
        neato_no_op: bool | int | None = None, quiet: bool = True, *, engine: str | None = None, encoding: None = None,
    ) -> bytes: ...
    @overload
    def pipe(
        self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
        neato_no_op: bool | int | None = None, quiet: bool = True, *, engine: str | None = None, encoding: str,
    ) -> str: ...
    def pipe(
        self,
        format: str | None = None,
        renderer: str | None = None,
        formatter: str | None = None,
        neato_no_op: bool | int | None = None,
        quiet: bool = True,
        *,
        engine: str | None = None,
        encoding: str | None = None,
    ) -> bytes | str:
        """The drawing rendered to `format` (bytes, or str with `encoding`)."""
        fmt = ":".join(part for part in (format or self.format, renderer, formatter) if part)
        if self.fixed is not None and fmt == "svg":
            data = self.fixed.svg(self.source)
        else:
            data = run_dot(self.dot_binary or locate_dot(), self.source, fmt, engine or self.engine, quiet)
        return data.decode(encoding) if encoding else data

    def _repr_image_svg_xml(self) -> str:
        """The SVG Jupyter shows: scaled down to the cell's width when wider, never clipped."""
        return fit_width(self.pipe(format="svg")).decode("utf-8")

    def render(
        self,
        filename: str | None = None,
        directory: str | None = None,
        view: bool = False,
        cleanup: bool = False,
        format: str | None = None,
        quiet: bool = True,
        *,
        outfile: str | None = None,
    ) -> str:
        """Write the DOT source and its rendering (`graph` -> `graph` and `graph.svg`); returns the rendering's path."""
        if view:
            raise ValueError("render(view=True) is not supported: open the written file yourself")
        if outfile is not None:
            out = Path(outfile)
            fmt = format or out.suffix.lstrip(".") or self.format
            source = out.with_suffix(".gv")
        else:
            fmt = format or self.format
            source = Path(directory or self.directory or "", filename or self.filename)
            out = source.with_name(f"{source.name}.{fmt}")
        data = self.pipe(format=fmt, quiet=quiet)
        if not cleanup:
            write_atomic(source, self.source)
        write_atomic(out, data)
        return str(out)


@dataclass(frozen=True)
class Grads:
    """Which gradients a drawing shows: each node's gradient, and whether a gate has sent its own to its inputs."""

    of: Callable[[Value], float | None]
    sent: Callable[[Value], bool]


NO_GRADS = Grads(lambda n: None, lambda n: False)
ENGINE_GRADS = Grads(lambda n: n.grad, lambda n: True)  # what `backward` left in `.grad`


@dataclass(frozen=True)
class Look:
    """Drawing options shared by every node and wire."""

    style: str
    rankdir: str
    precision: int
    legend: bool

    def number(self, x: float) -> str:
        """x formatted to the drawing's precision."""
        return format_number(x, self.precision)


def draw_dot(
    root: Value,
    style: str = "wires",
    rankdir: str = "LR",
    precision: int = 4,
    show_grad: bool = True,
    collapse: Collapse = None,
    max_nodes: int = 500,
    cluster: Grouping | bool | None = None,
    highlight: Value | None = None,
    legend: bool = False,
) -> Drawing:
    """The graph of `root` as a `graphviz.Digraph` (shown inline in Jupyter; `.render()`/`.pipe()` to save).

    show_grad=False draws the forward pass only. cluster: frames for nn neurons and layers,
    `model.drawing_groups()` (node -> frame names); a frame holds every node nn built between
    its parameters and its outputs, however they are labelled. collapse: names (or a predicate
    on names) drawn as one box each: a frame of `cluster` (a neuron or a whole layer), or a
    node's label (that node and what feeds only into it). highlight: a node whose paths to `root`
    are coloured (those `explain` lists). legend: add a key to colours and shapes. A caption says
    what the numbers are. More than max_nodes nodes: ValueError.
    """
    look = check_options(root, style, rankdir, precision, max_nodes, legend)
    scene = build_scene(root, style == "wires", precision, collapse, cluster, max_nodes)
    path = set()
    if highlight is not None:
        if not isinstance(highlight, Value) or highlight not in scene.consumers:
            raise ValueError("highlight must be a node of the graph being drawn")
        path = on_paths(scene.order, highlight)
    check_layout(scene, max_nodes)
    return paint(scene, look, ENGINE_GRADS if show_grad else NO_GRADS, path, dot_binary=locate_dot())


def check_options(root: Value, style: str, rankdir: str, precision: int, max_nodes: int, legend: bool) -> Look:
    """The options as a Look; TypeError/ValueError naming the bad one."""
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot needs a Value, got {type(root).__name__}")
    if style not in STYLES:
        raise ValueError(f"style must be one of {', '.join(map(repr, STYLES))}, got {style!r}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    for name, n in (("precision", precision), ("max_nodes", max_nodes)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    return Look(style, rankdir, precision, legend)


def paint(
    scene: Scene, look: Look, grads: Grads, path: set[Value], current: Value | None = None, *, dot_binary: Path
) -> Drawing:
    """Draw a scene: nodes (inside their clusters), wires, the output wire, the caption and the legend."""
    g = Drawing(
        "autograd_lite",
        dot_binary=dot_binary,
        # remincross off: dot's second crossing pass over clusters drops the order ties of `placement`
        graph_attr={
            "rankdir": look.rankdir, "nodesep": "0.25", "ranksep": "0.6", "forcelabels": "true", "remincross": "false"
        },
        node_attr={"fontname": FONT, "fontsize": "12"},
        edge_attr={"fontname": FONT, "fontsize": "11", "arrowsize": "0.6"},
    )
    nodes = {n: node_statements(scene, look, grads, n, n in path, n is current) for n in scene.drawn}
    drawn = graph_wires(scene, grads, path)
    place = placement(scene, list(drawn))
    place_nodes(g, scene, place, nodes, list(drawn), look.rankdir)
    for tail, head, attrs in wires(scene, look, drawn, place, path):
        g.edge(tail, head, **attrs)
    out_grad = grads.of(scene.root)
    if look.style == "wires":
        g.node("output", "", shape="point", width="0.06")
        g.edge(node_id(scene, scene.root), "output", **wire_labels(look, scene.root.data, out_grad))
    g.attr(label=caption(scene, look, grads), labelloc="b", labeljust="l", fontsize="11", fontname=FONT)
    if look.legend:
        g.node("legend", legend_label(look), shape="plaintext")
    return g


def caption(scene: Scene, look: Look, grads: Grads) -> str:
    """What the numbers are: the value (green), and d(root)/d(that wire or node) (red), the root named by its label."""
    root = html_text(scene.root.label) or "output"
    shown = grads is not NO_GRADS
    if look.style == "wires":
        text = "on each wire: its value (green, above)"
        text += f", and d({root})/d(wire), the gradient flowing back along it (red, below)" if shown else ""
    else:
        text = "each node: data, its value" + (f"; grad, d({root})/d(node)" if shown else "")
    return f'<<font color="#616161">{text}</font>>'


def node_statements(
    scene: Scene, look: Look, grads: Grads, n: Value, on_path: bool, current: bool
) -> list[tuple[str, dict[str, str]]]:
    """The DOT nodes for one drawn node: itself, and in records style its op node."""
    k = kind(n)
    nid = node_id(scene, n)
    box_fill = CURRENT_FILL if current else "#f5f5f5" if scene.collapsed(n) else FILL[k]
    if scene.collapsed(n):
        attrs = {"shape": "plaintext", "label": collapsed_label(scene, look, grads, n, box_fill)}
    elif look.style == "records":
        attrs = {"shape": "plaintext", "label": box_label(look, grads, n, box_fill, display_name(scene, n))}
    elif k == "gate":
        attrs = {**GATE, "label": html_text(gate_text(scene, n))}
        if n.label and n not in scene.neuron:
            attrs["xlabel"] = f'<<font color="#616161" point-size="10">{html_text(n.label)}</font>>'
    elif k == "constant":
        attrs = {"shape": "plaintext", "fontcolor": "#616161", "label": look.number(n.data)}
    else:
        style = "rounded,filled" if k == "parameter" else "filled"
        attrs = {"shape": "box", "style": style, "fillcolor": box_fill, "width": "0.3", "height": "0.3"}
        attrs["label"] = leaf_label(scene, look, grads, n)
    if current and attrs["shape"] == "circle":
        attrs.update(style="filled", fillcolor=CURRENT_FILL)
    if on_path:
        attrs.update(color=PATH_COLOUR, penwidth="2")
    statements = [(nid, attrs)]
    if look.style == "records" and k == "gate" and not scene.collapsed(n):
        op = {**GATE, "label": html_text(gate_text(scene, n))}
        if current:
            op.update(style="filled", fillcolor=CURRENT_FILL)
        if on_path:
            op.update(color=PATH_COLOUR, penwidth="2")
        statements.insert(0, (f"{nid}_op", op))
    return statements


def gate_text(scene: Scene, n: Value) -> str:
    """A gate's label: its symbol, or the slides' folded form such as `*-1`."""
    return scene.folds.get(n) or symbol(n)


def display_name(scene: Scene, n: Value) -> str:
    """A node's label, relative to its neuron inside a neuron cluster (`w.0` in `layers.0.neurons.1`)."""
    neuron = scene.neuron.get(n)
    if neuron and n.label.startswith(neuron + "."):
        return n.label[len(neuron) + 1 :]
    return n.label


def leaf_label(scene: Scene, look: Look, grads: Grads, n: Value) -> str:
    """A leaf's name, and its total gradient when several wires share it."""
    text = html_text(display_name(scene, n))
    g = grads.of(n)
    if g is not None and sum(not scene.folded(n, c) for c, _ in scene.consumers[n]) > 1:
        text += f'<br/><font color="{GRAD_COLOUR}" point-size="10">grad {look.number(g)}</font>'
    return f"<{text}>"


def collapsed_label(scene: Scene, look: Look, grads: Grads, box: Value, fill: str) -> str:
    """A collapsed box: its frame's (or label's) name and the value leaving it; a box with several outputs
    (a layer) names how many, since no one value or gradient is the box's."""
    title = scene.titles.get(box, box.label)
    outputs = scene.box_outputs(box)
    if len(outputs) == 1:
        return box_label(look, grads, outputs[0], fill, title)
    cells = f'<td><b>{html_text(title)}</b></td><td><font color="#616161">{len(outputs)} outputs</font></td>'
    table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="{}"><tr>{}</tr></table>'
    return "<" + table.format(fill, cells) + ">"


def box_label(look: Look, grads: Grads, n: Value, fill: str, title: str) -> str:
    """A micrograd-style record `label | data | grad` as an HTML table (safe for any label)."""
    cells = [f"<td><b>{html_text(title)}</b></td>"] if title else []
    cells.append(f'<td><font color="{VALUE_COLOUR}">data {look.number(n.data)}</font></td>')
    g = grads.of(n)
    if g is not None:
        cells.append(f'<td><font color="{GRAD_COLOUR}">grad {look.number(g)}</font></td>')
    elif grads is not NO_GRADS:
        cells.append("<td> </td>")  # not yet reached by the backward pass
    table = '<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="{}"><tr>{}</tr></table>'
    return "<" + table.format(fill, "".join(cells)) + ">"


def wire_labels(look: Look, value: float, grad: float | None, count: int = 1) -> dict[str, str]:
    """The slides' wire: the value in green over the gradient in red, as one label.

    One label per wire (not a label plus an xlabel) lets dot place it as part of the
    layout, so the labels of many wires into one gate never overlap. `count` > 1: that
    many parallel wires drawn as one, marked ×count, carrying their summed gradient.
    """
    times = f' <font color="#616161">×{count}</font>' if count > 1 else ""
    text = f'<font color="{VALUE_COLOUR}">{look.number(value)}</font>{times}'
    if grad is not None:
        text += f'<br/><font color="{GRAD_COLOUR}">{look.number(grad)}</font>'
    return {"label": f"<{text}>"}


@dataclass
class Wire:
    """A drawn wire: the parallel graph wires between two drawn nodes, with their summed gradient share.

    `source` is the one graph node they all carry; None when they carry several (out of a collapsed
    layer's box): then no single value or gradient belongs to the drawn wire, and none is shown.
    """

    source: Value
    count: int = 0
    share: float | None = 0.0
    lit: bool = False
    several: bool = False


def graph_wires(scene: Scene, grads: Grads, path: set[Value]) -> dict[tuple[Value, Value], Wire]:
    """(tail, head) -> Wire for every pair of drawn nodes joined by at least one unfolded wire."""
    drawn: dict[tuple[Value, Value], Wire] = {}
    for c in scene.order:
        if not c.parents:
            continue
        local = local_gradients(c) if grads.sent(c) else None
        g = grads.of(c)
        for i, p in enumerate(c.parents):
            if scene.folded(p, c) or scene.unit[p] is scene.unit[c]:
                continue
            wire = drawn.setdefault((scene.unit[p], scene.unit[c]), Wire(p))
            wire.count += 1
            wire.several = wire.several or wire.source is not p
            share = None if local is None or g is None else g * local[i]
            wire.share = None if share is None or wire.share is None else wire.share + share
            wire.lit = wire.lit or (p in path and c in path)
    return drawn


def wires(
    scene: Scene, look: Look, drawn: dict[tuple[Value, Value], Wire], place: Placement, path: set[Value]
) -> list[tuple[str, str, dict[str, str]]]:
    """Every drawn wire (tail id, head id, attributes); a wire entering a frame is cut at its entry point."""
    out = []
    for (tail, head), wire in drawn.items():
        attrs = wire_attrs(look, wire)
        head_id = node_id(scene, head)
        if look.style == "records" and not scene.collapsed(head):
            head_id += "_op"
        entry = place.entries.get((tail, head))
        if entry is not None:  # the bare part outside the frame, then the labelled part inside it
            bare = {k: v for k, v in attrs.items() if k != "label"}
            out.append((node_id(scene, tail), entry, {**bare, "arrowhead": "none"}))
            out.append((entry, head_id, attrs))
        else:
            out.append((node_id(scene, tail), head_id, attrs))
    if look.style == "records":
        out.extend(op_wires(scene, path))
    return out


def wire_attrs(look: Look, wire: Wire) -> dict[str, str]:
    """A drawn wire's label (value over gradient share, or just ×count) and its highlight."""
    if look.style == "records" or wire.several:
        attrs = {"label": f"×{wire.count}"} if wire.count > 1 else {}
    else:
        attrs = wire_labels(look, wire.source.data, wire.share, wire.count)
    if wire.lit:
        attrs.update(color=PATH_COLOUR, penwidth="2.5")
    return attrs


def layout_size(scene: Scene) -> int:
    """About how many nodes dot lays out: drawn nodes plus one per rank a wire (and its label) spans.

    A wire skipping k ranks costs dot k virtual nodes, twice over with labels; a value used by
    many gates far apart (x + x + ... + x as a chain) makes layout time explode long before the
    node count does. Gates are ranked by their longest path from the inputs; an input sits just
    before its earliest consumer, as dot places it.
    """
    pairs = graph_wires(scene, NO_GRADS, set())
    rank: dict[Value, int] = {}
    for tail, head in pairs:  # in topological order of the heads, so every tail is ranked first
        rank[head] = max(rank.get(head, 0), rank.get(tail, 0) + 1)
    first_use: dict[Value, int] = {}
    for tail, head in pairs:
        if tail not in rank:  # an input
            first_use[tail] = min(first_use.get(tail, rank[head]), rank[head])
    rank.update((node, r - 1) for node, r in first_use.items())
    return len(scene.drawn) + sum(2 * max(rank[h] - rank[t], 1) for t, h in pairs)


def check_layout(scene: Scene, max_nodes: int) -> None:
    """ValueError, before dot runs, for a graph whose layout would take minutes."""
    size, budget = layout_size(scene), LAYOUT_BUDGET * max_nodes // 500
    if size > budget:
        raise ValueError(
            f"the graph's layout is too large (size {size}, budget {budget} for max_nodes={max_nodes}): "
            "long wires skip over many gates (one value feeding a long chain?); draw a smaller part, "
            "use collapse=[...] or sum_values for long sums, or raise max_nodes"
        )


def op_wires(scene: Scene, path: set[Value]) -> list[tuple[str, str, dict[str, str]]]:
    """Records style: each gate's op node and its wire into the gate's record (declared via the edge)."""
    out = []
    for n in scene.drawn:
        if n.parents and not scene.collapsed(n):
            nid = node_id(scene, n)
            attrs = {"color": PATH_COLOUR, "penwidth": "2.5"} if n in path else {}
            out.append((f"{nid}_op", nid, attrs))
    return out


def legend_label(look: Look) -> str:
    """A key to the colours and shapes."""
    folded = ", folded into its gate" if look.style == "wires" else ""
    rows = [
        f'<tr><td bgcolor="{FILL["parameter"]}">parameter / variable (requires_grad leaf)</td></tr>',
        f'<tr><td bgcolor="{FILL["input"]}">data input (labelled, requires_grad=False)</td></tr>',
        f'<tr><td bgcolor="{FILL["constant"]}">constant (unlabelled number{folded})</td></tr>',
        f'<tr><td><font color="{VALUE_COLOUR}">green: value (forward)</font></td></tr>',
        f'<tr><td><font color="{GRAD_COLOUR}">red: gradient (backward)</font></td></tr>',
    ]
    return '<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">' + "".join(rows) + "</table>>"
