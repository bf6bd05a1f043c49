"""Every row of the CLI's defect table: exit code 0 with all the files, or exit code 2 with one line naming the
problem and the flag. Never a traceback, never exit code 1; subprocess runs are bounded by a timeout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import FILES, QUICK, ROOT, fails, run

import autograd_lite
import nn
from autograd_lite import RULES, register_op
from autograd_lite.cli.main import main
from autograd_lite.cli.options import MAX_PARAMETERS


def subprocess_run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "autograd_lite", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT, stdin=subprocess.DEVNULL)


# --- train: every loss it advertises writes the four files


@pytest.mark.parametrize(
    "args",
    [
        ["--data", "spirals", "--classes", "3", "--loss", "cross_entropy"],  # the help's example, shorter
        ["--data", "moons", "--loss", "cross_entropy"],  # two classes, two outputs
        ["--loss", "mse"],
        ["--data", "circles", "--loss", "bce", "--optimizer", "sgd"],
    ],
)
def test_every_loss_writes_all_four_files(args, tmp_path, capsys):
    code, out, err = run(capsys, "train", *args, *QUICK, "--out", str(tmp_path))
    assert code == 0, err
    assert all((tmp_path / name).stat().st_size > 0 for name in FILES)
    assert ("mean squared error" in out) == ("mse" in args)
    assert nn.load(str(tmp_path / "model.json")).nouts[-1] == (3 if "spirals" in args else 2 if "moons" in args else 1)


@pytest.mark.parametrize("lr", ["100", "1000"])  # 1000: the largest --lr accepted
def test_a_diverging_lr_is_one_line_naming_the_epoch_and_lr(lr, tmp_path, capsys):
    line = fails(capsys, "train", "--optimizer", "sgd", "--lr", lr, "--quiet", "--out", str(tmp_path / "out"))
    assert "diverged at epoch" in line and "--lr" in line and len(line) < 200
    assert not (tmp_path / "out").exists()


def test_a_loaded_model_with_huge_weights_leaves_nothing_behind(tmp_path, capsys):
    path = tmp_path / "huge.json"
    nn.MLP(2, [16, 16, 1], activation="relu", seed=0).save(str(path))
    saved = json.loads(path.read_text())
    first = next(iter(saved["state"]))
    saved["state"][first] = 1e308
    path.write_text(json.dumps(saved))
    line = fails(capsys, "train", "--load", str(path), "--quiet", "--out", str(tmp_path / "out"))
    assert "--load" in line
    assert not (tmp_path / "out").exists()


def hostile_files(tmp_path: Path) -> dict[str, str]:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    wide = tmp_path / "wide.json"
    nn.MLP(2, [4, 1], seed=0).save(str(wide))
    record = json.loads(wide.read_text())
    record["architecture"]["config"]["nouts"] = [1_000_000_000, 1]
    wide.write_text(json.dumps(record))
    return {"deep": str(deep), "wide": str(wide), "zero": "/dev/zero", "folder": str(tmp_path)}


@pytest.mark.parametrize("kind", ["deep", "wide", "zero", "folder"])
def test_hostile_load_files_are_refused_within_seconds(kind, tmp_path):
    path = hostile_files(tmp_path)[kind]
    done = subprocess_run("train", "--load", path, "--quiet", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "--load" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_model_too_large_is_refused_before_it_is_built(capsys, tmp_path):
    line = fails(capsys, "train", "--hidden", "4096,4096", "--epochs", "1", "--out", str(tmp_path / "out"))
    assert "--hidden" in line and str(MAX_PARAMETERS) in line


def test_a_bad_out_is_refused_before_training(tmp_path, capsys):
    afile = tmp_path / "afile.txt"
    afile.write_text("keep me")
    for out in (str(afile), "/proc/x", str(afile / "sub")):
        code, printed, err = run(capsys, "train", *QUICK, "--out", out)
        assert code == 2 and "--out" in err and "accuracy" not in printed, err
    assert afile.read_text() == "keep me"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--samples", "1"], "--samples"),
        (["--seed", "-1"], "--seed"),
        (["--data", "spirals", "--classes", "4", "--samples", "3"], "--samples"),
        (["--classes", "3"], "--classes"),  # moons has two classes
        (["--data", "xor", "--samples", "50"], "--samples"),
        (["--data", "xor", "--noise", "0.1"], "--noise"),
        (["--hidden", "16,x"], "--hidden"),
        (["--lr", "inf"], "--lr"),
    ],
)
def test_messages_name_the_flag(args, flag, capsys, tmp_path):
    assert flag in fails(capsys, "train", *args, "--quiet", "--out", str(tmp_path / "out"))


# --- train --load resumes


def test_load_resumes_exactly_where_training_stopped(tmp_path, capsys):
    common = ["train", "--quiet", "--hidden", "8"]
    assert run(capsys, *common, "--epochs", "40", "--out", str(tmp_path / "a"))[0] == 0
    assert "training" in json.loads((tmp_path / "a" / "model.json").read_text())  # model.json is a checkpoint
    code, out, _ = run(capsys, "train", "--quiet", "--epochs", "5", "--load", str(tmp_path / "a/model.json"),
                       "--out", str(tmp_path / "b"))
    assert code == 0 and "resumed after step 40" in out
    assert run(capsys, *common, "--epochs", "45", "--out", str(tmp_path / "straight"))[0] == 0
    resumed = nn.load(str(tmp_path / "b/model.json")).state_dict()
    straight = nn.load(str(tmp_path / "straight/model.json")).state_dict()
    assert resumed == straight  # 40 + 5 epochs == 45 epochs, bit for bit
    nn.load(tmp_path / "a/model.json").save(tmp_path / "a/model.json")  # the model alone: a fresh Adam, other weights
    code, out, _ = run(capsys, "train", "--quiet", "--epochs", "5", "--load", str(tmp_path / "a/model.json"),
                       "--out", str(tmp_path / "c"))
    assert code == 0 and "starting a fresh one" in out
    assert nn.load(str(tmp_path / "c/model.json")).state_dict() != pytest.approx(straight, rel=1e-6)


def test_sgd_momentum_resumes_too(tmp_path, capsys):
    common = ["train", "--quiet", "--hidden", "4", "--optimizer", "sgd", "--lr", "0.05"]
    assert run(capsys, *common, "--epochs", "10", "--out", str(tmp_path / "a"))[0] == 0
    assert run(capsys, "train", "--quiet", "--epochs", "3", "--load", str(tmp_path / "a/model.json"),
               "--out", str(tmp_path / "b"))[0] == 0
    assert run(capsys, *common, "--epochs", "13", "--out", str(tmp_path / "straight"))[0] == 0
    resumed = nn.load(str(tmp_path / "b/model.json")).state_dict()
    straight = nn.load(str(tmp_path / "straight/model.json")).state_dict()
    assert resumed == straight


@pytest.mark.parametrize(("flag", "value"), [("--hidden", "7,7"), ("--activation", "tanh")])
def test_flags_contradicting_the_loaded_model_are_errors(flag, value, tmp_path, capsys):
    assert run(capsys, "train", *QUICK, "--out", str(tmp_path / "a"))[0] == 0
    line = fails(capsys, "train", "--load", str(tmp_path / "a/model.json"), flag, value, "--out", str(tmp_path / "b"))
    assert flag in line and "contradicts" in line


# --- draw


def test_draw_into_a_missing_folder_names_the_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = fails(capsys, "draw", "x*2", "x=1", "-o", "nodir/sub/g.svg")
    assert "nodir/sub" in line and ".tmp" not in line


def test_a_long_sum_of_one_variable_is_drawn_as_one_wire(tmp_path):
    out = tmp_path / "x150.svg"
    done = subprocess_run("draw", "+".join(["x"] * 150), "x=2", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "df/dx = 150" in done.stdout and "×150" in out.read_text()


def test_a_600_term_flat_sum_parses(tmp_path, capsys):
    names = [f"x{i}" for i in range(600)]
    args = ["draw", " + ".join(names), *(f"{n}=1" for n in names), "--max-nodes", "700"]
    code, out, err = run(capsys, *args, "-o", str(tmp_path / "g.dot"))  # .dot: no layout needed
    assert code == 0, err
    assert "f = 600" in out


def test_too_many_nodes_names_max_nodes(tmp_path, capsys):
    names = [f"x{i}" for i in range(260)]
    args = ["draw", " * ".join(names), *(f"{n}=1" for n in names), "-o", str(tmp_path / "g.svg")]
    assert "--max-nodes" in fails(capsys, *args)
    assert "--max-nodes" in fails(capsys, "draw", "x + y + z", "x=1", "y=2", "z=3", "--max-nodes", "2")


@pytest.mark.parametrize(("expr", "values"), [("x**0.5", ["x=0"]), ("x*y*x", ["x=1e200", "y=1e-200"])])
def test_an_inf_in_the_backward_pass_is_an_error(expr, values, tmp_path, capsys):
    line = fails(capsys, "draw", expr, *values, "-o", str(tmp_path / "g.svg"))
    assert "inf" in line and not (tmp_path / "g.svg").exists()


def test_long_expressions_are_quoted_short(tmp_path, capsys):
    line = fails(capsys, "draw", "(" * 4990 + "x" + ")" * 4990, "x=1", "-o", str(tmp_path / "g.svg"))
    assert len(line) < 250
    line = fails(capsys, "draw", "x + " * 2000 + "q", "x=1", "-o", str(tmp_path / "g.svg"))
    assert "'q'" in line and len(line) < 250


@pytest.mark.parametrize("argv", [["--", "-x", "x=2"], ["-x", "x=2"], ["-2*x + 1", "x=2"]])
def test_an_expression_starting_with_minus_just_works(argv, tmp_path, capsys):
    out = tmp_path / "neg.svg"
    code, printed, err = run(capsys, "draw", *argv, "-o", str(out))
    assert code == 0 and out.exists(), err
    assert "df/dx = -" in printed


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"autograd-lite {autograd_lite.__version__}"


# --- the allow-list is the rule table


def test_a_new_unary_row_is_drawable_and_listed_with_no_cli_edit(tmp_path, capsys):
    name = "cube_for_test"
    assert name not in RULES
    register_op(name, lambda x: x**3, lambda out, x: (3 * x * x,))
    try:
        code, out, err = run(capsys, "draw", f"{name}(x)", "x=2", "-o", str(tmp_path / "g.svg"))
        assert code == 0, err
        assert "df/dx = 12" in out
        assert run(capsys, "draw", "--help")[1].count(name) == 1
    finally:
        del RULES[name]


def test_the_help_lists_every_op_of_the_table(capsys):
    code, out, _ = run(capsys, "draw", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert all(name in flat for name in RULES if name not in ("add", "mul", "pow"))
