"""Exercise 3: the textbook's 2-2-2 sigmoid network by hand: ∂E/∂w5, ∂E/∂w1 (two paths), one gradient step."""

from __future__ import annotations

from autograd_lite.exercises.core import (
    Answer,
    Exercise,
    Part,
    Result,
    checked_mapping,
    combine,
    number_text,
    real_number,
)
from autograd_lite.exercises.diagnose import close, judge_gradient
from autograd_lite.exercises.gates import labelled
from autograd_lite.functional import gradients
from autograd_lite.value import Value, dot

WEIGHTS = {"w1": 0.15, "w2": 0.20, "w3": 0.25, "w4": 0.30, "w5": 0.40, "w6": 0.45, "w7": 0.50, "w8": 0.55}
BIASES = {"b1": 0.35, "b2": 0.60}
INPUTS = (0.05, 0.10)
TARGETS = (0.01, 0.99)
LEARNING_RATE = 0.5


def textbook_network() -> tuple[Value, dict[str, Value]]:
    """E = ½(t1 − out_o1)² + ½(t2 − out_o2)² of the 2-2-2 network, and its weights by name (every node labelled)."""
    w = {name: Value(v, name) for name, v in WEIGHTS.items()}
    b1, b2 = (Value(v, name) for name, v in BIASES.items())
    i1, i2 = (Value(v, f"i{k}", requires_grad=False) for k, v in enumerate(INPUTS, 1))

    def neuron(name: str, weights: tuple[str, str], inputs: tuple[Value, Value], bias: Value) -> Value:
        net = labelled(dot([w[weights[0]], w[weights[1]]], inputs, bias), f"net_{name}")
        return labelled(net.sigmoid(), f"out_{name}")

    h1, h2 = neuron("h1", ("w1", "w2"), (i1, i2), b1), neuron("h2", ("w3", "w4"), (i1, i2), b1)
    o1, o2 = neuron("o1", ("w5", "w6"), (h1, h2), b2), neuron("o2", ("w7", "w8"), (h1, h2), b2)
    errors = []
    for k, (out, target) in enumerate(zip((o1, o2), TARGETS), 1):
        # ½(t − out)² gate by gate, each gate named so explain's paths read like the textbook's
        negated = labelled(-out, f"-out_o{k}")
        difference = labelled(target + negated, f"t{k}-out_o{k}")
        squared = labelled(difference**2, f"(t{k}-out_o{k})^2")
        errors.append(labelled(0.5 * squared, f"E_o{k}"))
    return labelled(errors[0] + errors[1], "E"), w


def gradient_of(name: str) -> float:
    """∂E/∂name by the engine."""
    error, w = textbook_network()
    return gradients(error, [w[name]])[0].data


def weight_part(part: str, name: str, task: str, worked: str) -> Part:
    """A part whose answer is one number, ∂E/∂name."""

    def check(answer: Answer) -> Result:
        error, w = textbook_network()
        verdict = judge_gradient(error, w[name], answer, f"∂E/∂{name}")
        return combine(list(verdict.lines), verdict.ok, "right." if verdict.ok else "not yet:")

    return Part(part, task, check, lambda: gradient_of(name), worked)


STEPPED = ("w5", "w1")


def judge_step(name: str, given: object) -> list[str]:
    """Lines judging the learner's new value of weight `name` after one step; the first starts with ✓ or ✗."""
    old, g = WEIGHTS[name], gradient_of(name)
    expected = old - LEARNING_RATE * g
    number = real_number(given)
    if isinstance(number, str):
        return [f"✗ new {name} {number}"]
    if close(number, expected):
        return [f"✓ new {name} = {number_text(number)}"]
    formula = f"{name} − η·∂E/∂{name} = {number_text(old)} − {LEARNING_RATE}·{number_text(g)} = {number_text(expected)}"
    slips = {
        old + LEARNING_RATE * g: "you stepped uphill (w + η·∂E/∂w): gradient descent subtracts the gradient",
        old - g: "the step is twice too long: it left out η = 0.5, which halves the gradient",
        old - LEARNING_RATE * g / 2: "the step is half too short: η·∂E/∂w, with η = 0.5",
        old: "that is the weight before the step",
        g: "that is the gradient, not the new weight",
        -LEARNING_RATE * g: "that is the change η·∂E/∂w with its sign, not the new weight: add it to the old one",
    }
    hints = [text for candidate, text in slips.items() if close(number, candidate)]
    lines = [f"✗ new {name}: expected {number_text(expected)}, given {number_text(number)}"]
    lines += [f"  likely mistake: {h}" for h in hints[:1]] or ["  not one of the usual slips"]
    return [*lines, f"  w ← w − η·∂E/∂w: {formula}"]


def step_part() -> Part:
    """Part c: the new w5 and w1 after one step of gradient descent."""

    def check(answer: Answer) -> Result:
        given = checked_mapping(answer, list(STEPPED), "the new weights")
        if isinstance(given, str):
            return Result(False, f"not yet: {given}")
        lines = [line for name in STEPPED for line in judge_step(name, given[name])]
        wrong = sum(line.startswith("✗") for line in lines)
        return combine(lines, not wrong, "right." if not wrong else f"not yet: {wrong} of 2 new weights are not right.")

    def answer() -> dict[str, float]:
        return {name: WEIGHTS[name] - LEARNING_RATE * gradient_of(name) for name in STEPPED}

    task = (
        f"One step of gradient descent with η = {LEARNING_RATE}, every gradient from the same forward pass: "
        'give {"w5": new w5, "w1": new w1}.'
    )
    worked = (
        f"w ← w − η·∂E/∂w: w5 ← 0.40 − 0.5·{number_text(gradient_of('w5'))} = {number_text(answer()['w5'])}, "
        f"w1 ← 0.15 − 0.5·{number_text(gradient_of('w1'))} = {number_text(answer()['w1'])}."
    )
    return Part("c", task, check, answer, worked)


def exercise_3() -> Exercise:
    """The textbook's 2-2-2 worked example."""
    g5, g1 = gradient_of("w5"), gradient_of("w1")
    intro = (
        "The textbook network: inputs i1 = 0.05, i2 = 0.10; hidden sigmoid neurons h1 (w1, w2), h2 (w3, w4), bias "
        "b1 = 0.35; sigmoid outputs o1 (w5, w6), o2 (w7, w8), bias b2 = 0.60; targets 0.01, 0.99; "
        "E = ½(t1 − out_o1)² + ½(t2 − out_o2)². Weights: "
        + ", ".join(f"{k} = {v}" for k, v in WEIGHTS.items()) + ". Answers to 4 significant digits."
    )
    parts = [
        weight_part(
            "a", "w5", "Give ∂E/∂w5 (one number).",
            "∂E/∂w5 = ∂E/∂out_o1 · ∂out_o1/∂net_o1 · ∂net_o1/∂w5 = (out_o1 − t1) · out_o1(1 − out_o1) · out_h1 "
            f"= 0.74136507 · 0.186815602 · 0.593269992 = {number_text(g5)}.",
        ),
        weight_part(
            "b", "w1", "Give ∂E/∂w1 (one number): w1 reaches E through h1, and h1 feeds both outputs.",
            "Two paths, through o1 and through o2, summed: ∂E/∂out_h1 = δ_o1·w5 + δ_o2·w7 = 0.036350306, then "
            f"· out_h1(1 − out_h1) · i1 = 0.036350306 · 0.241300709 · 0.05 = {number_text(g1)}.",
        ),
        step_part(),
    ]
    return Exercise(3, "the 2-2-2 worked example by hand", intro, {p.name: p for p in parts})
