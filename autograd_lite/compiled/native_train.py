"""Many training steps in one native call: forward, loss, backward and update in one numba loop, as lax.scan.

The caller (fit's full-batch epochs) names the loss, the update and the count of right
predictions as plain functions whose text numba compiles (`Training`); the engine imports
them by module and name and calls the interpreter's forward and backward kernels around
them, so nothing of a step is written twice. The loop stops before the first step it
cannot vouch for (a NaN or an infinity in the forward's sum, the loss or the leaf
gradients) and says how many it took: the caller takes that step the ordinary way, whose
error model (naming the op and the sample, or the scalar engine's gradient) is the numpy path's.
"""

from __future__ import annotations

import hashlib
import importlib
import marshal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_lite.compiled import native
from autograd_lite.compiled.native import NativeProgram
from autograd_lite.compiled.native_code import JIT

Jitted = Callable[..., Any]  # Any: a numba dispatcher
_JITTED: dict[tuple[str, str], Jitted] = {}
_TRAIN: dict[str, Jitted] = {}
_SOURCES: dict[tuple[object, ...], str] = {}


@dataclass(frozen=True)
class Training:
    """What a step needs besides the graph: numba-compilable functions and what they are called with."""

    loss: Callable[..., Any]  # (predictions (B, k), targets) -> (value, d value / d predictions)
    update: Callable[..., Any]  # (values, grads, buffers, settings, step, lr) -> None: values and buffers in place
    right: Callable[..., Any] | None  # (predictions, targets, thresholds) -> how many are right, or None
    targets: np.ndarray  # (B, k), as the loss takes them
    parameters: int  # the leaf block's first `parameters` entries are trained
    l2: float  # l2·Σp² is added to the loss and 2·l2·p to the gradient
    buffers: tuple[np.ndarray, ...]  # the update's per-parameter state (updated in place)
    settings: tuple[float, ...]  # the update's numbers
    thresholds: tuple[float, float] = (0.0, 0.0)  # right's


@dataclass(frozen=True)
class Steps:
    """What a call did: how many steps, each one's loss (l2 term included) and right count, the last gradient."""

    done: int
    losses: np.ndarray
    rights: np.ndarray | None
    grads: np.ndarray | None  # the last step's gradient of the parameters (None if no step was taken)


def jitted(module: str, name: str) -> Jitted:
    """`module.name` compiled by numba (the generated loop imports its functions through this)."""
    key = (module, name)
    if key not in _JITTED:
        from numba import njit  # the fast extra

        _JITTED[key] = njit(error_model="numpy")(getattr(importlib.import_module(module), name))
    return _JITTED[key]


def run(program: NativeProgram, output: int, batch: np.ndarray, leaves: np.ndarray, training: Training,
        lrs: list[float], first_step: int) -> Steps:
    """Up to len(lrs) steps on `batch` (inputs, B); `leaves` (the leaf block, 1-D float64) is updated in place."""
    count = len(lrs)
    losses = np.zeros(count)
    rights = np.zeros(count, np.int64)
    grads = np.zeros(training.parameters)
    done = _kernel(program, training)(
        np.ascontiguousarray(batch), leaves, program.meta, program.operands, program.rows, program.slopes, output,
        training.parameters, training.targets, np.array(lrs, np.float64), float(training.l2), training.buffers,
        training.settings, first_step, training.thresholds, losses, rights, grads,
    )
    return Steps(done, losses[:done], rights[:done] if training.right is not None else None, grads if done else None)


# What a process pays before the first call of a loop for new functions (2-core x86_64 machine, 2026-12): numba
# compiling the loss, the update and the loop around the kernels when its disk cache has none (once per machine and
# pair), else loading it.
COMPILE_SECONDS = 20.0
LOAD_SECONDS = 0.1


def startup_seconds(loss: Callable[..., Any], update: Callable[..., Any], right: Callable[..., Any] | None) -> float:
    """About what the first call of the loop for these functions costs in this process, the kernels' own start-up
    (native.startup_seconds) aside: 0 once loaded, LOAD_SECONDS from numba's disk cache, else COMPILE_SECONDS."""
    source = _source(native.interpreter_name(), loss, update, right)
    if source in _TRAIN:
        return 0.0
    return LOAD_SECONDS if native.on_disk(native.module_name(source)) else COMPILE_SECONDS


def _kernel(program: NativeProgram, training: Training) -> Jitted:
    """The loop for this interpreter and these functions: compiled once per machine (numba's disk cache)."""
    source = _source(program.kernels.__name__, training.loss, training.update, training.right)
    if source not in _TRAIN:
        _TRAIN[source] = native.load(source).train
    return _TRAIN[source]


def _digest(functions: list[Callable[..., Any]]) -> str:
    """A digest of the functions' code, so that a changed function gets a new loop (and a new cache entry)."""
    digest = hashlib.sha256()
    for f in functions:
        digest.update(f.__module__.encode() + f.__qualname__.encode() + marshal.dumps(f.__code__))
    return digest.hexdigest()[:16]


def _source(
    interpreter: str, loss: Callable[..., Any], update: Callable[..., Any], right: Callable[..., Any] | None
) -> str:
    """The loop's module text, for the kernels' module `interpreter` (made once: every set-up's estimate asks)."""
    key = (interpreter, loss, update, right)
    if key not in _SOURCES:
        _SOURCES[key] = _loop_text(interpreter, loss, update, right)
    return _SOURCES[key]


def _loop_text(
    interpreter: str, loss: Callable[..., Any], update: Callable[..., Any], right: Callable[..., Any] | None
) -> str:
    refs = [("LOSS", loss), ("UPDATE", update), *([("RIGHT", right)] if right is not None else [])]
    counting = "        rights[step] = RIGHT(preds, targets, thresholds)\n" if right is not None else ""
    head = "\n".join([
        f"# autograd_lite native training loop (functions {_digest([f for _, f in refs])})",
        "import math",
        "import numpy as np",
        "from numba import njit",
        "from autograd_lite.compiled.native_train import jitted",
        f"from {interpreter} import forward_into, backward, offsets, summed",
        *(f'{name} = jitted("{f.__module__}", "{f.__qualname__}")' for name, f in refs),
    ])
    return head + _LOOP.format(jit=JIT, right=counting)


_LOOP = '''


{jit}
def train(v0, leaf, meta, opnd, rows, cslope, ob, parameters, targets, lrs, l2, buffers, settings, first,
          thresholds, losses, rights, grads):
    B = v0.shape[1]
    off = offsets(meta, B)
    v1 = leaf.reshape(leaf.shape[0], 1)
    p = leaf[:parameters]
    k = meta[ob, 0]
    val, adj = np.empty(off[-1]), np.empty(off[-1])
    seeds = adj[off[ob]:off[ob + 1]].reshape(k, B)
    g = grads.copy()  # the last step's gradient, written into grads once the loop ends (not a copy a step)
    for step in range(lrs.shape[0]):
        total = forward_into(val, v0, v1, meta, opnd, rows)
        if not math.isfinite(total):
            grads[:] = g
            return step
        preds = val[off[ob]:off[ob + 1]].copy().reshape(k, B).T
        value, d_preds = LOSS(preds, targets)
        if not math.isfinite(value):
            grads[:] = g
            return step
        adj[:] = 0.0
        for r in range(k):
            for b in range(B):
                seeds[r, b] = d_preds[b, r]
        backward(val, adj, meta, opnd, rows, cslope, B, False)
        if not math.isfinite(summed(adj, off[1], off[2])):  # finite only if every adjoint is
            grads[:] = g
            return step
        g = adj[off[1]:off[1] + parameters].copy()
        if l2:
            value += l2 * np.dot(p, p)
            g = g + (2.0 * l2) * p
{right}        UPDATE(p, g, buffers, settings, first + step, lrs[step])
        losses[step] = value
    grads[:] = g
    return lrs.shape[0]
'''
