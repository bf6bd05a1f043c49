"""Model files from elsewhere: every corrupt or hostile file is a short ValueError, in bounded time and memory.

Time is bounded by construction (the loader reads at most MAX_FILE_BYTES + 1 bytes, counts brackets
and commas before parsing, and counts parameters before building); memory is measured with tracemalloc.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

import nn
from nn import saving

MiB = 2**20
HEADER = {"format": "autograd_lite.nn", "version": 1}


def checkpoint(architecture=None, state=None) -> str:
    return json.dumps({**HEADER, "architecture": architecture, "state": state or {}})


def mlp(nin, nouts) -> dict:
    return {"class": "nn.layers.MLP", "config": {"nin": nin, "nouts": nouts, "activation": "tanh", "bias": True}}


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


# (case id, file text or bytes, what the message says)
TEXT_CASES = [
    ("100000-deep list", deep(100_000), "100,000 '[' or '{' (at most 256"),
    ("100000 unclosed brackets", "{" * 100_000, "100,000 '[' or '{'"),
    ("many empty lists", "[" + "[]," * 100_000 + "[]]", "100,002 '[' or '{'"),
    ("many values", "[" + "0," * 4_002_000 + "0]", "more than 4,000,000 values"),
    (
        "deep config",
        checkpoint({"class": "nn.layers.MLP", "config": {"nin": json.loads(deep(40))}}, {}),
        "nested more than 32 deep",
    ),
    ("400-digit parameter", checkpoint(None, {"w": int("9" * 400)}), "an integer with 400 digits"),
    ("400-digit size", checkpoint(mlp(int("9" * 400), [1]), {}), "an integer with 400 digits"),
    ("huge float parameter", checkpoint(None, {"w": 1e308}).replace("1e+308", "1e999"), "w = inf"),
    ("NaN literal", '{"state": {"w": NaN}}', "NaN in the file"),
    ("-Infinity literal", '{"state": {"w": -Infinity}}', "-Infinity in the file"),
    ("703-byte MLP(3000, [3000, 1])", checkpoint(mlp(3000, [3000, 1]), {f"p{i}": 0.0 for i in range(10)}), "9,006,001"),
    ("nouts [1000000000, 1]", checkpoint(mlp(2, [1_000_000_000, 1]), {"p": 0.0}), "more than the limit of 1,000,000"),
    ("state count differs", checkpoint(mlp(2, [3, 1]), {"p": 0.0}), "declares 13 parameters but holds 1 values"),
    ("a name twice", '{"format": "autograd_lite.nn", "version": 1, "state": {"w": 1, "w": 2}}', "appears twice: w"),
    ("nouts not a list", checkpoint(mlp(2, 7), {}), "invalid architecture"),
    ("unknown class", checkpoint({"class": "x" * 100_000, "config": {}}, {}), "unknown module class 'xxx"),
    ("unclosed string of escapes", '"' + '\\"' * 1_000_000, "corrupt or truncated"),
    ("many bad values", checkpoint(None, {f"w{i}": "x" for i in range(10_000)}), "w2 = 'x' and 9997 more"),
    ("not UTF-8", b"\xff\xfe" * 1000, "not UTF-8"),
]


def load_measured(path: Path, load=nn.load) -> tuple[ValueError, int]:
    """The ValueError loading `path` raises, and the peak memory Python allocated meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            load(path)
        return caught.value, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_a_hostile_file_is_a_short_value_error(content, message, tmp_path):
    path = tmp_path / "model.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    error, peak = load_measured(path)
    assert message in str(error)
    assert len(str(error)) < 300 + len(str(path))
    assert peak < 20 * len(path.read_bytes()) + 8 * MiB  # no model was built: ~a few copies of the text


def test_the_703_byte_file_is_that_small():
    text = {c[0]: c[1] for c in TEXT_CASES}["703-byte MLP(3000, [3000, 1])"]
    assert len(text) < 800


# --- not a regular file: refused before it is opened (a FIFO with no writer would block open() for ever)

FIFO_PROBE = """
import os, sys, nn
try:
    getattr(nn.MLP(2, [3, 1], seed=0), sys.argv[2])(sys.argv[1]) if sys.argv[2] != "load" else nn.load(sys.argv[1])
except ValueError as e:
    print(e)
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("how", ["load", "load_weights"])
def test_a_fifo_without_a_writer_is_refused_at_once(how, tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    # in a subprocess with a timeout: a regression blocks in open() and must not hang the suite
    done = subprocess.run(
        [sys.executable, "-c", FIFO_PROBE, str(fifo), how], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(nn.__file__).parents[1])},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{fifo}: a FIFO (named pipe), not a regular file"


@pytest.mark.parametrize(
    ("where", "kind"), [("folder", "a folder"), ("/dev/zero", "a device"), ("/dev/null", "a device")]
)
def test_what_is_not_a_regular_file_is_a_value_error(where, kind, tmp_path):
    path = tmp_path if where == "folder" else Path(where)
    if not path.exists():
        pytest.skip(f"no {where}")
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    for load in (nn.load, model.load_weights, nn.load_checkpoint):
        error, peak = load_measured(path, load)
        assert str(error) == f"{path}: {kind}, not a regular file"
        assert peak < 1 * MiB  # nothing was read
    assert model.state_dict() == before


def test_a_missing_file_is_still_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nothing.json")


def test_a_multi_gigabyte_file_is_refused_without_reading(tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(5 * 2**30)  # sparse: 5 GiB long, nothing written
    error, peak = load_measured(path)
    assert "larger than the 64 MiB" in str(error)
    assert peak < 1 * MiB


def test_a_file_just_over_the_limit_is_refused(tmp_path):
    path = tmp_path / "big.json"
    path.write_bytes(b" " * (saving.MAX_FILE_BYTES + 1))
    with pytest.raises(ValueError, match="larger than the 64 MiB"):
        nn.load(path)


def test_more_values_than_the_parameter_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(saving, "MAX_PARAMETERS", 100)
    path = tmp_path / "many.json"
    path.write_text(checkpoint(None, {f"w{i}": 0.0 for i in range(101)}))
    with pytest.raises(ValueError, match="101 parameters, more than the limit of 100"):
        nn.load(path)


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in TEXT_CASES[:9]], ids=[c[0] for c in TEXT_CASES[:9]])
def test_a_failed_load_leaves_the_model_as_it_was(content, message, tmp_path):
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    path = tmp_path / "model.json"
    path.write_text(content)
    error, _ = load_measured(path, model.load_weights)
    assert message in str(error)
    assert model.state_dict() == before


def test_load_state_dict_refuses_a_huge_integer_and_changes_nothing():
    model = nn.MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    state = {**before, "layers.0.neurons.0.w.0": 10**400}
    with pytest.raises(ValueError, match="must be a finite number, got 1000"):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match="finite number"):
        model.load_state_dict([10**400] * model.num_parameters())
    assert model.state_dict() == before


def test_load_state_dict_messages_stay_short():
    model = nn.MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="and 9997 more") as caught:
        model.load_state_dict({f"extra{i}": 0.0 for i in range(10_000)})
    assert len(str(caught.value)) < 300


def test_a_model_at_the_limits_round_trips(tmp_path):
    path = tmp_path / "model.json"
    model = nn.MLP(3, [8, 8, 1], seed=1)
    model.save(path)
    assert nn.load(path).state_dict() == model.state_dict()
    assert len(path.read_bytes()) < 64 * model.num_parameters() + 1000  # how MAX_FILE_BYTES was sized


def test_cli_load_of_a_hostile_file_exits_2(tmp_path, capsys):
    from autograd_lite.cli.main import main

    path = tmp_path / "hostile.json"
    path.write_text(checkpoint(mlp(3000, [3000, 1]), {f"p{i}": 0.0 for i in range(10)}))
    args = ["train", "--data", "xor", "--hidden", "4", "--quiet", "--load", str(path), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    assert "more than the limit" in capsys.readouterr().err


# --- a config is read strictly: each value must be one the class takes as it is, of the same JSON type


def full_mlp(**config) -> dict:
    base = {"nin": 2, "nouts": [3, 1], "activation": "tanh", "output_activation": "linear", "bias": True}
    return {"class": "nn.layers.MLP", "config": {**base, **config}}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"bias": "no"}, "config bias = 'no' is not a value nn.layers.MLP takes (it would build True)"),
        ({"bias": 1}, "config bias = 1 is not a value"),
        ({"bias": None}, "declares 9 parameters but holds 13 values"),  # None counts as no bias
        ({"nin": 2.0}, "nin must be an integer >= 1, got 2.0"),
        ({"nouts": [3.0, 1]}, "nout must be an integer >= 1, got 3.0"),
        ({"activation": "TANH"}, "unknown activation 'TANH'"),
        ({"seed": 0}, "config seed is not part of nn.layers.MLP's saved config"),
    ],
    ids=lambda case: str(case)[:30],
)
def test_a_config_value_of_the_wrong_type_is_refused(config, message, tmp_path):
    path = tmp_path / "model.json"
    state = nn.MLP(2, [3, 1], seed=0).state_dict()
    path.write_text(checkpoint(full_mlp(**config), state))
    with pytest.raises(ValueError) as caught:
        nn.load(path)
    assert message in str(caught.value)
    model = nn.MLP(2, [3, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError):
        model.load_weights(path)  # the saved architecture is not this model's
    assert model.state_dict() == before


def test_the_configs_save_writes_load_back(tmp_path):
    for model in (nn.MLP(2, [3, 1], bias=False, seed=0), nn.Layer(3, 2, "relu"), nn.Neuron(4, "linear")):
        model.save(tmp_path / "m.json")
        loaded = nn.load(tmp_path / "m.json")
        assert loaded.config() == model.config() and loaded.state_dict() == model.state_dict()
