"""Functions stay short enough to read at a glance: none in the packages or the benchmarks is over 60 lines."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 60  # lines from `def` to the last line of the body; a longer function becomes a few named steps


def _long_functions(folder: Path) -> list[str]:
    """'path:line name (n lines)' for every function under `folder` longer than LIMIT."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > LIMIT:
                    found.append(f"{path.relative_to(folder.parent)}:{node.lineno} {node.name} ({lines} lines)")
    return found


@pytest.mark.parametrize("folder", ["autograd_lite", "nn", "benchmarks"])
def test_no_function_is_over_60_lines(folder):
    assert _long_functions(ROOT / folder) == []


def test_the_check_finds_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(LIMIT))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    return 1\n")
    assert [line.split(" ")[1] for line in _long_functions(tmp_path)] == ["long"]
