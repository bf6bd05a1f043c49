"""`explain`'s total is what backward gives, also where a local gradient is infinite."""

from __future__ import annotations

import math

import pytest

from autograd_lite import Value, explain


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("max_paths", [1, 50])
def test_explain_of_opposite_infinite_paths_is_nan_like_backward(max_paths):
    # √x − √x at 0: paths +inf and -inf; math.fsum used to raise "ValueError: -inf + inf in fsum"
    x = Value(0.0)
    out = x.sqrt() - x.sqrt()
    out.backward()
    e = explain(out, x, max_paths=max_paths)
    assert _same(float(e), x.grad) and math.isnan(x.grad)
    assert "nan" in str(e)


@pytest.mark.parametrize("max_paths", [1, 50])
def test_explain_agrees_with_backward_when_a_path_multiplies_zero_by_inf(max_paths):
    # min(e^√x, e^√x) at 0: backward sums the two routes (1 + 0) before the inf slope of √ (inf); the paths
    # multiplied 0·inf on the second route and summed to nan
    x = Value(0.0)
    e_sqrt = x.sqrt().exp()
    out = e_sqrt.min(e_sqrt)
    out.backward()
    assert x.grad == math.inf
    assert float(explain(out, x, max_paths=max_paths)) == math.inf
