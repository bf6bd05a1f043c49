"""The playground's web server: the standard library's `http.server` on 127.0.0.1, a JSON API and Server-Sent Events.

    GET  /                               the page (static files from the package, nothing from elsewhere)
    POST /api/sessions                   {"settings": {...}} -> a new page session and its state
    GET  /api/sessions/ID                the state
    POST /api/sessions/ID                {"action": "play" | "pause" | "step" | "reset" | "regenerate" | "configure"
                                          | "select" | "explain" | "close", ...} -> the state
    GET  /api/sessions/ID/events         the views, as Server-Sent Events, as training goes
    GET  /api/sessions/ID/graph          the laid-out SVG of the chosen point's graph

Every request must name this server in its Host header (127.0.0.1 or localhost with the port), so
another site cannot reach it through DNS rebinding; a POST must be JSON from this origin, and at
most MAX_BODY bytes. Bad input is a 4xx with {"error": message}; nothing reaches the terminal as a
traceback. A page whose event stream has been gone for IDLE seconds is closed, and its training ends.
"""

from __future__ import annotations

import json
import math
import secrets
import sys
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from types import ModuleType
from typing import TextIO

from autograd_lite.playground.session import CommandError, Session
from autograd_lite.playground.settings import SettingsError, parse
from autograd_lite.playground.view import Views
from autograd_lite.types import JSONObject

HOST = "127.0.0.1"
MAX_BODY = 16 * 1024
MAX_SESSIONS = 16
IDLE = 3.0  # seconds without an event stream or a request before a page's session ends
HEARTBEAT = 1.0  # seconds between keep-alive comments on a quiet stream (a closed tab is noticed at the next)
MAX_VIEWS_PER_SECOND = 30
STATIC = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class HTTPError(Exception):
    """An error answered with its status and message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class Playground:
    """The sessions of every open page, and the static files."""

    def __init__(self, nn: ModuleType) -> None:
        self.nn = nn
        self.sessions: dict[str, tuple[Session, Views]] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        folder = resources.files("autograd_lite.playground") / "static"
        self.files = {name: (folder / name).read_bytes() for name in STATIC}
        self.port = 0
        self.reaper = threading.Thread(target=self._reap, name="playground-reaper", daemon=True)

    def create(self, body: JSONObject) -> JSONObject:
        """A new session with the body's settings (checked before anything is made)."""
        settings = parse(body.get("settings", {}))
        with self.lock:
            if len(self.sessions) >= MAX_SESSIONS:
                raise HTTPError(HTTPStatus.SERVICE_UNAVAILABLE, f"{MAX_SESSIONS} pages are open; close one")
            ident = secrets.token_hex(8)
            session = Session(self.nn, ident, settings)
            self.sessions[ident] = (session, Views())
        return session.state()

    def find(self, ident: str) -> tuple[Session, Views]:
        """The session with this id; 404 if it has ended."""
        with self.lock:
            found = self.sessions.get(ident)
        if found is None or found[0].closed:
            raise HTTPError(HTTPStatus.NOT_FOUND, "this page's session has ended (closed, or idle): reload the page")
        return found

    def _reap(self) -> None:
        """End the sessions of pages that went away without saying so."""
        while not self.stopping.wait(0.5):
            now = time.monotonic()
            with self.lock:
                gone = [k for k, (s, _) in self.sessions.items() if s.closed or s.idle_since(now) > IDLE]
                ended = [self.sessions.pop(k)[0] for k in gone]
            for session in ended:
                session.close()

    def shutdown(self) -> None:
        """Stop every session's training and the reaper."""
        self.stopping.set()
        with self.lock:
            ended = [s for s, _ in self.sessions.values()]
            self.sessions.clear()
        for session in ended:
            session.close()


class Handler(BaseHTTPRequestHandler):
    """One request: checks, then a route."""

    app: Playground  # set on the subclass made for each server
    timeout = 15  # seconds a slow client may take to send its request
    server_version = "autograd-lite-playground"

    def do_GET(self) -> None:
        self._answer(self._get)

    def do_POST(self) -> None:
        self._answer(self._post)

    def _answer(self, route: Callable[[], None]) -> None:
        try:
            self._check_host()
            route()
        except HTTPError as e:
            self._json(e.status, {"error": str(e)})
        except (SettingsError, CommandError) as e:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(e)})
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the page went away mid-answer
        except Exception as e:  # a bug must not print a traceback or stop the server: one line, and a 500
            where = f"{self.command} {self.path[:80]}"
            print(f"autograd-lite playground: {where}: {type(e).__name__}: {e}", file=sys.stderr)
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(e).__name__}: {e}"})

    def _check_host(self) -> None:
        port = self.app.port
        if self.headers.get("Host") not in (f"127.0.0.1:{port}", f"localhost:{port}"):
            raise HTTPError(HTTPStatus.FORBIDDEN, f"Host must be 127.0.0.1:{port} or localhost:{port}")

    def _get(self) -> None:
        path = self.path.split("?", 1)[0]
        parts = path.strip("/").split("/")
        if path in ("/", "/index.html"):
            self._static("index.html")
        elif len(parts) == 2 and parts[0] == "static" and parts[1] in STATIC:
            self._static(parts[1])
        elif len(parts) == 3 and parts[:2] == ["api", "sessions"]:
            session, _ = self.app.find(parts[2])
            self._json(HTTPStatus.OK, session.state())
        elif len(parts) == 4 and parts[:2] == ["api", "sessions"] and parts[3] == "events":
            self._events(*self.app.find(parts[2]))
        elif len(parts) == 4 and parts[:2] == ["api", "sessions"] and parts[3] == "graph":
            session, views = self.app.find(parts[2])
            frame = session.frame()
            self._json(HTTPStatus.OK, views.svg(frame))
        else:
            raise HTTPError(HTTPStatus.NOT_FOUND, f"no such page: {path[:80]}")

    def _post(self) -> None:
        body = self._body()
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        if parts == ["api", "sessions"]:
            self._json(HTTPStatus.OK, self.app.create(body))
        elif len(parts) == 3 and parts[:2] == ["api", "sessions"]:
            session, _ = self.app.find(parts[2])
            self._json(HTTPStatus.OK, session.command(body.get("action"), body))
        else:
            raise HTTPError(HTTPStatus.NOT_FOUND, f"no such API: {self.path[:80]}")

    def _body(self) -> JSONObject:
        """The request's JSON object, from this page's origin, at most MAX_BODY bytes."""
        origin = self.headers.get("Origin")
        if origin is not None and origin not in (f"http://127.0.0.1:{self.app.port}", f"http://localhost:{self.app.port}"):
            raise HTTPError(HTTPStatus.FORBIDDEN, "requests must come from the playground's own page")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            raise HTTPError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "the body must be JSON (Content-Type: application/json)")
        length_text = self.headers.get("Content-Length")
        if length_text is None or not length_text.isdigit():
            raise HTTPError(HTTPStatus.LENGTH_REQUIRED, "a Content-Length is needed")
        length = int(length_text)
        if length > MAX_BODY:
            raise HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body is {length} bytes; at most {MAX_BODY}")
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise HTTPError(HTTPStatus.BAD_REQUEST, "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise HTTPError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body

    def _static(self, name: str) -> None:
        data = self.app.files[name]
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", f"{STATIC[name]}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self._common_headers()
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: HTTPStatus, payload: JSONObject) -> None:
        data = dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self._common_headers()
        self.end_headers()
        self.wfile.write(data)

    def _common_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", CSP)

    def _events(self, session: Session, views: Views) -> None:
        """Send a view whenever the session changes (at most MAX_VIEWS_PER_SECOND), until the page goes."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self._common_headers()
        self.end_headers()
        session.attach()
        try:
            self.wfile.write(b"retry: 1000\n\n")
            seen, next_at = -1, 0.0
            while not self.app.stopping.is_set() and not session.closed:
                now = time.monotonic()
                if now < next_at:
                    time.sleep(next_at - now)
                next_at = max(now, next_at) + 1.0 / MAX_VIEWS_PER_SECOND
                frame = session.wait_frame(seen, HEARTBEAT)
                if frame is None:
                    self.wfile.write(b": still here\n\n")
                    self.wfile.flush()
                    continue
                seen = frame.version
                self.wfile.write(b"data: " + dumps(views.build(frame)).encode("utf-8") + b"\n\n")
                self.wfile.flush()
        finally:
            session.detach()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: a request per line would bury the address the user needs."""


def dumps(payload: object) -> str:
    """JSON with NaN and infinities as null (JavaScript's JSON.parse refuses them)."""
    return json.dumps(_finite(payload), separators=(",", ":"), allow_nan=False)


def _finite(x: object) -> object:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


class Server(ThreadingHTTPServer):
    """A threaded server on 127.0.0.1 whose request threads never keep the process alive."""

    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A connection that broke is not news; anything else is one line, not a traceback."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionError, TimeoutError)):
            print(f"autograd-lite playground: {type(error).__name__}: {error}", file=sys.stderr)


def make_server(nn: ModuleType, port: int = 0) -> tuple[Server, Playground]:
    """A server bound to 127.0.0.1:port (0: a free port) and its playground; call serve_forever to run it."""
    app = Playground(nn)
    handler = type("PlaygroundHandler", (Handler,), {"app": app})
    server = Server((HOST, port), handler)
    app.port = server.server_port
    app.reaper.start()
    return server, app


def serve(nn: ModuleType, port: int = 0, open_browser: bool = True, out: TextIO = sys.stdout) -> int:
    """Run the playground until Ctrl-C; 0 when it stopped."""
    server, app = make_server(nn, port)
    url = f"http://127.0.0.1:{app.port}/"
    print(f"autograd-lite playground: {url}  (Ctrl-C stops it)", file=out, flush=True)
    if open_browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("autograd-lite playground: stopped", file=out, flush=True)
    finally:
        app.shutdown()
        server.server_close()
    return 0
