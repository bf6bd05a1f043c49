"""The README's Python examples run as written (a README that lies is a bug)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
# Rows quoted from rules.py illustrate the table; they are not standalone programs.
RUNNABLE = [b for b in BLOCKS if not b.lstrip().startswith("Rule(")]


def test_readme_has_examples():
    assert RUNNABLE


@pytest.mark.parametrize("block", RUNNABLE, ids=[f"block{i}" for i in range(len(RUNNABLE))])
def test_readme_example_runs(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {"__name__": "readme_example"})
