"""Modules: names, order, labels, state, save/load, repr and the errors they raise."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

import nn
from autograd_lite import Value, topological_order


def small_mlp(seed=0):
    return nn.MLP(2, [3, 1], activation="tanh", seed=seed)


# --- structure, names and labels


def test_parameters_follow_micrograds_order():
    model = small_mlp()
    expected = [[*n.w, n.b] for layer in model.layers for n in layer.neurons]
    assert model.parameters() == [p for group in expected for p in group]
    names = [name for name, _ in model.named_parameters()]
    first = ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[:4] == first
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == len(set(names)) == 3 * 3 + 4


def test_labels_are_dotted_names_from_the_outermost_module():
    model = small_mlp()
    assert all(p.label == name for name, p in model.named_parameters())
    assert all(p.requires_grad for p in model.parameters())
    assert [p.label for p in nn.Neuron(2).parameters()] == ["w.0", "w.1", "b"]
    assert [p.label for p in nn.Layer(2, 2).parameters()][-1] == "neurons.1.b"


def test_a_user_module_labels_from_the_top():
    class Pair(nn.Module):
        def __init__(self):
            self.left = nn.MLP(2, [1], seed=1)
            self.scale = Value(2.0)

        def forward(self, x):
            return self.left(x) * self.scale

    pair = Pair()
    assert [name for name, _ in pair.named_parameters()][-1] == "scale"
    assert pair.parameters()[0].label == "left.layers.0.neurons.0.w.0"
    out = pair([1.0, 2.0])
    assert "left.layers.0.neurons.0" in {n.label for n in topological_order(out)}


def test_neuron_outputs_are_labelled_with_the_neurons_name():
    model = small_mlp()
    out = model([0.5, -0.5])
    labels = {n.label for n in topological_order(out) if n.label and n.op}
    assert {"layers.0.neurons.0", "layers.0.neurons.2", "layers.1.neurons.0"} <= labels
    assert out.label == "layers.1.neurons.0"


def test_pre_activation_is_one_dot_node():
    neuron = nn.Neuron(3, activation="sigmoid", seed=0)
    out = neuron([1.0, 2.0, 3.0])
    assert out.op == "sigmoid"
    (pre,) = out.parents
    assert pre.op == "dot" and len(pre.parents) == 7  # w1..w3, x1..x3, bias
    assert pre.data == pytest.approx(sum(w.data * x for w, x in zip(neuron.w, [1, 2, 3], strict=True)) + neuron.b.data)


def test_shared_values_are_listed_once():
    neuron = nn.Neuron(2, seed=0)
    neuron.w = [neuron.w[0], neuron.w[0]]
    assert len(neuron.parameters()) == 2


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "linear"])
def test_each_activation(activation):
    neuron = nn.Neuron(2, activation=activation, seed=3)
    neuron.load_state_dict([0.5, -1.0, 0.1])
    z = 0.5 * 2.0 - 1.0 * 0.5 + 0.1
    expected = {"tanh": math.tanh(z), "relu": max(z, 0.0), "sigmoid": 1 / (1 + math.exp(-z)), "linear": z}
    assert neuron([2.0, 0.5]).data == pytest.approx(expected[activation])


def test_mlp_output_convention():
    assert isinstance(nn.MLP(2, [3, 1], seed=0)([1, 2]), Value)
    out = nn.MLP(2, [3, 2], seed=0)([1, 2])
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(nn.Layer(2, 1, seed=0)([1, 2]), list)


def test_hidden_and_output_activations():
    model = nn.MLP(2, [3, 3, 1], activation="relu", output_activation="sigmoid", seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "sigmoid"]


def test_init_is_deterministic_by_seed_and_scaled_by_fan_in():
    assert small_mlp(7).state_dict() == small_mlp(7).state_dict()
    assert small_mlp(7).state_dict() != small_mlp(8).state_dict()
    wide = nn.Layer(64, 50, activation="relu", seed=0)
    weights = np.array([w.data for n in wide.neurons for w in n.w])
    assert np.abs(weights).max() <= math.sqrt(6 / 64)
    assert weights.std() == pytest.approx(math.sqrt(2 / 64), rel=0.1)  # He: variance 2/fan-in
    assert all(n.b.data == 0 for n in wide.neurons)
    uniform = nn.Layer(64, 50, init="uniform", seed=0)
    assert np.array([w.data for n in uniform.neurons for w in n.w]).std() == pytest.approx(math.sqrt(1 / 3), rel=0.1)


def test_init_leaves_the_global_random_state_alone():
    import random

    random.seed(123)
    before = random.random()
    random.seed(123)
    small_mlp(None)
    assert random.random() == before


def test_without_bias():
    model = nn.MLP(3, [2, 1], bias=False, seed=0)
    assert model.num_parameters() == 3 * 2 + 2
    assert all(n.b is None for layer in model.layers for n in layer.neurons)


def test_repr():
    mlp = nn.MLP(2, [16, 16, 1], activation="relu", seed=0)
    assert repr(mlp) == "MLP(2 → 16 → 16 → 1, relu/linear, 337 parameters)"
    assert repr(nn.Layer(2, 3)) == "Layer(2 → 3, tanh, 9 parameters)"
    assert repr(nn.Neuron(4, "relu")) == "Neuron(4 inputs, relu, 5 parameters)"


def test_zero_grad():
    model = small_mlp()
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0 for p in model.parameters())


# --- bad construction and calls


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: nn.Neuron(2, activation="softmax"), ", ".join(map(repr, nn.ACTIVATIONS))),  # every one
        (lambda: nn.MLP(2, [3, 1], activation="gelu"), "unknown activation 'gelu'"),
        (lambda: nn.MLP(2, [3, 1], output_activation="Tanh"), "unknown output_activation"),
        (lambda: nn.Neuron(0), "nin must be an integer >= 1"),
        (lambda: nn.Neuron(2.0), "nin must be an integer >= 1"),
        (lambda: nn.Layer(2, 0), "nout must be an integer >= 1"),
        (lambda: nn.MLP(2, []), "nouts must be a non-empty list"),
        (lambda: nn.MLP(2, 3), "nouts must be a non-empty list"),
        (lambda: nn.MLP(2, [3, -1]), r"nouts\[1\] must be an integer >= 1"),
        (lambda: nn.Neuron(2, init="xavier"), "unknown init 'xavier'"),
    ],
)
def test_bad_construction(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize(
    ("module", "x", "message"),
    [
        (nn.MLP(2, [3, 1], seed=0), [1.0], "MLP expects 2 inputs, got 1"),
        (nn.MLP(2, [3, 1], seed=0), [1.0, 2.0, 3.0], "MLP expects 2 inputs, got 3"),
        (nn.MLP(2, [3, 1], seed=0), 1.0, "expects a sequence of 2 inputs"),
        (nn.Layer(3, 2, seed=0), [1.0, 2.0], "Layer expects 3 inputs"),
        (nn.Neuron(2, seed=0), [1.0], "Neuron expects 2 inputs"),
    ],
)
def test_wrong_input_length(module, x, message):
    with pytest.raises(ValueError, match=message):
        module(x)


def test_unknown_attribute_raises_attribute_error_with_a_hint():
    model = small_mlp()
    with pytest.raises(AttributeError, match=r"has no attribute 'layer'; it has nin, .*layers"):
        model.layer  # noqa: B018
    assert not hasattr(model, "neurons")


# --- state dicts


def test_state_dict_round_trip():
    source, target = small_mlp(1), small_mlp(2)
    state = source.state_dict()
    assert list(state) == [name for name, _ in source.named_parameters()]
    assert all(type(v) is float for v in state.values())
    target.load_state_dict(state)
    assert target.state_dict() == state


def test_load_state_dict_from_a_flat_sequence():
    model = small_mlp()
    values = np.arange(model.num_parameters(), dtype=float)
    model.load_state_dict(values)
    assert [p.data for p in model.parameters()] == values.tolist()


def test_non_strict_load_takes_what_matches():
    model = small_mlp()
    before = model.state_dict()
    result = model.load_state_dict({"layers.1.neurons.0.b": 5.0, "extra": 1.0}, strict=False)
    assert model.state_dict() == {**before, "layers.1.neurons.0.b": 5.0}
    # as PyTorch: what was left out and what was not used
    assert result.missing_keys == [name for name in before if name != "layers.1.neurons.0.b"]
    assert result.unexpected_keys == ["extra"]


def test_a_full_load_reports_nothing_missing_or_unexpected():
    model = small_mlp()
    assert model.load_state_dict(model.state_dict()) == ([], [])
    assert model.load_state_dict([0.5] * model.num_parameters()) == ([], [])


def bad_states():
    good = small_mlp(1).state_dict()
    first = next(iter(good))
    return [
        ({k: v for k, v in good.items() if k != first}, f"missing {first}"),
        ({**good, "layers.9.b": 1.0}, "unexpected layers.9.b"),
        ({**good, first: float("nan")}, "must be a finite number"),
        ({**good, first: math.inf}, "must be a finite number"),
        ({**good, first: "0.5"}, "must be a finite number"),
        ({**good, first: True}, "must be a finite number"),
        ([0.1] * 12, "expected 13 values"),
        ([0.1] * 12 + [None], "must be a finite number"),
        ("weights", "mapping or a flat sequence"),
        (b"a" * 13, "mapping or a flat sequence"),  # not 13 ints (97, the code of "a") taken as weights
    ]


@pytest.mark.parametrize(("state", "message"), bad_states())
def test_bad_state_dict_changes_nothing(state, message):
    model = small_mlp(0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


# --- save and load


def test_save_and_load_rebuild_the_model(tmp_path):
    model = nn.MLP(2, [4, 3], activation="relu", output_activation="sigmoid", seed=5)
    path = tmp_path / "model.json"
    model.save(path)
    saved = json.loads(path.read_text())
    assert saved["format"] == "autograd_lite.nn" and saved["version"] == 1
    for loaded in (nn.load(path), nn.MLP.load(path), nn.Module.load(path)):
        assert type(loaded) is nn.MLP
        assert repr(loaded) == repr(model)
        assert loaded.state_dict() == model.state_dict()
        assert loaded([0.3, -0.2])[1].data == model([0.3, -0.2])[1].data
    assert [p.label for p in nn.load(path).parameters()] == [n for n, _ in model.named_parameters()]


def test_load_into_an_existing_model(tmp_path):
    path = tmp_path / "m.json"
    small_mlp(1).save(path)
    model = small_mlp(2)
    model.load_weights(path)
    assert model.state_dict() == small_mlp(1).state_dict()


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path):
    path = tmp_path / "m.json"
    small_mlp(1).save(path)
    broken = small_mlp(2)
    broken.parameters()[0].data = math.nan
    with pytest.raises(ValueError, match="is nan"):
        broken.save(path)
    assert nn.load(path).state_dict() == small_mlp(1).state_dict(), "the old file is intact"
    assert os.listdir(tmp_path) == ["m.json"]


def test_saved_file_has_ordinary_permissions(tmp_path):
    path = tmp_path / "m.json"
    mask = os.umask(0o022)
    try:
        small_mlp(1).save(path)
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0o600 of a private temp file


def checkpoint_text(**changes):
    model = small_mlp(1)
    data = {
        "format": "autograd_lite.nn",
        "version": 1,
        "architecture": {"class": "nn.layers.MLP", "config": model.config()},
        "state": model.state_dict(),
    }
    data.update(changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "corrupt or truncated"),
        (checkpoint_text()[:-40], "corrupt or truncated"),
        ("[1, 2]", "not an autograd_lite.nn checkpoint"),
        (checkpoint_text(format="torch"), "not an autograd_lite.nn checkpoint"),
        (checkpoint_text(version=2), "unsupported checkpoint version 2"),
        (checkpoint_text(state=[1, 2]), "no parameter state"),
        (checkpoint_text(state={"layers.0.neurons.0.w.0": "x"}), "bad value .*w.0 = 'x'"),
        (checkpoint_text(state={"layers.0.neurons.0.w.0": math.nan}), "NaN in the file"),
        (checkpoint_text(state={"layers.0.neurons.0.w.0": True}), "bad value .*w.0 = True"),
        (checkpoint_text(architecture={"class": "os.system", "config": {}}), "unknown module class 'os.system'"),
        (checkpoint_text(architecture={"class": "nn.layers.MLP"}), "malformed architecture"),
        (checkpoint_text(architecture={"class": "nn.layers.MLP", "config": {"nin": 2}}), "invalid architecture"),
        (checkpoint_text(architecture=None), "no architecture saved"),
        (checkpoint_text(state={"layers.0.neurons.0.w.0": 1.0}), "declares 13 parameters but holds 1 values"),
    ],
)
def test_bad_files_raise_value_error(tmp_path, text, message):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        nn.load(path)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not UTF-8"):
        nn.load(path)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (nn.MLP(2, [4, 1], seed=0), "does not match this model"),
        (nn.Neuron(2), "does not match this model"),
    ],
)
def test_mismatched_file_changes_nothing(tmp_path, other, message):
    path = tmp_path / "m.json"
    small_mlp(1).save(path)
    before = other.state_dict()
    with pytest.raises(ValueError, match=message):
        other.load_weights(path)
    assert other.state_dict() == before


def test_class_load_checks_the_class(tmp_path):
    path = tmp_path / "n.json"
    nn.Neuron(2).save(path)
    with pytest.raises(ValueError, match="holds a Neuron, not a MLP"):
        nn.MLP.load(path)


class Scaled(nn.Module):
    """A user module without config(): its file can refill a model but not rebuild one."""

    def __init__(self, seed):
        self.inner = nn.Neuron(2, seed=seed)
        self.scale = Value(3.0)

    def forward(self, x):
        return self.inner(x) * self.scale


def test_user_module_without_config_saves_and_loads_in_place(tmp_path):
    path = tmp_path / "scaled.json"
    source = Scaled(1)
    source.scale.data = 4.0
    source.save(path)
    target = Scaled(2)
    target.load_weights(path)
    assert target.state_dict() == source.state_dict()
    assert [n for n, _ in target.named_parameters()] == ["inner.w.0", "inner.w.1", "inner.b", "scale"]
    with pytest.raises(ValueError, match="no architecture saved"):
        nn.load(path)


# --- the kinds a file may name


class Doubled(nn.Module):
    """A user module with a config: rebuildable once it is an allowed kind."""

    def __init__(self, nin):
        self.inner = nn.Neuron(nin, seed=0)

    def forward(self, x):
        return self.inner(x) * 2

    def config(self):
        return {"nin": self.inner.nin}


@pytest.fixture
def doubled_allowed():
    nn.module_kinds.add(Doubled)
    yield
    nn.module_kinds.remove(Doubled)  # registering is explicit, and so is undoing it: nothing leaks


def test_nn_kinds_are_neuron_layer_and_mlp():
    assert all(cls in nn.module_kinds for cls in (nn.Neuron, nn.Layer, nn.MLP))
    assert Doubled not in nn.module_kinds  # defining a subclass registers nothing


def test_a_user_kind_loads_through_its_class_or_when_allowed(tmp_path, doubled_allowed):
    path = tmp_path / "d.json"
    Doubled(3).save(path)
    assert type(nn.load(path)) is Doubled
    assert type(Doubled.load(path)) is Doubled


def test_a_user_kind_not_allowed_needs_its_class_or_kinds(tmp_path):
    path = tmp_path / "d.json"
    Doubled(3).save(path)
    with pytest.raises(ValueError, match=r"unknown module class .*Doubled"):
        nn.load(path)
    assert type(nn.load(path, kinds=[Doubled])) is Doubled
    assert type(Doubled.load(path)) is Doubled
    assert Doubled not in nn.module_kinds


def test_module_kinds_holds_only_modules():
    kinds = nn.ModuleKinds()
    with pytest.raises(TypeError, match="Module subclasses"):
        kinds.add(int)
    assert kinds.add(Doubled) is Doubled and Doubled in kinds
    wider = kinds.including(Scaled)
    assert Scaled in wider and Scaled not in kinds  # a wider copy; the original is unchanged
    kinds.remove(Doubled)
    assert Doubled not in kinds


def test_a_declared_size_is_checked_before_building(tmp_path):
    path = tmp_path / "m.json"
    small_mlp(1).save(path)
    data = json.loads(path.read_text())
    data["architecture"]["config"]["nouts"] = [3, 2]
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="declares 17 parameters but holds 13 values"):
        nn.load(path)
