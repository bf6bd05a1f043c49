"""The bridges to PyTorch and numpy: MLPs and compiled graphs move to torch with the same numbers, and back."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import autograd_lite as al
import nn
from autograd_lite import RULES, Value, compile_graph

try:
    import torch
except ImportError:  # the bridge is an optional extra
    torch = None  # type: ignore[assignment]

needs_torch = pytest.mark.skipif(torch is None, reason='torch is not installed (pip install "autograd-lite[torch]")')
TOL = 1e-12
ACTIVATIONS = list(nn.ACTIVATIONS)
GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guides" / "torch.md"


def assert_close(ours, theirs, what=""):
    np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float), rtol=TOL, atol=TOL,
                               err_msg=what)


def random_inputs(n: int, nin: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(n, nin))


# --- without torch ---------------------------------------------------------------------------


def test_a_missing_torch_is_an_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if it were not installed
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ImportError, match=re.escape("autograd-lite[torch]")):
        model.to_torch()
    with pytest.raises(ImportError, match=re.escape("autograd-lite[torch]")):
        nn.MLP.from_torch(object())
    monkeypatch.delitem(sys.modules, "autograd_lite.compiled.torch_module", raising=False)
    graph = compile_graph(lambda x: x.tanh(), [Value(0.0)])
    with pytest.raises(ImportError, match=re.escape("autograd-lite[torch]")):
        graph.to_torch()
    assert model.to_numpy()  # the numpy bridge needs no torch


def test_the_core_does_not_import_torch():
    code = "import autograd_lite, nn, sys; nn.MLP(2, [2, 1]).to_numpy(); print('torch' in sys.modules)"
    import subprocess

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "False"


# --- MLP ↔ numpy -----------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output_activation", ACTIVATIONS)
def test_mlp_numpy_round_trip(activation, output_activation):
    model = nn.MLP(3, [4, 5, 2], activation, output_activation, seed=1)
    arrays = model.to_numpy()
    assert [w.shape for w, _ in arrays] == [(4, 3), (5, 4), (2, 5)]
    assert arrays[0][0][1, 0] == model.state_dict()["layers.0.neurons.1.w.0"]
    assert arrays[2][1][1] == model.state_dict()["layers.2.neurons.1.b"]
    back = nn.MLP.from_numpy(arrays, activation, output_activation)
    assert back.config() == model.config()
    assert back.state_dict() == model.state_dict()
    X = random_inputs(9, 3)
    assert np.array_equal(nn.predict(back, X), nn.predict(model, X))


def test_numpy_without_biases():
    model = nn.MLP(2, [3, 1], bias=False, seed=2)
    arrays = model.to_numpy()
    assert all(b is None for _, b in arrays)
    back = nn.MLP.from_numpy(arrays, model.activation)
    assert not back.bias and back.state_dict() == model.state_dict()


def test_numpy_arrays_from_elsewhere_compute_what_numpy_computes():
    rng = np.random.default_rng(3)
    arrays = [(rng.normal(size=(4, 2)), rng.normal(size=4)), (rng.normal(size=(1, 4)), rng.normal(size=1))]
    model = nn.MLP.from_numpy(arrays, activation="tanh")
    X = random_inputs(6, 2)
    expected = (np.tanh(X @ arrays[0][0].T + arrays[0][1]) @ arrays[1][0].T + arrays[1][1])[:, 0]
    assert_close(nn.predict(model, X), expected)


GOOD = np.ones((3, 2)), np.zeros(3)


@pytest.mark.parametrize(
    "arrays, match",
    [
        ([], "non-empty list"),
        ("W", "non-empty list"),
        ([np.ones((3, 2))], "pair"),
        ([(np.ones(3), np.zeros(3))], "2-D"),
        ([(np.ones((3, 2)), np.zeros(2))], r"shape \(3,\)"),
        ([GOOD, (np.ones((1, 4)), np.zeros(1))], "takes 4 inputs but layer 0 gives 3"),
        ([(np.full((3, 2), np.nan), np.zeros(3))], "NaN"),
        ([(np.array([["a", "b"]]), None)], "real numbers"),
        ([GOOD, (np.ones((1, 3)), None)], "every layer has a bias or none"),
    ],
)
def test_from_numpy_refuses_what_is_not_an_mlp(arrays, match):
    with pytest.raises(ValueError, match=match):
        nn.MLP.from_numpy(arrays)


# --- MLP ↔ torch -----------------------------------------------------------------------------


def linear_positions(module) -> list[int]:
    return [i for i, m in enumerate(module) if isinstance(m, torch.nn.Linear)]


@needs_torch
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output_activation", ACTIVATIONS)
def test_mlp_to_torch_same_outputs_and_gradients(activation, output_activation):
    model = nn.MLP(3, [5, 4, 2], activation, output_activation, seed=4)
    module = model.to_torch()
    assert isinstance(module, torch.nn.Sequential)
    assert all(p.dtype == torch.float64 for p in module.parameters())
    X = random_inputs(16, 3, seed=5)
    targets = np.random.default_rng(6).normal(size=(16, 2))

    out = module(torch.from_numpy(X))
    assert_close(out.detach().numpy(), nn.predict(model, X), "outputs")
    torch.nn.functional.mse_loss(out, torch.from_numpy(targets)).backward()
    model.zero_grad()
    nn.mse([model(x) for x in X.tolist()], targets.tolist()).backward()

    positions = linear_positions(module)
    for name, p in model.named_parameters():
        _, layer, _, neuron, kind, *index = name.split(".")
        torch_name = f"{positions[int(layer)]}.{'weight' if kind == 'w' else 'bias'}"
        grad = dict(module.named_parameters())[torch_name].grad
        torch_grad = grad[int(neuron), int(index[0])] if kind == "w" else grad[int(neuron)]
        assert_close(p.grad, torch_grad.item(), name)


@needs_torch
def test_the_readme_name_mapping():
    model = nn.MLP(2, [3, 3, 1], activation="tanh", seed=7)
    params = dict(model.to_torch().named_parameters())
    state = model.state_dict()
    assert params["0.weight"][1, 0].item() == state["layers.0.neurons.1.w.0"]
    assert params["0.bias"][2].item() == state["layers.0.neurons.2.b"]
    assert params["2.weight"][0, 2].item() == state["layers.1.neurons.0.w.2"]  # position 1 is the Tanh
    assert params["4.weight"][0, 1].item() == state["layers.2.neurons.0.w.1"]


@needs_torch
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("output_activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False])
def test_mlp_torch_round_trip(activation, output_activation, bias):
    model = nn.MLP(2, [4, 3, 1], activation, output_activation, bias=bias, seed=8)
    back = nn.MLP.from_torch(model.to_torch())
    expected_activation = activation if activation != "linear" or len(model.layers) == 1 else "linear"
    assert back.config() == {**model.config(), "activation": expected_activation}
    assert back.state_dict() == model.state_dict()


@needs_torch
def test_float32_export_and_a_model_trained_in_torch_comes_back():
    model = nn.MLP(2, [8, 1], activation="relu", seed=9)
    assert next(model.to_torch(dtype=torch.float32).parameters()).dtype == torch.float32
    module = model.to_torch()
    X, y = nn.datasets.make_moons(64, seed=0)
    inputs, targets = torch.from_numpy(X), torch.from_numpy(2.0 * y - 1.0)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    for _ in range(20):
        optimizer.zero_grad()
        torch.relu(1 - targets * module(inputs)[:, 0]).mean().backward()
        optimizer.step()
    back = nn.MLP.from_torch(module)
    assert back.state_dict() != model.state_dict()
    assert_close(nn.predict(back, X), module(inputs)[:, 0].detach().numpy())


def _refused_modules():
    if torch is None:
        return []
    tnn = torch.nn

    class MyLinear(tnn.Linear):
        pass

    nan_linear = tnn.Linear(2, 1)
    with torch.no_grad():
        nan_linear.weight[0, 0] = float("nan")
    return [
        (tnn.Linear(2, 1), "Sequential"),
        (tnn.Sequential(), "no Linear"),
        (tnn.Sequential(tnn.Tanh(), tnn.Linear(2, 1)), "must follow a Linear"),
        (tnn.Sequential(tnn.Linear(2, 3), tnn.Tanh(), tnn.Tanh(), tnn.Linear(3, 1)), "only one per Linear"),
        (tnn.Sequential(tnn.Linear(2, 3), tnn.LeakyReLU(), tnn.Linear(3, 1)), "LeakyReLU"),
        (tnn.Sequential(tnn.Linear(2, 3), tnn.Dropout(), tnn.Linear(3, 1)), "Dropout"),
        (tnn.Sequential(MyLinear(2, 1)), "MyLinear"),
        (tnn.Sequential(tnn.Linear(2, 3), tnn.Linear(4, 1)), "takes 4 inputs"),
        (tnn.Sequential(tnn.Linear(2, 3), tnn.ReLU(), tnn.Linear(3, 3), tnn.Tanh(), tnn.Linear(3, 1)), "different"),
        (tnn.Sequential(tnn.Linear(2, 3), tnn.Tanh(), tnn.Linear(3, 1, bias=False)), "bias"),
        (tnn.Sequential(tnn.Linear(2, 1, dtype=torch.complex128)), "real"),
        (tnn.Sequential(nan_linear), "NaN"),
        (tnn.Sequential(tnn.Linear(2, 2), tnn.Sequential(tnn.Linear(2, 1))), "cannot be represented"),
    ]


@needs_torch
@pytest.mark.parametrize("module, match", _refused_modules())
def test_from_torch_refuses_what_an_mlp_cannot_represent(module, match):
    with pytest.raises(ValueError, match=match):
        nn.MLP.from_torch(module)


@needs_torch
@pytest.mark.parametrize("dtype", ["complex128", "complex64", "int64", "bool"])
def test_to_torch_refuses_what_from_torch_would_refuse(dtype):
    """Complex (or integer) weights cannot come back (from_torch refuses them), so they cannot go out either."""
    with pytest.raises(ValueError, match="real floating-point"):
        nn.MLP(2, [3, 1], seed=0).to_torch(dtype=getattr(torch, dtype))
    with pytest.raises(ValueError, match="real floating-point"):
        nn.MLP(2, [3, 1], seed=0).to_torch(dtype="float64")  # a name is not a dtype


# --- compiled graphs → torch -----------------------------------------------------------------


def torch_ops() -> list[str]:
    """The ops of the rule table with a numpy form and a torch form (every row names one: see test_rules)."""
    if torch is None:
        return []
    return sorted(name for name, rule in RULES.items() if rule.vectorized is not None and isinstance(rule.torch, str))


def into_domain(v: Value, lo: float, hi: float) -> Value:
    """v squashed into (lo, hi) with graph ops, so the op sees inputs inside its rule's domain."""
    return lo + (hi - lo) * v.sigmoid()


def random_graph(rng: np.random.Generator, ops: list[str], inputs: list[Value], params: list[Value]) -> list[Value]:
    """Random ops over a growing pool (shared nodes, a layer of dots, constants); its last two nodes are outputs."""
    pool = [*inputs, *params, al.constant(0.25)]
    for k, op in enumerate(ops):
        if k % 3 == 2:  # a layer: dots sharing their inputs, which the plan turns into one matrix product
            shared = [pool[i] for i in rng.integers(0, len(pool), size=2)]
            for j in range(2):
                weights = [Value(float(w), f"w{k}{j}{i}") for i, w in enumerate(rng.normal(size=2))]
                params.extend(weights)
                pool.append(al.dot(weights, shared, bias=params[j]).tanh())
        rule = RULES[op]
        arity = rule.arity if rule.arity is not None else int(rng.integers(1, 5))
        picks = rng.integers(0, len(pool), size=arity)
        domain = rule.domain
        args = [into_domain(pool[i], *domain[min(j, len(domain) - 1)]) for j, i in enumerate(picks)]
        pool.append(al.apply(op, *args))
    return pool[-2:]


def graph_pair(seed: int, ops: list[str]):
    rng = np.random.default_rng(seed)
    inputs = [Value(0.0, f"x{i}", requires_grad=False) for i in range(3)]
    params = [Value(0.7, "p0"), Value(-1.2, "p1")]
    graph = compile_graph(lambda *xs: random_graph(rng, ops, list(xs), params), inputs)
    return graph, graph.to_torch(), rng.uniform(-2, 2, size=(3, 7))


def compare_with_torch(graph, module, columns) -> None:
    """Forward values, leaf and input gradients of the weighted outputs: compiled graph vs its torch module."""
    weights = np.linspace(0.5, 2.0, columns.shape[1])[:, None] * np.array([1.0, -0.5])
    expected = graph.forward(*columns)
    for leaf in graph.leaves:
        leaf.grad = 0.0
    input_grads = graph.backward(weights, input_grads=True)
    tensors = [torch.tensor(c, requires_grad=True) for c in columns]
    out = module(*tensors)
    assert_close(out.detach().numpy(), expected, "outputs")
    (out * torch.from_numpy(weights)).sum().backward()
    trainable = [graph.leaves[i] for i in module.leaf_index]
    assert all(leaf.requires_grad for leaf in trainable)
    assert len(trainable) == sum(leaf.requires_grad for leaf in graph.leaves)
    leaf_grads = [leaf.grad for leaf in trainable]
    if trainable:
        assert_close(module.leaves.grad.numpy(), leaf_grads, "leaf gradients")
    for i, (t, g) in enumerate(zip(tensors, input_grads)):
        grad = np.zeros_like(g) if t.grad is None else t.grad.numpy()  # None: torch's word for an unused input
        assert_close(grad, g, f"d/dx{i}")


@needs_torch
@pytest.mark.parametrize("op", torch_ops())
def test_each_op_in_a_compiled_graph_matches_torch(op):
    for seed in range(3):
        compare_with_torch(*graph_pair(seed, [op, op, op]))


@needs_torch
@pytest.mark.parametrize("seed", range(12))
def test_random_compiled_graphs_over_every_op_match_torch(seed):
    ops = list(np.random.default_rng(100 + seed).permutation(torch_ops()))
    compare_with_torch(*graph_pair(seed, ops))


@needs_torch
def test_compiled_mlp_trains_in_torch_and_writes_back():
    model = nn.MLP(2, [8, 8, 1], activation="tanh", seed=10)
    inputs = [Value(0.0, "x0", requires_grad=False), Value(0.0, "x1", requires_grad=False)]
    graph = compile_graph(lambda a, b: model([a, b]), inputs)
    module = graph.to_torch()
    assert module.leaves.numel() == model.num_parameters()
    X, y = nn.datasets.make_moons(50, seed=1)
    target = torch.from_numpy(2.0 * y - 1.0)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.2)
    for _ in range(10):
        optimizer.zero_grad()
        torch.relu(1 - target * module(*torch.from_numpy(X.T))).mean().backward()
        optimizer.step()
    module.write_back()
    assert_close(nn.predict(model, X), module(*torch.from_numpy(X.T)).detach().numpy())


@needs_torch
def test_graph_module_errors():
    from autograd_lite.compiled.torch_module import register_torch_form

    module = compile_graph(lambda x, y: x * y, [Value(0.0), Value(0.0)]).to_torch()
    with pytest.raises(ValueError, match="expected 2 input column"):
        module(torch.zeros(3))
    with pytest.raises(ValueError, match="same length"):
        module(torch.zeros(3), torch.zeros(4))
    with pytest.raises(ValueError, match="1-D"):
        module(torch.zeros(3), torch.zeros((3, 1)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        compile_graph(lambda x: x.relu(), [Value(0.0)]).to_torch()(torch.tensor([float("nan"), 1.0]))
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        compile_graph(lambda x: x.log(), [Value(1.0)]).to_torch()(torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="unknown op"):
        register_torch_form("no_such_op_here", torch.sin)


@needs_torch
def test_an_op_without_a_torch_form_is_refused_naming_it():
    name = "torch_test_cube"
    assert name not in RULES
    cube = al.register_op(name, lambda x: x**3, lambda out, x: (3 * x * x,), vectorized=lambda x: x**3)
    try:
        graph = compile_graph(lambda x: cube(x), [Value(0.5)])
        with pytest.raises(NotImplementedError, match=f"{name}.*register_torch_form"):
            graph.to_torch()
        module = importlib.import_module("autograd_lite.compiled.torch_module")
        module.register_torch_form(name, lambda x: x**3)
        compare_with_torch(*_twice(cube))
    finally:
        del RULES[name]  # leave the rule table as it was
        importlib.import_module("autograd_lite.compiled.torch_module").TORCH_FORMS.pop(name, None)


def _twice(op):
    """A graph of op twice, as compare_with_torch expects two outputs."""
    both = compile_graph(lambda x: [op(x), op(x)], [Value(0.5)])
    return both, both.to_torch(), np.array([[0.1, -0.7, 1.3]])


@needs_torch
@pytest.mark.skipif(torch is None or not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_graph_module_runs_on_the_gpu():
    graph, module, columns = graph_pair(0, torch_ops())
    module = module.to("cuda")
    out = module(*torch.from_numpy(columns).to("cuda"))
    assert_close(out.detach().cpu().numpy(), graph.forward(*columns))


# --- the docs' PyTorch guide runs as written ----------------------------------------------------


@needs_torch
def test_docs_pytorch_guide_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```py\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)  # test_readme runs `python`
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, str(GUIDE), "exec"), {"__name__": "readme_example"})
