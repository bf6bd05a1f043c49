"""The README's and the docs guides' Python examples run as written, and print what their comments say.

A README that lies is a bug. Each block runs statement by statement in one namespace. A `print(...)` whose line
ends in a comment must print that comment's text (up to two spaces, after which a remark may follow), or end with it
after a space:
`print(x.grad)  # -4.0  (why)` checks "-4.0" (a print of several lines is described, not quoted).
An assignment commented `# f = -12` checks f's value.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import autograd_lite

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
PAGES = [README, ROOT / "docs" / "index.md", *sorted((ROOT / "docs" / "guides").glob("*.md"))]
# Rows quoted from rules.py illustrate the table; they are not standalone programs.
RUNNABLE = [
    (page, block)
    for page in PAGES
    for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)
    if not block.lstrip().startswith("Rule(")
]
CLAIMED_OUTPUTS = ["-4.0 -4.0 3.0", "12.0 12.0", "100%", "337 parameters"]
MAX_LINES = 150  # the README is a newcomer's first screen or two; the reference is the docs site


def expected_output(line: str) -> str | None:
    """The text a line's trailing comment promises, without a remark after two spaces."""
    if "#" not in line:
        return None
    comment = line.rsplit("#", 1)[1].strip()
    return re.split(r"\s{2,}", comment)[0] or None


def check_statement(statement: ast.stmt, source_lines: list[str], namespace: dict, page: Path = README) -> str | None:
    """Run one statement; return what went wrong with its commented claim, or None."""
    code = compile(ast.Module([statement], []), str(page), "exec")
    claim = expected_output(source_lines[(statement.end_lineno or statement.lineno) - 1])
    is_print = isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and (
        getattr(statement.value.func, "id", None) == "print"
    )
    if is_print and claim is not None:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, namespace)
        printed = out.getvalue().strip()
        if "\n" in printed:  # several lines (an explanation): the comment describes them, it does not quote them
            return None
        ok = printed == claim or printed.endswith(" " + claim)
        return None if ok else f"printed {printed!r}, the README says {claim!r}"
    exec(code, namespace)
    m = re.fullmatch(r"(\w+) = (-?[\d.]+)", claim or "")
    if m and isinstance(statement, ast.Assign):
        value = getattr(namespace.get(m.group(1)), "data", namespace.get(m.group(1)))
        if value != float(m.group(2)):
            return f"{m.group(1)} is {value!r}, the README says {m.group(2)}"
    return None


def test_readme_has_examples_with_claimed_outputs():
    readme_blocks = [block for page, block in RUNNABLE if page == README]
    for claim in CLAIMED_OUTPUTS:  # the claims this test checks are still in the README
        assert any(claim in b for b in readme_blocks), claim
    assert {page.stem for page, _ in RUNNABLE} >= {"README", "nn", "drawing", "compiled", "rules"}


def test_readme_fits_in_a_few_screens():
    assert len(TEXT.splitlines()) <= MAX_LINES


def test_the_readmes_links_point_at_files_that_exist():
    targets = re.findall(r"\]\(([^)#:]+)\)", TEXT)  # relative links and pictures (no URLs, no anchors)
    assert targets
    assert [t for t in targets if not (ROOT / t).exists()] == []


@pytest.mark.parametrize(
    ("page", "block"), RUNNABLE, ids=[f"{page.stem}-{i}" for i, (page, _) in enumerate(RUNNABLE)]
)
def test_readme_example_prints_what_it_claims(page, block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    lines = block.splitlines()
    namespace: dict = {"__name__": "readme_example"}
    problems = []
    for statement in ast.parse(block).body:
        problem = check_statement(statement, lines, namespace, page)
        if problem:
            problems.append(f"line {statement.lineno}: {problem}")
    assert problems == []


def test_a_wrong_claim_is_caught():
    statement = ast.parse("print(1 + 1)  # 3").body[0]
    assert check_statement(statement, ["print(1 + 1)  # 3"], {}) == "printed '2', the README says '3'"


def test_the_readmes_command_lines_parse():
    """Every `autograd-lite ...` line in the README's bash blocks is accepted by the parser (--help of it works)."""
    commands = re.findall(r"^autograd-lite (\w+)", TEXT, flags=re.M)
    assert {"demo", "train", "draw"} <= set(commands)
    done = subprocess.run(
        [sys.executable, "-m", "autograd_lite", "--version"], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert done.stdout.strip() == f"autograd-lite {autograd_lite.__version__}"
