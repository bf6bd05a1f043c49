"""The docs site builds with warnings as errors, and its pages work opened from disk with no network.

One build (into a temporary folder) serves every test here. The browser tests drive Debian's chromium through
Playwright, block every request that is not a file:// URL, and check that formulas and widgets rendered and that
nothing asked the network. Without chromium or the client those are skipped with the reason (.ci/run has both).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autograd_lite import RULES

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytest.importorskip("sphinx", reason="no Sphinx (pip install 'autograd-lite[docs]'; make test installs it)")
GUIDES = sorted(p.stem for p in (ROOT / "docs" / "guides").glob("*.md"))
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built site; the build's own output is the failure message if it fails or warns."""
    out = tmp_path_factory.mktemp("docs") / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(ROOT / "docs"), str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr[-5000:]
    return out


def test_every_guide_notebook_and_api_page_is_built(site):
    pages = [f"guides/{g}" for g in GUIDES] + [f"notebooks/{n}" for n in NOTEBOOKS] + ["api/engine", "api/nn"]
    assert [p for p in pages if not (site / f"{p}.html").exists()] == []
    index = (site / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{p}.html"' in index for p in pages)  # each is reachable from the front page


def test_the_api_pages_document_the_public_names(site):
    engine = (site / "api" / "engine.html").read_text(encoding="utf-8")
    assert all(f'id="autograd_lite.{name}"' in engine for name in ["Value", "grad", "compile_graph", "draw_dot"])
    nn_page = (site / "api" / "nn.html").read_text(encoding="utf-8")
    assert all(f'id="nn.{name}"' in nn_page for name in ["MLP", "fit", "Adam", "save_checkpoint"])


def test_the_op_table_page_lists_the_rule_table(site):
    page = (site / "guides" / "rules.html").read_text(encoding="utf-8")
    table = page.split('class="op-table', 1)[1].split("</table>", 1)[0]
    names = re.findall(r'<tr class="row-(?:odd|even)"><td><p><code[^>]*><span class="pre">(\w+)</span>', table)
    assert names == list(RULES)


def test_no_page_loads_anything_from_the_network(site):
    remote = re.compile(r'<(?:script|link|img)[^>]*(?:src|href)="(?:https?:)?//[^"]*"')
    pages = site.rglob("*.html")
    found = {p.relative_to(site).as_posix(): remote.findall(p.read_text(encoding="utf-8")) for p in pages}
    assert {page: tags for page, tags in found.items() if tags} == {}


# --- opened from disk in chromium, network blocked ---------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium driven by Playwright, or a skip that says what is missing."""
    if CHROMIUM is None:
        pytest.skip("no system chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="no Playwright client (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def open_offline(browser, page_file: Path, ready: str) -> tuple[object, list[str], list[str]]:
    """The page opened from disk, every non-file request blocked, once `ready` is on it; what it asked, what broke."""
    asked: list[str] = []
    problems: list[str] = []
    page = browser.new_page(viewport={"width": 1200, "height": 900})

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith("file:"):
            request_route.continue_()
        else:
            asked.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(page_file.as_uri())
    page.wait_for_selector(ready, state="attached", timeout=30_000)
    return page, asked, problems


def test_explains_formulas_render_offline(site, browser):
    page, asked, problems = open_offline(browser, site / "notebooks" / "03_worked_example.html", "mjx-container svg")
    try:
        assert page.locator("mjx-container svg").count() >= 2  # the two `explain` outputs, typeset as SVG
        assert "\\begin{aligned}" not in page.locator("article").inner_text()  # no raw LaTeX left on the page
        page.locator("mjx-container").first.scroll_into_view_if_needed()
        page.screenshot(path=str(site / "offline_formulas.png"))
    finally:
        page.close()
    assert (asked, problems) == ([], [])


def test_explores_widgets_render_offline(site, browser):
    page, asked, problems = open_offline(browser, site / "notebooks" / "01_expressions.html", ".widget-slider")
    try:
        assert page.locator(".widget-slider").count() == 3  # explore's x, y and z, from the saved widget state
        assert page.locator(".jupyter-widgets img, .jupyter-widgets svg").count() >= 1  # and its drawing
    finally:
        page.close()
    assert (asked, problems) == ([], [])
