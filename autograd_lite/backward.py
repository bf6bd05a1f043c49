"""The backward pass, written against the node protocol (`data`, `op`, `parents`, `grad`) only."""

from __future__ import annotations

import math
from typing import Any

from autograd_lite.modes import modes
from autograd_lite.rules import RULES


def topological_order(root: Any) -> list[Any]:
    """Every node `root` depends on, each after all of its parents (iterative: deep graphs are fine)."""
    order: list[Any] = []
    visited: set[Any] = set()  # nodes hash by identity
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in reversed(node.parents):
            if parent not in visited:
                stack.append((parent, False))
    return order


def adjoints(root: Any, seed: Any, create_graph: bool = False) -> tuple[list[Any], dict[Any, Any]]:
    """d(root)/d(node) · seed for every node, in one reverse sweep.

    With `create_graph` the local derivatives are taken on the nodes themselves, so
    the adjoints are Values whose own graphs can be differentiated again.
    """
    order = topological_order(root)
    adj: dict[Any, Any] = {root: seed}
    check = modes.anomaly
    for node in reversed(order):
        parents = node.parents
        if not parents:
            continue
        g = adj[node]
        rule = RULES[node.op]
        if create_graph:
            local = rule.partials(node, *parents)
            contributions = [g if type(d) is float and d == 1.0 else g * d for d in local]
        else:
            contributions = [g * d for d in rule.partials(node.data, *[p.data for p in parents])]
        if check:
            _check_finite(node, g, contributions)
        for parent, c in zip(parents, contributions):
            if parent in adj:
                adj[parent] = adj[parent] + c
            else:
                adj[parent] = c
    return order, adj


def _check_finite(node: Any, g: Any, contributions: list[Any]) -> None:
    """FloatingPointError naming the op if backward through `node` made a NaN or inf (detect_anomaly)."""
    for i, c in enumerate(contributions):
        if not math.isfinite(getattr(c, "data", c)):
            inputs = ", ".join(repr(p.data) for p in node.parents)
            raise FloatingPointError(
                f"backward through {node.op} gave {c!r} for its input {i} (inputs ({inputs}), upstream gradient {g!r})"
            )


def backward(root: Any, grad: float = 1.0) -> None:
    """node.grad += d(root)/d(node) · grad for every node; adds to earlier calls, like PyTorch."""
    order, adj = adjoints(root, grad)
    for node in order:
        node.grad += adj[node]
