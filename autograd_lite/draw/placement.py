"""Where dot puts things: nodes inside their frames, wires entering a frame, and each gate's inputs in order.

Two graphviz habits make a framed drawing hard to read, and both are fixed here by
the DOT we emit, not after layout:
- a wire from outside a frame keeps its label outside the frame, so dot routes it
  around the frame and the label lands on the frame's border, far from the wire. Each
  such wire is cut at an entry point inside the frame: the outside part is bare, the
  inside part (entry -> gate) carries the label, which dot then keeps in the frame;
- dot orders a rank to cut crossings, so `w.1` may sit above `w.0`. The inputs of a
  gate that are used nowhere else (and the entry points into it) are tied in parameter
  order by invisible wires within their rank.
"""

from __future__ import annotations

import itertools
from contextlib import nullcontext
from dataclasses import dataclass, field

import graphviz

from autograd_lite.draw.markup import html_text
from autograd_lite.draw.scene import Scene
from autograd_lite.value import Value

FONT = "Arial"
# dot keeps the nodes joined by flat (same-rank) wires in wire order: left to right in TB and BT, top to bottom in
# LR and RL, except inside a cluster, where LR and RL come out bottom to top (measured with graphviz 16.1, and held by
# tests/test_render_geometry.py); there the chain runs backwards, so it reads top to bottom.
BACKWARDS_IN_CLUSTERS = {"LR": True, "RL": True, "TB": False, "BT": False}

Cluster = tuple[str | None, str | None]  # (layer frame, neuron frame) a node is drawn in; None: not in one


@dataclass
class Placement:
    """Each drawn node's cluster, and the entry points of wires that cross into a frame."""

    cluster: dict[Value, Cluster]
    entries: dict[tuple[Value, Value], str] = field(default_factory=dict)  # (tail, head) -> entry point id


def node_id(scene: Scene, node: Value) -> str:
    """The DOT id of a drawn node (its position in topological order)."""
    return f"n{scene.index[node]}"


def clusters(scene: Scene) -> dict[Value, Cluster]:
    """Drawn node -> (its layer frame, its neuron frame); a neuron frame holding a single node is not drawn."""
    members: dict[str, int] = {}
    for n in scene.drawn:
        if n in scene.neuron:
            members[scene.neuron[n]] = members.get(scene.neuron[n], 0) + 1
    out: dict[Value, Cluster] = {}
    for n in scene.drawn:
        frame = scene.neuron.get(n)
        if frame is None:
            out[n] = (None, None)
        elif scene.is_outer(frame):  # a layer whose neurons are collapsed into boxes
            out[n] = (frame, None)
        else:
            out[n] = (scene.layer_of(frame), frame if members[frame] > 1 else None)
    return out


def placement(scene: Scene, pairs: list[tuple[Value, Value]]) -> Placement:
    """Clusters, and an entry point for each wire (tail, head) whose head sits in a frame its tail is outside."""
    where = clusters(scene)
    place = Placement(where)
    for tail, head in pairs:
        inner = innermost(where[head])
        if inner is not None and inner not in where[tail]:
            place.entries[tail, head] = f"e{scene.index[tail]}_{scene.index[head]}"
    return place


def innermost(cluster: Cluster) -> str | None:
    """The innermost drawn frame of a cluster, or None."""
    return cluster[1] or cluster[0]


def input_chains(scene: Scene, place: Placement, pairs: list[tuple[Value, Value]]) -> dict[Cluster, list[list[str]]]:
    """Per cluster, the ids to keep in parameter order: each gate's sole-use leaves and entry points."""
    uses: dict[Value, int] = {}
    for tail, _ in pairs:
        uses[tail] = uses.get(tail, 0) + 1
    wired = set(pairs)
    chains: dict[Cluster, list[list[str]]] = {}
    for head in scene.drawn:
        ids: dict[str, None] = {}
        for p in head.parents:
            tail = scene.unit[p]
            if (tail, head) not in wired:
                continue
            if (tail, head) in place.entries:
                ids[place.entries[tail, head]] = None
            elif not tail.parents and uses[tail] == 1 and place.cluster[tail] == place.cluster[head]:
                ids[node_id(scene, tail)] = None
        if len(ids) > 1:
            chains.setdefault(place.cluster[head], []).append(list(ids))
    return chains


def place_nodes(
    g: graphviz.Digraph,
    scene: Scene,
    place: Placement,
    nodes: dict[Value, list[tuple[str, dict[str, str]]]],
    pairs: list[tuple[Value, Value]],
    rankdir: str,
) -> None:
    """Emit the nodes, entry points and order ties, those of nn neurons inside neuron clusters inside layer clusters."""
    by_cluster: dict[Cluster, list[tuple[str, dict[str, str]]]] = {}
    for n in scene.drawn:
        by_cluster.setdefault(place.cluster[n], []).extend(nodes[n])
    point = {"shape": "point", "width": "0.02", "height": "0.02", "label": ""}
    for (_, head), eid in place.entries.items():
        by_cluster.setdefault(place.cluster[head], []).append((eid, point))
    chains = input_chains(scene, place, pairs)
    by_layer: dict[str | None, list[str | None]] = {}
    for layer, neuron in by_cluster:
        by_layer.setdefault(layer, []).append(neuron)
    count = 0
    for layer, neurons in by_layer.items():
        with g.subgraph(name=f"cluster_{count}") if layer is not None else nullcontext(g) as lg:
            count += 1
            if layer is not None:
                lg.attr(label=f"<{label_text(layer)}>", style="rounded", color="#9e9e9e", fontname=FONT)
            for neuron in neurons:
                with lg.subgraph(name=f"cluster_{count}") if neuron is not None else nullcontext(lg) as ng:
                    count += 1
                    if neuron is not None:
                        ng.attr(label=f"<{label_text(neuron)}>", style="rounded,dashed", color="#bdbdbd")
                    for nid, attrs in by_cluster[layer, neuron]:
                        ng.node(nid, **attrs)
                    backwards = BACKWARDS_IN_CLUSTERS[rankdir] and (layer, neuron) != (None, None)
                    tie(ng, chains.get((layer, neuron), []), backwards)


def tie(g: graphviz.Digraph, chains: list[list[str]], backwards: bool) -> None:
    """Keep each chain of ids in one rank, in order, by invisible wires."""
    for ids in chains:
        with g.subgraph() as same:
            same.attr(rank="same")
            ordered = ids[::-1] if backwards else ids
            for a, b in itertools.pairwise(ordered):
                same.edge(a, b, style="invis")


def label_text(text: str) -> str:
    """Frame names as HTML-label text."""
    return html_text(text)
