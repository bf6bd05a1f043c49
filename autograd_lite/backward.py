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
        stack.extend((p, False) for p in reversed(node.parents) if p not in visited)
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
        else:
            local = rule.partials(node.data, *[p.data for p in parents])
        for i, (parent, d) in enumerate(zip(parents, local)):
            c = g if create_graph and type(d) is float and d == 1.0 else g * d
            if check and not math.isfinite(getattr(c, "data", c)):
                inputs = ", ".join(repr(p.data) for p in parents)
                raise FloatingPointError(
                    f"backward through {node.op} gave {c!r} for its input {i} "
                    f"(inputs ({inputs}), upstream gradient {g!r})"
                )
            adj[parent] = adj[parent] + c if parent in adj else c
    return order, adj


def backward(root: Any, grad: float = 1.0) -> None:
    """node.grad += d(root)/d(node) · grad for every node; adds to earlier calls, like PyTorch."""
    order, adj = adjoints(root, grad)
    for node in order:
        node.grad += adj[node]
