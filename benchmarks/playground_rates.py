"""The Playground's rates: views a page receives and training steps per second, for a 2-8-8-1 MLP on 200 points.

Run `taskset -c 0 python benchmarks/playground_rates.py` (one core). It starts the server on 127.0.0.1,
opens one page's event stream as the browser does, chooses a point (so the point graph's numbers are
recomputed too), presses play, and counts for a few seconds. Issue 21's target: >= 20 views and >= 500
steps (full batch: one step per epoch) per second.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time

import nn
from autograd_lite.playground.server import make_server

SECONDS = 5.0


def post(port: int, path: str, body: dict) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("POST", path, json.dumps(body), {"Host": f"127.0.0.1:{port}", "Content-Type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    conn.close()
    return answer


def count_views(port: int, sid: str, seen: list[dict], stop: threading.Event) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", f"/api/sessions/{sid}/events", headers={"Host": f"127.0.0.1:{port}"})
    response = conn.getresponse()
    while not stop.is_set():
        line = response.fp.readline()
        if line.startswith(b"data: "):
            seen.append(json.loads(line[6:]) | {"at": time.monotonic()})
    conn.close()


def main() -> int:
    httpd, app = make_server(nn, 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    sid = post(app.port, "/api/sessions", {"settings": {"layers": [8, 8], "samples": 200}})["id"]
    seen: list[dict] = []
    stop = threading.Event()
    threading.Thread(target=count_views, args=(app.port, sid, seen, stop), daemon=True).start()
    post(app.port, f"/api/sessions/{sid}", {"action": "select", "point": 0})
    post(app.port, f"/api/sessions/{sid}", {"action": "play"})
    time.sleep(1.0)  # warm up: fit's set-up, the view model's compile
    first = len(seen)
    time.sleep(SECONDS)
    views = seen[first:]
    stop.set()
    app.shutdown()
    httpd.shutdown()
    span = views[-1]["at"] - views[0]["at"]
    rate = (len(views) - 1) / span
    steps = (views[-1]["epoch"] - views[0]["epoch"]) / span
    with_graph = sum(1 for v in views if v["graph"] and "labels" in v["graph"])
    print(f"views per second: {rate:.1f} ({with_graph} of {len(views)} with the point graph's numbers)")
    print(f"training steps per second (full batch, 200 points, 2-8-8-1): {steps:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
