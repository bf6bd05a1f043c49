"""A training step over whole batches: the per-sample loss graph, traced once and replayed with numpy.

`fit` keeps writing per-sample scalar code; this module compiles it. The graph of
one sample — [loss, l2 term, *model outputs] — is built from placeholder Values and
handed to `autograd_lite.compile_graph`. Targets that take few values (class
labels) are baked into one graph per label, so losses may index or branch on
them; otherwise they are inputs of the graph like the features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd_lite import CompileCheckError, Value, compile_graph, dot

MAX_LABELS = 16  # more distinct targets than this: targets become graph inputs instead


class CannotCompile(ValueError):
    """The model or loss cannot be replayed over batches; the message says why."""


def compiled_step(
    model: Callable[[Any], Any], loss: Callable[..., Value], l2: float, params: list[Value], xs: list, ys: list
) -> Callable[[list[list[float]], list[Any]], tuple[float, list[Any]]]:
    """A step function like `scalar_step`'s, running compiled graphs; CannotCompile if the model or loss won't."""
    reduction = getattr(loss, "reduction", None)
    if reduction not in ("mean", "sum"):
        raise CannotCompile(
            f"loss {getattr(loss, '__name__', loss)!r} does not say how it reduces a batch: "
            "set its attribute reduction = 'mean' or 'sum'"
        )
    by_label = len({_key(y) for y in ys}) <= MAX_LABELS
    samples: dict[Any, list[int]] = {}  # label (None: all targets are inputs) -> its samples
    for i, y in enumerate(ys):
        samples.setdefault(_key(y) if by_label else None, []).append(i)
    graphs = {
        # traced on a label's first sample, checked on its last: a model whose graph depends on the
        # data is caught when those two take different branches
        label: _compile(model, loss, l2, params, (xs[rows[0]], ys[rows[0]]), (xs[rows[-1]], ys[rows[-1]]), by_label)
        for label, rows in samples.items()
    }

    def step(bx: list[list[float]], by: list[Any]) -> tuple[float, list[Any]]:
        n = len(bx)
        groups: dict[Any, list[int]] = {}
        for i, y in enumerate(by):
            groups.setdefault(_key(y) if by_label else None, []).append(i)
        total, preds = 0.0, [None] * n
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
            for row, values in zip(rows, out[:, 2:].tolist()):
                preds[row] = values[0] if len(values) == 1 else values
        return total, preds

    return step


def _compile(
    model: Callable[[Any], Any], loss: Callable[..., Value], l2: float, params: list[Value],
    traced: tuple[list[float], Any], checked: tuple[list[float], Any], baked: bool,
) -> Any:
    """The compiled graph of one sample, traced on `traced` and checked against the scalar engine on `checked`.

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

    check_x, check_y = checked
    check_columns = [[v] for v in check_x] + ([] if baked else [[v] for v in np.ravel(check_y).tolist()])
    try:
        cg = compile_graph(one_sample, placeholders)
        cg.forward(*check_columns)  # the first forward runs the check
    except CompileCheckError as e:
        raise CannotCompile(f"the compiled model disagrees with the scalar one: {e}") from None
    except (NotImplementedError, TypeError, FloatingPointError) as e:
        raise CannotCompile(str(e)) from None
    return cg


def _target(values: tuple[Value, ...], like: Any) -> Any:
    return list(values) if np.ndim(like) else values[0]


def _key(y: Any) -> Any:
    """A hashable form of a target (lists become tuples)."""
    return tuple(np.ravel(y).tolist()) if np.ndim(y) else y


