"""`{op-table}`: the table of primitive ops, generated from the rule table (autograd_lite.RULES) at build time.

A new row of rules.py (or one added with register_op before the build) appears here with no edit to the docs.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

from autograd_lite import RULES

HEADER = ("op", "symbol", "inputs", "what it computes")


def op_rows() -> list[tuple[str, str, str, str]]:
    """One (name, symbol, inputs, doc) row per rule, in the table's order; `any` for an n-ary rule."""
    return [
        (name, rule.symbol, "any" if rule.arity is None else str(rule.arity), rule.doc)
        for name, rule in RULES.items()
    ]


def cell(text: str, code: bool) -> nodes.entry:
    """One table cell holding the text, as inline code or as plain words."""
    content = nodes.literal(text=text) if code else nodes.Text(text)
    return nodes.entry("", nodes.paragraph("", "", content))


def table_node(rows: list[tuple[str, str, str, str]]) -> nodes.table:
    """A docutils table of the header and the rows (name and symbol as code)."""
    group = nodes.tgroup(cols=len(HEADER))
    group += [nodes.colspec(colwidth=width) for width in (10, 8, 6, 60)]
    group += nodes.thead("", nodes.row("", *(cell(title, False) for title in HEADER)))
    body = nodes.tbody()
    for name, symbol, inputs, doc in rows:
        body += nodes.row("", cell(name, True), cell(symbol, True), cell(inputs, False), cell(doc, False))
    group += body
    table = nodes.table("", group, classes=["op-table"])
    return table


class OpTable(SphinxDirective):
    """The directive: no arguments, no content."""

    def run(self) -> list[nodes.Node]:
        """The table, built from the rule table as it is now."""
        return [table_node(op_rows())]


def setup(app: Sphinx) -> dict[str, bool]:
    """Register `op-table`."""
    app.add_directive("op-table", OpTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
