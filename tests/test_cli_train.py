"""`autograd-lite train` and `demo`: the four files, continuing from --load, and exit code 2 for bad arguments."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import nn
from autograd_lite.cli.main import main

FILES = ("decision_boundary.svg", "loss.svg", "neuron_graph.svg", "model.json")
QUICK_XOR = ["train", "--data", "xor", "--hidden", "4", "--activation", "tanh", "--loss", "bce", "--quiet"]


def test_train_writes_the_four_files(tmp_path, capsys):
    assert main([*QUICK_XOR, "--epochs", "300", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "training accuracy: 100.0%" in printed
    for name in FILES:
        assert (tmp_path / name).stat().st_size > 0
        assert f"wrote {tmp_path / name}" in printed
    for figure in FILES[:2]:  # the two figures are SVG (no matplotlib): they parse, with a title
        titles = [t.text for t in ET.parse(tmp_path / figure).getroot().iter("{http://www.w3.org/2000/svg}text")]
        assert "decision boundary" in titles or "loss" in titles
    svg = ET.parse(tmp_path / "neuron_graph.svg").getroot()
    texts = {t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")}
    assert {"w.0", "w.1", "b", "x0", "x1"} <= texts  # one neuron: its weights, bias and the two inputs
    model = nn.load(str(tmp_path / "model.json"))
    assert nn.accuracy(model, *_xor_bce()) == 1.0


def _xor_bce():
    X, y = nn.datasets.xor()
    return X, y.astype(float)


def test_train_continues_from_a_saved_model(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    assert main([*QUICK_XOR, "--epochs", "300", "--out", str(first)]) == 0
    saved = json.loads((first / "model.json").read_text())
    # training resumes from the saved weights (a tiny --lr barely moves them)
    args = [*QUICK_XOR, "--epochs", "1", "--lr", "1e-9"]
    assert main([*args, "--load", str(first / "model.json"), "--out", str(second)]) == 0
    resumed = nn.load(str(second / "model.json"))
    original = nn.load(str(first / "model.json"))
    assert repr(resumed) == repr(original)
    for (name, a), b in zip(resumed.state_dict().items(), original.state_dict().values()):
        assert a == pytest.approx(b, abs=1e-6), name
    assert saved  # the file was JSON all along


def test_demo_trains_the_moons_mlp(tmp_path, capsys):
    assert main(["demo", "--epochs", "3", "--quiet", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "MLP(2 → 16 → 16 → 1" in printed and "training accuracy" in printed
    assert all((tmp_path / name).exists() for name in FILES)


@pytest.mark.parametrize(
    "args, words",
    [
        (["train", "--hidden", "16,x"], ["--hidden", "16,x"]),
        (["train", "--hidden", "0"], ["--hidden"]),
        (["train", "--lr", "-1"], ["--lr", "-1"]),
        (["train", "--lr", "inf"], ["--lr"]),
        (["train", "--epochs", "0"], ["--epochs"]),
        (["train", "--data", "mnist"], ["--data", "mnist"]),
        (["train", "--loss", "l1"], ["--loss"]),
        (["train", "--data", "spirals", "--loss", "hinge"], ["hinge", "3", "cross_entropy"]),
        (["train", "--noise", "-1"], ["noise"]),
        (["train", "--l2", "-1"], ["l2"]),
        (["train", "--load", "does-not-exist.json"], ["does-not-exist.json"]),
        (["demo", "--hidden", "4"], ["unrecognized", "--hidden"]),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(args, words, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        code = main([*args, "--quiet", "--out", str(tmp_path / "out")])
        raise SystemExit(code)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize("content", ["{not json", '{"format": "autograd_lite.nn", "version": 1}', ""])
def test_a_bad_model_file_exits_2(content, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main([*QUICK_XOR, "--load", str(bad), "--out", str(tmp_path / "out")]) == 2
    assert "bad.json" in capsys.readouterr().err


def test_a_model_of_the_wrong_shape_exits_2(tmp_path, capsys):
    path = tmp_path / "three_inputs.json"
    nn.MLP(3, [4, 1], seed=0).save(str(path))
    assert main([*QUICK_XOR, "--load", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "3 inputs" in capsys.readouterr().err


def test_help_has_examples_and_python_m_works():
    result = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "train", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert "examples:" in result.stdout and "--data" in result.stdout
