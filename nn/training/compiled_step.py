"""fit's compiled path: the model traced once, its parameters in one array, the built-in losses in numpy.

The model's graph for one sample (features → outputs) is compiled with
`autograd_lite.compile_graph`, its leaf block starting with the model's
parameters in `parameters()` order. During `fit` that block is where the
parameters live: each step runs the compiled forward on a batch of columns, the
loss and its gradient per output in numpy (`BATCH_LOSSES`, the same formulas as
nn.losses), the compiled backward, the l2 term (`l2·Σp²`, gradient `2·l2·p`), and
the optimizer on whole arrays. `sync()` writes the block back into the parameter
Values (`.data`, and `.grad` of the last step); `fit` calls it before every
callback and when it returns, so user code never sees a stale Value.

Losses that are not built in but declare `reduction` are compiled with the loss in
the graph (`loss_graph_step`), one graph per target value when targets are few.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from operator import attrgetter, is_
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from autograd_lite import CompileCheckError, CompiledGraph, Value, compile_graph, dot
from autograd_lite.compiled import Training
from nn import losses
from nn.optim import ARRAY_UPDATES, ArrayUpdate, Optimizer
from nn.training.metrics import ByThreshold, Model, Prediction, Target, right_by_threshold
from nn.training.scalar_step import StepFunction

if TYPE_CHECKING:
    from nn.module import Module

MAX_LABELS = 16  # loss_graph_step: more distinct targets than this become graph inputs instead


class CannotCompile(ValueError):
    """The model or loss cannot be replayed over batches; the message says why."""

    def __init__(self, message: str, data_dependent: bool = False) -> None:
        super().__init__(message)
        self.data_dependent = data_dependent  # the graph depends on the data (not merely an unsupported op)


# --- the built-in losses on arrays: (outputs (B, k), targets) -> (loss, d loss / d outputs) ----------------


def _mse(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    d = out - t
    return float((d * d).sum()) / d.size, d * (2.0 / d.size)


def _squared_error(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    d = out - t
    return 0.5 * float((d * d).sum()), d


def _hinge(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    margin = 1.0 - t * out
    active = margin > 0  # relu's slope: 0 at the kink, like the engine
    scale = 1.0 / out.size  # the engine's mean multiplies by 1/n (t is ±1, so t·scale is exact)
    return float(np.where(active, margin, 0.0).sum()) * scale, (t * active) * -scale


def _binary_cross_entropy(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    outside = (out < 0.0) | (out > 1.0)
    if outside.any():
        got = float(out[outside][0])
        raise ValueError(f"prob must lie in [0, 1], got {got!r} (logits? use bce_with_logits)")
    log_p, slope_p = _floored_log(out)
    log_q, slope_q = _floored_log(1.0 - out)
    value = -(t * log_p + (1.0 - t) * log_q)
    return float(value.sum()) / out.size, ((1.0 - t) * slope_q - t * slope_p) / out.size


def _floored_log(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """losses' max(log q, LOG_FLOOR) and its slope: 1/q where the log is at or above the floor, else 0."""
    positive = q > 0
    safe = np.where(positive, q, 1.0)
    logs = np.where(positive, np.log(safe), -np.inf)
    passes = logs >= losses.LOG_FLOOR  # max's ties go to its first input, the log
    return np.where(passes, logs, losses.LOG_FLOOR), np.where(passes, 1.0 / safe, 0.0)


def _bce_with_logits(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    a = np.abs(out)
    e = np.exp(-a)
    value = (out + a) * 0.5 - out * t + np.log(1.0 + e)
    s = np.sign(out)
    grad = (1.0 + s) * 0.5 - t - s * e / (1.0 + e)
    return float(value.sum()) / out.size, grad / out.size


def _cross_entropy(out: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    shift = out.max(axis=1, keepdims=True)
    e = np.exp(out - shift)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(out))
    value = np.log(total[:, 0]) + shift[:, 0] - out[rows, t]
    grad = e / total
    grad[rows, t] -= 1.0
    return float(value.sum()) / len(out), grad / len(out)


BatchLoss = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]
BATCH_LOSSES: dict[Callable[..., Value], BatchLoss] = {
    losses.mse: _mse,
    losses.squared_error: _squared_error,
    losses.hinge: _hinge,
    losses.binary_cross_entropy: _binary_cross_entropy,
    losses.bce_with_logits: _bce_with_logits,
    losses.cross_entropy: _cross_entropy,
}


@dataclass
class _OptimizerRoute:
    """How the optimizer reaches the parameter block: directly, through an index, or through the Values."""

    optimizer: Optimizer  # (fit also takes any object with step() and zero_grad(): it steps on the Values)
    index: np.ndarray | None  # the optimizer's params as positions in the block (None: the same list)
    arrays: bool  # the optimizer steps on arrays; else its .step() runs on the Values


class ArrayTrainer:
    """One compiled step of fit: forward, numpy loss, backward and update on arrays; `sync` writes Values."""

    compiled = True

    def __init__(
        self, model: Module, loss: Callable[..., Value], l2: float, optimizer: Optimizer, X: np.ndarray, y: np.ndarray,
        accuracy: Callable[[np.ndarray, np.ndarray], int] | None, dtype: npt.DTypeLike = np.float64,
        backend: str = "numpy", params: list[Value] | None = None,
    ) -> None:
        self.params: list[Value] = model.parameters() if params is None else params  # fit lists them once
        self.graph = _compile_model(model, self.params, X[0], dtype, backend)
        self.backend = self.graph.backend
        self.block = np.fromiter(map(attrgetter("data"), self.graph.leaves), dtype, len(self.graph.leaves))
        self.values = self.block[: len(self.params)]  # a view: the parameters live here during fit
        self.grads = np.zeros(len(self.params), dtype)
        self.columns = np.ascontiguousarray(X.T, dtype)  # (features, samples)
        self.targets = y.astype(int) if loss is losses.cross_entropy else y.astype(dtype).reshape(len(y), -1)
        self.loss, self.l2, self.accuracy = BATCH_LOSSES[loss], l2, accuracy
        self.update = _route(optimizer, self.params)
        self.training = _native_training(self.graph, loss, self.update, accuracy, self.targets, self.params, l2)
        try:  # the first run compares the compiled graph with the scalar engine on the first sample
            self.graph.run(self.columns[:, :1], self.block)
        except CompileCheckError as e:
            raise CannotCompile(f"the compiled model disagrees with the scalar engine: {e}") from None
        except (ArithmeticError, ValueError) as e:  # the scalar engine decides: it raises the same, or trains on
            raise CannotCompile(f"the compiled model fails on the first sample: {e}", data_dependent=True) from None

    def step(self, chosen: np.ndarray | slice) -> tuple[float, int | None]:
        """One training step on the samples `chosen`: (batch loss, how many predictions were right or None)."""
        value, grads, right = self.loss_and_gradients(chosen)
        return self.update_with(value, grads), right

    def loss_and_gradients(self, chosen: np.ndarray | slice) -> tuple[float, np.ndarray, int | None]:
        """(batch loss, its gradient for the parameters, right predictions or None), without the l2 term.

        FloatingPointError if the loss or a gradient is not finite: nothing of this step reaches the model.
        """
        out = self.graph.run(self.columns[:, chosen], self.block)
        outputs = out.reshape(len(out), -1)
        targets = self.targets[chosen]
        value, d_outputs = self.loss(outputs, targets)
        if not math.isfinite(value):  # (a gradient that is not finite is the scalar engine's: checked next)
            raise FloatingPointError(f"the batch loss is {value!r}: the step would write non-numbers into the model")
        grads = self.graph.gradient(d_outputs.reshape(out.shape))[: len(self.params)]
        if not math.isfinite(np.add.reduce(grads, None)):
            raise FloatingPointError("a gradient is not finite: the step would write non-numbers into the model")
        return value, grads, None if self.accuracy is None else self.accuracy(outputs, targets)

    def update_with(self, value: float, grads: np.ndarray) -> float:
        """Add the l2 term to a batch's loss and gradient, take the optimizer step; the batch loss."""
        if self.l2:
            value += self.l2 * float(self.values @ self.values)
            grads = grads + (2.0 * self.l2) * self.values
        self.grads = grads
        self._apply(grads)
        return value

    def _apply(self, grads: np.ndarray) -> None:
        u = self.update
        if u.arrays and u.index is None:
            u.optimizer.step_arrays(self.values, grads)
        elif u.arrays:
            values = self.values[u.index]
            u.optimizer.step_arrays(values, grads[u.index])
            self.values[u.index] = values
        else:  # an optimizer that only knows Values: hand them over and read the result back
            u.optimizer.zero_grad()  # as the scalar path does (it may hold Values outside the model)
            self.sync()
            u.optimizer.step()
            self.values[:] = [p.data for p in self.params]

    def full_batch_epochs(self, count: int) -> list[tuple[float, int | None]] | None:
        """Up to `count` full-batch steps in one native call (None where it cannot: numpy backend, a loss or
        optimizer numba does not compile); fewer if it stopped before one: `step` takes that one."""
        if self.training is None:
            return None
        optimizer = self.update.optimizer
        buffers, settings = optimizer.array_state() or ((), ())
        lrs = optimizer.next_lrs(count)
        steps = self.graph.train_natively(
            self.columns, self.block, replace(self.training, buffers=buffers, settings=settings), lrs, optimizer.steps
        )
        optimizer.steps += steps.done
        if steps.grads is not None:
            self.grads = steps.grads
        rights = [None] * steps.done if steps.rights is None else steps.rights.tolist()
        return list(zip(steps.losses.tolist(), rights, strict=True))

    def sync(self) -> None:
        """Write the block into the parameter Values: `.data`, and `.grad` from the last step."""
        for p, v, g in zip(self.params, self.values.tolist(), self.grads.tolist(), strict=True):
            p.data, p.grad = v, g


# The built-in losses numba compiles as they are written (fit's native path runs them inside its loop).
NATIVE_LOSSES = frozenset({_mse, _squared_error, _hinge, _bce_with_logits})


NativeParts = tuple[BatchLoss, ArrayUpdate, Callable[..., int] | None]  # (loss, update, right) as numba compiles them


def native_parts(
    loss: Callable[..., Value], optimizer: object, accuracy: Callable[..., int] | None, params: list[Value]
) -> NativeParts | None:
    """The loss, update and count of right predictions (for `accuracy`) fit's native loop runs, or None where numba
    cannot run one of them (a loss or an optimizer class without such a function) or the optimizer does not step
    on exactly `params` in their order (the trained block)."""
    batch, update = BATCH_LOSSES.get(loss), ARRAY_UPDATES.get(type(optimizer))  # type: ignore[arg-type]
    mine = getattr(optimizer, "params", ())
    if len(mine) != len(params) or not all(map(is_, mine, params)):
        return None
    if batch not in NATIVE_LOSSES or update is None or not (accuracy is None or isinstance(accuracy, ByThreshold)):
        return None
    assert batch is not None
    return batch, update, None if accuracy is None else right_by_threshold


def _native_training(
    graph: CompiledGraph, loss: Callable[..., Value], route: _OptimizerRoute, accuracy: Callable[..., int] | None,
    targets: np.ndarray, params: list[Value], l2: float,
) -> Training | None:
    """What fit's native loop needs, or None where it cannot run (numpy backend, see native_parts, or an optimizer
    that does not step on the whole block)."""
    parts = native_parts(loss, route.optimizer, accuracy, params)
    if parts is None or not graph.can_train_natively() or not route.arrays or route.index is not None:
        return None
    thresholds = accuracy.thresholds if isinstance(accuracy, ByThreshold) else (0.0, 0.0)
    return Training(*parts, targets, len(params), l2, (), (), thresholds)


def _route(optimizer: Optimizer, params: list[Value]) -> _OptimizerRoute:
    """How `optimizer` updates the parameter block (optimizers over other Values use their own step)."""
    if not isinstance(optimizer, Optimizer) or not optimizer.steps_on_arrays():  # any object with step() will do
        return _OptimizerRoute(optimizer, None, False)
    mine = optimizer.params
    if len(mine) == len(params) and all(map(is_, mine, params)):
        return _OptimizerRoute(optimizer, None, True)
    position = {id(p): i for i, p in enumerate(params)}
    if not all(id(p) in position for p in mine):
        return _OptimizerRoute(optimizer, None, False)
    return _OptimizerRoute(optimizer, np.array([position[id(p)] for p in mine], dtype=int), True)


def _compile_model(
    model: Module, params: list[Value], first: np.ndarray, dtype: npt.DTypeLike, backend: str
) -> CompiledGraph:
    """The model's compiled graph (features → outputs) with the parameters first in its leaf block."""
    placeholders = [Value(float(v), f"x{i}", requires_grad=False) for i, v in enumerate(first)]

    def outputs(*features: Value) -> list[Value]:
        pred = model(list(features))
        out = pred if isinstance(pred, list) else [pred]
        if not out or not all(isinstance(o, Value) for o in out):
            raise CannotCompile("the model must return a Value or a list of Values")
        return out

    try:
        return compile_graph(outputs, placeholders, leaves=params, dtype=dtype, backend=backend)
    except CompileCheckError as e:
        raise CannotCompile(f"the model cannot be compiled: {e}", data_dependent=True) from None
    except (NotImplementedError, TypeError) as e:
        raise CannotCompile(str(e)) from None


# --- losses that are not built in: the loss inside the compiled graph -----------------------------------


def loss_graph_step(
    model: Model, loss: Callable[..., Value], l2: float, params: list[Value], xs: list[list[float]], ys: list[Target],
    backend: str = "numpy",
) -> StepFunction:
    """A step function like `scalar_step`'s, running compiled graphs; CannotCompile if the model or loss won't."""
    reduction = getattr(loss, "reduction", None)
    if reduction not in ("mean", "sum"):
        raise CannotCompile(
            f"loss {getattr(loss, '__name__', loss)!r} does not say how it reduces a batch: "
            "set its attribute reduction = 'mean' or 'sum'"
        )
    by_label = len({_key(y) for y in ys}) <= MAX_LABELS
    samples: dict[Hashable, list[int]] = {}  # label (None: all targets are inputs) -> its samples
    for i, y in enumerate(ys):
        samples.setdefault(_key(y) if by_label else None, []).append(i)
    graphs = {
        label: _compile_with_loss(model, loss, l2, params, (xs[rows[0]], ys[rows[0]]), by_label, backend)
        for label, rows in samples.items()
    }

    def step(bx: list[list[float]], by: list[Target]) -> tuple[float, list[Prediction]]:
        n = len(bx)
        groups: dict[Hashable, list[int]] = {}
        for i, y in enumerate(by):
            groups.setdefault(_key(y) if by_label else None, []).append(i)
        total = 0.0
        preds: list[Prediction] = [0.0] * n  # every row is filled below
        for label, rows in groups.items():
            cg = graphs[label]
            columns = list(np.asarray([bx[i] for i in rows], dtype=float).T)
            if label is None:
                columns += list(np.asarray([by[i] for i in rows], dtype=float).reshape(len(rows), -1).T)
            out = cg.forward(*columns)
            weights = np.zeros_like(out)
            weights[:, 0] = 1.0 / n if reduction == "mean" else 1.0
            weights[:, 1] = 1.0 / n  # the l2 term once per batch, shared out over its samples
            cg.backward(weights)
            total += float((out[:, :2] * weights[:, :2]).sum())
            for row, values in zip(rows, out[:, 2:].tolist(), strict=True):
                preds[row] = values[0] if len(values) == 1 else values
        return total, preds

    return step


def _compile_with_loss(
    model: Model, loss: Callable[..., Value], l2: float, params: list[Value],
    traced: tuple[list[float], Target], baked: bool, backend: str,
) -> CompiledGraph:
    """The compiled graph of one sample, [loss, l2 term, *outputs], traced (with guards) on `traced`.

    With `baked`, the target is a constant of the graph; otherwise its numbers are inputs after the features.
    """
    x, y = traced
    target_values = [] if baked else np.ravel(y).tolist()
    placeholders = [Value(v, f"x{i}", requires_grad=False) for i, v in enumerate(x)]
    placeholders += [Value(v, f"t{i}", requires_grad=False) for i, v in enumerate(target_values)]

    def one_sample(*inputs: Value) -> list[Value]:
        features = list(inputs[: len(x)])
        target = y if baked else _target(inputs[len(x) :], y)
        pred = model(features)
        outputs = pred if isinstance(pred, list) else [pred]
        if not outputs or not all(isinstance(o, Value) for o in outputs):
            raise CannotCompile("the model must return a Value or a list of Values")
        penalty = l2 * dot(params, params)  # one node: Σp² (0 when l2 is 0, gradients included)
        return [loss(pred, target), penalty, *outputs]

    try:  # the parameters change between steps: they are the graph's leaves, so the trace cannot decide on them
        cg = compile_graph(one_sample, placeholders, leaves=params, backend=backend)
        cg.forward(*[[v] for v in [*x, *target_values]])  # the first forward runs the check
    except CompileCheckError as e:
        raise CannotCompile(f"the model cannot be compiled: {e}", data_dependent=True) from None
    except (NotImplementedError, TypeError, ArithmeticError, ValueError) as e:
        raise CannotCompile(str(e)) from None
    return cg


def _target(values: tuple[Value, ...], like: Target) -> Value | list[Value]:
    return list(values) if np.ndim(like) else values[0]


def _key(y: Target) -> Hashable:
    """A hashable form of a target (lists become tuples)."""
    return tuple(np.ravel(y).tolist()) if np.ndim(y) else cast(float, y)  # a number when it has no dimensions
