"""The README's op table lists exactly the ops of the rule table, with their symbols, input counts and docs."""

from __future__ import annotations

import re
from pathlib import Path

from autograd_lite import RULES

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| `(\w+)` \| `([^`]+)` \| (\w+) \| (.*) \|$")


def readme_rows() -> dict[str, tuple[str, str, str]]:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- op table:", 1)[1].split("\n\n", 1)[0]
    return {m[1]: (m[2], m[3], m[4]) for m in map(ROW.match, table.splitlines()) if m}


def table_line(name: str) -> str:
    rule = RULES[name]
    inputs = "any" if rule.arity is None else str(rule.arity)
    return f"| `{name}` | `{rule.symbol}` | {inputs} | {rule.doc} |"


def test_readme_op_table_matches_the_rule_table():
    rows = readme_rows()
    missing = [table_line(name) for name in RULES if name not in rows]
    assert not missing, "add to the README's op table:\n" + "\n".join(missing)
    assert not set(rows) - set(RULES), f"the README lists ops that are not rows: {sorted(set(rows) - set(RULES))}"
    for name, (symbol, inputs, doc) in rows.items():
        assert f"| `{name}` | `{symbol}` | {inputs} | {doc} |" == table_line(name), f"README row for {name}"
    assert list(rows) == list(RULES)  # the same order as rules.py
