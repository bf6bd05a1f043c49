"""`explore`: a notebook widget with one slider per input that re-runs forward and backward on a live drawing.

Every change rebuilds the expression from fresh leaves (so a function that
branches on its inputs is drawn as it runs), runs `backward()` unless the
forward-only toggle is on, and swaps the drawing's SVG in place. "step backward"
walks the backward pass gate by gate with the frames of `backward_steps`.
ipywidgets is an extra (`pip install 'autograd-lite[notebooks]'`), imported on first use.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import graphviz

from autograd_lite.draw.backward_frames import backward_steps
from autograd_lite.draw.markup import html_text
from autograd_lite.draw.render import draw_dot, fit_width
from autograd_lite.value import Value

if TYPE_CHECKING:
    from ipywidgets import FloatSlider, FloatText, HBox

try:
    from ipywidgets import VBox
except ImportError:  # explore() says which extra to install before this stand-in could be used
    VBox = object

# draw_dot's options but show_grad (the forward-only toggle) and highlight (a node of a graph rebuilt at each change)
DRAW_OPTIONS = ("style", "rankdir", "precision", "collapse", "max_nodes", "cluster", "legend")
STEP_OPTIONS = ("style", "rankdir", "precision", "max_nodes", "collapse", "cluster")  # what backward_steps takes
EXTRA = "explore needs ipywidgets: pip install 'autograd-lite[notebooks]'"


def _ipywidgets() -> ModuleType:
    """The ipywidgets module, or an ImportError naming the `notebooks` extra."""
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(EXTRA) from None
    return ipywidgets


def slider_range(value: float) -> tuple[float, float, float]:
    """(min, max, step) of a slider for `value`: symmetric about 0, reaching past ±2·|value|, 200+ steps wide."""
    reach = max(2 * abs(value), 1.0)
    unit = 10.0 ** math.floor(math.log10(reach))
    bound = next(k * unit for k in (1, 2, 5, 10) if k * unit >= reach)
    return -bound, bound, unit / 100


def on_grid(value: float, step: float) -> float:
    """A slider's value rounded to its step's decimals: arrow keys add 0.01 five times to give 0.05, not 0.0500001."""
    return round(value, max(0, -math.floor(math.log10(step))))


def split_arguments(f: Callable[..., object], given: dict[str, object]) -> tuple[dict[str, float], dict[str, Any]]:
    """({argument: starting value}, {draw_dot option: value}); TypeError/ValueError naming the bad name."""
    if not callable(f):
        raise TypeError(f"explore needs a function of Values, got {type(f).__name__}")
    params = inspect.signature(f).parameters.values()
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise TypeError("explore needs a function with named arguments (no *args or **kwargs)")
    defaults = {p.name: p.default for p in params if p.default is not p.empty}
    values: dict[str, float] = {}
    for name in names:
        if name not in given and name not in defaults:
            raise ValueError(f"explore needs a starting value for argument {name!r}: explore(f, {name}=...)")
        v = given.get(name, defaults.get(name))
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ValueError(f"the starting value of {name!r} must be a finite number, got {v!r}")
        values[name] = float(v)
    options = {k: v for k, v in given.items() if k not in values}
    unknown = [k for k in options if k not in DRAW_OPTIONS]
    if unknown:
        raise TypeError(
            f"explore got {', '.join(map(repr, unknown))}: neither an argument of f nor one of the draw_dot options "
            f"it passes on ({', '.join(DRAW_OPTIONS)}); the forward-only toggle stands in for show_grad"
        )
    return values, options


class Explorer(VBox):
    """The widget `explore` returns: sliders (snapping to their step) and number boxes (exact), a forward-only
    toggle, step controls, the drawing.

    For scripts and tests: `.sliders` and `.boxes` (name → widget), `.inputs` (name → the leaf Value),
    `.output` (the current output Value, None after an error), `.drawing` (the Digraph shown),
    `.error` (why f failed at these inputs, or None), `.step` (the backward frame shown, 1-based, or None).
    """

    def __init__(self, f: Callable[..., object], values: dict[str, float], options: dict[str, Any]) -> None:
        w = _ipywidgets()
        self.f, self.options = f, options
        self.inputs: dict[str, Value] = {}
        self.output: Value | None = None
        self.drawing: graphviz.Digraph | None = None
        self.error: str | None = None
        self.frames: list[graphviz.Digraph] = []
        self.step: int | None = None
        self.sliders: dict[str, FloatSlider] = {}
        self._syncing = False
        self.boxes: dict[str, FloatText] = {}
        rows = [self._input_row(w, name, v) for name, v in values.items()]
        self.forward_only = w.ToggleButton(value=False, description="forward only", icon="arrow-right")
        self.step_button = w.Button(description="step backward", icon="step-backward")
        self.all_button = w.Button(description="whole backward", icon="fast-backward")
        self.status = w.HTML()
        self.picture = w.HTML(layout=w.Layout(overflow="auto"))
        controls = w.HBox([self.forward_only, self.step_button, self.all_button, self.status])
        super().__init__([*rows, controls, self.picture])
        self.forward_only.observe(lambda _: self.recompute(), names="value")
        self.step_button.on_click(lambda _: self.step_backward())
        self.all_button.on_click(lambda _: self.show_whole())
        self.recompute(strict=True)

    def _input_row(self, w: ModuleType, name: str, value: float) -> HBox:
        """A slider and a number box for one argument, kept in step; either change recomputes."""
        low, high, step = slider_range(value)
        slider = w.FloatSlider(value=value, min=low, max=high, step=step, description=name, readout=False,
                               continuous_update=True, layout=w.Layout(width="22em"))
        box = w.FloatText(value=value, layout=w.Layout(width="8em"))
        slider.observe(lambda change: self._set(name, on_grid(change["new"], slider.step), "slider"), names="value")
        box.observe(lambda change: self._set(name, change["new"], "box"), names="value")
        self.sliders[name], self.boxes[name] = slider, box
        return w.HBox([slider, box])

    def _set(self, name: str, value: float, moved: str) -> None:
        """An argument changed by its slider or its box (`moved`): align the other one, then recompute.

        The slider is left alone when it moved, so its own later positions are never overwritten by an echo.
        """
        if self._syncing:
            return  # the echo of our own update below
        box, slider = self.boxes[name], self.sliders[name]
        self._syncing = True
        try:
            if moved == "slider":
                box.value = value
            else:
                if not slider.min <= value <= slider.max:
                    low, high, step = slider_range(value)
                    slider.min, slider.max, slider.step = min(low, slider.min), max(high, slider.max), step
                slider.value = value
        finally:
            self._syncing = False
        self.recompute()

    def values(self) -> dict[str, float]:
        """The current arguments: the number boxes hold them exactly (a slider rounds to its step)."""
        return {name: float(box.value) for name, box in self.boxes.items()}

    def recompute(self, strict: bool = False) -> None:
        """Forward (and backward unless forward-only) at the current values, then redraw.

        If f fails at these values, the error is shown instead of a drawing (raised when `strict`).
        """
        self.step, self.frames = None, []
        self.inputs = {name: Value(v, name) for name, v in self.values().items()}
        try:
            out = self.f(**self.inputs)
            if not isinstance(out, Value):
                raise TypeError(f"f must return a Value, got {type(out).__name__}")
            if not self.forward_only.value:
                out.backward()
        except (ArithmeticError, ValueError, TypeError) as e:
            if strict:
                raise
            self.output, self.drawing, self.error = None, None, f"{type(e).__name__}: {e}"
            self._show(None, f'<span style="color:#c62828">{html_text(self.error)}</span>')
            return
        self.output, self.error = out, None
        self.drawing = draw_dot(out, show_grad=not self.forward_only.value, **self.options)
        self._show(self.drawing, f"output <b>{out.data:.6g}</b>")

    def step_backward(self) -> None:
        """Show the next frame of the backward pass (the first after a change; the whole pass after the last)."""
        if self.output is None:
            return
        if not self.frames:
            steps = {k: v for k, v in self.options.items() if k in STEP_OPTIONS}
            self.frames = list(backward_steps(self.output, **steps))
        if not self.frames or self.step == len(self.frames):
            self.show_whole()
            return
        self.step = 1 if self.step is None else self.step + 1
        self._show(self.frames[self.step - 1], f"backward step {self.step} of {len(self.frames)}")

    def show_whole(self) -> None:
        """Back to the drawing of the whole pass at the current values."""
        self.recompute()

    def _show(self, drawing: graphviz.Digraph | None, status: str) -> None:
        """Put a drawing (or nothing) and a status line on screen."""
        self.status.value = status
        self.picture.value = "" if drawing is None else _svg(drawing)
        if drawing is not None:
            self.drawing = drawing

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:  # Any: ipywidgets' own arguments and bundle
        """The widget, plus the drawing as SVG for viewers without a widget manager (GitHub, CI's saved outputs)."""
        bundle = super()._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict) and self.picture.value:
            bundle["image/svg+xml"] = self.picture.value
        return bundle


def _svg(drawing: graphviz.Digraph) -> str:
    """The drawing as inline SVG (no XML prolog)."""
    svg = fit_width(drawing.pipe(format="svg")).decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def explore(f: Callable[..., Value], **values: object) -> Explorer:
    """A widget with a slider and a number box per argument of `f`, redrawing f's graph after every change.

    `explore(lambda x, y, z: (x + y) * z, x=-2, y=5, z=-4)`: keyword arguments named
    like f's arguments are their starting values; the others are `draw_dot` options
    (style, precision, rankdir, ...). Without ipywidgets: ImportError naming the extra.
    """
    _ipywidgets()
    args, options = split_arguments(f, values)
    return Explorer(f, args, options)
