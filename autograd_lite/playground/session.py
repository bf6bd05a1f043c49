"""One page's playground: its settings, its model, and the worker thread that trains it with `nn.fit`.

The worker runs one long `nn.fit` whose callback, after every epoch, records a snapshot
of the parameters (the model's Values are current there), applies a new learning rate,
and waits while the page is paused. Everything the page's requests and the worker
share is read and written under `Session.cond`; a reset makes a new `Run` (model,
optimizer, data) and the old worker, seeing its run is no longer active, ends at its
next epoch without touching the new one. `nn` is handed in by the CLI (the engine
does not import it).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from types import ModuleType
from typing import Any, Protocol

import numpy as np

from autograd_lite.playground.code import python_code
from autograd_lite.playground.data import Dataset, make_data
from autograd_lite.playground.settings import LIVE, Settings, SettingsError, parse
from autograd_lite.types import JSONObject
from autograd_lite.value import Value

EPOCHS = 10**12  # fit's epoch count: the page, not a number, ends a run
SNAPSHOT_INTERVAL = 0.02  # seconds between snapshots while running (the view shows at most 30 a second)
DIVERGED = 20.0  # a loss this many times the first epoch's (plus 1) has run away (lr 100 gets there in 2 or 3 epochs)
CHART_POINTS = 2000  # kept per run; every other one is dropped when full
LOSSES = {"hinge": "hinge", "bce": "bce_with_logits", "mse": "mse"}


class Optimizer(Protocol):
    """What the playground changes and reads of an nn.SGD or nn.Adam (nn is handed in, not imported)."""

    lr: float
    params: list[Value]


class CommandError(ValueError):
    """A command the page sent cannot be done (unknown, malformed, or not in this state)."""


@dataclass(frozen=True)
class Snapshot:
    """The parameters (data and the last step's gradient, in `model.parameters()` order) after an epoch."""

    epoch: int
    data: list[float]
    grad: list[float]
    loss: float | None
    accuracy: float | None


@dataclass
class Run:
    """One model trained from its initial weights: made at every reset."""

    number: int
    settings: Settings
    data: Dataset
    model: Any  # Any: an nn.MLP (nn is handed in, not imported)
    optimizer: Optimizer
    loss: Callable[..., Value]
    snapshot: Snapshot
    epoch: int = 0
    active: bool = True
    l2: float = 0.0  # the l2 the current fit call trains with
    fits: int = 0
    first_loss: float | None = None
    snapped_at: float = 0.0
    next_epoch_at: float = 0.0  # pacing for a limited speed
    thread: threading.Thread | None = None
    chart: list[tuple[int, float, float | None]] = field(default_factory=list)


@dataclass(frozen=True)
class Frame:
    """What a view is made of, copied under the lock."""

    version: int
    run: Run
    settings: Settings
    snapshot: Snapshot
    status: str
    message: str
    running: bool
    point: int | None
    explain: str | None
    chart: list[tuple[int, float, float | None]]


def new_run(nn: ModuleType, settings: Settings, number: int) -> Run:
    """The data, model and optimizer the settings describe, at epoch 0."""
    data = make_data(nn, settings)
    model = nn.MLP(2, [*settings.layers, 1], activation=settings.activation, seed=settings.seed)
    params = model.parameters()
    if settings.optimizer == "sgd":
        optimizer = nn.SGD(params, lr=settings.lr, momentum=0.9)
    else:
        optimizer = nn.Adam(params, lr=settings.lr)
    snapshot = Snapshot(0, [p.data for p in params], [0.0] * len(params), None, None)
    return Run(number, settings, data, model, optimizer, getattr(nn, LOSSES[settings.loss]), snapshot)


def divergence(loss: float, first: float) -> str | None:
    """Why a run has diverged, or None."""
    if not math.isfinite(loss):
        return f"the loss became {loss}"
    if loss > DIVERGED * (abs(first) + 1):
        return f"the loss grew from {first:.4g} to {loss:.4g}"
    return None


class Session:
    """A page's state and its training worker; every method is safe to call from any thread."""

    def __init__(self, nn: ModuleType, ident: str, settings: Settings) -> None:
        self.nn, self.id = nn, ident
        self.cond = threading.Condition()
        self.settings = settings
        self.run = new_run(nn, settings, 1)
        self.status, self.message = "paused", ""
        self.running, self.allowance = False, 0
        self.version = 0  # moves on whenever anything the view shows changes
        self.point: int | None = None
        self.explain: str | None = None
        self.closed = False
        self.streams, self.last_seen = 0, time.monotonic()

    # --- commands from the page

    def command(self, action: object, body: JSONObject) -> JSONObject:
        """Do one of the page's commands and return the state; CommandError or SettingsError when it cannot."""
        handlers = {
            "play": lambda: self._play(),
            "pause": lambda: self._pause(),
            "step": lambda: self._step(),
            "reset": lambda: self._reset(self.settings),
            "regenerate": lambda: self._reset(replace(self.settings, dseed=(self.settings.dseed + 1) % 1_000_001)),
            "configure": lambda: self._configure(body.get("settings")),
            "select": lambda: self._select(body.get("point")),
            "explain": lambda: self._explain(body.get("param")),
            "close": lambda: self.close(),
        }
        if not isinstance(action, str) or action not in handlers:
            raise CommandError(f"unknown action {action!r}; the actions are {', '.join(handlers)}")
        with self.cond:
            if self.closed:
                raise CommandError("this page's session has ended; reload the page")
            self.last_seen = time.monotonic()
            handlers[action]()
            self._changed()
            return self.state()

    def _play(self) -> None:
        self._check_can_train()
        self.running, self.status = True, "running"
        self._start_worker()

    def _pause(self) -> None:
        if self.status == "running":
            self.running, self.status = False, "paused"

    def _step(self) -> None:
        self._check_can_train()
        self.running, self.status = False, "paused"
        self.allowance += 1
        self._start_worker()

    def _check_can_train(self) -> None:
        if self.status in ("diverged", "error"):
            raise CommandError(f"this run has stopped ({self.message}); press reset to start again")

    def _reset(self, settings: Settings) -> None:
        run = new_run(self.nn, settings, self.run.number + 1)  # built first: an error leaves the old run as it was
        self.run.active = False
        self.settings, self.run = settings, run
        self.status, self.message = "paused", ""
        self.running, self.allowance, self.point = False, 0, None
        if self.explain is not None and self.explain not in self.parameter_names():
            self.explain = None

    def _configure(self, changes: object) -> None:
        settings = parse(changes, self.settings)
        changed = {k for k, v in settings.as_dict().items() if v != self.settings.as_dict()[k]}
        if changed <= LIVE:
            self.settings = settings  # the worker reads lr, l2 and speed after every epoch
        else:
            self._reset(settings)

    def _select(self, point: object) -> None:
        n = len(self.run.data.X)
        if point is not None and (isinstance(point, bool) or not isinstance(point, int) or not 0 <= point < n):
            raise CommandError(f"point must be a point's index from 0 to {n - 1}, or null, got {point!r}")
        self.point = point

    def _explain(self, param: object) -> None:
        if param is not None and param not in self.parameter_names():
            raise CommandError(f"param must be one of the model's parameter names, or null, got {str(param)[:60]!r}")
        self.explain = param if isinstance(param, str) else None

    def close(self) -> None:
        """End this session: its worker stops at its next epoch."""
        with self.cond:
            self.closed, self.run.active, self.running = True, False, False
            self.cond.notify_all()

    # --- what the page is told

    def parameter_names(self) -> list[str]:
        """The model's parameter names, in `parameters()` order."""
        return [name for name, _ in self.run.model.named_parameters()]

    def state(self) -> JSONObject:
        """Everything the page needs besides the view: settings, status, data, parameter names, code."""
        with self.cond:
            run = self.run
            return {
                "id": self.id,
                "run": run.number,
                "version": self.version,
                "settings": self.settings.as_dict(),
                "status": self.status,
                "message": self.message,
                "epoch": run.epoch,
                "points": run.data.as_dict(),
                "domain": run.data.domain,
                "params": self.parameter_names(),
                "point": self.point,
                "explain": self.explain,
                "code": python_code(self.settings, run.epoch or 100),
            }

    def wait_frame(self, seen: int, timeout: float) -> Frame | None:
        """The view's material once the version differs from `seen` (None after `timeout` or when closed)."""
        with self.cond:
            self.cond.wait_for(lambda: self.version != seen or self.closed, timeout)
            if self.closed or self.version == seen:
                return None
            return self.frame()

    def frame(self) -> Frame:
        """The view's material now."""
        with self.cond:
            run = self.run
            return Frame(
                self.version, run, self.settings, run.snapshot, self.status, self.message, self.running,
                self.point, self.explain, list(run.chart),
            )

    def attach(self) -> None:
        """An event stream of the page opened."""
        with self.cond:
            self.streams += 1

    def idle_since(self, now: float) -> float:
        """Seconds since the page was last heard from (0 while an event stream is open)."""
        with self.cond:
            return 0.0 if self.streams else now - self.last_seen

    def detach(self) -> None:
        """An event stream of the page closed (the page may be gone: see the server's reaper)."""
        with self.cond:
            self.streams -= 1
            self.last_seen = time.monotonic()

    def _changed(self) -> None:
        self.version += 1
        self.cond.notify_all()

    # --- the worker

    def _start_worker(self) -> None:
        run = self.run
        if run.thread is None:
            run.thread = threading.Thread(target=self._train, args=(run,), name=f"playground-{self.id}", daemon=True)
            run.thread.start()
        self.cond.notify_all()

    def _train(self, run: Run) -> None:
        """The worker: fit until the run ends; a failure ends the run with its message, never a traceback."""
        try:
            with np.errstate(all="ignore"):  # a run that overflows is told by its loss, not numpy's warnings
                while self._fit_once(run):
                    pass
        except ArithmeticError as e:  # the numbers ran away (the compiled path raises FloatingPointError)
            why = f"training diverged at epoch {run.epoch + 1} ({e}); lower the learning rate and press reset"
            self._end(run, "diverged", why)
        except Exception as e:  # any other failure stops this page's training only; the server goes on
            self._end(run, "error", f"training stopped: {type(e).__name__}: {e}")

    def _fit_once(self, run: Run) -> bool:
        """One nn.fit call (until the page stops it); whether to call fit again (the l2 changed)."""
        with self.cond:
            self.cond.wait_for(lambda: not run.active or self.running or self.allowance > 0)
            if not run.active:
                return False
            run.l2, run.optimizer.lr = self.settings.l2, self.settings.lr
            seed = run.settings.seed if run.fits == 0 else run.settings.seed + run.epoch  # fresh shuffles
            run.fits += 1
            s = run.settings
        self.nn.fit(
            run.model, run.data.X, run.data.targets, run.loss, run.optimizer, epochs=EPOCHS,
            batch_size=s.batch_size, seed=seed, progress=False, l2=run.l2,
            callback=lambda epoch, history: self._after_epoch(run, history.loss[-1], history.accuracy[-1]),
        )
        with self.cond:
            return run.active and run.l2 != self.settings.l2

    def _after_epoch(self, run: Run, loss: float, accuracy: float | None) -> bool | None:
        """fit's callback: snapshot, new lr, pause; True ends this fit call."""
        with self.cond:
            run.epoch += 1
            run.first_loss = loss if run.first_loss is None else run.first_loss
            if not run.active:
                return True
            problem = divergence(loss, run.first_loss)
            if problem:
                self._snap(run, loss, accuracy)
                why = f"training diverged at epoch {run.epoch}: {problem}; lower the learning rate and press reset"
                self._end(run, "diverged", why)
                return True
            run.optimizer.lr = self.settings.lr
            self.allowance = max(self.allowance - 1, 0)
            stopping = not self.running and self.allowance == 0
            if stopping or time.monotonic() - run.snapped_at >= SNAPSHOT_INTERVAL:
                self._snap(run, loss, accuracy)
            self._wait_for_next_epoch(run)
            return True if not run.active or run.l2 != self.settings.l2 else None

    def _wait_for_next_epoch(self, run: Run) -> None:
        """Hold the worker while paused, and between epochs at a limited speed (the lock is released meanwhile)."""
        self.cond.wait_for(
            lambda: not run.active or self.running or self.allowance > 0 or run.l2 != self.settings.l2
        )
        now = time.monotonic()
        if self.settings.speed and self.running:
            run.next_epoch_at = max(run.next_epoch_at, now) + 1.0 / self.settings.speed
            self.cond.wait_for(lambda: not run.active or not self.running, max(run.next_epoch_at - now, 0.0))

    def _snap(self, run: Run, loss: float, accuracy: float | None) -> None:
        """Record the parameters now (the caller holds the lock, inside fit's callback)."""
        params = run.optimizer.params
        run.snapshot = Snapshot(run.epoch, [p.data for p in params], [p.grad for p in params], loss, accuracy)
        run.snapped_at = time.monotonic()
        run.chart.append((run.epoch, loss, accuracy))
        if len(run.chart) > CHART_POINTS:
            run.chart[:] = run.chart[::2]
        if run is self.run:
            self._changed()

    def _end(self, run: Run, status: str, message: str) -> None:
        with self.cond:
            run.active = False
            if run is self.run and not self.closed:
                self.status, self.message, self.running = status, message, False
                self._changed()


__all__ = ["CommandError", "Session", "SettingsError"]
