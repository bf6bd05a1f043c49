"""What the page draws, computed from a snapshot of the parameters with the engine's own code.

The decision surface and every hidden neuron's heat map come from one compiled batch
(`compile_graph` over a copy of the model, whose parameters are the snapshot's), so the
training model is never touched. The graph of one point is `draw_dot` of that point's
loss: laid out once (`graph_svg`), then only its numbers change, so each view sends the
green and red texts of every node and wire by their SVG titles (`graph_labels`).
"""

from __future__ import annotations

import base64
import html
import re
import threading
import time
from typing import TYPE_CHECKING

import numpy as np

from autograd_lite import Value, compile_graph, draw_dot, explain
from autograd_lite.draw.render import GRAD_COLOUR, VALUE_COLOUR
from autograd_lite.playground.session import Frame, Run
from autograd_lite.types import JSONObject

if TYPE_CHECKING:
    from autograd_lite.draw.render import Drawing

GRID = 40  # cells a side of the decision surface
NEURON_STEP = 2  # a neuron's heat map takes every other cell of the grid
CHART_SHOWN = 300  # points of the loss chart sent to the page
GRAPH_INTERVAL = 0.2  # seconds between recomputed graph labels while running (each step when paused)
MAX_GRAPH_NODES = 500
_STATEMENT = re.compile(r"^\s*(\w+(?: -> \w+)?) \[(.*)\]\s*$")
_FONT = re.compile(r'<font color="(#[0-9a-fA-F]{6})"[^>]*>([^<]*)</font>')


def grid(domain: tuple[float, float, float, float], size: int = GRID) -> np.ndarray:
    """The cells' centres as a (2, size²) batch, row by row from the top (highest x1) down."""
    x0, x1, y0, y1 = domain
    step_x, step_y = (x1 - x0) / size, (y1 - y0) / size
    xs = x0 + step_x * (np.arange(size) + 0.5)
    ys = y1 - step_y * (np.arange(size) + 0.5)
    gx, gy = np.meshgrid(xs, ys)
    return np.vstack([gx.ravel(), gy.ravel()])


def encode(values: np.ndarray) -> str:
    """Numbers in [-1, 1] as bytes 0..255, base64 (the page maps them to orange, white, blue)."""
    scaled = np.round((np.clip(np.nan_to_num(values), -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    return base64.b64encode(scaled.tobytes()).decode("ascii")


def graph_labels(source: str) -> dict[str, list[str]]:
    """Each node's and wire's green and red texts, in order, keyed by the title dot gives it in the SVG."""
    labels: dict[str, list[str]] = {}
    for line in source.splitlines():
        m = _STATEMENT.match(line)
        if not m:
            continue
        texts = [html.unescape(t) for colour, t in _FONT.findall(m.group(2)) if colour in (VALUE_COLOUR, GRAD_COLOUR)]
        if texts:
            labels[m.group(1).replace(" -> ", "->")] = texts
    return labels


class ViewModel:
    """A copy of one run's model, loaded with a snapshot: the heat maps' compiled batch and the point graphs."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.model = type(run.model)(**run.model.config())  # same structure; its numbers come from snapshots
        self.params: list[Value] = self.model.parameters()
        inputs = [Value(0.0, "x0", requires_grad=False), Value(0.0, "x1", requires_grad=False)]
        self.graph = compile_graph(self._every_neuron, inputs, leaves=self.params)
        self.block = np.fromiter((leaf.data for leaf in self.graph.leaves), float, len(self.graph.leaves))
        self.batch = grid(run.data.domain)
        self.sizes = list(run.model.nouts)

    def _every_neuron(self, *xs: Value) -> list[Value]:
        """The output of every neuron, layer by layer; the network's output last."""
        h: list[Value] = list(xs)
        outputs: list[Value] = []
        for layer in self.model.layers:
            h = layer(h)
            outputs.extend(h)
        return outputs

    def load(self, data: list[float]) -> None:
        """Take the snapshot's parameters."""
        for p, v in zip(self.params, data, strict=True):
            p.data, p.grad = v, 0.0

    def heat_maps(self, data: list[float]) -> tuple[str, list[str]]:
        """(the decision surface, one map per hidden neuron), each encoded for the page."""
        self.block[: len(data)] = data
        out = np.asarray(self.graph.run(self.batch, self.block)).reshape(self.batch.shape[1], -1)
        s = self.run.settings
        final = out[:, -1]
        if s.regression:
            surface = final / max(float(np.abs(self.run.data.targets).max()), 1e-9)
        else:
            surface = np.tanh(final / 2) if s.loss == "bce" else final  # bce: 2·sigmoid(logit) − 1
        neurons = []
        every = np.arange(GRID)[NEURON_STEP // 2 :: NEURON_STEP]
        for j in range(out.shape[1] - 1):
            cells = out[:, j].reshape(GRID, GRID)[np.ix_(every, every)]
            if s.activation == "sigmoid":
                cells = 2 * cells - 1
            elif s.activation == "relu":
                cells = cells / max(float(cells.max()), 1e-9)
            neurons.append(encode(cells))
        return encode(surface), neurons

    def point_graph(self, data: list[float], point: int, highlight: str | None) -> tuple[Drawing, Value, Value | None]:
        """(draw_dot of the point's loss after its backward pass, the loss, the parameter named `highlight`)."""
        self.load(data)
        x = [float(v) for v in self.run.data.X[point]]
        target = self.run.data.targets[point].item()
        loss = self.run.loss([self.model(x)], [target])
        loss.label = "loss"
        loss.backward()
        param = dict(self.model.named_parameters()).get(highlight) if highlight else None
        drawing = draw_dot(loss, cluster=self.model.drawing_groups(), highlight=param, max_nodes=MAX_GRAPH_NODES)
        return drawing, loss, param


class Views:
    """One page's view maker (used by its event stream and its graph requests; one at a time)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: ViewModel | None = None
        self.graph: JSONObject | None = None
        self.graph_at = 0.0

    def _model(self, run: Run) -> ViewModel:
        if self.model is None or self.model.run is not run:
            self.model, self.graph = ViewModel(run), None
        return self.model

    def build(self, frame: Frame) -> JSONObject:
        """The view of a frame as JSON-ready data."""
        with self.lock:
            vm = self._model(frame.run)
            snap = frame.snapshot
            surface, neurons = vm.heat_maps(snap.data)
            view = {
                "run": frame.run.number, "version": frame.version, "epoch": snap.epoch, "status": frame.status,
                "message": frame.message, "loss": snap.loss, "accuracy": snap.accuracy,
                "surface": surface, "neurons": neurons, "size": GRID, "neuron_size": GRID // NEURON_STEP,
                "w": snap.data, "g": snap.grad if snap.epoch else None, "chart": chart(frame.chart),
            }
            view["graph"] = self._graph_texts(vm, frame)
            return view

    def _graph_texts(self, vm: ViewModel, frame: Frame) -> JSONObject | None:
        """The point graph's texts and the explanation, recomputed at most every GRAPH_INTERVAL while running."""
        if frame.point is None:
            return None
        key = graph_key(frame)
        now = time.monotonic()
        fresh = self.graph is not None and self.graph["key"] == key and now - self.graph_at < GRAPH_INTERVAL
        if fresh and frame.running:
            return self.graph
        try:
            drawing, loss, param = vm.point_graph(frame.snapshot.data, frame.point, frame.explain)
        except ValueError as e:  # too many nodes to draw: say so on the page
            self.graph = {"key": key, "error": too_large(e)}
        else:
            text = str(explain(loss, param)) if param is not None else None
            self.graph = {"key": key, "labels": graph_labels(drawing.source), "explain": text}
        self.graph_at = now
        return self.graph

    def svg(self, frame: Frame) -> JSONObject:
        """The laid-out SVG of the frame's point graph (dot runs outside the lock), or an error message."""
        if frame.point is None:
            return {"key": None, "error": "no point chosen: click a point on the decision surface"}
        with self.lock:
            vm = self._model(frame.run)
            try:
                drawing, _, _ = vm.point_graph(frame.snapshot.data, frame.point, frame.explain)
            except ValueError as e:
                return {"key": graph_key(frame), "error": too_large(e)}
        return {"key": graph_key(frame), "svg": drawing.pipe(format="svg", encoding="utf-8")}


def too_large(error: ValueError) -> str:
    """draw_dot's refusal, as the page says it."""
    return f"This model's graph of one point is too large to draw here ({error}). Use fewer neurons or layers."


def graph_key(frame: Frame) -> str:
    """What fixes a point graph's layout: the run, the point, the highlighted parameter."""
    return f"{frame.run.number}:{frame.point}:{frame.explain or ''}"


def chart(points: list[tuple[int, float, float | None]]) -> dict[str, list[float | None]]:
    """At most CHART_SHOWN of the chart's points, evenly spaced, the last one always included."""
    if len(points) > CHART_SHOWN:
        idx = np.unique(np.linspace(0, len(points) - 1, CHART_SHOWN).round().astype(int))
        points = [points[i] for i in idx]
    return {"epoch": [p[0] for p in points], "loss": [p[1] for p in points], "accuracy": [p[2] for p in points]}
