"""nn.predict scores a grid in one compiled batch with the scalar engine's numbers, and falls back when it must."""

from __future__ import annotations

import numpy as np
import pytest

import nn
from autograd_lite import Value, no_grad


def scalar_outputs(model, X):
    with no_grad():
        outs = [model(x) for x in X.tolist()]
    return np.array([[o.data for o in out] if isinstance(out, list) else out.data for out in outs])


@pytest.mark.parametrize("sizes", [[8, 1], [16, 16, 3]])
def test_predict_on_a_grid_equals_the_scalar_engine(sizes):
    model = nn.MLP(2, sizes, activation="tanh", seed=1)
    grid = np.random.default_rng(0).normal(size=(500, 2))
    got = nn.predict(model, grid)
    assert got.shape == ((500,) if sizes[-1] == 1 else (500, sizes[-1]))
    np.testing.assert_allclose(got, scalar_outputs(model, grid), rtol=1e-12, atol=1e-12)


def test_a_model_that_branches_on_data_is_still_predicted_row_by_row():
    w = Value(2.0)

    def model(x):  # the graph depends on the sample: the compiled batch refuses it, predict must not be wrong
        s = w * x[0]
        return s if s.data > 0 else s * 1.5

    X = np.array([[2.0], [-1.0], [0.5]])
    np.testing.assert_array_equal(nn.predict(model, X), [4.0, -3.0, 1.0])


def test_a_domain_error_in_the_batch_is_the_scalar_engines_error():
    one = Value(1.0)

    def model(x):
        return (one * x[0]).log()

    with pytest.raises(ValueError, match="log"):
        nn.predict(model, np.array([[1.0], [-1.0]]))
