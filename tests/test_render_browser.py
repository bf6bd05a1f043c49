"""save_backward_animation's page in a real browser: Debian's chromium, driven by Playwright's Python client.

Playwright is pointed at the system chromium (`executable_path`); it never downloads a browser of its own.
Without chromium or the client the test is skipped with the reason (.ci/run installs both).
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from autograd_lite import Value, draw_dot, save_backward_animation
from autograd_lite.draw.render import GRAD_COLOUR

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SVG = "{http://www.w3.org/2000/svg}"
SHOWN = ".frame:not([hidden])"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no system chromium (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="no Playwright client (pip install playwright)")


def neuron() -> Value:
    w0, x0, w1, x1, b = Value(2.0, "w0"), Value(-1.0, "x0"), Value(-3.0, "w1"), Value(-2.0, "x1"), Value(-3.0, "b")
    return (w0 * x0 + w1 * x1 + b).sigmoid()


def red_texts_of_the_finished_backward(root: Value) -> Counter:
    root.backward()
    svg = ET.fromstring(draw_dot(root).pipe(format="svg"))
    return Counter(t.text for t in svg.iter(f"{SVG}text") if t.get("fill") == GRAD_COLOUR)


def test_the_slider_page_works_in_chromium(tmp_path):
    f = neuron()
    index = save_backward_animation(f, tmp_path / "animation")
    expected = red_texts_of_the_finished_backward(f)
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(index.as_uri())
            frames = page.locator(".frame").count()
            assert frames >= 3 and page.locator(SHOWN).count() == 1
            first = page.locator(SHOWN).inner_html()
            page.locator("#slider").fill("2")
            assert page.locator(SHOWN).count() == 1 and page.locator(SHOWN).inner_html() != first
            assert page.locator("#n").inner_text() == "2"
            page.locator("#slider").fill(str(frames))
            shown = page.locator(f"{SHOWN} text[fill='{GRAD_COLOUR}']").all_text_contents()
        finally:
            browser.close()
    assert problems == []
    assert Counter(shown) == expected  # the last frame shows every gradient backward() gives
