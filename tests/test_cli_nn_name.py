"""`from autograd_lite import nn` is the nn package under the engine's name; a learner's own nn.py in the working
folder is named in one line (exit code 2) instead of breaking `python -m autograd_lite` with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_lite
import nn

ROOT = Path(__file__).resolve().parent.parent


def python(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """`python args` in `cwd`, finding this checkout's packages after the folder's own files (as Python does)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env,
        stdin=subprocess.DEVNULL,
    )


# --- autograd_lite.nn


def test_every_public_name_is_the_same_object():
    from autograd_lite import nn as ag_nn

    assert ag_nn.MLP is nn.MLP
    assert sorted(ag_nn.__all__) == sorted(nn.__all__)
    for name in nn.__all__:
        assert getattr(ag_nn, name) is getattr(nn, name), name


def test_subpackages_are_attributes_as_in_torch():
    from autograd_lite import nn as ag_nn
    from autograd_lite.nn import datasets, training

    assert datasets is nn.datasets and training is nn.training and ag_nn.optim is nn.optim
    assert "training" in dir(ag_nn)
    with pytest.raises(AttributeError, match=r"autograd_lite\.nn.*no_such_thing"):
        ag_nn.no_such_thing  # noqa: B018


def test_a_model_made_under_one_name_is_the_other_names_model(tmp_path):
    from autograd_lite import nn as ag_nn

    model = ag_nn.MLP(2, [3, 1], seed=0)
    model.save(str(tmp_path / "m.json"))
    assert isinstance(nn.load(str(tmp_path / "m.json")), ag_nn.MLP)


def test_the_engine_does_not_import_nn_and_its_attribute_says_how_to_get_it(tmp_path):
    # Unlike `import torch; torch.nn`: nn stays out of the engine, so the attribute exists only once nn is imported.
    code = (
        "import sys, autograd_lite\n"
        "assert 'nn' not in sys.modules and 'autograd_lite.nn' not in sys.modules\n"
        "try:\n"
        "    autograd_lite.nn\n"
        "except AttributeError as error:\n"
        "    print(error)\n"
        "from autograd_lite import nn\n"
        "assert autograd_lite.nn is nn\n"
    )
    done = python("-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no attribute 'nn'" in done.stdout and "`from autograd_lite import nn`" in done.stdout, done.stdout


def test_beside_torch_nn():
    torch = pytest.importorskip("torch")
    from autograd_lite import nn as ours

    namespace: dict[str, object] = {}
    exec("from autograd_lite import nn\nimport torch\nmodel = nn.MLP(2, [2, 1])\nlayer = torch.nn.Linear(2, 1)",
         namespace)
    assert namespace["nn"] is ours and isinstance(namespace["model"], nn.MLP)
    assert isinstance(namespace["layer"], torch.nn.Linear)


# --- a learner's own nn.py (or nn/ folder) in the working folder


@pytest.fixture(params=["nn.py", "nn/__init__.py"])
def own_nn(request, tmp_path) -> Path:
    """A working folder holding a learner's own nn module; returns the path the message must name."""
    path = tmp_path / request.param
    path.parent.mkdir(exist_ok=True)
    path.write_text("def relu(x):\n    return max(0.0, x)\n")
    return path if path.name == "nn.py" else path.parent


def test_demo_names_the_file_and_says_to_rename_it(own_nn):
    folder = own_nn.parent
    done = python("-m", "autograd_lite", "demo", "--quiet", "--epochs", "1", "--out", "out", cwd=folder)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(own_nn) in lines[0] and "rename it" in lines[0]
    assert not (folder / "out").exists()


def test_draw_needs_no_nn_and_still_works_there(own_nn):
    folder = own_nn.parent
    done = python("-m", "autograd_lite", "draw", "x*y", "x=2", "y=3", "-o", "g.dot", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert "df/dx = 3" in done.stdout and (folder / "g.dot").exists()


def test_the_engine_works_there_and_autograd_lite_nn_names_the_file(own_nn):
    folder = own_nn.parent
    use_engine = "import autograd_lite as ag; x = ag.Value(3.0); (x * x).backward(); print(x.grad)"
    engine = python("-c", use_engine, cwd=folder)
    assert engine.returncode == 0 and engine.stdout.strip() == "6.0", engine.stderr
    done = python("-c", "from autograd_lite import nn", cwd=folder)
    last = done.stderr.strip().splitlines()[-1]
    assert done.returncode == 1 and last.startswith("ImportError: ") and str(own_nn) in last and "rename it" in last


def test_in_process_the_check_passes_for_our_package():
    from autograd_lite.cli.nn_origin import OURS, shadowing_nn

    assert shadowing_nn() is None
    assert Path(nn.__file__).resolve().parent == OURS == Path(autograd_lite.__file__).resolve().parents[1] / "nn"
