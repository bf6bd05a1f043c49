"""Exercise 5: backward for a 2-layer sigmoid MLP by hand in numpy, in the lectures' vector form; the check compares
it with the engine on random shapes and names the first layer (from the output back) that disagrees."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from autograd_lite.exercises.core import Answer, Exercise, Part, Result, call_learner, checked_mapping, is_blank
from autograd_lite.exercises.network import INPUTS, TARGETS, WEIGHTS
from autograd_lite.functional import gradients
from autograd_lite.value import Value, dot, sum_values

Arrays = dict[str, np.ndarray]
KEYS = ["W1", "b1", "W2", "b2"]
ARGUMENTS = ("x", "t", "W1", "b1", "W2", "b2")


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ on an array."""
    return 1.0 / (1.0 + np.exp(-z))


def textbook_case() -> Arrays:
    """Exercise 3's network as arrays."""
    w = list(WEIGHTS.values())
    return {
        "x": np.array(INPUTS), "t": np.array(TARGETS),
        "W1": np.array([w[0:2], w[2:4]]), "b1": np.array([0.35, 0.35]),
        "W2": np.array([w[4:6], w[6:8]]), "b2": np.array([0.60, 0.60]),
    }


def random_case(rng: np.random.Generator) -> Arrays:
    """A network whose three sizes all differ, so a missing transpose cannot go unnoticed."""
    n_in, n_hidden, n_out = (int(k) for k in rng.choice(np.arange(1, 6), 3, replace=False))
    return {
        "x": rng.normal(size=n_in), "t": rng.uniform(size=n_out),
        "W1": rng.normal(size=(n_hidden, n_in)), "b1": rng.normal(scale=0.5, size=n_hidden),
        "W2": rng.normal(size=(n_out, n_hidden)), "b2": rng.normal(scale=0.5, size=n_out),
    }


def cases() -> list[tuple[str, Arrays]]:
    """The textbook network, then four random ones (a fixed seed, so every run checks the same numbers)."""
    rng = np.random.default_rng(22)
    found = [("the textbook 2-2-2 network of exercise 3", textbook_case())]
    for k in range(4):
        case = random_case(rng)
        found.append((f"random network {k + 1}: {shapes(case)}", case))
    return found


def shapes(case: Arrays) -> str:
    """The sizes of a case, as the message names them."""
    n_in, n_out = case["x"].size, case["b2"].size
    return f"{n_in} input{'s' * (n_in > 1)}, {case['b1'].size} hidden, {n_out} output{'s' * (n_out > 1)}"


def engine_gradients(case: Arrays) -> Arrays:
    """∂E/∂W1, ∂E/∂b1, ∂E/∂W2, ∂E/∂b2 by the engine, on a graph of Values built from the arrays."""
    params = {k: np.vectorize(Value, otypes=[object])(case[k]) for k in KEYS}
    x = [Value(v, requires_grad=False) for v in case["x"]]
    hidden = [dot(list(row), x, b).sigmoid() for row, b in zip(params["W1"], params["b1"])]
    outputs = [dot(list(row), hidden, b).sigmoid() for row, b in zip(params["W2"], params["b2"])]
    error = sum_values(0.5 * (y - t) ** 2 for y, t in zip(outputs, case["t"]))
    result = {}
    for k in KEYS:
        flat = list(params[k].ravel())
        result[k] = np.array([g.data for g in gradients(error, flat)]).reshape(params[k].shape)
    return result


def reference_backward(x: np.ndarray, t: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray,
                       b2: np.ndarray) -> dict[str, np.ndarray]:
    """The vector form: δ2 = (y − t) ⊙ σ′(z2), δ1 = (W2ᵀ δ2) ⊙ σ′(z1), ∂E/∂W = δ · (layer input)ᵀ, ∂E/∂b = δ."""
    h = sigmoid(W1 @ x + b1)
    y = sigmoid(W2 @ h + b2)
    delta2 = (y - t) * y * (1 - y)
    delta1 = (W2.T @ delta2) * h * (1 - h)
    return {"W1": np.outer(delta1, x), "b1": delta1, "W2": np.outer(delta2, h), "b2": delta2}


def slips(case: Arrays, layer: int) -> list[tuple[Arrays, str]]:
    """Wrong gradients of one layer that learners often write, each with what it means."""
    x, t, W1, b1, W2, b2 = (case[k] for k in ARGUMENTS)
    h = sigmoid(W1 @ x + b1)
    y = sigmoid(W2 @ h + b2)
    delta2 = (y - t) * y * (1 - y)
    if layer == 2:
        bare = y - t
        return [({"W2": np.outer(bare, h), "b2": bare},
                 "the Hadamard product with σ′(z2) = y ⊙ (1 − y) is missing: δ2 = (y − t) ⊙ σ′(z2)")]
    found = []
    for d, meaning in (
        (W2.T @ delta2, "the Hadamard product with σ′(z1) = h ⊙ (1 − h) is missing: δ1 = (W2ᵀ δ2) ⊙ σ′(z1)"),
        ((W2.T @ delta2) * h, "σ′(z1) is h ⊙ (1 − h), not h"),
        ((W2.T @ (y - t)) * h * (1 - h), "δ1 is built from y − t instead of δ2 = (y − t) ⊙ σ′(z2)"),
    ):
        found.append(({"W1": np.outer(d, x), "b1": d}, meaning))
    if W2.shape[0] == W2.shape[1]:
        d = (W2 @ delta2) * h * (1 - h)
        found.append(({"W1": np.outer(d, x), "b1": d}, "W2 where W2ᵀ belongs: the error goes back along the "
                      "weights it came through, δ1 = (W2ᵀ δ2) ⊙ σ′(z1)"))
    return found


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Two arrays of the same shape agree to the checks' tolerance."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-10))


def judge_array(key: str, given: object, expected: np.ndarray, case: Arrays, layer: int) -> str | None:
    """What is wrong with one returned array, or None if it agrees with the engine."""
    if is_blank(given):
        return f"∂E/∂{key} is still blank (None or ...)"
    try:
        array = np.asarray(given, dtype=float)
    except (TypeError, ValueError) as error:
        return f"∂E/∂{key} is not an array of numbers ({error})"
    if array.shape != expected.shape:
        hint = " (transposed: ∂E/∂W has W's shape, δ times the layer's input transposed, np.outer(δ, input))" \
            if array.shape == expected.T.shape else ""
        return f"∂E/∂{key} has shape {array.shape}, {key} has shape {expected.shape}{hint}"
    if same(array, expected):
        return None
    where = np.unravel_index(int(np.argmax(np.abs(array - expected))), array.shape)
    index = ", ".join(map(str, where))
    line = f"∂E/∂{key}[{index}] is {array[where]:.9g} in yours, {expected[where]:.9g} by the engine"
    if same(-array, expected):
        return f"{line}; likely mistake: the sign is flipped: the error's gradient at the output is y − t, not t − y"
    for k in (2.0, 0.5):
        if same(array, k * expected):
            return f"{line}; likely mistake: a factor of 2: the ½ in E = ½‖y − t‖² cancels the 2 of the square"
    for alternative, meaning in slips(case, layer):
        if key in alternative and same(array, alternative[key]):
            return f"{line}; likely mistake: {meaning}"
    if array.shape[::-1] == array.shape and same(array.T, expected):
        return f"{line}; likely mistake: transposed: ∂E/∂W = δ · inputᵀ, np.outer(δ, input)"
    return line


def judge_case(name: str, case: Arrays, backward: Callable[..., object]) -> str | None:
    """The first disagreement on one network, layer 2 (the output layer) first; None if all agree."""
    copies = [case[k].copy() for k in ARGUMENTS]  # the learner's code may change its arguments
    returned, error = call_learner(backward, *copies)
    if error:
        hint = " (check the transposes: W2ᵀ δ2 has the hidden layer's size)" if "shape" in error else ""
        return f"on {name}, your backward {error}{hint}"
    grads = checked_mapping(returned, KEYS, "backward's result")
    if isinstance(grads, str):
        return f"on {name}, {grads}"
    expected = engine_gradients(case)
    agreed: list[int] = []
    for layer in (2, 1):
        for key in (f"W{layer}", f"b{layer}"):
            problem = judge_array(key, grads[key], expected[key], case, layer)
            if problem:
                before = "layer 2 (the output layer) agrees; " if agreed else ""
                return f"on {name}: {before}layer {layer} disagrees: {problem}"
        agreed.append(layer)
    return None


def check_backward(answer: Answer) -> Result:
    """Run the learner's backward on every case; report the first layer that disagrees with the engine."""
    if is_blank(answer):
        return Result(False, "not yet: still blank: give your function backward(x, t, W1, b1, W2, b2)")
    if not callable(answer):
        return Result(False, f"not yet: give a function backward(x, t, W1, b1, W2, b2), not a {type(answer).__name__}")
    all_cases = cases()
    for name, case in all_cases:
        problem = judge_case(name, case, answer)
        if problem:
            return Result(False, f"not yet: {problem}")
    return Result(True, f"right: both layers agree with the engine on all {len(all_cases)} networks "
                  f"({'; '.join(name for name, _ in all_cases)}).")


def exercise_5() -> Exercise:
    """backward of a 2-layer MLP in numpy, in the vector form."""
    intro = (
        "The network: h = σ(W1 x + b1), y = σ(W2 h + b2), E = ½‖y − t‖², one sample x (a 1-D array); W1 has shape "
        "(hidden, inputs), W2 (outputs, hidden), as torch's Linear.weight."
    )
    task = (
        "Write backward(x, t, W1, b1, W2, b2) returning {\"W1\": ∂E/∂W1, \"b1\": ∂E/∂b1, \"W2\": ∂E/∂W2, "
        "\"b2\": ∂E/∂b2} (arrays of the parameters' shapes), in the vector form: δ2 = (y − t) ⊙ σ′(z2), "
        "δ1 = (W2ᵀ δ2) ⊙ σ′(z1), ∂E/∂W = δ · (the layer's input)ᵀ, ∂E/∂b = δ."
    )
    worked = (
        "h = σ(W1 @ x + b1); y = σ(W2 @ h + b2); δ2 = (y − t) * y * (1 − y); δ1 = (W2.T @ δ2) * h * (1 − h); "
        "then np.outer(δ2, h), δ2, np.outer(δ1, x), δ1. On the textbook network ∂E/∂W2[0, 0] is exercise 3's "
        "∂E/∂w5 and ∂E/∂W1[0, 0] its ∂E/∂w1."
    )
    part = Part("a", task, check_backward, lambda: reference_backward, worked)
    return Exercise(5, "backward for a 2-layer MLP in numpy", intro, {"a": part})

