"""Exercise 6: why backward visits nodes in reverse topological order. A naive recursive backward, which pushes a
node's gradient down as soon as some of it arrives, counts gradient twice on `a = 1; b = a + a; c = b + b`."""

from __future__ import annotations

from collections.abc import Callable

from autograd_lite.backward import topological_order
from autograd_lite.exercises.core import Answer, Exercise, Part, Result, call_learner, is_blank, number_text
from autograd_lite.exercises.diagnose import close
from autograd_lite.functional import gradients
from autograd_lite.rules import RULES
from autograd_lite.value import Value

Graph = tuple[Value, list[Value]]  # the output and the labelled nodes whose gradients are compared


def local_gradients(node: Value) -> tuple[float, ...]:
    """∂node/∂parent for each of node's parents, from the rule table (() for a leaf)."""
    if not node.parents:
        return ()
    return tuple(float(d) for d in RULES[node.op].partials(node.data, *[p.data for p in node.parents]))


def doubling() -> Graph:
    """a = 1; b = a + a; c = b + b: four paths from a to c, ∂c/∂a = 4."""
    a = Value(1.0, "a")
    b = a + a
    b.label = "b"
    c = b + b
    c.label = "c"
    return c, [c, b, a]


def deeper() -> Graph:
    """a = 1; b = a + a; c = b·b; d = c + b: shared nodes at every level."""
    a = Value(1.0, "a")
    b = a + a
    b.label = "b"
    c = b * b
    c.label = "c"
    d = c + b
    d.label = "d"
    return d, [d, c, b, a]


def mixed() -> Graph:
    """The slides' ((x·y) + max(z, w))·2 at (3, −4, 2, −1), with a used twice: x·x·y."""
    x, y, z, w = Value(3.0, "x"), Value(-4.0, "y"), Value(2.0, "z"), Value(-1.0, "w")
    q = x * y
    q.label = "q"
    f = (q * x + z.max(w)) * 2
    f.label = "f"
    return f, [f, q, x, y, z, w]


GRAPHS: list[tuple[str, Callable[[], Graph]]] = [
    ("a = 1; b = a + a; c = b + b", doubling),
    ("a = 1; b = a + a; c = b·b; d = c + b", deeper),
    ("f = (x·y·x + max(z, w))·2 at (3, −4, 2, −1)", mixed),
]


def naive_backward(output: Value) -> None:
    """The recursive backward learners write first: each node pushes its gradient as soon as any arrives."""
    output.grad = 1.0

    def push(node: Value) -> None:
        for parent, local in zip(node.parents, local_gradients(node)):
            parent.grad += local * node.grad
            push(parent)

    push(output)


def ordered_backward(output: Value) -> None:
    """Each node pushes its gradient once, after all of it has arrived: in reverse topological order."""
    output.grad = 1.0
    for node in reversed(topological_order(output)):
        for parent, local in zip(node.parents, local_gradients(node)):
            parent.grad += local * node.grad


def grads_after(backward: Callable[[Value], object], build: Callable[[], Graph]) -> tuple[list[float], str | None]:
    """The labelled nodes' .grad after `backward` runs on a fresh graph (or the error it raised)."""
    output, nodes = build()
    _, error = call_learner(backward, output)
    return [n.grad for n in nodes], error


def explain_order(build: Callable[[], Graph]) -> str:
    """The order that fixes a naive backward, for the graph `build` makes."""
    output, _ = build()
    order = [n.label or n.op for n in topological_order(output) if n.parents or n.requires_grad]
    return (
        f"A node may pass its gradient on only once all of it has arrived, from every node that uses it. "
        f"topological_order({output.label}) lists each node after its inputs: {', '.join(order)}; backward walks "
        f"it in reverse, {', '.join(reversed(order))}, so each node pushes once, with its whole gradient."
    )


def check_order(answer: Answer) -> Result:
    """Run the learner's backward on fresh graphs and compare every labelled node's .grad with the engine's."""
    if is_blank(answer):
        return Result(False, "not yet: still blank: give your function backward(output) that fills every .grad")
    if not callable(answer):
        return Result(False, f"not yet: give a function backward(output), not a {type(answer).__name__}")
    for text, build in GRAPHS:
        given, error = grads_after(answer, build)
        if error:
            return Result(False, f"not yet: on {text}, your backward {error}")
        output, nodes = build()
        expected = [g.data for g in gradients(output, nodes)]
        expected[0] = 1.0  # the output's own gradient, which `gradients` does not list as an input
        wrong = [(n, g, e) for n, g, e in zip(nodes, given, expected) if not close(g, e)]
        if wrong:
            return Result(False, "not yet: " + describe_wrong(text, build, output, wrong))
    return Result(True, f"right: your backward gives the engine's gradients on {len(GRAPHS)} graphs, "
                  "including ∂c/∂a = 4 on a = 1; b = a + a; c = b + b.")


Wrong = list[tuple[Value, float, float]]  # (node, given gradient, expected gradient)


def describe_wrong(text: str, build: Callable[[], Graph], output: Value, wrong: Wrong) -> str:
    """Which gradients are wrong on one graph, why a naive recursion gets them, and the order that fixes it."""
    naive, _ = grads_after(naive_backward, build)
    _, nodes = build()
    naive_by_label = {n.label: g for n, g in zip(nodes, naive)}
    lines = [f"on {text}:"]
    for node, given, expected in wrong:
        name = node.label
        lines.append(f"  ✗ ∂{output.label}/∂{name}: expected {number_text(expected)}, given {number_text(given)}")
    is_naive = all(close(given, naive_by_label[node.label]) for node, given, _ in wrong)
    if is_naive:
        lines.append(
            "  likely mistake: the recursive push. A node that is used more than once gets its gradient in "
            "instalments, and the recursion passes each instalment down as it arrives, then later passes the "
            "total down again: the early instalments are counted twice (on c = b + b, b gets 1 from c and "
            "pushes it to a, then gets another 1 and pushes its total 2 to a once more)."
        )
    elif all(g == 0 for _, g, _ in wrong):
        lines.append(f"  likely mistake: nothing reached these nodes: set {output.label}.grad = 1 and push from it")
    lines.append("  " + explain_order(build))
    return "\n".join(lines)


def exercise_6() -> Exercise:
    """Why the topological order."""
    intro = (
        "exercises.local_gradients(node) gives ∂node/∂parent for each of node.parents. Write your own backward: "
        "first the obvious recursion (set output.grad = 1, then for each parent: parent.grad += local · "
        "node.grad, and recurse into the parent). Check it, read why ∂c/∂a is wrong on a = 1; b = a + a; "
        "c = b + b, and fix it."
    )
    task = "Give backward(output): a function that sets .grad of every node of output's graph (grads start at 0)."
    worked = (
        "output.grad = 1; for node in reversed(topological_order(output)): for parent, local in "
        "zip(node.parents, local_gradients(node)): parent.grad += local * node.grad. On c = b + b it visits c, "
        "then b (with its whole gradient 2), then a: ∂c/∂a = 2·1 + 2·1 = 4. The naive recursion gives "
        f"{number_text(grads_after(naive_backward, doubling)[0][2])}."
    )
    part = Part("a", task, check_order, lambda: ordered_backward, worked)
    return Exercise(6, "why the topological order", intro, {"a": part})
