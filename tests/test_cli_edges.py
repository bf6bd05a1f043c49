"""The CLI at its edges: each ends with exit code 2 and one line that names the problem, with no
traceback and nothing half-written. Subprocess runs are bounded by a timeout; none measures time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import FILES, QUICK, ROOT, fails, run

import nn
from autograd_lite.cli import options
from autograd_lite.cli.main import DRAW_NODES_LIMIT, build_parser
from autograd_lite.cli.options import MAX_PARAMETERS


def command(*args: str, **env: str) -> list[str]:
    return [sys.executable, "-m", "autograd_lite", *args]


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]), **extra}


# --- every numeric flag is bounded, and says its bound


TOO_LARGE = [  # (subcommand, flag, a value past the bound, the bound as the message and --help give it)
    ("train", "--epochs", "1000000000000", str(options.MAX_EPOCHS)),
    ("demo", "--epochs", str(options.MAX_EPOCHS + 1), str(options.MAX_EPOCHS)),
    ("train", "--samples", str(options.MAX_SAMPLES + 1), str(options.MAX_SAMPLES)),
    ("train", "--noise", "1e300", f"{options.MAX_NOISE:g}"),
    ("train", "--classes", str(options.MAX_CLASSES + 1), str(options.MAX_CLASSES)),
    ("train", "--lr", "1e300", f"{options.MAX_LR:g}"),
    ("train", "--batch-size", str(options.MAX_SAMPLES + 1), str(options.MAX_SAMPLES)),
    ("train", "--l2", "1e300", f"{options.MAX_L2:g}"),
    ("train", "--seed", str(options.MAX_SEED + 1), str(options.MAX_SEED)),
    ("train", "--workers", str(options.MAX_WORKERS + 1), str(options.MAX_WORKERS)),
    ("train", "--hidden", ",".join(["2"] * (options.MAX_HIDDEN_LAYERS + 1)), str(options.MAX_HIDDEN_LAYERS)),
    ("train", "--hidden", str(MAX_PARAMETERS + 1), str(MAX_PARAMETERS)),
    ("draw", "--max-nodes", str(DRAW_NODES_LIMIT + 1), str(DRAW_NODES_LIMIT)),
]


@pytest.mark.parametrize(("sub", "flag", "value", "bound"), TOO_LARGE)
def test_a_value_past_the_bound_is_refused_naming_flag_and_bound(sub, flag, value, bound, capsys, tmp_path):
    extra = ["x", "x=1", "-o", str(tmp_path / "g.svg")] if sub == "draw" else ["--out", str(tmp_path / "out")]
    line = fails(capsys, sub, flag, value, *extra)
    assert flag in line and bound in line
    assert not (tmp_path / "out").exists() and not (tmp_path / "g.svg").exists()


@pytest.mark.parametrize(("sub", "flag", "bound"), sorted({(s, f, b) for s, f, _, b in TOO_LARGE}))
def test_the_help_states_each_bound(sub, flag, bound, capsys):
    code, out, _ = run(capsys, sub, "--help")
    assert code == 0
    entry = out[out.index(f"\n  {flag} ") :]  # the flag's entry in the options list, not the usage line
    entry = " ".join(entry[: entry.find("\n  -", 3)].split())
    assert bound in entry, entry


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--epochs", str(options.MAX_EPOCHS)), ("--noise", f"{options.MAX_NOISE:g}"), ("--lr", f"{options.MAX_LR:g}"),
     ("--seed", str(options.MAX_SEED)), ("--l2", "0"), ("--noise", "0"), ("--batch-size", str(options.MAX_SAMPLES))],
)
def test_the_bounds_themselves_are_accepted(flag, value):
    args = build_parser().parse_args(["train", flag, value])
    assert getattr(args, flag[2:].replace("-", "_")) == type(getattr(args, flag[2:].replace("-", "_")))(value)


def test_huge_noise_is_refused_before_anything_is_written(capsys, tmp_path):
    line = fails(capsys, "train", "--noise", "1e300", "--quiet", "--out", str(tmp_path / "out"))
    assert "--noise" in line and "JSON" not in line
    assert not (tmp_path / "out").exists()


def test_an_optimizer_state_that_overflows_is_one_line_and_writes_nothing(capsys, tmp_path):
    """Weights still finite but Adam's second moment past 1e308: the run must not write a model it cannot resume."""
    path = tmp_path / "big.json"
    nn.MLP(2, [4, 1], activation="relu", seed=0).save(str(path))
    record = json.loads(path.read_text())
    record["state"] = {k: v * 1e200 if k.startswith("layers.0") else v for k, v in record["state"].items()}
    path.write_text(json.dumps(record))
    code, _, err = run(capsys, "train", "--load", str(path), "--l2", "0", "--epochs", "3", "--quiet",
                       "--out", str(tmp_path / "out"))
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "optimizer's state overflowed" in err and "RuntimeWarning" not in err
    assert not (tmp_path / "out").exists()


# --- --hidden with a size left out


@pytest.mark.parametrize("text", ["16,,16", "16,16,", ",16", ",", "16, ,16"])
def test_a_missing_hidden_size_is_an_error(text, capsys, tmp_path):
    line = fails(capsys, "train", "--hidden", text, "--quiet", "--out", str(tmp_path / "out"))
    assert "--hidden" in line and "missing" in line


def test_spaces_around_hidden_sizes_are_fine():
    assert build_parser().parse_args(["train", "--hidden", " 8, 4 "]).hidden == [8, 4]


# --- Ctrl-C while the command is still loading


def test_ctrl_c_during_the_imports_is_one_line(tmp_path):
    """Interrupt once the quiet handler is in (the import log shows its module done), while numpy still loads."""
    marker = "autograd_lite.cli.interrupt"
    process = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-m", "autograd_lite", "demo", "--quiet", "--out", str(tmp_path / "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment(), cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if line.rstrip().endswith(marker):
                process.send_signal(signal.SIGINT)
                break
        _, rest = process.communicate(timeout=60)
    finally:
        process.kill()
    said = [line for line in rest.splitlines() if not line.startswith("import time:")]
    assert process.returncode == 130 and "Traceback" not in rest, rest[-2000:]
    assert len(said) == 1 and said[0].endswith("interrupted"), said
    assert not (tmp_path / "out").exists()


# --- stdout closed by its reader


def test_a_closed_stdout_is_named_and_the_files_are_all_written(tmp_path):
    """The reader is gone before the first line: the report is dropped, the run finishes, stdout is blamed."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        command("train", *QUICK, "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(PYTHONUNBUFFERED="1"), stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert process.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "standard output was closed" in lines[0] and "--out" not in lines[0], err
    assert all((out / name).stat().st_size > 0 for name in FILES)
    assert nn.load(str(out / "model.json")).nouts == [4, 1]


def test_like_head_2(tmp_path):
    """`train | head -2`: two lines read, then the reader leaves while the pictures are being made."""
    out = tmp_path / "out"
    process = subprocess.Popen(
        command("train", *QUICK, "--out", str(out)), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environment(PYTHONUNBUFFERED="1"), stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    first = [process.stdout.readline(), process.stdout.readline()]
    process.stdout.close()
    _, err = process.communicate(timeout=120)
    assert first[0].startswith("MLP(") and first[1].startswith("training accuracy")
    assert process.returncode == 2 and "standard output was closed" in err and "--out" not in err, err
    assert len(err.strip().splitlines()) == 1
    assert all((out / name).exists() for name in FILES)


# --- a terminal that cannot show "→"


def test_an_ascii_only_stdout_gets_ascii_spellings(tmp_path):
    done = subprocess.run(
        command("demo", "--epochs", "2", "--quiet", "--out", str(tmp_path / "out")), capture_output=True,
        timeout=120, env=environment(PYTHONIOENCODING="ascii"), stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert b"MLP(2 -> 16 -> 16 -> 1" in done.stdout and done.stdout.isascii()
    assert all((tmp_path / "out" / name).exists() for name in FILES)
    helped = subprocess.run(command("train", "--help"), capture_output=True, timeout=60,
                            env=environment(PYTHONIOENCODING="ascii"), stdin=subprocess.DEVNULL)
    assert helped.returncode == 0 and b"sum p^2" in b" ".join(helped.stdout.split()), helped.stderr


# --- the kernel's folders


@pytest.fixture
def in_dev():
    """A name in /dev no one uses; removed afterwards in case a failing run (as root) made it."""
    path = Path(f"/dev/autograd_lite_test_{os.getpid()}")
    yield path
    for leftover in (path.with_suffix(".svg"), path):
        if leftover.is_file():
            leftover.unlink()
        elif leftover.is_dir():
            for f in leftover.iterdir():
                f.unlink()
            leftover.rmdir()


def test_draw_does_not_write_into_dev(in_dev, capsys, tmp_path):
    target = in_dev.with_suffix(".svg")
    line = fails(capsys, "draw", "x*2", "x=1", "-o", str(target))
    assert "-o" in line and "/dev" in line and not target.exists()
    (tmp_path / "devices").symlink_to("/dev")  # the folder's real place counts, not the name it is given by
    line = fails(capsys, "draw", "x*2", "x=1", "-o", str(tmp_path / "devices" / target.name))
    assert "/dev" in line and not target.exists()


def test_train_does_not_make_a_folder_in_dev(in_dev, capsys):
    line = fails(capsys, "train", *QUICK, "--out", str(in_dev))
    assert "--out" in line and "/dev" in line and not in_dev.exists()
