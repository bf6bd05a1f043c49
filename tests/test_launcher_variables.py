"""torchrun's variables are checked before torch sees them: a bad one is a ValueError naming it, never a hang.

RANK=3 of WORLD_SIZE=2 (or RANK=-1) makes torch wait for ever for the missing ranks; RANK=abc or
MASTER_PORT=notaport give torch's bare "invalid literal for int()". fit(distributed=True) runs in a
subprocess with a timeout, so that a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import nn
from nn.training import distributed

GOOD = {"RANK": "0", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
BAD = [
    ({"RANK": "3"}, "RANK=3 must be below WORLD_SIZE=2"),
    ({"RANK": "2"}, "RANK=2 must be below WORLD_SIZE=2"),
    ({"RANK": "-1"}, "RANK='-1' must be a whole number from 0"),
    ({"RANK": "abc"}, "RANK='abc' must be a whole number from 0"),
    ({"RANK": ""}, "RANK='' must be a whole number"),
    ({"RANK": "1.0"}, "RANK='1.0' must be a whole number"),
    ({"RANK": "٣"}, "RANK='٣' must be a whole number"),  # an Arabic-Indic digit: int() would take it
    ({"RANK": "9" * 5000}, "RANK='99999"),
    ({"WORLD_SIZE": "0"}, "WORLD_SIZE='0' must be a whole number from 1"),
    ({"WORLD_SIZE": "two"}, "WORLD_SIZE='two' must be a whole number from 1"),
    ({"MASTER_PORT": "notaport"}, "MASTER_PORT='notaport' must be a whole number from 1 to 65535"),
    ({"MASTER_PORT": "0"}, "MASTER_PORT='0' must be a whole number from 1 to 65535"),
    ({"MASTER_PORT": "65536"}, "MASTER_PORT='65536' must be a whole number from 1 to 65535"),
    ({"MASTER_ADDR": " "}, "MASTER_ADDR is empty"),
]


def set_launcher(monkeypatch, **changes):
    for name, value in {**GOOD, **changes}.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("changes", "message"), BAD, ids=[str(c)[:30] for c, _ in BAD])
def test_a_bad_launcher_variable_is_named(changes, message, monkeypatch):
    set_launcher(monkeypatch, **changes)
    for check in (distributed.launched, distributed.is_main_process, distributed.launcher_variables):
        with pytest.raises(ValueError) as caught:
            check()
        assert message in str(caught.value) and len(str(caught.value)) < 200


def test_good_variables_give_rank_and_world_size(monkeypatch):
    set_launcher(monkeypatch, RANK="1")
    assert distributed.launcher_variables() == (1, 2)
    assert distributed.launched() and not distributed.is_main_process()
    monkeypatch.delenv("MASTER_PORT")
    assert distributed.launcher_variables() is None and not distributed.launched()  # not started by a launcher
    assert distributed.is_main_process()


FIT = """
import numpy as np, nn
model = nn.MLP(2, [3, 1], seed=0)
X, y = nn.datasets.make_moons(10, seed=0)
before = model.state_dict()
try:
    nn.fit(model, X, 2.0 * y - 1, nn.hinge, nn.SGD(model.parameters(), lr=0.1), 1, distributed=True, progress=False)
except ValueError as e:
    print(e)
assert model.state_dict() == before
"""


@pytest.mark.parametrize(
    ("changes", "message"), [BAD[0], BAD[2], BAD[3], BAD[10]], ids=["RANK=3 of 2", "RANK=-1", "RANK=abc", "port"]
)
def test_fit_distributed_with_a_bad_variable_fails_at_once(changes, message, tmp_path):
    env = {**os.environ, **GOOD, **changes, "PYTHONPATH": str(Path(nn.__file__).parents[1])}
    # a subprocess with a timeout: torch's rendezvous would wait for ever for RANK=3 of 2
    done = subprocess.run([sys.executable, "-c", FIT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert message in done.stdout
