"""The CLI's SVG figures (cli/svg_figures.py): their geometry read back from the SVG, and no matplotlib."""

from __future__ import annotations

import base64
import io
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
from autograd_lite.cli import svg_figures
from autograd_lite.cli.main import main

SVG = "{http://www.w3.org/2000/svg}"


def texts(root: ET.Element, kind: str) -> list[ET.Element]:
    """The text elements of one class (xtick, ylabel, legend, ...)."""
    return [t for t in root.iter(f"{SVG}text") if t.get("class") == kind]


def tick_map(root: ET.Element, axis: str, panel: tuple[float, float] = (0, 1e9)) -> tuple[float, float]:
    """(scale, offset) with pixel = scale * value + offset, fitted to the axis's tick labels inside a panel's x span."""
    ticks = [t for t in texts(root, f"{axis}tick") if panel[0] <= float(t.get("x", 0)) < panel[1]]
    values = [float(t.text or "") for t in ticks]
    pixels = [float(t.get(axis) or 0) - (4 if axis == "y" else 0) for t in ticks]  # y labels sit 4 px below
    assert len(values) >= 2
    scale, offset = np.polyfit(values, pixels, 1)
    assert np.allclose(np.multiply(scale, values) + offset, pixels, atol=0.02)  # the ticks are evenly placed
    return float(scale), float(offset)


def points_of(polyline: ET.Element) -> np.ndarray:
    """A polyline's points as an (n, 2) array of pixels."""
    return np.array([[float(v) for v in p.split(",")] for p in (polyline.get("points") or "").split()])


def test_the_loss_curve_has_one_point_per_epoch_at_its_true_epoch_and_height():
    loss = [0.9, 0.5, 0.7, 0.2, 0.1]
    history = nn.History(loss=loss, accuracy=[None] * 5, first_epoch=41)  # resumed after epoch 40, regression
    root = ET.fromstring(svg_figures.curves_svg(history))
    (curve,) = [p for p in root.iter(f"{SVG}polyline") if p.get("class") == "curve"]
    xy = points_of(curve)
    assert len(xy) == len(loss)
    x_scale, x_offset = tick_map(root, "x")
    assert np.allclose((xy[:, 0] - x_offset) / x_scale, range(41, 46), atol=0.01)  # epochs 41..45, not 1..5
    y_scale, y_offset = tick_map(root, "y")
    assert np.allclose((xy[:, 1] - y_offset) / y_scale, loss, atol=1e-3)
    assert y_scale < 0  # a larger loss is drawn higher up
    assert {t.text for t in texts(root, "xtick")} <= {str(e) for e in range(41, 46)}  # whole epochs only
    assert [t.text for t in texts(root, "xlabel")] == ["epoch"] and [t.text for t in texts(root, "ylabel")] == ["loss"]
    assert [t.text for t in texts(root, "title")] == ["loss"]  # a regression loss has no accuracy panel


def test_a_classification_history_gets_an_accuracy_panel_beside_the_loss():
    history = nn.History(loss=[0.7, 0.4, 0.3], accuracy=[0.5, 0.75, 1.0])
    root = ET.fromstring(svg_figures.curves_svg(history))
    assert [t.text for t in texts(root, "title")] == ["loss", "accuracy"]
    loss, accuracy = [points_of(p) for p in root.iter(f"{SVG}polyline")]
    assert accuracy[:, 0].min() > loss[:, 0].max()  # side by side
    y_scale, y_offset = tick_map(root, "y", panel=(accuracy[:, 0].min() - 100, 1e9))
    assert np.allclose((accuracy[:, 1] - y_offset) / y_scale, [0.5, 0.75, 1.0], atol=1e-3)


@pytest.mark.parametrize("loss", [[], [0.3]])
def test_no_epoch_or_one_epoch_still_makes_a_figure(loss):
    root = ET.fromstring(svg_figures.curves_svg(nn.History(loss=loss, accuracy=[None] * len(loss))))
    assert len(points_of(next(root.iter(f"{SVG}polyline")))) == len(loss)
    assert len(texts(root, "xtick")) >= 2 and len(texts(root, "ytick")) >= 2


@pytest.mark.parametrize(("lo", "hi"), [(0.0, 1.0), (-1.73, 2.41), (41, 45), (0.0101, 0.0102), (-3e5, -1e5)])
def test_ticks_are_evenly_spaced_round_numbers_inside_the_range(lo, hi):
    ticks = svg_figures.ticks(lo, hi)
    steps = np.diff(ticks)
    assert 2 <= len(ticks) <= 7 and lo - 1e-12 <= ticks[0] and ticks[-1] <= hi + 1e-12
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** np.floor(np.log10(steps[0]))
    assert min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-6


def test_png_is_read_back_by_an_independent_decoder():
    image = pytest.importorskip("PIL.Image")  # Pillow comes with matplotlib in the test extras
    rgb = np.random.default_rng(0).integers(0, 256, size=(7, 11, 3), dtype=np.uint8)
    assert np.array_equal(np.asarray(image.open(io.BytesIO(svg_figures.png(rgb))).convert("RGB")), rgb)


def spirals_model() -> tuple[nn.MLP, np.ndarray, np.ndarray]:
    """An untrained 3-class MLP whose three regions each take about a third of the plane, and three spiral arms."""
    X, labels = nn.datasets.make_spirals(60, classes=3, seed=1)
    return nn.MLP(2, [8, 3], activation="tanh", seed=1), X, labels


def field_pixels(root: ET.Element) -> tuple[ET.Element, np.ndarray]:
    """The embedded class-field image element and its pixels (decoded by Pillow)."""
    image = pytest.importorskip("PIL.Image")
    (field,) = [i for i in root.iter(f"{SVG}image") if i.get("class") == "field"]
    data = base64.b64decode((field.get("href") or "").split(",", 1)[1])
    return field, np.asarray(image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def test_the_boundary_image_shows_the_models_class_where_the_axes_say():
    model, X, labels = spirals_model()
    root = ET.fromstring(svg_figures.boundary_svg(model, X, labels, resolution=60))
    field, pixels = field_pixels(root)
    (xs, xo), (ys, yo) = tick_map(root, "x"), tick_map(root, "y")
    left, top = float(field.get("x") or 0), float(field.get("y") or 0)
    cell_w, cell_h = float(field.get("width") or 0) / pixels.shape[1], float(field.get("height") or 0) / pixels.shape[0]
    rows, cols = np.meshgrid(np.arange(0, 60, 7), np.arange(0, 60, 7))
    centres = np.column_stack([((left + (cols.ravel() + 0.5) * cell_w) - xo) / xs,
                               ((top + (rows.ravel() + 0.5) * cell_h) - yo) / ys])  # pixel centres in data units
    classes = nn.predict(model, centres).argmax(axis=1)
    colours = pixels[rows.ravel(), cols.ravel()]
    legend = [mark.get("fill") for mark in root.iter(f"{SVG}circle") if mark.get("class") == "legend-mark"]
    assert len(set(classes)) == 3  # the sample meets every region
    for k in range(3):  # one colour per class: a tint of its legend colour (the same way away from white)
        mine = colours[classes == k]
        assert (mine == mine[0]).all()
        assert int(np.argmax([cosine(255 - mine[0], 255 - rgb(c)) for c in legend])) == k
        assert cosine(255 - mine[0], 255 - rgb(legend[k])) > 0.99


def rgb(colour: str | None) -> np.ndarray:
    """#rrggbb as three numbers."""
    return np.array([int((colour or "")[i : i + 2], 16) for i in (1, 3, 5)])


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """The cosine of the angle between two vectors."""
    return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))


def test_the_points_sit_at_their_data_and_the_legend_has_one_entry_per_class():
    model, X, labels = spirals_model()
    root = ET.fromstring(svg_figures.boundary_svg(model, X, labels, resolution=20))
    (xs, xo), (ys, yo) = tick_map(root, "x"), tick_map(root, "y")
    points = [c for c in root.iter(f"{SVG}circle") if "point" in (c.get("class") or "").split()]
    drawn = np.array([[(float(c.get("cx") or 0) - xo) / xs, (float(c.get("cy") or 0) - yo) / ys] for c in points])
    assert np.allclose(drawn, X, atol=0.01)
    legend = {t.text: None for t in texts(root, "legend")}
    marks = [m.get("fill") for m in root.iter(f"{SVG}circle") if m.get("class") == "legend-mark"]
    assert list(legend) == ["class 0", "class 1", "class 2"] and marks == list(nn.plot.CLASS_COLOURS[:3])
    assert [c.get("fill") for c in points] == [marks[k] for k in labels]  # each point in its class's colour
    assert [t.text for t in texts(root, "xlabel")] == ["x0"] and [t.text for t in texts(root, "ylabel")] == ["x1"]


BLOCK_MATPLOTLIB = """
import importlib.abc, sys
class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "matplotlib":
            raise ImportError("matplotlib is blocked in this test")
sys.meta_path.insert(0, Refuse())
from autograd_lite.cli.main import main
code = main(sys.argv[1:])
assert "matplotlib" not in sys.modules
sys.exit(code)
"""


@pytest.mark.parametrize("command", [["demo", "--epochs", "3"], ["train", "--data", "xor", "--epochs", "3"]])
def test_demo_and_train_draw_without_matplotlib(tmp_path, command):
    run = subprocess.run([sys.executable, "-c", BLOCK_MATPLOTLIB, *command, "--quiet", "--out", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "wrote" in run.stdout and ET.parse(tmp_path / "decision_boundary.svg").getroot().tag == f"{SVG}svg"


def test_a_resumed_run_draws_its_true_epochs(tmp_path, capsys):
    common = ["train", "--quiet", "--hidden", "4"]
    assert main([*common, "--epochs", "3", "--out", str(tmp_path / "a")]) == 0
    assert main([*common, "--epochs", "2", "--load", str(tmp_path / "a/model.json"), "--out", str(tmp_path / "b")]) == 0
    root = ET.parse(tmp_path / "b/loss.svg").getroot()
    x_scale, x_offset = tick_map(root, "x", panel=(0, 440))
    xy = points_of(next(root.iter(f"{SVG}polyline")))
    assert np.allclose((xy[:, 0] - x_offset) / x_scale, [4, 5], atol=0.01)
