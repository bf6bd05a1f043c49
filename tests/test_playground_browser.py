"""The Playground in a real browser: Debian's chromium, driven by Playwright's Python client.

Playwright is pointed at the system chromium (`executable_path`); it never downloads a browser of its own.
Without chromium or the client the test is skipped with the reason (.ci/run installs both). The server
binds 127.0.0.1 on a free port and is shut down at the end.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

import nn
from autograd_lite.draw.render import GRAD_COLOUR, VALUE_COLOUR
from autograd_lite.playground.server import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run",
        "--disable-default-apps", "--disable-sync"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no system chromium (apt-get install chromium)")
sync_api = pytest.importorskip("playwright.sync_api", reason="no Playwright client (pip install playwright)")


def wait_until(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {seconds} s")


def shown_number(page, selector: str) -> float | None:
    text = page.inner_text(selector).replace(",", "")
    try:
        return float(text)
    except ValueError:
        return None


def steady_epoch(page) -> int:
    """The epoch shown once it has stopped changing (a pause lets the epoch under way finish)."""
    before = -1
    while True:
        now = int(shown_number(page, "#epoch"))
        if now == before:
            return now
        before = now
        time.sleep(0.5)


def coloured_numbers(page, colour: str) -> list[str]:
    return page.locator(f"#graph svg text[fill='{colour}']").all_text_contents()


def test_the_playground_trains_live_and_draws_the_graph_of_a_point():
    httpd, app = make_server(nn, 0)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    problems: list[str] = []
    hosts: set[str] = set()
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1200})
                page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(str(e)))
                page.on("request", lambda r: hosts.add(urlsplit(r.url).netloc or r.url[:5]))
                page.goto(f"http://127.0.0.1:{app.port}/#speed=20")  # the settings come from the URL's hash
                page.wait_for_function("() => window.playground.view !== null")
                assert page.locator("#speed").input_value() == "20"
                run_pause_step_and_change(page)
                click_a_point(page)
            finally:
                browser.close()
    finally:
        app.shutdown()
        httpd.shutdown()
        httpd.server_close()
    assert problems == []
    assert hosts <= {f"127.0.0.1:{app.port}", "data:"}


def run_pause_step_and_change(page) -> None:
    page.click("#play")
    first = wait_until(lambda: shown_number(page, "#loss-now"), 5, "a loss is shown")
    wait_until(lambda: (shown_number(page, "#loss-now") or first) < 0.8 * first, 5, "the loss falls")
    page.click("#play")  # pause: the button changes when the server's answer arrives
    page.wait_for_function("() => document.querySelector('#play').textContent === '▶'", timeout=5000)
    epoch = steady_epoch(page)
    page.click("#step")
    wait_until(lambda: shown_number(page, "#epoch") == epoch + 1, 5, "one step")
    assert steady_epoch(page) == epoch + 1  # exactly one
    page.locator("#lr").fill("7")  # the slider's 8th value
    assert page.inner_text("#lr-value") == "0.3"
    wait_until(lambda: page.evaluate("() => window.playground.state.settings.lr") == 0.3, 5, "the server has lr 0.3")
    assert "lr=0.3" in page.evaluate("() => location.hash")
    assert shown_number(page, "#epoch") == epoch + 1  # a new learning rate does not reset
    neurons = page.locator(".neuron").count()
    page.locator(".column-head[data-layer='0'] button", has_text="+").click()
    wait_until(lambda: page.locator(".neuron").count() == neurons + 1, 5, "a neuron is added")
    assert page.evaluate("() => window.playground.state.settings.layers") == [9, 8]
    assert shown_number(page, "#epoch") == 0  # a new model starts again


def click_a_point(page) -> None:
    where = page.evaluate("() => window.playground.pointOnScreen(0)")
    page.mouse.click(where["x"], where["y"])
    page.wait_for_selector("#graph svg", timeout=20000)
    wait_until(lambda: "point 0" in page.inner_text("#graph-status"), 5, "the graph is of point 0")
    values, grads = coloured_numbers(page, VALUE_COLOUR), coloured_numbers(page, GRAD_COLOUR)
    assert len(values) > 50 and len(grads) > 50
    assert all(float(t.removeprefix("grad ")) == float(t.removeprefix("grad ")) for t in values + grads)
    page.click("#step")  # the graph follows training: its numbers change with the step
    wait_until(lambda: coloured_numbers(page, VALUE_COLOUR) != values, 5, "the graph's values change")
