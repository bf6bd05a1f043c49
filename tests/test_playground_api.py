"""The Playground's server through its HTTP API: settings checks, state transitions, the Host check, bounds, stop.

Every server here binds 127.0.0.1 on a free port and is shut down by the test that started it.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator

import pytest

import nn
from autograd_lite.draw.render import GRAD_COLOUR
from autograd_lite.playground.server import MAX_BODY, make_server
from autograd_lite.playground.settings import SettingsError, parse


class Client:
    """JSON requests to one test server, with any Host header."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"127.0.0.1:{port}"

    def request(self, method: str, path: str, body: object = None, headers: dict | None = None) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        sent = {"Host": self.host, "Content-Type": "application/json", **(headers or {})}
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        payload = json.loads(response.read() or b"{}")
        conn.close()
        return response.status, payload

    def new(self, **settings: object) -> dict:
        status, state = self.request("POST", "/api/sessions", {"settings": settings})
        assert status == 200, state
        return state

    def act(self, sid: str, action: str, **extra: object) -> tuple[int, dict]:
        return self.request("POST", f"/api/sessions/{sid}", {"action": action, **extra})

    def ok(self, sid: str, action: str, **extra: object) -> dict:
        status, state = self.act(sid, action, **extra)
        assert status == 200, state
        return state

    def state(self, sid: str) -> dict:
        status, state = self.request("GET", f"/api/sessions/{sid}")
        assert status == 200, state
        return state

    def views(self, sid: str) -> Iterator[dict]:
        """The session's event stream, one view at a time (the connection closes when the generator does)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", f"/api/sessions/{sid}/events", headers={"Host": self.host})
        response = conn.getresponse()
        try:
            while True:
                line = response.fp.readline()
                if not line:
                    return
                if line.startswith(b"data: "):
                    yield json.loads(line[6:])
        finally:
            conn.close()


@pytest.fixture
def server() -> Iterator[tuple[Client, object]]:
    httpd, app = make_server(nn, 0)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Client(app.port), app
    finally:
        app.shutdown()
        httpd.shutdown()
        httpd.server_close()


def wait_until(condition: Callable[[], object], seconds: float = 5.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"not within {seconds} s")


# --- settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lr": 0}, "lr must be between"),
        ({"lr": 101}, "lr must be between"),
        ({"lr": "abc"}, "lr must be a number"),
        ({"lr": True}, "lr must be a number"),
        ({"l2": -0.1}, "l2 must be between"),
        ({"samples": 5}, "samples must be a whole number from 10"),
        ({"samples": 20.5}, "samples must be a whole number"),
        ({"layers": [8, 8, 8, 8, 8]}, "at most 4 hidden layers"),
        ({"layers": [17]}, "layers[0] (neurons) must be a whole number from 1 to 16"),
        ({"layers": [0]}, "layers[0] (neurons)"),
        ({"layers": 8}, "layers must be a list"),
        ({"activation": "gelu"}, "activation must be one of tanh, relu, sigmoid"),
        ({"data": "mnist"}, "data must be one of"),
        ({"colour": "red"}, "unknown setting 'colour'"),
        ({"data": "regression", "loss": "hinge"}, "regression data set needs the mse loss"),
    ],
)
def test_bad_settings_are_refused_with_a_message_naming_them(changes, message):
    with pytest.raises(SettingsError) as error:
        parse(changes)
    assert message in str(error.value)


def test_settings_from_the_url_hash_are_text_and_mean_the_same():
    hashed = parse({"lr": "0.3", "layers": "4,2", "samples": "100", "seed": "7", "data": "xor"})
    assert (hashed.lr, hashed.layers, hashed.samples, hashed.seed) == (0.3, (4, 2), 100, 7)
    assert parse({"layers": ""}).layers == ()
    assert parse(parse({"lr": 1}).as_dict()) == parse({"lr": 1})


# --- the API


def test_a_bad_setting_is_a_400_with_the_message_and_makes_no_session(server):
    client, app = server
    status, answer = client.request("POST", "/api/sessions", {"settings": {"layers": [8, 99]}})
    assert status == 400 and "layers[1]" in answer["error"]
    assert app.sessions == {}


def test_play_pause_and_step_move_the_epoch_as_they_say(server):
    client, _ = server
    state = client.new()
    sid = state["id"]
    assert (state["status"], state["epoch"], len(state["points"]["x"])) == ("paused", 0, 200)
    for expected in (1, 2, 3):
        client.ok(sid, "step")
        wait_until(lambda e=expected: client.state(sid)["epoch"] == e)
    time.sleep(0.2)
    assert client.state(sid)["epoch"] == 3  # a step is exactly one epoch
    assert client.ok(sid, "play")["status"] == "running"
    wait_until(lambda: client.state(sid)["epoch"] > 20)
    paused = client.ok(sid, "pause")
    assert paused["status"] == "paused"
    time.sleep(0.1)
    epoch = client.state(sid)["epoch"]
    time.sleep(0.3)
    assert client.state(sid)["epoch"] == epoch  # paused means paused
    client.ok(sid, "step")
    wait_until(lambda: client.state(sid)["epoch"] == epoch + 1)


def test_the_learning_rate_and_l2_change_the_run_going_on_and_the_model_resets_it(server):
    client, _ = server
    sid = client.new()["id"]
    client.ok(sid, "play")
    wait_until(lambda: client.state(sid)["epoch"] > 10)
    for changes in ({"lr": 0.1}, {"l2": 0.001}):
        before = client.state(sid)
        after = client.ok(sid, "configure", settings=changes)
        assert after["run"] == before["run"] and after["epoch"] >= before["epoch"] and after["status"] == "running"
        wait_until(lambda e=after["epoch"]: client.state(sid)["epoch"] > e + 10)  # still training, with the change
    reset = client.ok(sid, "configure", settings={"layers": [8, 8, 4]})
    assert (reset["epoch"], reset["status"], reset["settings"]["layers"]) == (0, "paused", [8, 8, 4])
    assert len(reset["params"]) == 2 * 8 + 8 + 8 * 8 + 8 + 8 * 4 + 4 + 4 + 1
    time.sleep(0.2)
    assert client.state(sid)["epoch"] == 0  # the old worker does not touch the new run


def test_a_refused_change_leaves_everything_as_it_was(server):
    client, _ = server
    sid = client.new()["id"]
    client.ok(sid, "step")
    before = wait_until(lambda: (s := client.state(sid))["epoch"] == 1 and s)
    status, answer = client.act(sid, "configure", settings={"lr": 0.1, "noise": 7})
    assert status == 400 and "noise must be between" in answer["error"]
    assert client.state(sid)["settings"] == before["settings"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "jump"}, "unknown action 'jump'"),
        ({"action": "select", "point": 200}, "point must be a point's index from 0 to 199"),
        ({"action": "select", "point": "3"}, "point must be"),
        ({"action": "explain", "param": "layers.9.w"}, "param must be one of the model's parameter names"),
        ({"action": "configure", "settings": [1, 2]}, "settings must be an object"),
    ],
)
def test_bad_commands_are_400_with_a_message(server, body, message):
    client, _ = server
    sid = client.new()["id"]
    status, answer = client.request("POST", f"/api/sessions/{sid}", body)
    assert status == 400 and message in answer["error"]


def test_a_diverging_run_stops_with_a_message_and_the_server_goes_on(server):
    client, _ = server
    sid = client.new(lr=100)["id"]
    client.ok(sid, "play")
    state = wait_until(lambda: (s := client.state(sid))["status"] == "diverged" and s)
    assert "training diverged at epoch" in state["message"] and "lower the learning rate" in state["message"]
    status, answer = client.act(sid, "play")
    assert status == 400 and "press reset" in answer["error"]
    # a live change does not revive it
    assert client.ok(sid, "configure", settings={"lr": 0.03})["status"] == "diverged"
    assert client.ok(sid, "reset")["status"] == "paused"
    assert client.new()["status"] == "paused"  # and other pages are served as ever


def test_the_views_show_the_surface_the_neurons_and_the_chosen_points_graph(server):
    client, _ = server
    sid = client.new()["id"]
    client.ok(sid, "select", point=5)
    client.ok(sid, "step")
    views = client.views(sid)
    view = next(v for v in views if v["epoch"] == 1 and v["graph"])
    views.close()
    assert len(base64.b64decode(view["surface"])) == view["size"] ** 2
    assert len(view["neurons"]) == 16
    assert all(len(base64.b64decode(m)) == view["neuron_size"] ** 2 for m in view["neurons"])
    assert len(view["w"]) == len(view["g"]) == 8 * 3 + 8 * 9 + 9
    labels = view["graph"]["labels"]
    into_output = [texts for title, texts in labels.items() if title.endswith("->output")]
    assert len(into_output) == 1 and into_output[0][1] == "1"  # ∂loss/∂loss on the output wire
    status, svg = client.request("GET", f"/api/sessions/{sid}/graph")
    assert status == 200 and svg["key"] == view["graph"]["key"]
    assert f'fill="{GRAD_COLOUR}"' in svg["svg"]
    for title in labels:  # every relabelled node or wire is in the laid-out drawing
        assert f"<title>{title.replace('->', '&#45;&gt;')}</title>" in svg["svg"]


def test_explain_writes_out_the_chosen_weights_gradient_for_the_point(server):
    client, _ = server
    sid = client.new(layers=[3])["id"]
    client.ok(sid, "select", point=0)
    client.ok(sid, "explain", param="layers.0.neurons.1.w.0")
    client.ok(sid, "step")
    views = client.views(sid)
    view = next(v for v in views if v["epoch"] == 1 and v["graph"] and v["graph"].get("explain"))
    views.close()
    text = view["graph"]["explain"]
    assert text.startswith("∂loss/∂layers.0.neurons.1.w.0 = ") and "path 1:" in text


def test_copy_as_code_trains_the_same_thing(server, tmp_path):
    client, _ = server
    sid = client.new(data="xor", samples=60, layers=[4], optimizer="adam", loss="bce", lr=0.01, l2=0.001)["id"]
    for expected in range(1, 6):
        client.ok(sid, "step")
        wait_until(lambda e=expected: client.state(sid)["epoch"] == e)
    views = client.views(sid)
    view = next(v for v in views if v["epoch"] == 5)
    views.close()
    code = client.state(sid)["code"]
    assert "epochs=5" in code
    script = tmp_path / "copied.py"
    script.write_text(code + "print(repr(history.loss[-1]))\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.strip().splitlines()[-1]) == view["loss"]


# --- safety


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1", "localhost", "127.0.0.1:1", "", None])
def test_a_host_that_is_not_this_server_is_refused(server, host):
    client, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
    conn.putrequest("GET", "/", skip_host=True)
    if host is not None:
        conn.putheader("Host", host.format(port=client.port))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 403 and "Host must be" in json.loads(response.read())["error"]
    conn.close()


def test_this_server_by_either_name_is_served(server):
    client, _ = server
    for name in ("127.0.0.1", "localhost"):
        conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=10)
        conn.request("GET", "/", headers={"Host": f"{name}:{client.port}"})
        response = conn.getresponse()
        assert response.status == 200 and b"Playground" in response.read()
        assert "connect-src 'self'" in response.getheader("Content-Security-Policy")
        conn.close()


def test_bodies_are_bounded_json_from_this_origin(server):
    client, _ = server
    status, answer = client.request("POST", "/api/sessions", b"{" + b" " * MAX_BODY + b"}")
    assert status == 413 and f"at most {MAX_BODY}" in answer["error"]
    status, answer = client.request("POST", "/api/sessions", b"{not json")
    assert status == 400 and "not valid JSON" in answer["error"]
    status, answer = client.request("POST", "/api/sessions", {}, {"Origin": "http://evil.example"})
    assert status == 403
    status, answer = client.request("POST", "/api/sessions", {}, {"Content-Type": "text/plain"})
    assert status == 415
    status, answer = client.request("POST", "/api/sessions", b"[1]")
    assert status == 400 and "JSON object" in answer["error"]


def test_a_closed_page_stops_its_training_within_a_few_seconds(server):
    client, app = server
    sid = client.new()["id"]
    views = client.views(sid)
    next(views)
    client.ok(sid, "play")
    session = app.sessions[sid][0]
    worker = session.run.thread
    assert worker is not None and worker.is_alive()
    views.close()  # the tab is gone: its event stream closes without a word
    wait_until(lambda: not worker.is_alive(), seconds=8)
    assert client.request("GET", f"/api/sessions/{sid}")[0] == 404


def test_close_ends_the_session_at_once(server):
    client, app = server
    sid = client.new()["id"]
    client.ok(sid, "play")
    worker = app.sessions[sid][0].run.thread
    client.ok(sid, "close")
    wait_until(lambda: not worker.is_alive(), seconds=2)
    status, answer = client.act(sid, "play")
    assert status == 404 and "reload the page" in answer["error"]


def test_ctrl_c_stops_the_server_within_two_seconds_without_a_traceback():
    command = [sys.executable, "-m", "autograd_lite", "playground", "--no-browser"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        assert line.startswith("autograd-lite playground: http://127.0.0.1:"), line
        client = Client(int(line.split("127.0.0.1:")[1].split("/")[0]))
        sid = client.new()["id"]
        client.ok(sid, "play")
        assert client.request("POST", "/api/sessions", {"settings": {"lr": "x"}})[0] == 400
        assert client.request("GET", "/api/sessions/nope/graph")[0] == 404
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=5)
        assert time.monotonic() - started < 2.0
        assert proc.returncode == 0
        assert "Traceback" not in proc.stderr.read()
    finally:
        proc.kill()
        proc.wait()
