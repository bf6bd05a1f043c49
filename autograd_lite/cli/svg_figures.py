"""The CLI's two figures as SVG, without matplotlib: the decision boundary and the loss (and accuracy) curves.

An SVG is text that a browser shows sharp at any size. The boundary's class field is one PNG inside it,
written here with zlib and struct from a fine grid of the model's predictions (one compiled batch)
and scaled smoothly by the viewer, so the border between classes is not stair-stepped.
"""

from __future__ import annotations

import base64
import math
import struct
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

import nn
from nn.training.metrics import outputs_probabilities

SVG_NS = "http://www.w3.org/2000/svg"
COLOURS = nn.plot.CLASS_COLOURS  # the notebooks' colours, so both pictures of a class agree
REGION_TINT = 0.25  # a region is its class colour at this strength over white, as in the notebooks' figure
PANEL = (440, 320)  # one curve panel, width and height in pixels


@dataclass(frozen=True)
class Frame:
    """A plot's box in pixels (left, top, width, height) and the data ranges (x, y) it shows."""

    left: float
    top: float
    width: float
    height: float
    x: tuple[float, float]
    y: tuple[float, float]

    def px(self, x: float) -> float:
        """The pixel column of data x."""
        return self.left + (x - self.x[0]) / (self.x[1] - self.x[0]) * self.width

    def py(self, y: float) -> float:
        """The pixel row of data y (larger y higher up)."""
        return self.top + (self.y[1] - y) / (self.y[1] - self.y[0]) * self.height


def ticks(lo: float, hi: float, most: int = 6, integers: bool = False) -> list[float]:
    """Round numbers (1, 2 or 5 times a power of ten apart) inside [lo, hi], at most most + 1 of them."""
    raw = (hi - lo) / most
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))
    step = max(step, 1.0) if integers else step
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def padded(values: Sequence[float]) -> tuple[float, float]:
    """A y range holding every value with 5% to spare (a span of its own for a constant or empty series)."""
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    span = hi - lo or max(abs(hi), 1.0)
    return lo - 0.05 * span, hi + 0.05 * span


def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: object) -> ET.Element:
    """A child element; attribute names use _ for - (stroke_width → stroke-width), class_ for class."""
    element = ET.SubElement(parent, tag, {k.rstrip("_").replace("_", "-"): str(v) for k, v in attributes.items()})
    element.text = text
    return element


def document(width: float, height: float) -> ET.Element:
    """An empty SVG of this size on white."""
    svg = ET.Element("svg", xmlns=SVG_NS, width=str(width), height=str(height), viewBox=f"0 0 {width} {height}")
    svg.set("font-family", "sans-serif")
    svg.set("font-size", "12")
    add(svg, "rect", width=width, height=height, fill="white")
    return svg


def svg_bytes(svg: ET.Element) -> bytes:
    """The SVG as UTF-8 bytes with an XML declaration."""
    return ET.tostring(svg, encoding="utf-8", xml_declaration=True)


def draw_axes(svg: ET.Element, frame: Frame, labels: tuple[str, str], title: str, integers_x: bool = False) -> None:
    """The frame's box, ticks with their numbers on both axes, the axis labels and the title above."""
    bottom, right = frame.top + frame.height, frame.left + frame.width
    add(svg, "rect", x=frame.left, y=frame.top, width=frame.width, height=frame.height, fill="none", stroke="#333")
    for t in ticks(*frame.x, integers=integers_x):
        x = round(frame.px(t), 2)
        add(svg, "line", x1=x, y1=bottom, x2=x, y2=bottom + 5, stroke="#333")
        add(svg, "text", f"{t + 0.0:g}", x=x, y=bottom + 18, text_anchor="middle", class_="xtick")
    for t in ticks(*frame.y):
        y = round(frame.py(t), 2)
        add(svg, "line", x1=frame.left - 5, y1=y, x2=frame.left, y2=y, stroke="#333")
        add(svg, "text", f"{t + 0.0:g}", x=frame.left - 8, y=y + 4, text_anchor="end", class_="ytick")
    middle_x, middle_y = (frame.left + right) / 2, frame.top + frame.height / 2
    add(svg, "text", labels[0], x=middle_x, y=bottom + 36, text_anchor="middle", class_="xlabel")
    add(svg, "text", labels[1], x=frame.left - 54, y=middle_y, text_anchor="middle", class_="ylabel",
        transform=f"rotate(-90 {frame.left - 54} {middle_y})")
    add(svg, "text", title, x=middle_x, y=frame.top - 10, text_anchor="middle", font_weight="bold", class_="title")


def curve_panel(svg: ET.Element, left: float, metric: str, first_epoch: int, values: Sequence[float]) -> None:
    """One metric per epoch as a polyline, over the true epoch numbers (41..45 for a run resumed after 40)."""
    last = first_epoch + max(len(values), 2) - 1  # a single epoch still gets an x range
    y_range = (-0.02, 1.02) if metric == "accuracy" else padded(values)
    frame = Frame(left + 70, 34, PANEL[0] - 90, PANEL[1] - 84, (first_epoch, last), y_range)
    draw_axes(svg, frame, ("epoch", metric), metric, integers_x=True)
    points = [(frame.px(first_epoch + i), frame.py(v)) for i, v in enumerate(values)]
    add(svg, "polyline", points=" ".join(f"{x:.2f},{y:.2f}" for x, y in points), fill="none",
        stroke=COLOURS[0], stroke_width=1.5, class_="curve")
    if len(points) == 1:  # a one-point polyline draws nothing
        add(svg, "circle", cx=f"{points[0][0]:.2f}", cy=f"{points[0][1]:.2f}", r=3, fill=COLOURS[0])
    if not points:
        add(svg, "text", "no epoch recorded", x=frame.left + frame.width / 2, y=frame.top + frame.height / 2,
            text_anchor="middle")


def curves_svg(history: nn.History) -> bytes:
    """Loss per epoch, and beside it accuracy when the loss is a classification one (it is None otherwise)."""
    panels: list[tuple[str, Sequence[float]]] = [("loss", history.loss)]
    if history.accuracy and all(a is not None for a in history.accuracy):
        panels.append(("accuracy", [float(a) for a in history.accuracy if a is not None]))
    svg = document(PANEL[0] * len(panels), PANEL[1])
    for i, (metric, values) in enumerate(panels):
        curve_panel(svg, i * PANEL[0], metric, history.first_epoch, values)
    return svg_bytes(svg)


def centres(lo: float, hi: float, count: int) -> np.ndarray:
    """The centres of `count` equal cells across [lo, hi]: a pixel's colour is the model's class at its centre."""
    return lo + (np.arange(count) + 0.5) * (hi - lo) / count


def class_field(model: nn.MLP, x_range: tuple[float, float], y_range: tuple[float, float], size: int) -> np.ndarray:
    """The model's class at each pixel centre of a size × size image of the ranges; row 0 is the top (largest y)."""
    xx, yy = np.meshgrid(centres(*x_range, size), centres(*y_range, size)[::-1])
    scores = nn.predict(model, np.column_stack([xx.ravel(), yy.ravel()]))
    if scores.ndim == 1:  # one output: a sigmoid's probability against 0.5, a logit or hinge score against 0
        classes = scores > (0.5 if outputs_probabilities(model) else 0.0)
    else:
        classes = scores.argmax(axis=1)
    return np.asarray(classes, dtype=int).reshape(size, size)


def tint(colour: str, strength: float = REGION_TINT) -> np.ndarray:
    """An #rrggbb colour at `strength` over white, as three bytes."""
    rgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=float)
    return np.rint(255 - strength * (255 - rgb)).astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    """An (height, width, 3) uint8 array as a PNG: signature, header, the rows (filter 0) deflated, end."""
    height, width, _ = rgb.shape
    rows = np.concatenate([np.zeros((height, 1), np.uint8), rgb.reshape(height, 3 * width)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits per channel, RGB, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)) + (
        chunk(b"IEND", b""))


def grid_ranges(X: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]]:
    """The data's x0 and x1 ranges with a margin on every side (the notebooks' figure uses the same)."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * (hi - lo) + 0.25
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))


def boundary_svg(model: nn.MLP, X: np.ndarray, labels: np.ndarray, resolution: int = 300) -> bytes:
    """The model's class over the data's range as tinted regions, the points coloured by class, axes and legend."""
    x_range, y_range = grid_ranges(X)
    classes = max(int(labels.max()) + 1, model.nouts[-1], 2)
    palette = np.array([tint(COLOURS[k % len(COLOURS)]) for k in range(classes)])
    svg = document(520, 420)
    frame = Frame(70, 34, 340, 320, x_range, y_range)
    image = base64.b64encode(png(palette[class_field(model, x_range, y_range, resolution)])).decode("ascii")
    add(svg, "image", href=f"data:image/png;base64,{image}", x=frame.left, y=frame.top, width=frame.width,
        height=frame.height, preserveAspectRatio="none", style="image-rendering:optimizeQuality", class_="field")
    radius = 5 if len(X) <= 20 else 3  # a handful of points (XOR) drawn larger
    for (x0, x1), k in zip(X, labels):
        add(svg, "circle", cx=f"{frame.px(x0):.2f}", cy=f"{frame.py(x1):.2f}", r=radius,
            fill=COLOURS[int(k) % len(COLOURS)], stroke="black", stroke_width=0.6, class_=f"point class{int(k)}")
    draw_axes(svg, frame, ("x0", "x1"), "decision boundary")
    for k in range(classes):  # the legend, right of the plot
        y = frame.top + 10 + 20 * k
        add(svg, "circle", cx=frame.left + frame.width + 22, cy=y, r=5, fill=COLOURS[k % len(COLOURS)],
            stroke="black", stroke_width=0.6, class_="legend-mark")
        add(svg, "text", f"class {k}", x=frame.left + frame.width + 32, y=y + 4, class_="legend")
    return svg_bytes(svg)
