"""The backward pass as a movie: one drawing per gate, gradients filling in from the output back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from autograd_lite.draw.graphviz_program import locate_dot
from autograd_lite.draw.render import Drawing, Grads, check_layout, check_options, paint
from autograd_lite.draw.scene import build_scene, local_gradients
from autograd_lite.files import write_atomic
from autograd_lite.value import Value


def backward_steps(
    root: Value, style: str = "wires", rankdir: str = "LR", precision: int = 4, max_nodes: int = 500, **kw: Any
) -> Iterator[Drawing]:
    """One Digraph per gate, in reverse topological order: that gate highlighted, its inputs' gradients filled in.

    The gradients are worked out here (seed 1 at `root`), so `.grad` is neither
    needed nor changed; the last frame shows what `root.backward()` gives.
    Other keyword arguments (collapse, cluster) are as for `draw_dot`.
    """
    look = check_options(root, style, rankdir, precision, max_nodes, legend=False)
    scene = build_scene(root, style == "wires", precision, kw.pop("collapse", None), kw.pop("cluster", None), max_nodes)
    if kw:
        raise TypeError(f"backward_steps got unexpected keyword arguments: {', '.join(kw)}")
    check_layout(scene, max_nodes)
    dot_binary = locate_dot()  # once for every frame
    grads: dict[Value, float] = {root: 1.0}
    sent: set[Value] = set()
    shown = Grads(grads.get, sent.__contains__)
    for gate in reversed(scene.order):
        if not gate.parents:
            continue
        g = grads[gate]
        for parent, d in zip(gate.parents, local_gradients(gate), strict=True):
            grads[parent] = grads[parent] + g * d if parent in grads else g * d
        sent.add(gate)
        yield paint(scene, look, shown, set(), current=scene.unit[gate], dot_binary=dot_binary)


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
        f'<div class="frame"{"" if k == 0 else " hidden"}>{_strip_prolog(svg)}</div>' for k, svg in enumerate(svgs)
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
