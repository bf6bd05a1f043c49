"""JAX as a peer: the same MLP, data, loss and schedule as benchmarks/fit.py, as a JAX user writes it.

`jax.jit` of one step (one dispatch per step, the loop in Python) and `jax.lax.scan` of many steps in one
call (the epochs fused into one compiled program). Float64 (`jax_enable_x64`), as every system here.
Compile time is timed apart: the first call of a jitted function traces and compiles it.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

L2 = 1e-4
Params = list[tuple[Any, Any]]  # Any: jax arrays (W, b) per layer; jax's array type is not a stable import


def available() -> str | None:
    """None if jax imports, else why not."""
    try:
        import jax
    except ImportError as error:
        return f"jax is not installed ({error.name}); pip install jax"
    jax.config.update("jax_enable_x64", True)
    return None


def model(sizes: list[int], weights: list[float]) -> Params:
    """(W, b) per layer from the flat weights in micrograd's order (W of shape (out, in))."""
    import jax.numpy as jnp

    flat, at, layers = np.asarray(weights), 0, []
    for nin, nout in itertools.pairwise(sizes):
        block = flat[at : at + nout * (nin + 1)].reshape(nout, nin + 1)
        layers.append((jnp.asarray(block[:, :nin]), jnp.asarray(block[:, nin])))
        at += nout * (nin + 1)
    return layers


def _loss(params: Params, XT: Any, y: Any) -> Any:  # Any: jax arrays
    import jax.numpy as jnp

    a = XT
    for i, (W, b) in enumerate(params):
        a = W @ a + b[:, None]
        if i < len(params) - 1:
            a = jnp.maximum(a, 0.0)
    data = jnp.mean(jnp.maximum(1.0 - y * a[0], 0.0))
    return data + L2 * sum(jnp.sum(W * W) + jnp.sum(b * b) for W, b in params)


def _schedule(step: Any) -> Any:  # Any: a traced integer
    """micrograd's demo schedule, restarting every 100 steps (benchmarks/fit.py's, in jax operations)."""
    return 1.0 - 0.9 * (step % 100) / 100


def _update(params: Params, XT: Any, y: Any, step: Any) -> tuple[Params, Any]:  # Any: jax arrays
    import jax

    loss, grads = jax.value_and_grad(_loss)(params, XT, y)
    lr = _schedule(step)
    return [(W - lr * gW, b - lr * gb) for (W, b), (gW, gb) in zip(params, grads, strict=True)], loss


def jit_step() -> Callable[..., tuple[Params, Any]]:  # Any: a jax array
    """One training step, jitted: one dispatch per step."""
    import jax

    return jax.jit(_update)


def scan_steps(steps: int) -> Callable[..., tuple[Params, Any]]:  # Any: a jax array
    """`steps` training steps in one jitted call (lax.scan over the step numbers)."""
    import jax

    def many(params: Params, XT: Any, y: Any, first: Any) -> tuple[Params, Any]:  # Any: jax arrays
        def body(p: Params, k: Any) -> tuple[Params, Any]:  # Any: jax arrays
            return _update(p, XT, y, k)

        params, losses = jax.lax.scan(body, params, first + jax.numpy.arange(steps))
        return params, losses[-1]

    return jax.jit(many)


def fit(params: Params, X: np.ndarray, y: np.ndarray, epochs: int) -> tuple[float, float]:
    """(seconds for `epochs` jitted epochs with the compile of a fresh jit included, compile seconds alone)."""
    import jax
    import jax.numpy as jnp

    jax.clear_caches()  # else a new jit of the same function reuses the last compile: a user's new run compiles
    step = jit_step()
    XT, yj = jnp.asarray(np.ascontiguousarray(X.T)), jnp.asarray(y)
    start = time.perf_counter()
    compiled = step.lower(params, XT, yj, 0).compile()
    compiled_at = time.perf_counter()
    loss = None
    for k in range(epochs):
        params, loss = compiled(params, XT, yj, k)
    float(loss)  # waits for the last step
    end = time.perf_counter()
    return end - start, compiled_at - start


def final_loss(params: Params, X: np.ndarray, y: np.ndarray, epochs: int) -> float:
    """The loss of the last of `epochs` steps (to check that JAX trains what the others train)."""
    import jax.numpy as jnp

    step = jit_step()
    XT, yj = jnp.asarray(np.ascontiguousarray(X.T)), jnp.asarray(y)
    loss = math.nan
    for k in range(epochs):
        params, loss = step(params, XT, yj, k)
    return float(loss)


def per_epoch(params: Params, X: np.ndarray, y: np.ndarray, count: int, scanned: bool) -> float:
    """Seconds per steady epoch, the quickest of 5 timings of count/5 epochs (compile excluded)."""
    import jax.numpy as jnp

    XT, yj = jnp.asarray(np.ascontiguousarray(X.T)), jnp.asarray(y)
    run = max(1, count // 5)
    if scanned:
        many = scan_steps(run)
        params, loss = many(params, XT, yj, 0)  # compiles
        float(loss)

        def timing(first: int, p: Params) -> Params:
            p, loss = many(p, XT, yj, first)
            float(loss)
            return p
    else:
        step = jit_step()
        params, loss = step(params, XT, yj, 0)
        float(loss)

        def timing(first: int, p: Params) -> Params:
            loss = None
            for k in range(first, first + run):
                p, loss = step(p, XT, yj, k)
            float(loss)
            return p

    best = math.inf
    for r in range(5):
        start = time.perf_counter()
        params = timing(1 + r * run, params)
        best = min(best, (time.perf_counter() - start) / run)
    return best
