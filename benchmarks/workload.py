"""micrograd's demo workload, built the same way in every engine that is installed.

MLP (ReLU hidden, linear out) on two moons, SVM hinge loss mean(relu(1 - y·score))
plus 1e-4·Σp², one full-batch SGD step with micrograd's learning-rate schedule.
Every engine starts from the same flat weight list in micrograd's order (layer by
layer, neuron by neuron, weights then bias), so their losses can be compared step
by step. micrograd and torch are optional: their builders raise ImportError.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

import autograd_lite as al
import nn

if TYPE_CHECKING:
    import torch  # a benchmark-only dependency: imported where a torch engine runs

ALPHA = 1e-4  # L2 strength of micrograd's demo


def make_moons(n: int = 100, noise: float = 0.1, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (the usual make_moons formula), labels ±1, shuffled."""
    rng = np.random.default_rng(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    outer = np.linspace(0.0, np.pi, n_outer)
    inner = np.linspace(0.0, np.pi, n_inner)
    x = np.concatenate([np.cos(outer), 1.0 - np.cos(inner)])
    y = np.concatenate([np.sin(outer), 1.0 - np.sin(inner) - 0.5])
    X = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([-np.ones(n_outer), np.ones(n_inner)])
    order = rng.permutation(n)
    return X[order], labels[order]


def learning_rate(step: int) -> float:
    """micrograd demo's schedule: 1.0 decaying linearly to 0.1 over 100 steps."""
    return 1.0 - 0.9 * step / 100


def initial_weights(sizes: list[int], seed: int = 1337) -> list[float]:
    """Flat initial weights in micrograd's order: micrograd's own init when installed, the same scheme otherwise."""
    try:
        from micrograd.nn import MLP
    except ImportError:
        rng = np.random.default_rng(seed)
        flat: list[float] = []
        for nin, nout in itertools.pairwise(sizes):
            for _ in range(nout):
                flat.extend(rng.uniform(-1.0, 1.0, nin).tolist())
                flat.append(0.0)
        return flat
    state = random.getstate()
    random.seed(seed)
    try:
        model = MLP(sizes[0], sizes[1:])
    finally:
        random.setstate(state)
    return [float(p.data) for p in model.parameters()]


# --- micrograd 0.1.0 -----------------------------------------------------------


def micrograd_setup(sizes: list[int], weights: list[float]) -> Any:  # Any: micrograd ships no types
    """micrograd's MLP with the given weights."""
    from micrograd.nn import MLP

    model = MLP(sizes[0], sizes[1:])
    for p, w in zip(model.parameters(), weights, strict=True):
        p.data = w
    return model


def micrograd_step(model: Any, X: np.ndarray,  # Any: micrograd ships no types
                    y: np.ndarray, step: int) -> float:
    """One full-batch SGD step, written as in micrograd's demo notebook; returns the loss before the step."""
    from micrograd.engine import Value

    inputs = [list(map(Value, row)) for row in X.tolist()]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    lr = learning_rate(step)
    for p in model.parameters():
        p.data -= lr * p.grad
    return total.data


# --- autograd_lite, scalar engine -------------------------------------------------


def ours_setup(sizes: list[int], weights: list[float]) -> nn.MLP:
    """autograd_lite's `nn.MLP` (ReLU hidden, linear out) with the given weights, in micrograd's order."""
    model = nn.MLP(sizes[0], sizes[1:], activation="relu", output_activation="linear", seed=0)
    model.load_state_dict(list(weights))
    return model


def ours_loss(model: nn.MLP, X: np.ndarray, y: np.ndarray) -> al.Value:
    """The demo's total loss as one scalar graph."""
    scores = [model(row) for row in X.tolist()]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y.tolist(), scores)]
    data_loss = al.sum_values(losses) * (1.0 / len(losses))
    params = model.parameters()  # per call, like micrograd's loss() in its demo
    return data_loss + ALPHA * al.dot(params, params)


def sgd(params: list[al.Value], lr: float) -> None:
    """p.data -= lr·p.grad, then zero the gradient for the next step."""
    for p in params:
        p.data -= lr * p.grad
        p.grad = 0.0


def ours_step(model: nn.MLP, X: np.ndarray, y: np.ndarray, step: int) -> float:
    """One full-batch SGD step on the scalar engine; returns the loss before the step."""
    total = ours_loss(model, X, y)
    total.backward()
    sgd(model.parameters(), learning_rate(step))
    return total.data


# --- autograd_lite, compiled -------------------------------------------------------


def compiled_setup(sizes: list[int], weights: list[float]) -> tuple[list[al.Value], al.CompiledGraph]:
    """The parameters plus the per-sample loss compiled once: hinge_b + 1e-4·Σp² (its batch mean is the demo loss)."""
    model = ours_setup(sizes, weights)
    params = model.parameters()  # once, as an optimizer holds them

    def sample_loss(*xs_and_y: al.Value) -> al.Value:
        *xs, yi = xs_and_y
        hinge = (1 + -yi * model(list(xs))).relu()
        return hinge + ALPHA * al.dot(params, params)

    placeholders = [al.Value(0.0, f"x{i}") for i in range(sizes[0])] + [al.Value(1.0, "y")]
    return params, al.compile_graph(sample_loss, placeholders, leaves=params)


def compiled_step(setup: tuple[list[al.Value], al.CompiledGraph], X: np.ndarray, y: np.ndarray, step: int) -> float:
    """One full-batch SGD step on the compiled path; returns the loss before the step."""
    params, graph = setup
    losses = graph.forward(*X.T, y)
    graph.backward(weights=1.0 / len(y))
    sgd(params, learning_rate(step))
    return float(np.sum(losses) / len(y))


# --- PyTorch -----------------------------------------------------------------------


def torch_setup(sizes: list[int], weights: list[float]) -> torch.nn.Sequential:
    """torch.nn.Sequential of Linear/ReLU in float64 with the given weights (one thread)."""
    import torch

    torch.set_num_threads(1)
    layers: list[torch.nn.Module] = []
    for i, (nin, nout) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(nin, nout, dtype=torch.float64))
        if i != len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    flat = iter(weights)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, torch.nn.Linear):
                for k in range(layer.out_features):
                    row = [next(flat) for _ in range(layer.in_features)]
                    layer.weight[k] = torch.tensor(row, dtype=torch.float64)
                    layer.bias[k] = next(flat)
    return model


def torch_step(model: torch.nn.Module, X: torch.Tensor, y: torch.Tensor, step: int) -> float:
    """One full-batch SGD step in PyTorch (X, y float64 tensors); returns the loss before the step."""
    import torch

    scores = model(X).squeeze(1)
    data_loss = torch.relu(1 - y * scores).mean()
    reg_loss = ALPHA * sum((p * p).sum() for p in model.parameters())
    total = data_loss + reg_loss
    model.zero_grad()
    total.backward()
    lr = learning_rate(step)
    with torch.no_grad():
        for p in model.parameters():
            if p.grad is not None:
                p.sub_(lr * p.grad)  # p -= lr·grad, in place
    return total.item()


def torch_data(X: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch as float64 tensors."""
    import torch

    return torch.tensor(X, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)


# --- the engines side by side ----------------------------------------------------------

Engine = tuple[Callable[[list[int], list[float]], object], Callable[..., float]]  # (set-up, step)

ENGINES: dict[str, Engine] = {
    "micrograd": (micrograd_setup, micrograd_step),
    "autograd_lite": (ours_setup, ours_step),
    "compiled": (compiled_setup, compiled_step),
    "torch": (torch_setup, torch_step),
}


def available(name: str) -> str | None:
    """None when engine `name` can run here, else why not."""
    try:
        if name == "micrograd":
            import micrograd.nn  # noqa: F401
        elif name == "torch":
            import torch  # noqa: F401
        elif name == "compiled" and not hasattr(al, "compile_graph"):
            return "autograd_lite.compile_graph is not available"
    except ImportError as exc:
        return f"{name} is not installed ({exc})"
    return None


def stepper(name: str, sizes: list[int], weights: list[float], X: np.ndarray, y: np.ndarray) -> Callable[[int], float]:
    """A function doing step k of engine `name` from the given weights on (X, y) (the schedule restarts every 100)."""
    setup, step = ENGINES[name]
    state = setup(sizes, weights)
    data = torch_data(X, y) if name == "torch" else (X, y)
    return lambda k: step(state, *data, k % 100)


def loss_traces(names: list[str], sizes: list[int], X: np.ndarray, y: np.ndarray, steps: int) -> dict[str, list[float]]:
    """Per-step losses of each engine, all from the same initial weights."""
    weights = initial_weights(sizes)
    traces = {}
    for name in names:
        run = stepper(name, sizes, weights, X, y)
        traces[name] = [run(k) for k in range(steps)]
    return traces


def max_disagreement(traces: dict[str, list[float]], reference: str) -> dict[str, float]:
    """Largest per-step |loss - reference loss| of each other engine."""
    ref = traces[reference]
    return {
        name: max(abs(a - b) for a, b in zip(trace, ref, strict=True))
        for name, trace in traces.items()
        if name != reference
    }


def fmt_time(seconds: float) -> str:
    """Seconds in the unit that reads best (the benchmark tables' format)."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.0f} µs"
