"""The backward pass as a movie: one drawing per gate, gradients filling in from the output back."""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograd_lite.draw.fixed_layout import FixedLayout
from autograd_lite.draw.graphviz_program import locate_dot
from autograd_lite.draw.render import (
    CURRENT_FILL,
    GRAD_COLOUR,
    VALUE_COLOUR,
    Drawing,
    Grads,
    check_layout,
    check_options,
    fit_width,
    paint,
)
from autograd_lite.draw.scene import Scene, build_scene, local_gradients
from autograd_lite.files import write_atomic
from autograd_lite.value import Value


def backward_steps(
    root: Value, style: str = "wires", rankdir: str = "LR", precision: int = 4, max_nodes: int = 500, **kw: Any
) -> Iterator[Drawing]:
    """One Digraph per gate, in reverse topological order: that gate highlighted, its inputs' gradients filled in.

    The gradients are worked out here (seed 1 at `root`), so `.grad` is neither
    needed nor changed; the last frame shows what `root.backward()` gives. The frames
    share one layout (dot runs once, for the first SVG): as SVG only their numbers and
    highlight differ, nothing moves. Other keyword arguments (collapse, cluster) are as for `draw_dot`.
    """
    look = check_options(root, style, rankdir, precision, max_nodes, legend=False)
    scene = build_scene(root, style == "wires", precision, kw.pop("collapse", None), kw.pop("cluster", None), max_nodes)
    if kw:
        raise TypeError(f"backward_steps got unexpected keyword arguments: {', '.join(kw)}")
    check_layout(scene, max_nodes)
    dot_binary = locate_dot()  # once for every frame
    # the last step's gradients: the fullest frame, whose layout every frame shares
    final = functools.reduce(lambda _, grads: grads, gradient_steps(scene), {scene.root: 1.0})
    base = paint(scene, look, Grads(final.get, lambda _: True), set(), dot_binary=dot_binary)
    fixed = FixedLayout(base, (VALUE_COLOUR, GRAD_COLOUR), CURRENT_FILL)
    sent: set[Value] = set()
    gates = reversed([n for n in scene.order if n.parents])
    for gate, grads in zip(gates, gradient_steps(scene), strict=True):
        sent.add(gate)
        frame = paint(scene, look, Grads(grads.get, sent.__contains__), set(), scene.unit[gate], dot_binary=dot_binary)
        frame.fixed = fixed
        yield frame


def gradient_steps(scene: Scene) -> Iterator[dict[Value, float]]:
    """The gradients known as each gate, from the root back, sends its own to its inputs (one dict, updated)."""
    grads: dict[Value, float] = {scene.root: 1.0}
    for gate in reversed(scene.order):
        if not gate.parents:
            continue
        g = grads[gate]
        for parent, d in zip(gate.parents, local_gradients(gate), strict=True):
            grads[parent] = grads[parent] + g * d if parent in grads else g * d
        yield grads


def save_backward_animation(root: Value, path: str | os.PathLike[str], **kw: Any) -> Path:
    """Write the backward steps as `step_001.svg`, ... and a slider page `index.html` into directory `path`.

    Returns the path of `index.html` (self-contained: the SVGs are inlined). Keyword
    arguments are as for `backward_steps`.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    svgs = [frame.pipe(format="svg").decode("utf-8") for frame in backward_steps(root, **kw)]
    for k, svg in enumerate(svgs, 1):
        write_atomic(folder / f"step_{k:03d}.svg", svg)
    index = folder / "index.html"
    write_atomic(index, slider_page(svgs))
    return index


def slider_page(svgs: list[str]) -> str:
    """An HTML page showing one SVG at a time, chosen by a slider."""
    frames = "\n".join(
        f'<div class="frame"{"" if k == 0 else " hidden"}>{_strip_prolog(fit_width(svg.encode()).decode())}</div>'
        for k, svg in enumerate(svgs)
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>backward, step by step</title></head>
<body style="font-family: sans-serif">
<p>Backward pass, step <output id="n">1</output> of {len(svgs)}:
<input id="slider" type="range" min="1" max="{max(len(svgs), 1)}" value="1" style="width: 20em"></p>
{frames}
<script>
const frames = document.querySelectorAll(".frame");
document.getElementById("slider").addEventListener("input", (e) => {{
  frames.forEach((f, i) => {{ f.hidden = i !== e.target.value - 1; }});
  document.getElementById("n").textContent = e.target.value;
}});
</script>
</body></html>
"""


def _strip_prolog(svg: str) -> str:
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
