"""The exercises' checks: right answers pass, and a blank or a typical wrong answer gets the message meant for it."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import nn
from autograd_lite import RULES, Value, exercises, explain, ops


def all_parts():
    return [(n, p) for n in exercises.numbers() for p in exercises.get(n).parts]


@pytest.mark.parametrize(("n", "part"), all_parts())
def test_every_solution_passes_its_check(n, part):
    result = exercises.get(n).check(exercises.solution(n)[part], part=part)
    assert result.ok, result.message
    assert "right" in result.message


@pytest.mark.parametrize(("n", "part"), all_parts())
@pytest.mark.parametrize("blank", [None, ...])
def test_a_blank_is_told_it_is_blank(n, part, blank):
    result = exercises.get(n).check(blank, part=part)
    assert not result.ok
    assert "blank" in result.message


def test_exercises_are_numbered_one_to_six_and_say_their_task():
    assert exercises.numbers() == [1, 2, 3, 4, 5, 6]
    for n in exercises.numbers():
        ex = exercises.get(n)
        assert ex.task.startswith(f"Exercise {n}:")
        assert all(p.task in ex.task for p in ex.parts.values())
    with pytest.raises(ValueError, match="there are exercises 1, 2, 3, 4, 5, 6"):
        exercises.get(7)
    with pytest.raises(KeyError, match="'a', 'b', 'c'"):
        exercises.get(1).check({}, part="z")


def test_solution_of_n_is_the_solution_of_get_n():
    for n in exercises.numbers():
        assert str(exercises.solution(n)) == str(exercises.get(n).solution())
    assert exercises.solution(1)["a"] == exercises.get(1).solution().answer


def test_exercise_1a_takes_the_dict_of_the_issue_and_shows_as_its_message():
    result = exercises.get(1).check({"x": -4.0, "y": -4.0, "z": 3.0})
    assert result.ok
    assert repr(result) == str(result) == result.message
    assert exercises.get(1).check({"x": -4, "y": -4, "z": 3.00001}).ok  # 4 significant digits


def test_a_wrong_sign_names_the_input_the_numbers_and_the_path():
    result = exercises.get(1).check({"x": 4.0, "y": -4.0, "z": 3.0})
    assert not result.ok
    assert "∂f/∂x: expected -4, given 4" in result.message
    assert "sign is flipped" in result.message
    assert "path 1: x → q → f" in result.message  # explain's path by path text
    assert "✓ ∂f/∂y = -4" in result.message


def test_wrong_keys_and_non_numbers_are_named():
    ex = exercises.get(1)
    assert "missing 'z'" in ex.check({"x": -4, "y": -4}).message
    assert "unexpected 'q'" in ex.check({"x": -4, "y": -4, "z": 3, "q": 1}).message
    result = ex.check({"x": Value(-4.0), "y": -4, "z": 3})
    assert not result.ok and "is a Value" in result.message
    assert "must be a number" in ex.check({"x": "-4", "y": -4, "z": 3}).message


def test_max_routes_and_mul_swaps_are_named():
    ex = exercises.get(1)
    result = ex.check({"x": -8, "y": 6, "z": 2, "w": 2}, part="b")
    assert "max routes" in result.message and "∂f/∂w: expected 0, given 2" in result.message
    result = ex.check({"x": 6, "y": 6, "z": 2, "w": 0}, part="b")  # 2·x instead of 2·y
    assert "mul swaps" in result.message


def test_a_forgotten_fan_out_is_named():
    result = exercises.get(1).check({"a": -4.0, "b": 3.0}, part="c")  # only the a·b use of a
    assert not result.ok
    assert "forgotten fan-out: a is used 2 times" in result.message
    assert "sum: (-4) + (1) = -3" in result.message


def textbook_error():
    """The 2-2-2 network of the textbook, built with nn (independently of the exercise), and w1, w5."""
    model = nn.MLP(2, [2, 2], activation="sigmoid", output_activation="sigmoid")
    model.load_state_dict([0.15, 0.20, 0.35, 0.25, 0.30, 0.35, 0.40, 0.45, 0.60, 0.50, 0.55, 0.60])
    error = nn.squared_error(model([0.05, 0.10]), [0.01, 0.99])
    params = dict(model.named_parameters())
    return error, params["layers.0.neurons.0.w.0"], params["layers.1.neurons.0.w.0"]


def test_exercise_3_factor_of_2_and_missing_path():
    error, w1, w5 = textbook_error()
    error.backward()
    ex = exercises.get(3)
    assert ex.check(0.082167041).ok and ex.check(0.000438568, part="b").ok  # the textbook's figures
    assert "a factor of 2" in ex.check(2 * w5.grad).message
    one_path = explain(error, w1).paths[0].product  # through o1 only
    result = ex.check(one_path, part="b")
    assert not result.ok
    assert "a missing path: out_h1 feeds net_o1 and net_o2" in result.message
    assert "counted 1 of the 2 paths" in result.message


def test_exercise_3_step_uphill_and_without_the_learning_rate():
    error, w1, w5 = textbook_error()
    error.backward()
    ex = exercises.get(3)
    assert ex.check({"w5": 0.4 - 0.5 * w5.grad, "w1": 0.15 - 0.5 * w1.grad}, part="c").ok
    result = ex.check({"w5": 0.4 + 0.5 * w5.grad, "w1": 0.15 - w1.grad}, part="c")
    assert "stepped uphill" in result.message
    assert "left out η = 0.5" in result.message


def test_exercise_2_through_the_chain_of_gates():
    ex = exercises.get(2)
    answer = dict(exercises.solution(2)["b"])
    assert ex.check(answer, part="b").ok
    answer["u"] = -answer["u"]  # the *-1 gate forgotten
    result = ex.check(answer, part="b")
    assert "∂f/∂u: expected 0.196611933" in result.message and "sign" in result.message


def cube(forward=lambda x: x**3, partials=lambda out, x: (3 * x**2,), vectorized=lambda x: x**3):
    return {"forward": forward, "partials": partials, "vectorized": vectorized}


def softplus(partials=lambda out, x: (ops.sigmoid(x),), vectorized=lambda x: np.logaddexp(0.0, x)):
    return {"forward": lambda x: math.log1p(math.exp(x)), "partials": partials, "vectorized": vectorized}


@pytest.mark.parametrize(
    ("row", "part", "message"),
    [
        (cube(), "a", "right"),
        (cube(partials=lambda out, x: 3 * x**2), "a", "as a tuple"),
        (cube(partials=lambda out, x: (x**2,)), "a", "a factor of 3"),
        (cube(partials=lambda out, x: (-3 * x**2,)), "a", "sign is flipped"),
        (cube(forward=lambda x: x**2), "a", "forward(-1.7) = 2.89, but x³ at x = -1.7 is -4.913"),
        (cube(vectorized=lambda x: x**2), "a", "vectorized computes a different function"),
        (softplus(), "b", "right"),
        (softplus(partials=lambda out, x: (1 / (1 + math.exp(-x)),)), "b", "the second order"),
        (softplus(partials=lambda out, x: (ops.sigmoid(-x),)), "b", "that is σ(−x)"),
        (softplus(vectorized=lambda x: math.log1p(math.exp(x))), "b", "the numpy form"),
    ],
)
def test_exercise_4_reports_each_part_of_the_row(row, part, message):
    before = dict(RULES)
    result = exercises.get(4).check(row, part=part)
    assert result.ok == (message == "right"), result.message
    assert message in result.message
    assert before == RULES, "the learner's op is gone from the table after the check"


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def mlp_backward(sign=1.0, factor=1.0, output_prime=True, hidden_prime=True, transpose_w1=False):
    """A hand-written backward with one chosen mistake."""

    def backward(x, t, W1, b1, W2, b2):
        h = sigmoid(W1 @ x + b1)
        y = sigmoid(W2 @ h + b2)
        d2 = sign * factor * (y - t) * (y * (1 - y) if output_prime else 1)
        d1 = (W2.T @ d2) * (h * (1 - h) if hidden_prime else 1)
        dW1 = np.outer(x, d1) if transpose_w1 else np.outer(d1, x)
        return {"W1": dW1, "b1": d1, "W2": np.outer(d2, h), "b2": d2}

    return backward


@pytest.mark.parametrize(
    ("mistake", "message"),
    [
        ({}, "right: both layers agree with the engine"),
        ({"sign": -1.0}, "layer 2 disagrees: ∂E/∂W2"),
        ({"sign": -1.0}, "the sign is flipped"),
        ({"factor": 2.0}, "a factor of 2"),
        ({"output_prime": False}, "Hadamard product with σ′(z2)"),
        ({"hidden_prime": False}, "layer 2 (the output layer) agrees; layer 1 disagrees"),
        ({"hidden_prime": False}, "Hadamard product with σ′(z1)"),
        ({"transpose_w1": True}, "transposed"),
    ],
)
def test_exercise_5_names_the_first_layer_that_disagrees(mistake, message):
    result = exercises.get(5).check(mlp_backward(**mistake))
    assert result.ok == (not mistake)
    assert message in result.message, result.message


def test_exercise_5_reports_an_error_in_the_learners_code():
    def backward(x, t, W1, b1, W2, b2):
        raise ValueError("matmul: shapes do not match")

    result = exercises.get(5).check(backward)
    assert not result.ok and "raised ValueError: matmul" in result.message and "textbook" in result.message


def test_exercise_5_w2_without_its_transpose():
    def backward(x, t, W1, b1, W2, b2):
        h = sigmoid(W1 @ x + b1)
        y = sigmoid(W2 @ h + b2)
        d2 = (y - t) * y * (1 - y)
        d1 = (W2 @ d2) * h * (1 - h)
        return {"W1": np.outer(d1, x), "b1": d1, "W2": np.outer(d2, h), "b2": d2}

    result = exercises.get(5).check(backward)  # the square textbook network runs, and disagrees
    assert "W2 where W2ᵀ belongs" in result.message


def naive(output):
    output.grad = 1.0

    def push(node):
        for parent, local in zip(node.parents, exercises.local_gradients(node)):
            parent.grad += local * node.grad
            push(parent)

    push(output)


def test_exercise_6_shows_why_the_naive_recursion_is_wrong_and_the_order_that_fixes_it():
    result = exercises.get(6).check(naive)
    assert not result.ok
    assert "∂c/∂a: expected 4, given 6" in result.message
    assert "the recursive push" in result.message
    assert "in reverse, c, b, a" in result.message


def test_exercise_6_learner_code_that_recurses_forever_is_an_error_not_a_hang():
    def forever(output):
        forever(output)

    result = exercises.get(6).check(forever)
    assert not result.ok and "RecursionError" in result.message


def test_the_engine_package_does_not_import_nn():
    code = "import sys, autograd_lite.exercises as e; e.get(5).check(e.solution(5).answer); print('nn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_rounded_answer_is_told_to_keep_more_digits():
    result = exercises.get(2).check({"w0": -0.2, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.2})
    assert not result.ok
    assert "∂f/∂w0: expected -0.196611933, given -0.2" in result.message
    assert "keep more digits" in result.message


def test_a_row_whose_code_raises_anything_is_reported_not_raised():
    def partials(out, x):
        return (3 * x**2 / (0 * x if isinstance(x, Value) else 1),)  # fine on floats, fails on Values

    result = exercises.get(4).check(cube(partials=partials))
    assert not result.ok and "register_op said" in result.message
