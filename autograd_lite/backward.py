"""The backward pass, written against the node protocol (`data`, `op`, `parents`, `grad`) only."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar, overload

from autograd_lite.modes import current, switched
from autograd_lite.registry import RULES
from autograd_lite.types import FloatOrValue, Node

if TYPE_CHECKING:
    from autograd_lite.value import Value

N = TypeVar("N", bound=Node)


class _Accumulating(Node, Protocol):
    """A node whose `.grad` backward adds to."""

    grad: float


A = TypeVar("A", bound=_Accumulating)


_EXPANDED = object()  # on the stack, above a node whose parents are pushed: the node comes next, finished


def topological_order(root: N) -> list[N]:
    """Every node `root` depends on, each after all of its parents (iterative: deep graphs are fine)."""
    # Depth first, first parent first. A marker above a node whose parents are pushed, instead of a (node, done)
    # pair per push: no tuple per node. The first parent is walked into at once instead of pushed and popped, so a
    # chain (a learner's sum of products: each add's first parent is the add before it) costs no stack round trip.
    order: list[N] = []
    visited: set[N] = set()  # nodes hash by identity
    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if node is _EXPANDED:
            order.append(stack.pop())  # type: ignore[arg-type]  # below a marker is always a node
            continue
        while node not in visited:
            visited.add(node)  # type: ignore[arg-type]  # only nodes are pushed besides the marker
            parents = node.parents  # type: ignore[attr-defined]  # a node, as above
            if not parents:  # a leaf is finished at once (half the nodes of a learner's graph): no marker round trip
                order.append(node)  # type: ignore[arg-type]  # a node, as above
                break
            stack.append(node)
            stack.append(_EXPANDED)
            if len(parents) == 2:  # a binary op, the common case: no iterator
                node, second = parents
                if second not in visited:
                    stack.append(second)
                continue
            for parent in reversed(parents[1:]):  # the later parents, the last one lowest
                if parent not in visited:
                    stack.append(parent)
            node = parents[0]
    return order


@overload
def adjoints(
    root: N, seed: float, create_graph: Literal[False] = False, order: list[N] | None = None
) -> dict[N, float]: ...
@overload
def adjoints(root: N, seed: Value, create_graph: Literal[True], order: list[N] | None = None) -> dict[N, Value]: ...
def adjoints(
    root: N, seed: FloatOrValue, create_graph: bool = False, order: list[N] | None = None
) -> Mapping[N, FloatOrValue]:
    """d(root)/d(node) · seed for every node `root` depends on, in one reverse sweep.

    With `create_graph` the local derivatives are taken on the nodes themselves, so the adjoints are Values whose
    own graphs can be differentiated again. `order` is `topological_order(root)` when the caller already has it.
    On floats the adjoints come in `order`'s order (accumulate_grads pairs them with it).
    """
    if order is None:
        order = topological_order(root)
    try:
        if create_graph:
            with switched(taking_partials=True):
                return _sweep(order, {root: seed}, True)
        if current().anomaly:
            return _sweep(order, _starting(order, root, seed), False)
        return _sweep_floats(order, _starting(order, root, seed))
    except KeyError as error:  # a node whose op left the table (remove_rule, or made inside scoped_rules)
        op = error.args[0] if error.args else None
        if isinstance(op, str) and op not in RULES and any(node.op == op for node in order):
            raise ValueError(
                f"op {op!r} is no longer in the rule table, so the graph cannot be differentiated "
                "through it (was it registered inside scoped_rules or removed?)"
            ) from None
        raise


def _sweep(order: list[N], adj: dict[N, FloatOrValue], on_nodes: bool) -> dict[N, FloatOrValue]:
    check = current().anomaly
    for node in reversed(order):
        parents = node.parents
        if not parents:
            continue
        rule = RULES[node.op]
        if on_nodes:
            g = adj.get(node)
            if g is None:  # every path to it was a selection that passed nothing (relu below 0): no gradient
                continue
            flowing = [_on_nodes(g, d, rule.selects) for d in _partials_on_nodes(node)]
            if check:
                _check_finite(node, g, flowing)
            parents = tuple(p for p, c in zip(parents, flowing) if c is not None)
            contributions = [c for c in flowing if c is not None]
        else:
            g = adj[node]
            partials = rule.partials(node.data, *[p.data for p in parents])
            if rule.selects:  # a 0 drops g (even an infinite one): a selection, not a product
                contributions = [g * d if d else 0.0 for d in partials]
            else:
                contributions = [g * d for d in partials]
            if check:
                _check_finite(node, g, contributions)
        for parent, c in zip(parents, contributions):
            if parent in adj:
                adj[parent] = adj[parent] + c
            else:
                adj[parent] = c
    return adj


def _starting(order: list[N], root: N, seed: FloatOrValue) -> dict[N, FloatOrValue]:
    """The float sweeps' adjoints before the sweep: the root's is the seed, every other node's -0.0.

    Every node of `order` gets a contribution (each leads to the root), so all keys are made at once, in `order`'s
    order, and a contribution is added without asking whether it is the first: -0.0 + c is c exactly (for every c,
    ±0 included), so the sums are bit for bit those of starting from the first contribution.
    """
    adj: dict[N, FloatOrValue] = dict.fromkeys(order, -0.0)
    adj[root] = seed
    return adj


def _sweep_floats(order: list[N], adj: dict[N, FloatOrValue]) -> dict[N, FloatOrValue]:
    """`_sweep` on floats without detect_anomaly, the two-input step unrolled; `adj` as `_starting` makes it.

    A learner's own code (micrograd's style: one node per + and ×) spends most of backward here, so a row's
    constant slopes are read from the row instead of calling its partials, and no list is built per node.
    """
    for node in reversed(order):
        parents = node.parents
        if not parents:
            continue
        rule = RULES[node.op]
        g = adj[node]
        if len(parents) != 2:  # one input, or n-ary sum and dot (one node for many inputs): the general step
            partials = rule.partials(node.data, *[p.data for p in parents])
            for parent, d in zip(parents, partials):
                adj[parent] += (g * d if d else 0.0) if rule.selects else g * d
            continue
        a, b = parents
        slopes = rule.constant_slopes
        da, db = slopes if len(slopes) == 2 else rule.partials(node.data, a.data, b.data)
        if rule.selects:  # a 0 drops g (even an infinite one): a selection, not a product
            adj[a] += g * da if da else 0.0
            adj[b] += g * db if db else 0.0
        else:
            adj[a] += g * da
            adj[b] += g * db
    return adj


def _on_nodes(g: FloatOrValue, d: FloatOrValue, selects: bool) -> FloatOrValue | None:
    """g·d as a node; None (nothing flows) where a selection's partial is 0, so no 0·inf and no node is made."""
    if selects and getattr(d, "data", d) == 0:
        return None
    return g if type(d) is float and d == 1.0 else g * d


def _partials_on_nodes(node: Node) -> tuple[FloatOrValue, ...]:
    """The op's local derivatives as graph nodes; a TypeError from them (float() of a node) names the op."""
    try:
        return RULES[node.op].partials(node, *node.parents)
    except TypeError as error:
        raise TypeError(f"op {node.op!r}: its partials failed on Values (higher-order gradients): {error}") from error


def _check_finite(node: Node, g: FloatOrValue, contributions: Sequence[FloatOrValue | None]) -> None:
    """FloatingPointError naming the op if backward through `node` made a NaN or inf (detect_anomaly)."""
    for i, c in enumerate(contributions):
        if c is not None and not math.isfinite(getattr(c, "data", c)):
            inputs = ", ".join(repr(p.data) for p in node.parents)
            raise FloatingPointError(
                f"backward through {node.op} gave {c!r} for its input {i} (inputs ({inputs}), upstream gradient {g!r})"
            )


def accumulate_grads(root: A, seed: float = 1.0) -> None:
    """node.grad += d(root)/d(node) · seed for every node; adds to earlier calls, like PyTorch.

    Every new `.grad` is computed before any is written, so a `.grad` that cannot take the sum (None, a str)
    raises a TypeError naming its node and changes no `.grad`.
    """
    order = topological_order(root)
    adj = adjoints(root, seed, order=order)
    try:  # the adjoints are in `order`'s order: no look-up per node
        totals = [node.grad + g for node, g in zip(order, adj.values())]
    except TypeError as error:
        _refuse_grad(order, adj, error)
        raise
    for node, total in zip(order, totals):
        node.grad = total


def _refuse_grad(order: list[A], adj: Mapping[A, float], error: TypeError) -> None:
    """TypeError naming the first node whose `.grad + adjoint` raised `error`; returns if none does now."""
    for node, g in zip(order, adj.values()):
        held = node.grad
        try:
            _ = held + g
        except TypeError:
            name = getattr(node, "label", "") or repr(node)
            raise TypeError(
                f"backward cannot add to the .grad of {name}: it holds {held!r} (type {type(held).__name__}), not a "
                "number; set it to 0.0, e.g. with zero_grad(), before backward (no .grad was changed)"
            ) from error
