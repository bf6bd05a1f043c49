"""`jacobian` and `hessian`: closed forms, random graphs against finite differences, torch where present."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd_lite import RULES, Value, apply, grad, hessian, jacobian, no_grad, ops, register_op

RULE_NAMES = sorted(RULES)  # the table as collected: ops registered later by tests are not drawn


def numeric_jacobian(f, x: list[float], h: float = 1e-6) -> np.ndarray:
    """Central differences of f's outputs (evaluated as floats) in each input."""
    columns = []
    for j in range(len(x)):
        up, down = list(x), list(x)
        up[j] += h
        down[j] -= h
        columns.append((_floats(f, up) - _floats(f, down)) / (2 * h))
    return np.column_stack(columns)


def numeric_hessian(f, x: list[float], h: float = 1e-4) -> np.ndarray:
    """Second central differences of a scalar f, from f's values alone."""
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                moved = list(x)
                moved[i] += si * h
                moved[j] += sj * h
                total += sign * _floats(f, moved)[0]
            out[i, j] = total / (4 * h * h)
    return out


def _floats(f, x: list[float]) -> np.ndarray:
    with no_grad():
        out = f([Value(v) for v in x])
    out = out if isinstance(out, (list, tuple)) else [out]
    return np.array([float(getattr(o, "data", o)) for o in out])


# --- closed forms -------------------------------------------------------------------------


def test_jacobian_of_a_linear_map_is_its_matrix():
    A = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    b = [0.3, -0.7]
    J = jacobian(lambda x: [sum(a * v for a, v in zip(row, x)) + c for row, c in zip(A.tolist(), b)])([1.0, 2.0, 3.0])
    assert J.shape == (2, 3) and J.dtype == float
    np.testing.assert_array_equal(J, A)


def test_jacobian_of_an_elementwise_function_is_diagonal():
    x = [0.3, -1.2, 2.0]
    J = jacobian(lambda v: [t.tanh() for t in v])(x)
    np.testing.assert_allclose(J, np.diag(1 - np.tanh(x) ** 2), rtol=1e-14, atol=0)


def test_jacobian_shapes_for_numbers_and_sequences():
    assert jacobian(lambda t: t * t)(3.0).tolist() == [[6.0]]
    assert jacobian(lambda t: [t, t * t, 2.0])(3.0).tolist() == [[1.0], [6.0], [0.0]]
    assert jacobian(lambda v: v[0] * v[1])(np.array([2.0, 5.0])).tolist() == [[5.0, 2.0]]
    assert jacobian(lambda v: [v[0]])((4.0,)).shape == (1, 1)
    out_array = jacobian(lambda v: np.array([v[0] * v[1], v[1]]))([2.0, 5.0])
    assert out_array.tolist() == [[5.0, 2.0], [0.0, 1.0]]


def test_jacobian_in_several_arguments_is_a_tuple_of_blocks():
    def f(x, y, scale):
        return [x * y[0] * scale, y[1].exp()]

    jx, jy = jacobian(f, argnums=(0, 1))(2.0, [3.0, 0.5], 10.0)
    assert jx.tolist() == [[30.0], [0.0]]
    np.testing.assert_allclose(jy, [[20.0, 0.0], [0.0, math.exp(0.5)]], rtol=1e-15)
    only_y = jacobian(f, argnums=1)(2.0, [3.0, 0.5], 10.0)
    np.testing.assert_array_equal(only_y, jy)
    assert jacobian(f, argnums=-2)(2.0, [3.0, 0.5], 10.0).shape == (2, 2)


def test_hessian_of_a_quadratic_form_is_its_symmetric_matrix():
    A = np.array([[2.0, -1.0, 0.5], [-1.0, 3.0, 0.0], [0.5, 0.0, 1.0]])

    def quadratic(x):
        return 0.5 * sum(A[i, j] * x[i] * x[j] for i in range(3) for j in range(3))

    H = hessian(quadratic)([0.7, -0.2, 1.5])
    assert H.shape == (3, 3) and H.dtype == float
    np.testing.assert_allclose(H, A, rtol=1e-14)


def test_hessian_of_log_sum_exp_is_diag_p_minus_p_p_transpose():
    z = [0.2, -1.0, 1.3, 0.0]

    def lse(v):
        return sum((t.exp() for t in v), Value(0.0, requires_grad=False)).log()

    p = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(hessian(lse)(z), np.diag(p) - np.outer(p, p), rtol=1e-12, atol=1e-15)


def test_hessian_of_rosenbrock():
    def rosenbrock(v):
        x, y = v
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    x, y = -0.5, 1.5
    expected = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200]]
    np.testing.assert_allclose(hessian(rosenbrock)([x, y]), expected, rtol=1e-13)


def test_hessian_in_several_arguments_is_blocks_of_blocks():
    (haa, hab), (hba, hbb) = hessian(lambda a, b: a * a * b[0] + b[1] ** 3, argnums=(0, 1))(1.5, [2.0, 0.5])
    assert haa.tolist() == [[4.0]]
    assert hab.tolist() == [[3.0, 0.0]] and hba.tolist() == [[3.0], [0.0]]
    np.testing.assert_allclose(hbb, [[0.0, 0.0], [0.0, 3.0]], rtol=1e-15)


def test_a_constant_output_has_zero_derivatives():
    assert jacobian(lambda v: [1.0, Value(2.0)])([1.0, 2.0]).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert hessian(lambda v: v[0] + 2.0 * v[1])([1.0, 2.0]).tolist() == [[0.0, 0.0], [0.0, 0.0]]


# --- nesting and custom ops ------------------------------------------------------------------


def test_jacobian_nests_inside_grad_and_itself():
    # d/dt of d(t³)/dt = 6t
    assert grad(lambda t: jacobian(lambda x: x**3)(t)[0, 0])(2.0) == pytest.approx(12.0, rel=1e-15)

    def gradient_of(v):
        return list(jacobian(lambda y: y[0] * y[1] ** 2)(v).ravel())

    nested = jacobian(gradient_of)([1.0, 2.0])
    np.testing.assert_allclose(nested, hessian(lambda y: y[0] * y[1] ** 2)([1.0, 2.0]), rtol=1e-15)
    np.testing.assert_allclose(nested, [[0.0, 4.0], [4.0, 2.0]], rtol=1e-15)


def test_hessian_nests_for_third_derivatives():
    # d/dt of d²(t⁴)/dt² = 24t
    assert grad(lambda t: hessian(lambda x: x**4)(t)[0, 0])(0.5) == pytest.approx(12.0, rel=1e-14)


def test_works_inside_no_grad():
    with no_grad():
        assert jacobian(lambda v: [v[0] * v[1]])([2.0, 3.0]).tolist() == [[3.0, 2.0]]
        assert hessian(lambda v: v[0] ** 3)([2.0]).tolist() == [[12.0]]
        assert grad(lambda t: jacobian(lambda x: x**3)(t)[0, 0])(2.0) == pytest.approx(12.0, rel=1e-15)


def test_called_with_values_it_returns_values():
    out = jacobian(lambda v: [v[0] * v[1]])([Value(2.0), 3.0])
    assert out.dtype == object and isinstance(out[0, 0], Value) and out[0, 0].data == 3.0


def _softplus():
    name = "softplus_jacobian_test"
    if name not in RULES:
        register_op(
            name,
            lambda x: math.log1p(math.exp(x)),
            lambda out, x: (ops.sigmoid(x),),
            vectorized=lambda x: np.logaddexp(0.0, x),
        )
    return lambda x: apply(name, x)


def test_jacobian_and_hessian_go_through_custom_ops():
    softplus = _softplus()
    x = [0.4, -1.1]

    def f(v):
        return softplus(v[0] * v[1]) + softplus(v[1])

    def s(t):
        return 1 / (1 + math.exp(-t))

    u = x[0] * x[1]
    np.testing.assert_allclose(jacobian(f)(x), [[s(u) * x[1], s(u) * x[0] + s(x[1])]], rtol=1e-14)
    d = s(u) * (1 - s(u))
    expected = [[d * x[1] ** 2, d * u + s(u)], [d * u + s(u), d * x[0] ** 2 + s(x[1]) * (1 - s(x[1]))]]
    np.testing.assert_allclose(hessian(f)(x), expected, rtol=1e-13)


# --- random graphs against finite differences ------------------------------------------------


@st.composite
def random_graphs(draw):
    """(inputs, a program of ops on earlier nodes): every op's inputs squashed into its rule's domain."""
    n = draw(st.integers(1, 3), label="inputs")
    x = [draw(st.floats(-1.5, 1.5, allow_nan=False), label=f"x{i}") for i in range(n)]
    program = []
    for k in range(draw(st.integers(1, 6), label="ops")):
        name = draw(st.sampled_from(RULE_NAMES), label=f"op{k}")
        arity = RULES[name].arity or draw(st.integers(1, 4), label=f"arity{k}")
        parents = [draw(st.integers(0, n + k - 1), label=f"parent{k}.{i}") for i in range(arity)]
        program.append((name, parents))
    return x, program


def run_program(program, inputs: list) -> list:
    """The program's last two nodes (or its only one) as outputs."""
    nodes = list(inputs)
    for name, parents in program:
        domain = RULES[name].domain
        args = []
        for i, p in enumerate(parents):
            lo, hi = domain[min(i, len(domain) - 1)]
            args.append(lo + (hi - lo) * nodes[p].sigmoid())
        kink = RULES[name].kink
        assume(kink is None or kink(*[float(a) for a in args]) > 1e-2)
        nodes.append(apply(name, *args))
    return nodes[-2:] if len(program) > 1 else nodes[-1:]


@given(graph=random_graphs())
def test_jacobian_of_random_graphs_matches_finite_differences(graph):
    x, program = graph
    J = jacobian(lambda v: run_program(program, v))(x)
    numeric = numeric_jacobian(lambda v: run_program(program, v), x)
    assert J.shape == numeric.shape
    np.testing.assert_allclose(J, numeric, rtol=1e-5, atol=1e-6)


@given(graph=random_graphs())
def test_hessian_of_random_graphs_matches_finite_differences(graph):
    x, program = graph

    def f(v):
        return sum(run_program(program, v), Value(0.0, requires_grad=False))

    H = hessian(f)(x)
    np.testing.assert_allclose(H, H.T, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(H, numeric_hessian(f, x), rtol=1e-4, atol=1e-5)


# --- bad input ---------------------------------------------------------------------------------


def test_bad_shapes_and_arguments_give_clear_errors():
    square = jacobian(lambda v: v[0] * v[0])
    with pytest.raises(ValueError, match=r"argument 0 must be a number or a 1-D sequence.*shape \(2, 2\)"):
        square(np.ones((2, 2)))
    with pytest.raises(ValueError, match="flat sequence of numbers, got a nested sequence at index 0"):
        square([[1.0, 2.0]])
    with pytest.raises(TypeError, match="argument 0 must be a number or a sequence"):
        square({"a": 1.0})
    with pytest.raises(TypeError, match="real number"):
        square([True])
    with pytest.raises(TypeError, match="str"):
        square("12")
    with pytest.raises(IndexError, match="argnums 1 is out of range"):
        jacobian(lambda v: v, argnums=1)(1.0)
    with pytest.raises(TypeError, match="argnums"):
        jacobian(lambda v: v, argnums=1.0)
    with pytest.raises(ValueError, match="twice"):
        jacobian(lambda a, b: a, argnums=(0, 0))


def test_bad_results_give_clear_errors():
    with pytest.raises(ValueError, match="result must be a flat sequence of numbers, got a nested sequence at index 0"):
        jacobian(lambda v: [[v[0]]])([1.0])
    with pytest.raises(ValueError, match=r"got shape \(1, 1\)"):
        jacobian(lambda v: np.array([[v[0]]]))([1.0])
    with pytest.raises(TypeError, match="must return a Value or a sequence of Values, got dict"):
        jacobian(lambda v: {"out": v[0]})([1.0])
    with pytest.raises(TypeError, match="real number"):
        jacobian(lambda v: [v[0], "x"])([1.0])
    with pytest.raises(ValueError, match=r"hessian needs f to return a single Value.*2 outputs"):
        hessian(lambda v: [v[0], v[0]])([1.0])


# --- torch, where present -------------------------------------------------------------------------

# Written with operators and methods that Values and torch tensors share, so one function serves both.
TORCH_FUNCTIONS = {
    "mixed": lambda v: [(v[0] * v[1]).tanh(), v[0].exp() / v[1], (v[1] ** 2).log() + v[0].sigmoid()],
    "neuron": lambda v: [(0.3 * v[0] - 1.2 * v[1] + 0.5 * v[2] + 0.1).sigmoid()],
    "relu_layer": lambda v: [(v[0] - v[1]).relu() * 2 + v[2], (v[0] + v[2] * 3).relu()],
}
TORCH_SCALARS = {
    "rosenbrock": lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] * v[0]) ** 2,
    "tiny_net_loss": lambda v: ((0.7 * (v[0] * 0.5 + v[1]).tanh() - 0.3 * v[2]).sigmoid() - 1) ** 2,
    "log_softmax": lambda v: v[0] - (v[0].exp() + v[1].exp() + v[2].exp()).log(),
}
POINT = [0.4, 1.3, -0.6]


@pytest.mark.parametrize("name", sorted(TORCH_FUNCTIONS))
def test_jacobian_matches_torch(name):
    torch = pytest.importorskip("torch", reason="torch is not installed (it comes with the [bench] extra)")
    f = TORCH_FUNCTIONS[name]
    n = 2 if name == "mixed" else 3
    expected = torch.autograd.functional.jacobian(
        lambda t: torch.stack(f(t)), torch.tensor(POINT[:n], dtype=torch.float64)
    )
    np.testing.assert_allclose(jacobian(f)(POINT[:n]), expected.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", sorted(TORCH_SCALARS))
def test_hessian_matches_torch(name):
    torch = pytest.importorskip("torch", reason="torch is not installed (it comes with the [bench] extra)")
    f = TORCH_SCALARS[name]
    n = 2 if name == "rosenbrock" else 3
    expected = torch.autograd.functional.hessian(f, torch.tensor(POINT[:n], dtype=torch.float64))
    np.testing.assert_allclose(hessian(f)(POINT[:n]), expected.numpy(), rtol=1e-12, atol=1e-15)
