"""A mypy plugin declaring `Value`'s op methods from the rule table, so that a new row needs no hand-written stub.

Each row with `method=True` is `def name(self) -> Value` (one input) or `def name(self, other: float | Value) ->
Value` (two inputs) on the class marked `@methods_from_rules`, exactly as `add_op` makes it at run time. Enable it
with `plugins = ["autograd_lite.mypy_plugin"]` under `[tool.mypy]` (this project's pyproject.toml does). The plugin
reads the rows by importing autograd_lite, and reports them to mypy, so a changed row re-checks what uses Value.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import ARG_POS, Argument, Var
from mypy.plugin import ClassDefContext, Plugin, ReportConfigContext
from mypy.plugins.common import add_method_to_class
from mypy.types import Instance, UnionType

from autograd_lite.registry import RULES
from autograd_lite.value import methods_from_rules

MARK = f"{methods_from_rules.__module__}.{methods_from_rules.__name__}"


def method_rows() -> list[tuple[str, int]]:
    """(name, number of inputs) of every row that is a Value method."""
    return [(name, rule.arity) for name, rule in RULES.items() if rule.method and rule.arity in (1, 2)]


def declare_methods(ctx: ClassDefContext) -> bool:
    """Add one method per method row to the marked class; True: done (mypy may call again after a deferral)."""
    value = Instance(ctx.cls.info, [])
    scalar = UnionType([ctx.api.named_type("builtins.float"), value])
    for name, arity in method_rows():
        if name in ctx.cls.info.names:  # declared on an earlier pass
            continue
        other = [Argument(Var("other", scalar), scalar, None, ARG_POS)] if arity == 2 else []
        add_method_to_class(ctx.api, ctx.cls, name, other, value)
    return True


class RuleMethods(Plugin):
    """Declares the rule table's Value methods for mypy."""

    def get_class_decorator_hook_2(self, fullname: str) -> Callable[[ClassDefContext], bool] | None:
        return declare_methods if fullname == MARK else None

    def report_config_data(self, ctx: ReportConfigContext) -> list[tuple[str, int]] | None:
        return method_rows() if ctx.id == methods_from_rules.__module__ else None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return RuleMethods
