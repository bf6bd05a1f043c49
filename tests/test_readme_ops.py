"""The op table of the docs is generated from the rule table: every row, in order, and a row added later too."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

from docutils import nodes

import autograd_lite as ag
from autograd_lite import RULES

DOCS = Path(__file__).resolve().parent.parent / "docs"
spec = importlib.util.spec_from_file_location("optable", DOCS / "_ext" / "optable.py")
assert spec is not None and spec.loader is not None
optable = importlib.util.module_from_spec(spec)
spec.loader.exec_module(optable)


def rendered_rows() -> list[list[str]]:
    """The text of each body row of the table the directive builds."""
    table = optable.table_node(optable.op_rows())
    body = next(table.findall(nodes.tbody))
    return [[entry.astext() for entry in row.findall(nodes.entry)] for row in body.findall(nodes.row)]


def test_the_table_has_every_rule_in_the_tables_order():
    rows = rendered_rows()
    assert [row[0] for row in rows] == list(RULES)
    for name, symbol, inputs, doc in rows:
        rule = RULES[name]
        assert (symbol, doc) == (rule.symbol, rule.doc)
        assert inputs == ("any" if rule.arity is None else str(rule.arity))


def test_a_registered_op_appears_without_editing_the_docs():
    ag.register_op("cube_root_ok", lambda x: math.copysign(abs(x) ** (1 / 3), x), lambda out, x: (1 / (3 * out * out),),
                   symbol="∛", domain=((0.5, 3.0),))
    assert rendered_rows()[-1][:3] == ["cube_root_ok", "∛", "1"]


def test_the_rules_guide_uses_the_generated_table():
    text = (DOCS / "guides" / "rules.md").read_text(encoding="utf-8")
    assert "```{op-table}" in text
    assert "| `add` |" not in text  # no hand-kept copy beside it
