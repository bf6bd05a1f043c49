"""explore driven from Python: sliders and boxes, output and gradients, drawing, steps, errors, fallback."""

from __future__ import annotations

import math
import sys
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

pytest.importorskip("ipywidgets")

from autograd_lite import Value, backward_steps, explore
from autograd_lite.draw.explore import slider_range
from autograd_lite.draw.render import CURRENT_FILL, GRAD_COLOUR, VALUE_COLOUR

SVG = "{http://www.w3.org/2000/svg}"


def circuit(x, y, z):
    return (x + y) * z


def expected(x: float, y: float, z: float) -> tuple[float, dict[str, float]]:
    """(x + y)·z and its gradients, worked out with floats."""
    return (x + y) * z, {"x": z, "y": z, "z": x + y}


def shown(widget) -> ET.Element:
    """The SVG on screen."""
    return ET.fromstring(widget.picture.value)


def groups(svg: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in svg.iter(f"{SVG}g") if g.get("class") == cls]


def texts(element: ET.Element, fill: str | None = None) -> list[str]:
    return [t.text or "" for t in element.iter(f"{SVG}text") if fill is None or t.get("fill") == fill]


def records(svg: ET.Element) -> list[list[str]]:
    """The `label | data | grad` records of a records-style drawing."""
    return sorted(texts(g) for g in groups(svg, "node") if any(t.startswith("data ") for t in texts(g)))


def fmt(x: float) -> str:
    return f"{x:.4g}"


def test_starts_at_the_given_values_with_output_gradients_and_drawing():
    w = explore(circuit, x=-2, y=5, z=-4)
    out, grads = expected(-2, 5, -4)
    assert w.output.data == out
    assert {name: leaf.grad for name, leaf in w.inputs.items()} == grads
    assert set(w.sliders) == set(w.boxes) == {"x", "y", "z"}
    svg = shown(w)
    edges = groups(svg, "edge")
    assert Counter(t for g in edges for t in texts(g, VALUE_COLOUR)) == Counter(["-2", "5", "-4", "3", "-12"])
    assert Counter(t for g in edges for t in texts(g, GRAD_COLOUR)) == Counter(["-4", "-4", "3", "-4", "1"])


@pytest.mark.parametrize(("name", "value"), [("x", 1.5), ("y", -7.3), ("z", 0.0), ("x", 3.07)])
def test_moving_a_slider_reruns_forward_and_backward_and_redraws(name, value):
    w = explore(circuit, x=-2, y=5, z=-4, style="records")
    w.sliders[name].value = value
    args = {"x": -2.0, "y": 5.0, "z": -4.0, name: value}
    out, grads = expected(**args)
    assert w.boxes[name].value == value
    assert w.output.data == out
    for leaf_name, leaf in w.inputs.items():
        assert leaf.data == args[leaf_name]
        assert leaf.grad == grads[leaf_name]
    assert records(shown(w)) == sorted(
        [[n, f"data {fmt(args[n])}", f"grad {fmt(grads[n])}"] for n in "xyz"]
        + [[f"data {fmt(args['x'] + args['y'])}", f"grad {fmt(args['z'])}"], [f"data {fmt(out)}", "grad 1"]]
    )
    assert w.drawing is not None and fmt(out) in w.drawing.source


def test_a_number_box_takes_exact_values_beyond_the_slider():
    w = explore(circuit, x=-2, y=5, z=-4)
    w.boxes["y"].value = 1234.5678
    assert w.sliders["y"].max >= 1234.5678 and w.sliders["y"].value == 1234.5678
    assert w.output.data == expected(-2, 1234.5678, -4)[0]
    assert w.inputs["z"].grad == -2 + 1234.5678


def test_a_slider_value_off_its_grid_by_float_error_is_rounded_to_the_step():
    w = explore(circuit, x=-2, y=5, z=-4)
    w.sliders["x"].value = -2.0 + 5 * 0.01  # what five arrow-key steps send from the browser
    assert w.boxes["x"].value == -1.95 and w.inputs["x"].data == -1.95


@pytest.mark.parametrize("value", [-4.0, 0.3, 7.0, 0.0, -123.0])
def test_slider_range_surrounds_the_value(value):
    low, high, step = slider_range(value)
    assert low < min(value, 0) and high > max(value, 0) and high >= 2 * abs(value)
    assert 50 <= (high - low) / step <= 2000


def test_forward_only_toggle_draws_values_without_gradients():
    w = explore(circuit, x=-2, y=5, z=-4)
    w.forward_only.value = True
    assert w.output.data == -12 and all(leaf.grad == 0 for leaf in w.inputs.values())
    assert not [t for g in groups(shown(w), "edge") for t in texts(g, GRAD_COLOUR)]
    w.sliders["z"].value = 2.0
    assert w.output.data == 6.0 and all(leaf.grad == 0 for leaf in w.inputs.values())
    w.forward_only.value = False
    assert w.inputs["z"].grad == 3.0


def frame_svg(frame) -> ET.Element:
    """A frame's SVG as a notebook shows it (scaled to fit the cell)."""
    return ET.fromstring(frame._repr_mimebundle_()["image/svg+xml"])


def highlighted(svg: ET.Element) -> list[list[str]]:
    """Texts of the nodes filled with the current-step colour."""
    return [texts(g) for g in groups(svg, "node") if any(s.get("fill") == CURRENT_FILL for s in g.iter())]


def test_step_backward_walks_the_frames_gate_by_gate_then_shows_the_whole_pass():
    w = explore(lambda x, w0, b: (x * w0 + b).tanh(), x=0.5, w0=-1.5, b=0.25)
    x, w0, b = Value(0.5, "x"), Value(-1.5, "w0"), Value(0.25, "b")
    reference = [ET.tostring(frame_svg(f)) for f in backward_steps((x * w0 + b).tanh())]
    assert len(reference) == 3  # tanh, +, ×
    whole = w.picture.value
    for k in range(1, len(reference) + 1):
        w.step_backward()
        assert w.step == k and f"step {k} of 3" in w.status.value
        assert ET.tostring(shown(w)) == reference[k - 1]
        assert len(highlighted(shown(w))) == 1
    first = [t for g in groups(ET.fromstring(reference[0]), "edge") for t in texts(g, GRAD_COLOUR)]
    assert Counter(first) == Counter(["1", fmt(1 - math.tanh(-0.5) ** 2)])  # the seed, and what tanh sent back
    w.step_backward()  # past the last frame: the whole pass again
    assert w.step is None and w.picture.value == whole


def test_a_change_while_stepping_starts_again_from_the_whole_pass():
    w = explore(circuit, x=-2, y=5, z=-4)
    w.step_backward()
    w.sliders["x"].value = 1.0
    assert w.step is None and w.inputs["y"].grad == -4.0
    w.step_backward()
    assert w.step == 1 and "-24" in texts(shown(w), VALUE_COLOUR)


def test_an_input_outside_the_domain_shows_the_error_instead_of_numbers():
    w = explore(lambda x: x.log() * 2, x=1.0)
    w.sliders["x"].value = -1.0
    assert w.output is None and w.drawing is None and w.picture.value == ""
    assert "log" in w.error and "log" in w.status.value
    w.boxes["x"].value = math.e  # past the slider's end: the box widens it
    assert w.error is None and math.isclose(w.output.data, 2.0) and math.isclose(w.inputs["x"].grad, 2 / math.e)


def test_draw_dot_options_pass_through():
    w = explore(circuit, x=-2, y=5, z=-4, style="records", rankdir="TB", precision=2)
    assert "rankdir=TB" in w.drawing.source
    w.sliders["x"].value = 1.23456
    assert ["x", "data 1.2", "grad -4"] in records(shown(w))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: explore(circuit, x=1, y=2), ValueError, "'z'"),
        (lambda: explore(circuit, x=1, y=2, z="3"), ValueError, "finite number"),
        (lambda: explore(circuit, x=1, y=2, z=math.nan), ValueError, "finite number"),
        (lambda: explore(circuit, x=1, y=2, z=3, colour="red"), TypeError, "'colour'"),
        (lambda: explore(circuit, x=1, y=2, z=3, show_grad=False), TypeError, "forward-only"),
        (lambda: explore(circuit, x=1, y=2, z=3, style="fancy"), ValueError, "style"),
        (lambda: explore(lambda *xs: xs[0], x=1), TypeError, "named arguments"),
        (lambda: explore(lambda x: 2.0, x=1), TypeError, "return a Value"),
        (lambda: explore(lambda x: x.log(), x=-1), ValueError, "log"),
        (lambda: explore(3, x=1), TypeError, "function"),
    ],
)
def test_bad_arguments_get_a_clear_error(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_defaults_of_f_are_starting_values():
    w = explore(lambda a, b=3.0: a * b, a=2)
    assert w.output.data == 6.0 and w.inputs["b"].grad == 2.0


def test_saved_output_has_the_drawing_as_a_static_picture():
    w = explore(circuit, x=-2, y=5, z=-4)
    bundle = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/svg+xml"] == w.picture.value


def test_without_ipywidgets_the_error_names_the_notebooks_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now raises ImportError
    with pytest.raises(ImportError, match=r"autograd-lite\[notebooks\]"):
        explore(circuit, x=-2, y=5, z=-4)


def test_without_ipywidgets_the_package_still_imports_whole():
    import subprocess

    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "from autograd_lite import *\n"
        "try:\n    explore(lambda x: x * 2, x=1)\nexcept ImportError as e:\n    print(e)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "autograd-lite[notebooks]" in out.stdout


# --- the real browser ---------------------------------------------------------
# A notebook with an explore widget is executed (widget state stored), exported by nbconvert to HTML with its
# widget state embedded, and opened in Debian's headless chromium. The page asks a CDN for the widget manager
# (@jupyter-widgets/html-manager) and require.js; offline, those requests are answered from the same packages
# fetched with npm from the npm registry. Other CDN scripts of the page (MathJax) are answered empty and listed.

NOTEBOOK_CODE = "from autograd_lite import explore\nexplore(lambda x, y, z: (x + y) * z, x=-2, y=5, z=-4)"


@pytest.fixture(scope="session")
def widget_scripts(tmp_path_factory) -> dict[str, object]:
    """{'dist': html-manager's dist folder, 'require': require.js}, packed from the npm registry; else skip."""
    import shutil
    import subprocess
    import tarfile

    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm not found: the page's widget manager (@jupyter-widgets/html-manager) comes from npm")
    folder = tmp_path_factory.mktemp("npm")
    packed = subprocess.run([npm, "pack", "--silent", "@jupyter-widgets/html-manager@1", "requirejs@2"],
                            cwd=folder, capture_output=True, text=True, timeout=300)
    if packed.returncode != 0:
        pytest.skip(f"npm pack failed, so no widget manager for the page: {packed.stderr.strip()[-300:]}")
    for name in packed.stdout.split():
        with tarfile.open(folder / name) as tar:
            tar.extractall(folder / name.removesuffix(".tgz"), filter="data")
    (manager,) = folder.glob("jupyter-widgets-html-manager-*/package/dist")
    (require,) = folder.glob("requirejs-*/package/require.js")
    return {"dist": manager, "require": require}


def exported_page(folder) -> str:
    """The HTML export (lab template, widget state embedded) of an executed notebook holding an explore widget."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nbconvert = pytest.importorskip("nbconvert")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(NOTEBOOK_CODE)]
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=300, store_widget_state=True).execute()
    assert "application/vnd.jupyter.widget-state+json" in nb.metadata["widgets"]
    html, _ = nbconvert.HTMLExporter(template_name="lab").from_notebook_node(nb)
    page = folder / "explore.html"
    page.write_text(html, encoding="utf-8")
    return page.as_uri()


def test_the_exported_widget_renders_in_chromium(tmp_path, request):
    import os
    import shutil

    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python client is not installed")
    pytest.importorskip("nbconvert", reason="nbconvert (the HTML export with widget state) is not installed")
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    widget_scripts = request.getfixturevalue("widget_scripts")
    url = exported_page(tmp_path)
    dist, stubbed, problems = widget_scripts["dist"], [], []

    def answer(route) -> None:
        address = route.request.url.split("?")[0]
        name = address.rsplit("/", 1)[-1]
        if "@jupyter-widgets/" in address and (dist / name).is_file():  # the manager, its chunks and fonts
            route.fulfill(path=str(dist / name))
        elif name == "require.min.js":
            route.fulfill(path=str(widget_scripts["require"]))
        elif address.startswith("file:"):
            route.continue_()
        else:
            stubbed.append(address)
            route.fulfill(status=200, body="", content_type="application/javascript")

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 900, "height": 600})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.route("**/*", answer)
        page.goto(url)
        page.wait_for_selector(".widget-html svg", timeout=60_000)
        page.wait_for_load_state("networkidle")
        sliders = page.locator(".widget-slider")
        labels = [sliders.nth(k).locator(".widget-label").inner_text() for k in range(sliders.count())]
        boxes = [b.input_value() for b in page.locator(".widget-text input").all()]
        drawing = page.locator(".widget-html svg text").all_text_contents()
        buttons = page.locator("button").all_text_contents()
        if os.environ.get("EXPLORE_SCREENSHOT"):  # how the README's picture is made
            page.locator(".jp-OutputArea-output").first.screenshot(path=os.environ["EXPLORE_SCREENSHOT"])
        browser.close()
    assert labels == ["x", "y", "z"] and boxes == ["-2", "5", "-4"]
    captions = [t for t in drawing if "d(output)/d(wire)" in t]
    assert len(captions) == 1, "the picture says what its red numbers are"
    drawing.remove(captions[0])
    assert sorted(drawing) == sorted(["x", "y", "z", "+", "×", "-2", "5", "-4", "3", "-12",
                                      "-4", "-4", "3", "-4", "1"])
    assert [b.strip() for b in buttons] == ["forward only", "step backward", "whole backward"]
    assert not problems, f"console errors: {problems}"
    assert all("mathjax" in s.lower() for s in stubbed), f"unexpected outside requests: {stubbed}"
