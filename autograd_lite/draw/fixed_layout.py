"""One dot layout shared by drawings that differ only in their numbers and highlights (the backward frames).

dot lays the fullest drawing out once (every gradient known); each frame's SVG is that
SVG with its own green and red texts put in, element by element (matched by the titles
dot gives nodes and wires), and the gate it is at filled. Nothing moves between frames.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograd_lite.draw.render import Drawing

SVG_NS = "http://www.w3.org/2000/svg"
SVG = f"{{{SVG_NS}}}"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_STATEMENT = re.compile(r"^\s*(\w+(?: -> \w+)?) \[(.*)\]\s*$")
_FONT = re.compile(r'<font color="(#[0-9a-fA-F]{6})"[^>]*>([^<]*)</font>')
SHAPES = {f"{SVG}ellipse", f"{SVG}polygon", f"{SVG}path"}


class FixedLayout:
    """The layout of `base`, laid out on first use; `svg(source)` draws another drawing's texts on it."""

    def __init__(self, base: Drawing, colours: tuple[str, ...], highlight: str) -> None:
        self.base = base
        self.colours = colours  # the text colours that change between frames (values, gradients)
        self.highlight = highlight  # the fill of the node a frame is at
        self._svg: bytes | None = None

    def svg(self, source: str) -> bytes:
        """The base layout showing the texts and highlights of the DOT `source` (a drawing of the same scene)."""
        if self._svg is None:
            self._svg = self.base.pipe(format="svg")
        texts, lit = statements(source, self.colours, self.highlight)
        root = ET.fromstring(self._svg)
        for g in root.iter(f"{SVG}g"):
            title = g.find(f"{SVG}title")
            if title is None or title.text is None or g.get("class") not in ("node", "edge"):
                continue
            self._restyle(g, texts.get(title.text, []), title.text in lit)
        return b'<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' + ET.tostring(root)

    def _restyle(self, g: ET.Element, texts: list[str], lit: bool) -> None:
        """Put a frame's texts into one node's or wire's coloured text elements (blank where it has fewer)."""
        coloured = [t for t in g.iter(f"{SVG}text") if t.get("fill") in self.colours]
        if len(texts) > len(coloured):
            raise ValueError("a frame shows more numbers than the layout it is drawn on has room for")
        for element, text in zip(coloured, texts + [""] * (len(coloured) - len(texts)), strict=True):
            element.text = text
            if not text and element in list(g):
                g.remove(element)  # not known yet at this frame: no text at all, not an empty one
        if lit:
            shape = next((child for child in g if child.tag in SHAPES), None)
            if shape is not None:
                shape.set("fill", self.highlight)


def statements(source: str, colours: tuple[str, ...], highlight: str) -> tuple[dict[str, list[str]], set[str]]:
    """({SVG title: its coloured texts in order}, the titles of highlighted nodes) read from DOT `source`."""
    texts: dict[str, list[str]] = {}
    lit: set[str] = set()
    for line in source.splitlines():
        m = _STATEMENT.match(line)
        if not m:
            continue
        title = m.group(1).replace(" -> ", "->")
        found = [html.unescape(t) for colour, t in _FONT.findall(m.group(2)) if colour in colours]
        if found:
            texts[title] = found
        if f'="{highlight}"' in m.group(2) and "->" not in title:
            lit.add(title)
    return texts, lit
