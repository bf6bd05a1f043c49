"""backward adds to every `.grad` or to none: a `.grad` that cannot take the sum is a clear error, nothing changed."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_lite import Value, gradients
from autograd_lite.backward import topological_order

NOT_NUMBERS = [None, "0.5", [1.0], object()]


def _graph() -> tuple[Value, list[Value]]:
    """(root, every node): labelled and unlabelled leaves, interior nodes, a constant and a shared node."""
    x, y, b = Value(2.0, "x"), Value(-3.0, "y"), Value(0.5)
    product = x * y
    product.label = "product"
    root = (product + b).tanh() * 1.5 + product * x + y
    return root, topological_order(root)


def _earlier(nodes: list[Value]) -> None:
    """Distinct earlier gradients on every node, as from an earlier backward."""
    for i, node in enumerate(nodes):
        node.grad = 0.375 * i - 1.25


def test_the_graph_has_labelled_and_unlabelled_leaves_and_interior_nodes():
    _, nodes = _graph()
    leaves = [n for n in nodes if not n.parents]
    interior = [n for n in nodes if n.parents]
    assert any(n.label for n in leaves) and any(not n.label for n in leaves)
    assert any(n.label for n in interior) and any(not n.label for n in interior)


@pytest.mark.parametrize("held", NOT_NUMBERS, ids=lambda h: type(h).__name__)
@pytest.mark.parametrize("position", range(len(_graph()[1])))
def test_a_grad_that_is_not_a_number_is_named_and_no_grad_changes(position, held):
    root, nodes = _graph()
    _earlier(nodes)
    bad = nodes[position]
    bad.grad = held
    name = bad.label or repr(bad)
    before = [node.grad for node in nodes]
    with pytest.raises(TypeError) as raised:
        root.backward()
    message = str(raised.value)
    assert f".grad of {name}:" in message
    assert f"holds {held!r} (type {type(held).__name__})" in message
    assert "set it to 0.0, e.g. with zero_grad()" in message
    assert all(after is earlier for after, earlier in zip([node.grad for node in nodes], before, strict=True))


def test_the_set_to_none_habit_on_one_factor_leaves_the_other_factor_alone():
    x, y = Value(2.0, "x"), Value(3.0, "y")
    y.grad = None
    out = x * y
    with pytest.raises(TypeError, match=r"\.grad of y: it holds None \(type NoneType\)"):
        out.backward()
    assert (x.grad, y.grad, out.grad) == (0.0, None, 0.0)
    y.grad = 0.0  # the fix the message gives: backward then works as usual
    out.backward()
    assert (x.grad, y.grad) == (3.0, 2.0)


@pytest.mark.parametrize("seed", [1.0, -0.5, 4.0])  # powers of 2: seed·adjoint is exact, as the sweep's
def test_a_normal_backward_adds_this_calls_adjoint_to_every_earlier_grad(seed):
    root, nodes = _graph()
    adjoint = [g.data for g in gradients(root, nodes)]  # leaves every .grad untouched
    _earlier(nodes)
    before = [node.grad for node in nodes]
    root.backward(seed)
    assert [node.grad for node in nodes] == [b + seed * a for b, a in zip(before, adjoint, strict=True)]
    assert all(type(node.grad) is float for node in nodes)


@pytest.mark.parametrize("start", [0, np.float64(0.25)], ids=["int", "numpy float"])
def test_other_real_numbers_in_grad_still_take_the_sum(start):
    root, nodes = _graph()
    adjoint = [g.data for g in gradients(root, nodes)]
    for node in nodes:
        node.grad = start  # micrograd's `p.grad = 0`, or a number read from numpy
    root.backward()
    assert [node.grad for node in nodes] == [start + a for a in adjoint]
