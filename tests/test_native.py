"""The native step (numba, the fast extra): the numpy path's numbers and errors, or a clear refusal."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_compile import build, fresh_params, recipes

import autograd_lite as al
from autograd_lite import RULES, Value, compile_graph
from autograd_lite.compiled import native
from nn import MLP

needs_numba = pytest.mark.skipif(native.missing() is not None, reason=str(native.missing()))


def both(function, inputs, **options):
    """The same function compiled for each backend."""
    return [compile_graph(function, inputs, check=False, backend=b, **options) for b in ("numpy", "native")]


def relative_gap(a: np.ndarray, b: np.ndarray) -> float:
    scale = max(1.0, float(np.abs(a).max(initial=0.0)))
    return float(np.abs(a - b).max(initial=0.0)) / scale


def traced(recipe, placeholders, backend):
    """The recipe compiled with its own parameters (the layers' weights join the list as the graph is built)."""
    params = fresh_params()
    return compile_graph(lambda *xs: build(recipe, list(xs), params), placeholders, check=False, backend=backend)


@needs_numba
@given(recipe=recipes(), columns=st.lists(st.floats(-2, 2), min_size=15, max_size=15))
@settings(max_examples=150, deadline=None)
def test_native_equals_numpy_on_random_graphs(recipe, columns):
    """Outputs, leaf gradients and input gradients agree with the numpy path's to 1e-12, relative."""
    batch = np.array(columns).reshape(3, 5)
    placeholders = [Value(0.0, f"x{i}") for i in range(3)]
    graphs = [traced(recipe, placeholders, backend) for backend in ("numpy", "native")]
    outs = [g.run(batch, np.array([leaf.data for leaf in g.leaves])) for g in graphs]
    weights = np.linspace(0.5, 2.0, outs[0].size).reshape(outs[0].shape)
    grads = [g.gradient(weights) for g in graphs]
    assert relative_gap(outs[0], outs[1]) <= 1e-12
    assert relative_gap(grads[0], grads[1]) <= 1e-12
    inputs = [g.backward(weights, input_grads=True) for g in graphs]
    assert relative_gap(np.array(inputs[0]), np.array(inputs[1])) <= 1e-12


@needs_numba
@pytest.mark.parametrize("width", [1, 7, 300])  # 300: the layers' products go to BLAS
def test_an_mlp_gets_the_numpy_paths_numbers_at_every_batch_size(width):
    model = MLP(3, [40, 40, 2])
    inputs = [Value(0.0, f"x{i}") for i in range(3)]
    graphs = both(lambda *xs: model(list(xs)), inputs, leaves=model.parameters())
    batch = np.random.default_rng(width).normal(size=(3, width))
    block = np.array([p.data for p in model.parameters()])
    outs = [g.run(batch, block) for g in graphs]
    assert relative_gap(outs[0], outs[1]) <= 1e-12
    grads = [g.gradient(np.ones_like(outs[0])) for g in graphs]
    assert relative_gap(grads[0], grads[1]) <= 1e-12
    assert graphs[1].backend == "native" and graphs[0].backend == "numpy"


# Finite inputs only: a NaN or an infinity that an op makes is counted in the forward's check, so the numpy path
# takes over before any later form reads it.
SPECIALS = [-1e300, -750.0, -2.0, -1.0, -0.0, 0.0, 5e-324, 0.5, 1.0, 2.5, 750.0, 1e300]


@needs_numba
@pytest.mark.parametrize("name", [n for n in sorted(RULES) if RULES[n].native is not None and RULES[n].arity])
def test_compiled_native_forms_give_the_numpy_forms_numbers_where_floats_raise(name):
    """Under numba a form raises nothing: at overflows, poles and off its domain it gives the numpy form's number."""
    rule = RULES[name]
    forward = native.form(name, "forward")
    for xs in itertools.product(SPECIALS, repeat=rule.arity):
        with np.errstate(all="ignore"):
            expected = float(rule.vectorized(*[np.float64(x) for x in xs]))
        got = forward(*xs)
        # libm and numpy may round a transcendental differently in the last place
        assert got == pytest.approx(expected, rel=1e-15, abs=0, nan_ok=True), f"{name}{xs}: {got} != {expected}"


@needs_numba
def test_domain_errors_name_the_op_and_sample_as_on_the_numpy_path():
    (x,) = [Value(0.0, "x")]
    graph = compile_graph(lambda x: (x * 2.0).log().tanh(), [x], backend="native")
    graph.forward(np.array([0.5, 1.5]))
    with pytest.raises(ValueError, match=r"sample 2.*log"):
        graph.forward(np.array([0.5, 1.5, -1.0]))


@needs_numba
def test_the_kernels_are_kept_on_disk_under_their_hash():
    x = Value(0.0, "x")
    graph = compile_graph(lambda x: x.sin() * x, [x], backend="native")
    graph.forward(np.ones(3))
    kernels = native.interpreter([name for name, rule in sorted(RULES.items()) if rule.native is not None])
    path = Path(kernels.__file__)
    assert path.parent == native.cache_folder()
    assert path.stem == "autograd_lite_native_" + hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    assert list((path.parent / "__pycache__").glob(f"{path.stem}.forward-*.nbi")), "numba's cache"


def test_bad_backends_are_refused_with_the_reason(monkeypatch):
    x = Value(0.0, "x")
    with pytest.raises(ValueError, match="backend must be 'numpy' or 'native'"):
        compile_graph(lambda x: x * 2.0, [x], backend="fast")
    with pytest.raises(ValueError, match=r"float64.*float32"):
        compile_graph(lambda x: x * 2.0, [x], backend="native", dtype=np.float32)
    monkeypatch.setattr(native, "missing", lambda: "the native step needs numba: pip install 'autograd-lite[fast]'")
    with pytest.raises(ValueError, match=r"not available.*autograd-lite\[fast\]"):
        compile_graph(lambda x: x * 2.0, [x], backend="native")


def test_an_op_without_a_native_form_is_named():
    name = "native_test_cube"
    if name not in RULES:
        al.register_op(name, lambda x: x**3, lambda out, x: (3 * x * x,), vectorized=lambda x: x**3)
    x = Value(0.0, "x")
    graph = compile_graph(lambda x: al.apply(name, x), [x])
    assert graph.forward(np.array([2.0])).tolist() == [8.0]  # the numpy path runs it
    with pytest.raises(ValueError, match=rf"{name}.*no native form"):
        compile_graph(lambda x: al.apply(name, x), [x], backend="native")
