"""compile_graph: the compiled batch path equals the scalar engine sample by sample."""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import autograd_lite as al
from autograd_lite import RULES, CompileCheckError, Value, compile_graph, gradients
from autograd_lite.compiled import native

# Every sweep test runs on both backends; the native one (numba, the fast extra) is skipped, visibly, without it.
BACKENDS = [
    "numpy",
    pytest.param("native", marks=pytest.mark.skipif(native.missing() is not None, reason=str(native.missing()))),
]

TOL = 1e-12
OPS = sorted(name for name, rule in RULES.items() if rule.vectorized is not None)


def close(a: float, b: float, tol: float = TOL) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --- random graphs over every op in the table ------------------------------------------------


def into_domain(v: Value, lo: float, hi: float) -> Value:
    """v squashed into (lo, hi) with graph ops, so every op sees inputs inside its rule's domain."""
    return lo + (hi - lo) * v.sigmoid()


@st.composite
def recipes(draw):
    """A random graph as a list of steps over a growing pool of nodes (fan-out and shared nodes included)."""
    steps = []
    pool = 3 + 2  # three inputs and two parameters to start with
    for _ in range(draw(st.integers(3, 12), label="steps")):
        if draw(st.integers(0, 5)) == 0:  # a layer: several dots sharing their inputs
            shared = draw(st.lists(st.integers(0, pool - 1), min_size=1, max_size=3))
            width = draw(st.integers(1, 3))
            steps.append(("layer", shared, width, draw(st.booleans())))
            pool += width
            continue
        op = draw(st.sampled_from(OPS), label="op")
        arity = RULES[op].arity
        if arity is None:
            arity = draw(st.integers(1, 5))
        steps.append((op, [draw(st.integers(0, pool - 1)) for _ in range(arity)]))
        pool += 1
    outputs = draw(st.integers(1, 2), label="outputs")
    return steps, outputs


def build(recipe, inputs: list[Value], params: list[Value]) -> list[Value]:
    """The graph of `recipe` over inputs and params; its last nodes are the outputs."""
    steps, outputs = recipe
    pool = [*inputs, *params]
    for step in steps:
        if step[0] == "layer":
            _, shared, width, with_bias = step
            xs = [pool[i] for i in shared]
            for k in range(width):
                weights = [Value(0.3 * (k + 1) - 0.5 * j, f"w{k}{j}") for j in range(len(xs))]
                params.extend(weights)
                pool.append(al.dot(weights, xs, bias=params[k % 2] if with_bias else None).tanh())
            continue
        op, picks = step
        domain = RULES[op].domain
        args = [into_domain(pool[i], *domain[min(j, len(domain) - 1)]) for j, i in enumerate(picks)]
        pool.append(al.apply(op, *args))
    return pool[-outputs:]


def fresh_params() -> list[Value]:
    return [Value(0.7, "p0"), Value(-1.2, "p1")]


@given(recipe=recipes(), columns=st.lists(st.floats(-2, 2), min_size=12, max_size=12))
@example(  # outputs that later ops also read: their seeded adjoints are added to, never overwritten
    recipe=([("abs", [0]), ("abs", [0]), ("abs", [0]), ("abs", [0]), ("abs", [0]), ("abs", [3]), ("abs", [10])], 2),
    columns=[0.0] * 12,
)
@settings(max_examples=300, deadline=None)  # codegen has many paths (first writes, freed arrays, views)
@pytest.mark.parametrize("backend", BACKENDS)
def test_random_graphs_compiled_equal_scalar_per_sample(backend, recipe, columns):
    """Outputs, per-input gradients and weighted leaf gradients agree with the scalar engine to 1e-12."""
    batch = np.array(columns).reshape(3, 4)
    weights = np.linspace(0.5, 2.0, 4)
    placeholders = [Value(0.0, f"x{i}") for i in range(3)]
    params = fresh_params()

    def graph_of(*xs: Value) -> Value | list[Value]:
        outs = build(recipe, list(xs), params)
        return outs if len(outs) > 1 else outs[0]

    graph = compile_graph(graph_of, placeholders, check=False, backend=backend)
    raw = graph.forward(*batch)
    per_output = weights if raw.ndim == 1 else np.repeat(weights[:, None], raw.shape[1], axis=1)
    input_grads = graph.backward(per_output, input_grads=True)
    forward = raw.reshape(4, -1)

    expected = {id(p): 0.0 for p in params}
    for b in range(4):
        xs = [Value(x) for x in batch[:, b]]
        sample_params = fresh_params()
        sample_outs = build(recipe, xs, sample_params)
        for k, out in enumerate(sample_outs):
            assert close(forward[b, k], out.data), f"output {k} of sample {b}"
        total = al.sum_values(sample_outs)
        grads = [g.data for g in gradients(total, sample_params + xs)]
        for i in range(3):
            assert close(input_grads[i][b], weights[b] * grads[len(sample_params) + i]), f"d/dx{i} at sample {b}"
        for p, g in zip(params, grads, strict=False):
            expected[id(p)] += weights[b] * g
    for p in params:
        assert close(p.grad, expected[id(p)]), f"{p.label}: compiled {p.grad}, scalar {expected[id(p)]}"


# --- a small MLP: layers become matrix products, results stay the scalar engine's -------------


def mlp_loss(params: list[Value]):
    """A 2-3-1 tanh MLP's squared error per sample, as a function of (x0, x1, target)."""

    def loss(x0: Value, x1: Value, target: Value) -> Value:
        hidden = [al.dot(params[3 * k : 3 * k + 2], [x0, x1], bias=params[3 * k + 2]).tanh() for k in range(3)]
        out = al.dot(params[9:12], hidden, bias=params[12])
        return (out - target) ** 2

    return loss


def mlp_params() -> list[Value]:
    return [Value(v, f"p{i}") for i, v in enumerate(np.linspace(-1.0, 1.0, 13))]


def placeholders(n: int) -> list[Value]:
    return [Value(0.5, f"x{i}") for i in range(n)]


X = np.array([[0.1, -0.4, 0.9, 1.5, -2.0], [0.3, 0.8, -0.7, 0.0, 1.1], [1.0, -1.0, 1.0, 1.0, -1.0]])


def scalar_mean_loss_grads(params: list[Value]) -> tuple[float, list[float]]:
    """Mean loss over X's samples and its parameter gradients, by the scalar engine."""
    loss = mlp_loss(params)
    total = al.sum_values(loss(*map(Value, X[:, b])) for b in range(X.shape[1])) * (1.0 / X.shape[1])
    return total.data, [g.data for g in gradients(total, params)]


def test_mlp_layers_become_matrix_products():
    params = mlp_params()
    graph = compile_graph(mlp_loss(params), placeholders(3))
    forward_code = graph.source.split("def backward")[0]
    assert forward_code.count(" @ ") == 2, "one matrix product per layer: the 3 hidden dots fuse, the output dot"
    assert graph.forward(*X).shape == (5,)


@pytest.mark.parametrize(
    ("weights", "scale"),
    [(None, 1.0), (0.2, 0.2), (np.full(5, 0.2), 0.2), (np.arange(5.0) == 2, None)],
    ids=["default ones", "number (mean)", "array", "one sample"],
)
def test_backward_weights(weights, scale):
    """backward adds Σ_b w_b·∂loss_b/∂p to .grad: ones sum, 1/B means, a one-hot picks one sample."""
    params = mlp_params()
    graph = compile_graph(mlp_loss(params), placeholders(3))
    graph.forward(*X)
    graph.backward(weights.astype(float) if isinstance(weights, np.ndarray) else weights)
    ref_params = mlp_params()
    if scale is None:  # sample 2 alone
        loss = mlp_loss(ref_params)(*map(Value, X[:, 2]))
        expected = [g.data for g in gradients(loss, ref_params)]
    else:
        _, mean_grads = scalar_mean_loss_grads(ref_params)
        expected = [g * 5 * scale for g in mean_grads]
    for p, e in zip(params, expected, strict=True):
        assert close(p.grad, e), p.label


def test_backward_accumulates_like_the_scalar_engine():
    params = mlp_params()
    graph = compile_graph(mlp_loss(params), placeholders(3))
    graph.forward(*X)
    graph.backward(0.2)
    once = [p.grad for p in params]
    graph.backward(0.2)
    assert all(close(p.grad, 2 * g) for p, g in zip(params, once, strict=True))


def test_parameter_updates_are_picked_up_without_retracing():
    """Training with the compiled graph follows the scalar engine step by step (the parameters are `leaves`)."""
    params, ref_params = mlp_params(), mlp_params()
    graph = compile_graph(mlp_loss(params), placeholders(3), leaves=params)
    for _ in range(3):
        losses = graph.forward(*X)
        graph.backward(1.0 / X.shape[1])
        ref_loss, ref_grads = scalar_mean_loss_grads(ref_params)
        assert close(losses.mean(), ref_loss)
        for p, q, g in zip(params, ref_params, ref_grads, strict=True):
            assert close(p.grad, g)
            p.data -= 0.5 * p.grad
            p.grad = 0.0
            q.data -= 0.5 * g


def test_several_outputs_compile_together():
    params = mlp_params()
    x0, x1 = placeholders(2)

    def logits(x0: Value, x1: Value) -> list[Value]:
        return [al.dot(params[3 * k : 3 * k + 2], [x0, x1], bias=params[3 * k + 2]) for k in range(3)]

    graph = compile_graph(logits, [x0, x1])
    out = graph.forward(X[0], X[1])
    assert out.shape == (5, 3)
    for b in range(5):
        for k in range(3):
            expected = params[3 * k].data * X[0, b] + params[3 * k + 1].data * X[1, b] + params[3 * k + 2].data
            assert close(out[b, k], expected)
    weights = np.zeros((5, 3))
    weights[:, 1] = 1.0
    graph.backward(weights)
    assert close(params[3].grad, X[0].sum()) and close(params[5].grad, 5.0)
    assert params[0].grad == 0.0 and params[8].grad == 0.0


def test_input_gradients_and_scalar_columns():
    x, y = placeholders(2)
    graph = compile_graph(lambda x, y: x * x * y, [x, y])
    out = graph.forward(np.array([1.0, 2.0, 3.0]), 2.0)  # a number is broadcast over the batch
    assert out.tolist() == [2.0, 8.0, 18.0]
    dx, dy = graph.backward(input_grads=True)
    assert dx.tolist() == [4.0, 8.0, 12.0] and dy.tolist() == [1.0, 4.0, 9.0]
    assert graph.backward() is None


def test_output_that_does_not_depend_on_the_inputs_is_broadcast():
    p = Value(3.0)
    (x,) = placeholders(1)
    graph = compile_graph(lambda x: p * p + 0 * x.relu() * 0, [x])
    assert graph.forward(np.zeros(4)).tolist() == [9.0] * 4
    graph.backward()
    assert p.grad == 4 * 6.0


# --- ties and kinks: the gradient goes where the scalar engine sends it -------------------


@pytest.mark.parametrize(
    ("make", "a", "b"),
    [
        (lambda x, y: x.relu() * y, 0.0, 2.0),
        (lambda x, y: x.max(y), 1.5, 1.5),
        (lambda x, y: x.min(y), -0.5, -0.5),
        (lambda x, y: abs(x) * y, 0.0, 3.0),
        (lambda x, y: y.max(x), 2.0, 2.0),
    ],
    ids=["relu at 0", "max tie", "min tie", "abs at 0", "max tie, other order"],
)
def test_ties_and_kinks_follow_the_scalar_engine(make, a, b):
    x, y = placeholders(2)
    graph = compile_graph(make, [x, y])
    out = graph.forward(np.array([a, a + 1.0]), np.array([b, b]))
    dx, dy = graph.backward(input_grads=True)
    sx, sy = Value(a), Value(b)
    ref = make(sx, sy)
    gx, gy = (g.data for g in gradients(ref, [sx, sy]))
    assert out[0] == ref.data and dx[0] == gx and dy[0] == gy


# --- the check against the scalar engine ------------------------------------------------------


def branching(x: Value) -> Value:
    """A model whose structure depends on the data: it cannot be replayed for other samples."""
    return x * 2.0 if x.data > 0 else x * 3.0


@pytest.mark.parametrize("check", [True, False])
def test_a_graph_that_branches_on_data_is_refused_while_tracing(check):
    (x,) = placeholders(1)  # traced with x = 0.5: the x * 2 branch
    with pytest.raises(CompileCheckError, match=r"comparison \(>\) on traced data at .*test_compile.py:\d+"):
        compile_graph(branching, [x], check=check)


def test_the_issues_example_is_refused_for_every_batch():
    x = Value(1.0)
    with pytest.raises(CompileCheckError, match="numbers of its data"):
        compile_graph(lambda x: x * 2 if x.data > 0 else x * 3, [x]).forward(np.array([2.0, -1.0]))


def leak_float(x):
    return x * float(x)


def leak_value(x):
    return x * Value(x.data)


def leak_constant(x):
    return x * x.data


def leak_arithmetic(x):
    return x * Value(2 * x.data + 1)


def leak_truth(x):
    return x * 2 if x.data else x


def leak_round(x):
    return x * round(x.data)


def leak_int(x):
    return x * int(x.data)


def leak_floor(x):
    return x * math.floor(x.data)


def leak_builtin_max(x):
    return x * max(x.data, 0.25)


def leak_downstream(x):
    y = (x * 3).tanh()
    return y if y.data < 0.9 else y * 0


LEAKS = [leak_float, leak_value, leak_constant, leak_arithmetic, leak_truth, leak_round, leak_int, leak_floor,
         leak_builtin_max, leak_downstream]


def assert_restored(x: Value) -> None:
    """The input and new results hold plain floats again: nothing of the trace is left behind."""
    assert type(x.data) is float and x.data == 0.5
    assert type((x * 2.0).data) is float and type(Value(1.0).exp().data) is float


@pytest.mark.parametrize("function", LEAKS, ids=[f.__name__ for f in LEAKS])
def test_every_way_data_leaves_the_graph_is_refused_and_named(function):
    (x,) = placeholders(1)
    with pytest.raises(CompileCheckError, match=r"numbers of its data.* at .*test_compile.py:\d+"):
        compile_graph(function, [x])
    assert_restored(x)


def test_a_function_that_fails_while_tracing_restores_everything():
    (x,) = placeholders(1)
    with pytest.raises(TypeError, match="unsupported operand"):
        compile_graph(lambda x: x + "one", [x])
    assert_restored(x)
    assert compile_graph(lambda x: x * 2, [x]).forward(np.array([1.0, -3.0])).tolist() == [2.0, -6.0]


ENGINE_DECISIONS = [
    lambda x: x.relu() + abs(x) + x.max(0.1) + x.min(-0.2),  # the rules' own comparisons on floats
    lambda x: 3.0 / x + x / (x + 5.0),  # the division check
    lambda x: 2.0 ** x + (x * x + 1.0) ** x,  # pow with the exponent from the data
    lambda x: al.sum_values([x, x * x]).tanh() * al.dot([x, 2.0], [1.5, x]),
]


@pytest.mark.parametrize("function", ENGINE_DECISIONS)
def test_the_engines_own_checks_are_not_data_decisions(function):
    (x,) = placeholders(1)
    batch = np.array([-1.7, -0.3, 0.4, 2.2])
    out = compile_graph(function, [x]).forward(batch)
    for b, v in zip(batch.tolist(), out.tolist(), strict=True):
        assert close(v, function(Value(b)).data)


def test_parameters_may_be_decided_on():
    (x,) = placeholders(1)
    w = Value(-2.0)
    graph = compile_graph(lambda x: x * w if w.data < 0 else x, [x])  # a constant of the graph, not the data
    assert graph.forward(np.array([1.0, 3.0])).tolist() == [-2.0, -6.0]
    w.data = 1.0  # the traced branch would now be wrong: the call is refused, naming the leaf and the remedy
    with pytest.raises(ValueError, match=r"leaf #0 of leaves changed from -2\.0 to 1\.0.*leaves="):
        graph.forward(np.array([1.0, 3.0]))


# --- errors: the scalar engine's, for every sample --------------------------------------------


DOMAIN_ERRORS = [
    (lambda x: x.log().max(0.0), -1.0, ValueError, "log"),
    (lambda x: (x**0.5).min(1), -4.0, ValueError, "pow"),
    (lambda x: x.log().relu(), 0.0, ValueError, "log"),
    (lambda x: 1.0 / x, 0.0, ZeroDivisionError, "pow"),
    (lambda x: (x * x) ** -1.5, 0.0, ZeroDivisionError, "pow"),
    (lambda x: (x * 400.0).exp().min(3.0), 2.0, OverflowError, "exp"),
    (lambda x: ((x * 1e100) ** 3.0).tanh(), 1e10, OverflowError, "pow"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("function", "bad", "error", "op"), DOMAIN_ERRORS)
def test_domain_errors_are_the_scalar_engines_naming_op_and_sample(function, bad, error, op, backend):
    with pytest.raises(error):
        function(Value(bad))  # the scalar engine
    (x,) = placeholders(1)
    graph = compile_graph(function, [x], backend=backend)
    graph.forward(np.array([0.5, 1.5]))
    with pytest.raises(error, match=rf"sample 2.*{op}"):
        graph.forward(np.array([0.5, 1.5, bad, 1.0]))


NAN_HIDERS = [lambda v: v.max(0.0), lambda v: v.min(0.0), lambda v: v.relu(), lambda v: abs(v), lambda v: v.tanh()]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hide", NAN_HIDERS)
def test_a_nan_made_inside_the_graph_is_not_hidden(hide, backend):
    (x,) = placeholders(1)
    w = Value(0.0)
    graph = compile_graph(lambda x: hide(x * w), [x], leaves=[w], backend=backend)
    graph.forward(np.array([1.0]))
    w.data = math.nan  # a parameter gone bad after a step
    with pytest.raises(FloatingPointError, match=r"mul produced nan at sample 0"):
        graph.forward(np.array([1.0, 2.0]))
    w.data = 1e300
    with pytest.raises(OverflowError, match=r"sample 1: mul overflows"):  # as the scalar engine's mul says
        graph.forward(np.array([0.0, 1e10]))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("hide", NAN_HIDERS)
def test_a_nan_parameter_read_by_an_op_that_keeps_finite_numbers_finite_is_not_hidden(hide, backend):
    (x,) = placeholders(1)
    w = Value(0.5)
    # hide(x) needs no check: the inputs are finite
    graph = compile_graph(lambda x: [hide(w), hide(x)], [x], leaves=[w], backend=backend)
    graph.forward(np.array([1.0]))
    w.data = math.nan
    with pytest.raises(FloatingPointError, match=r"produced nan"):
        graph.forward(np.array([1.0, 2.0]))


def test_nan_on_both_sides_of_the_first_call_check_is_no_mismatch():
    (x,) = placeholders(1)
    graph = compile_graph(lambda x: (x**0.5) * 0.0, [x])  # d/dx at 0 is 0·inf on both paths
    scalar = Value(0.0)
    out = (scalar**0.5) * 0.0
    out.backward()
    assert graph.forward(np.array([0.0])).tolist() == [out.data]


def test_check_catches_a_custom_op_whose_numpy_form_disagrees():
    # register_op refuses such a row; add_rule takes it unchecked, so the compile-time check is still needed
    bad_cube = al.Rule("compile_test_bad_cube", lambda x: x**3, lambda out, x: (3 * x * x,), lambda x: x**2, "c", 1)
    al.rules.add_rule(bad_cube)
    cube = partial(al.apply, "compile_test_bad_cube")
    (x,) = placeholders(1)
    with pytest.raises(CompileCheckError, match="output"):
        compile_graph(cube, [x]).forward(np.array([2.0]))


def test_custom_op_with_a_numpy_form_compiles():
    softplus = al.register_op(
        "compile_test_softplus",
        lambda x: math.log1p(math.exp(x)),
        lambda out, x: (al.ops.sigmoid(x),),
        vectorized=lambda x: np.log1p(np.exp(x)),
    )
    (x,) = placeholders(1)
    graph = compile_graph(lambda x: softplus(x) * x, [x])
    out = graph.forward(np.array([-1.0, 0.0, 2.0]))
    (dx,) = graph.backward(input_grads=True)
    for b, v in enumerate([-1.0, 0.0, 2.0]):
        s = Value(v)
        ref = softplus(s) * s
        assert close(out[b], ref.data) and close(dx[b], gradients(ref, [s])[0].data)


# --- bad input -----------------------------------------------------------------------------------

def test_op_without_numpy_form_is_refused_at_compile_time():
    if "compile_test_no_numpy" not in RULES:
        al.register_op("compile_test_no_numpy", lambda x: 2 * x, lambda out, x: (2.0,))
    (x,) = placeholders(1)
    with pytest.raises(NotImplementedError, match=r"compile_test_no_numpy.*vectorized"):
        compile_graph(lambda x: al.apply("compile_test_no_numpy", x), [x])


@pytest.fixture
def graph():
    x, y = placeholders(2)
    return compile_graph(lambda x, y: x * y + 1.0, [x, y])


@pytest.mark.parametrize(
    ("columns", "error", "match"),
    [
        ((np.ones(3),), ValueError, "expected 2 input column"),
        ((np.ones(3), np.ones(3), np.ones(3)), ValueError, "expected 2 input column"),
        ((np.ones(3), np.ones(4)), ValueError, "same length"),
        ((np.ones(3), np.array([1.0, np.nan, 2.0])), ValueError, "column 1.*non-finite.*sample 1"),
        ((np.array([np.inf]), 1.0), ValueError, "column 0.*non-finite"),
        ((np.ones((3, 2)), np.ones(3)), ValueError, "1-D"),
        ((np.array([]), np.array([])), ValueError, "empty"),
        ((np.array(["a", "b"]), np.ones(2)), TypeError, "real numbers"),
        ((np.ones(2), np.array([1 + 2j, 1j])), TypeError, "real numbers"),
    ],
    ids=["too few", "too many", "lengths", "nan", "inf", "2-D", "empty", "strings", "complex"],
)
def test_bad_columns(graph, columns, error, match):
    with pytest.raises(error, match=match):
        graph.forward(*columns)


@pytest.mark.parametrize(
    ("weights", "error", "match"),
    [
        (np.ones(4), ValueError, r"shape \(3,\)"),
        (np.ones((3, 1)), ValueError, r"shape \(3,\)"),
        (np.array([1.0, np.nan, 1.0]), ValueError, "finite"),
        ("1", TypeError, "real numbers"),
    ],
    ids=["length", "2-D", "nan", "string"],
)
def test_bad_weights(graph, weights, error, match):
    graph.forward(np.ones(3), np.ones(3))
    with pytest.raises(error, match=match):
        graph.backward(weights)


def test_bad_weights_change_no_grad():
    x, p = Value(0.0), Value(2.0)
    graph = compile_graph(lambda x: x * p, [x])
    graph.forward(np.ones(3))
    with pytest.raises(ValueError):
        graph.backward(np.ones(2))
    assert p.grad == 0.0


def test_backward_before_forward(graph):
    with pytest.raises(RuntimeError, match="forward"):
        graph.backward()


def test_non_finite_result_names_the_op_and_sample():
    (x,) = placeholders(1)
    graph = compile_graph(lambda x: x.log(), [x], check=False)
    with pytest.raises(ValueError, match=r"sample 1: log .*-1\.0"):
        graph.forward(np.array([1.0, -1.0]))


@pytest.mark.parametrize(
    ("output", "inputs", "error", "match"),
    [
        (lambda x: x * 2, [1.0], TypeError, r"inputs\[0\] must be a Value"),
        (lambda x: x * 2, "leaf", ValueError, "must be a leaf"),
        (lambda x: x * 2, "twice", ValueError, "distinct"),
        (lambda x: 3.0, [Value(1.0)], TypeError, "must be a Value or a non-empty list"),
        (lambda x: [], [Value(1.0)], TypeError, "non-empty list"),
        ("graph", [Value(1.0)], TypeError, "takes a function that builds the graph"),
    ],
    ids=["input not a Value", "input not a leaf", "same input twice", "output a number", "no outputs", "a graph"],
)
def test_bad_compile_arguments(output, inputs, error, match):
    x = Value(1.0)
    inputs = {"leaf": [x * 2], "twice": [x, x]}.get(inputs, inputs) if isinstance(inputs, str) else inputs
    output = inputs[0] * 2 if output == "graph" else output  # a graph built already: how it was built is unseen
    with pytest.raises(error, match=match):
        compile_graph(output, inputs)


# --- graphs that depend on the data: right or refused, for every batch -----------------------------


BRANCH_KINDS = {
    "compare": lambda v, t: v.data > t,
    "truth": lambda v, t: bool(round(v.data - t)),
    "float": lambda v, t: float(v) >= t,
    "builtin max": lambda v, t: max(v.data, t) == t,
    "graph op": None,  # no decision: the branch is taken with max/min inside the graph
}
UNARY = ["tanh", "sigmoid", "relu", "abs", "exp"]


@st.composite
def branchy_functions(draw):
    """f(x, y) with a Python branch on an intermediate value (or a graph op instead), and the recipe as text."""
    kind = draw(st.sampled_from(sorted(BRANCH_KINDS)))
    threshold = draw(st.floats(-1.5, 1.5))
    first, then, other = (draw(st.sampled_from(UNARY)) for _ in range(3))
    scale = draw(st.floats(-2, 2))

    def f(x: Value, y: Value) -> Value:
        h = al.apply(first, x * scale + y)
        decide = BRANCH_KINDS[kind]
        if decide is None:
            return al.apply(then, h).max(al.apply(other, h * 0.5) + threshold)
        return al.apply(then, h) if decide(h, threshold) else al.apply(other, h * 0.5)

    return f, f"{kind}: {first} then {then}/{other} at {threshold}, scale {scale}"


batches = st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)), min_size=1, max_size=8)


@given(function=branchy_functions(), calls=st.lists(batches, min_size=1, max_size=3))
@settings(max_examples=60, deadline=None)
def test_data_dependent_graphs_are_right_or_refused_for_every_batch(function, calls):
    f, _ = function
    x, y = placeholders(2)
    try:
        graph = compile_graph(f, [x, y])
    except CompileCheckError as e:
        assert "numbers of its data" in str(e)
        return
    for batch in calls:
        xs, ys = (np.array(column) for column in zip(*batch, strict=True))
        out = graph.forward(xs, ys)
        for a, b, got in zip(xs.tolist(), ys.tolist(), out.tolist(), strict=True):
            assert close(got, f(Value(a), Value(b)).data, 1e-12)


# --- arrays in, arrays out: what fit's training loop uses ------------------------------------------


def test_leaves_come_first_in_the_given_order_and_run_takes_their_values_as_an_array():
    import nn

    model = nn.MLP(2, [3, 2], activation="tanh", seed=0)
    params = model.parameters()
    a, b = placeholders(2)
    graph = compile_graph(lambda a, b: model([a, b]), [a, b], leaves=params)
    assert graph.leaves[: len(params)] == params
    assert "[I" not in graph.source and "np.add.at" not in graph.source  # slices and views, no fancy indexing
    values = np.array([p.data for p in params]) * 0.5  # other parameter values than the Values hold
    X = np.array([[0.1, -0.4, 0.9], [0.3, 0.8, -0.7]])
    out = graph.run(X, values)
    grads = graph.gradient(np.ones_like(out))
    assert all(p.grad == 0.0 for p in params)  # .grad untouched
    for p, v in zip(params, values.tolist(), strict=True):
        p.data = v
    expected = graph.forward(*X)
    graph.backward()
    assert np.allclose(out, expected, rtol=1e-14, atol=0)
    assert np.allclose(grads, [p.grad for p in params], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    ("leaves", "match"),
    [(lambda x, w: [x], "not an input"), (lambda x, w: [w * 2], "leaf Value"), (lambda x, w: [w, w], "distinct")],
)
def test_bad_leaves(leaves, match):
    (x,) = placeholders(1)
    w = Value(2.0)
    with pytest.raises(ValueError, match=match):
        compile_graph(lambda x: x * w, [x], leaves=leaves(x, w))


def test_large_finite_values_are_not_mistaken_for_an_overflow():
    (x,) = placeholders(1)
    graph = compile_graph(lambda x: [x * 1e308, x * 1.5e308, (x * 1.7e308).tanh()], [x])
    assert graph.forward(np.array([1.0, 1.0])).tolist() == [[1e308, 1.5e308, 1.0]] * 2


def test_float32_computes_in_single_precision_close_to_the_scalar_engine():
    (x,) = placeholders(1)
    graph = compile_graph(lambda x: (x * 3.0).tanh() * x + x.exp(), [x], dtype=np.float32)
    batch = np.array([0.1, -0.7, 1.3])
    out = graph.forward(batch)
    assert out.dtype == np.float32
    expected = [((Value(b) * 3.0).tanh() * b + Value(b).exp()).data for b in batch.tolist()]
    assert np.allclose(out, expected, rtol=1e-6) and not np.array_equal(out, np.array(expected))
    with pytest.raises(ValueError, match="dtype"):
        compile_graph(lambda x: x, [x], dtype=np.int64)


def test_decisions_on_the_given_leaves_are_refused_too():
    (x,) = placeholders(1)
    w = Value(-2.0)
    with pytest.raises(CompileCheckError, match="comparison"):
        compile_graph(lambda x: x * w if w.data < 0 else x, [x], leaves=[w])  # w changes as training goes
    assert type(w.data) is float and w.data == -2.0
