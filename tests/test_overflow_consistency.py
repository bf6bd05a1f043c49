"""Finite inputs that overflow to ±inf raise OverflowError naming the op, in add, mul, sum and dot as in exp and pow,
on the scalar and the compiled path alike; an infinity given as input is not an overflow."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autograd_lite import Value, compile_graph, dot, sum_values

BIG = 1e200
OVERFLOWS = {
    "add": lambda v, w: v * 1e108 + w * 1e108,
    "mul": lambda v, w: v * w,
    "sum": lambda v, w: sum_values([v * 1e108, w * 1e108, v]),
    "dot": lambda v, w: dot([v], [w]),
}


@pytest.mark.parametrize("name", sorted(OVERFLOWS))
def test_scalar_and_compiled_raise_the_same_overflow(name):
    build = OVERFLOWS[name]
    w = Value(BIG)
    with pytest.raises(OverflowError, match=name):
        build(Value(BIG), w)
    x = Value(1.0)
    graph = compile_graph(lambda v: build(v, w), [x])
    assert graph.forward(np.array([1.0])).tolist() == [build(Value(1.0), w).data]
    with pytest.raises(OverflowError, match=f"sample 1: {name}"):
        graph.forward(np.array([1.0, BIG]))


def test_an_infinite_input_is_carried_not_called_an_overflow():
    assert (Value(math.inf) * 2.0).data == math.inf
    assert (Value(-math.inf) + 1.0).data == -math.inf
