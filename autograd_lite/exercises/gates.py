"""Exercises 1 and 2: gradients by hand on the lectures' small circuits and on the sigmoid neuron."""

from __future__ import annotations

from collections.abc import Callable

from autograd_lite.exercises.core import Answer, Exercise, Part, Result, checked_mapping, combine, number_text
from autograd_lite.exercises.diagnose import judge_gradient
from autograd_lite.functional import gradients
from autograd_lite.value import Value

Graph = tuple[Value, dict[str, Value]]  # the output, and the nodes the learner gives gradients for, by name


def leaves(**values: float) -> dict[str, Value]:
    """Labelled input Values, in the order given."""
    return {name: Value(v, name) for name, v in values.items()}


def labelled(node: Value, label: str) -> Value:
    """node with its label set (explain and the messages call it by this name)."""
    node.label = label
    return node


def add_mul() -> Graph:
    """f = (x + y)·z at x = −2, y = 5, z = −4, with q = x + y."""
    v = leaves(x=-2.0, y=5.0, z=-4.0)
    q = labelled(v["x"] + v["y"], "q")
    return labelled(q * v["z"], "f"), v


def mixed_circuit() -> Graph:
    """f = ((x·y) + max(z, w))·2 at (3, −4, 2, −1)."""
    v = leaves(x=3.0, y=-4.0, z=2.0, w=-1.0)
    return labelled(((v["x"] * v["y"]) + v["z"].max(v["w"])) * 2, "f"), v


def fork() -> Graph:
    """f = a·b + a at a = 3, b = −4: a is used twice."""
    v = leaves(a=3.0, b=-4.0)
    return labelled(v["a"] * v["b"] + v["a"], "f"), v


SLIDES_NEURON = {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}


def fused_neuron() -> Graph:
    """f = σ(w0·x0 + w1·x1 + w2) with one σ gate, at the slides' point."""
    v = leaves(**SLIDES_NEURON)
    u = labelled(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"], "u")
    return labelled(u.sigmoid(), "f"), v


CHAIN = ["1+exp(-u)", "exp(-u)", "-u", "u"]


def expanded_neuron() -> Graph:
    """The same f as the chain of gates 1 / (1 + exp(−u)), every wire of the chain named."""
    v = leaves(**SLIDES_NEURON)
    u = labelled(v["w0"] * v["x0"] + v["w1"] * v["x1"] + v["w2"], "u")
    neg = labelled(-u, "-u")
    e = labelled(neg.exp(), "exp(-u)")
    d = labelled(1 + e, "1+exp(-u)")
    f = labelled(1 / d, "f")
    nodes = {"1+exp(-u)": d, "exp(-u)": e, "-u": neg, "u": u}
    return f, {**nodes, **v}


def gradient_part(name: str, task: str, build: Callable[[], Graph], worked: str) -> Part:
    """A part whose answer is {node name: ∂f/∂node}; each entry judged on its own, against a fresh graph."""
    keys = list(build()[1])

    def check(answer: Answer) -> Result:
        given = checked_mapping(answer, keys, "the gradients")
        if isinstance(given, str):
            return Result(False, f"not yet: {given}")
        output, nodes = build()
        verdicts = [judge_gradient(output, nodes[k], given[k], f"∂f/∂{wire(k)}") for k in keys]
        wrong = sum(not v.ok for v in verdicts)
        lines = [line for v in verdicts for line in v.lines]
        summary = "right." if not wrong else f"not yet: {wrong} of {len(keys)} gradients are not right."
        return combine(lines, not wrong, summary)

    def answer() -> dict[str, float]:
        output, nodes = build()
        return {k: g.data for k, g in zip(keys, gradients(output, list(nodes.values())))}

    return Part(name, task, check, answer, worked)


def _numbers(build: Callable[[], Graph]) -> str:
    output, nodes = build()
    grads = gradients(output, list(nodes.values()))
    return ", ".join(f"∂f/∂{wire(k)} = {number_text(g.data)}" for k, g in zip(nodes, grads))


def wire(name: str) -> str:
    """A node's name as it reads after ∂: in parentheses if it is an expression."""
    return name if name.isidentifier() else f"({name})"


def exercise_1() -> Exercise:
    """The four gates: add distributes, mul swaps, max routes, a fork adds."""
    parts = [
        gradient_part(
            "a",
            'f = (x + y)·z at x = −2, y = 5, z = −4. Give {"x": ∂f/∂x, "y": ∂f/∂y, "z": ∂f/∂z}.',
            add_mul,
            "q = x + y = 3 and f = q·z. The mul gate swaps: ∂f/∂z = q = 3, ∂f/∂q = z = −4. The add gate "
            f"distributes −4 to both x and y. So {_numbers(add_mul)}.",
        ),
        gradient_part(
            "b",
            "f = ((x·y) + max(z, w))·2 at x = 3, y = −4, z = 2, w = −1. Give a dict of ∂f/∂x, ∂f/∂y, ∂f/∂z, ∂f/∂w.",
            mixed_circuit,
            "The ×2 gate sends 2 back; the add gate distributes 2 to x·y and to max(z, w); max routes all 2 to "
            "z (2 > −1) and 0 to w; the mul gate swaps: x gets 2·y, y gets 2·x. So " + _numbers(mixed_circuit) + ".",
        ),
        gradient_part(
            "c",
            "f = a·b + a at a = 3, b = −4: a is used twice. Give a dict of ∂f/∂a, ∂f/∂b.",
            fork,
            "a reaches f along two paths: through a·b (local gradient b = −4) and straight into the add "
            "(local gradient 1). A fork adds: ∂f/∂a = −4 + 1 = −3, and ∂f/∂b = a = 3.",
        ),
    ]
    intro = (
        "Compute the gradients by hand, gate by gate, from the output back. Answers are right to 4 significant "
        "digits; a wrong one is told the expected number, the likely slip and explain's paths."
    )
    return Exercise(1, "the local gradients of the four gates", intro, {p.name: p for p in parts})


def exercise_2() -> Exercise:
    """The sigmoid neuron, with the σ gate's shortcut and through the chain of gates it stands for."""
    point = ", ".join(f"{k} = {number_text(v)}" for k, v in SLIDES_NEURON.items())
    parts = [
        gradient_part(
            "a",
            "f = σ(u), u = w0·x0 + w1·x1 + w2, at the slides' point. Use σ′(u) = σ(u)(1 − σ(u)) for the σ gate. "
            "Give a dict of ∂f/∂w0, ∂f/∂x0, ∂f/∂w1, ∂f/∂x1, ∂f/∂w2.",
            fused_neuron,
            "u = 1, σ(1) = 0.731059, σ′ = 0.731059 · 0.268941 = 0.196612. The adds distribute it, each mul swaps: "
            f"∂f/∂w0 = x0 · 0.196612 and so on. {_numbers(fused_neuron)}.",
        ),
        gradient_part(
            "b",
            "The same f written out as the gates of 1 / (1 + exp(−u)): −u, exp(−u), 1+exp(−u), then 1/x. Go back "
            'through the chain one gate at a time and give a dict of ∂f/∂"1+exp(-u)", ∂f/∂"exp(-u)", ∂f/∂"-u", '
            "∂f/∂\"u\", then ∂f/∂w0, ∂f/∂x0, ∂f/∂w1, ∂f/∂x1, ∂f/∂w2.",
            expanded_neuron,
            "1/x: −1/d² = −1/1.367879² = −0.534447; +1 passes it on; exp multiplies by exp(−1) = 0.367879: "
            "−0.196612; *−1 flips it: 0.196612 = σ′(1), the same number as the σ gate's shortcut. "
            f"{_numbers(expanded_neuron)}.",
        ),
    ]
    intro = f"The slides' neuron at {point}: the same gradients two ways, to 4 significant digits."
    return Exercise(2, "the sigmoid neuron", intro, {p.name: p for p in parts})
