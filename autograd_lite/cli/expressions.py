"""Arithmetic expressions from the command line as graphs of Values, read with `ast` (never `eval`).

Allowed: variable names given values, int/float numbers, + - * / **, unary -
and +, and every op of the rule table that is not an infix operator, called as a
function (`exp(x)`, `max(x, y)`, `sum(x, y, z)`): a row added to `RULES` is
usable here with no edit. Parts made only of numbers are worked out as plain
numbers, so the graph holds only gates that involve a variable (`x**2` is one
`**2` gate). A chain of three or more terms joined by + and - is one n-ary Σ
gate, read without recursion, so a long flat sum is not "nested too deeply".
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from autograd_lite.modes import detect_anomaly
from autograd_lite.rules import RULES
from autograd_lite.value import Value, apply, sum_values

INFIX_OPS = {"add": "+", "mul": "*", "pow": "**"}  # rule-table ops written as operators, not called by name
MAX_LENGTH = 10_000
QUOTE_LIMIT = 80  # an error message quotes at most this much of the user's text
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
UNSUPPORTED_OPERATORS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Not: "not",
    ast.Invert: "~",
}

Operand = Value | float


class ExprError(ValueError):
    """A bad expression or variable assignment; the message names the offending text."""


def functions() -> dict[str, int | None]:
    """Name -> number of arguments (None: any) of every op callable by name, read from the rule table now."""
    return {name: rule.arity for name, rule in RULES.items() if name not in INFIX_OPS}


def function_list() -> str:
    """The callable ops for help and error texts: `exp log ... max(2) sum(n)`."""
    return " ".join(name if n == 1 else f"{name}({n or 'n'})" for name, n in functions().items())


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """repr(text), cut to about `limit` characters with an ellipsis, so a huge input never floods the terminal."""
    if len(text) <= limit:
        return repr(text)
    return repr(text[: limit - 10]) + f"… ({len(text)} characters)"


def parse_assignments(items: Sequence[str]) -> dict[str, float]:
    """`["x=-2", "y=5"]` as {"x": -2.0, "y": 5.0}; ExprError for anything else."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep:
            raise ExprError(f"expected NAME=NUMBER, got {quote(item)}")
        if not name.isidentifier() or keyword.iskeyword(name):
            raise ExprError(f"{quote(name)} in {quote(item)} is not a variable name")
        if name in functions():
            raise ExprError(f"{quote(name)} is a function, it cannot be given a value")
        if name in values:
            raise ExprError(f"variable {quote(name)} is given twice")
        try:
            value = float(text)
        except ValueError:
            raise ExprError(f"bad number {quote(text)} for variable {quote(name)}") from None
        if not math.isfinite(value):
            raise ExprError(f"{name}={text} is not a finite number")
        values[name] = value
    return values


def build(expr: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """The graph of `expr` with variables set to `values`: its output and the variables' leaves."""
    if len(expr) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as e:
        where = f" at column {e.offset}" if e.offset else ""
        raise ExprError(f"invalid expression{where}: {e.msg} in {quote(expr)}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExprError(f"cannot read the expression: {e}") from None
    builder = _Builder(expr.strip(), values)
    try:
        with detect_anomaly():  # an inf or nan from an op is an error naming that op
            out = builder.visit(tree.body)
    except RecursionError:
        raise ExprError("expression is nested too deeply (parentheses or calls inside one another)") from None
    unused = sorted(set(values) - set(builder.variables))
    if unused:
        raise ExprError(f"value given for {', '.join(map(repr, unused))}, not used in the expression")
    root = out if isinstance(out, Value) else Value(out, requires_grad=False)
    return root, builder.variables


class _Builder:
    """Turns whitelisted AST nodes into Values (or plain numbers where no variable is involved)."""

    def __init__(self, source: str, values: Mapping[str, float]) -> None:
        self.source = source
        self.values = values
        self.variables: dict[str, Value] = {}

    def text(self, node: ast.AST) -> str:
        """The source text of node, quoted and cut short, for error messages."""
        return quote(ast.get_source_segment(self.source, node) or type(node).__name__)

    def visit(self, node: ast.AST) -> Operand:
        """The value of one AST node; ExprError for anything outside the whitelist."""
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.variable(node)
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise ExprError(
            f"unsupported syntax {self.text(node)} ({type(node).__name__}): use numbers, variables, "
            f"+ - * / ** and {function_list()}"
        )

    def number(self, node: ast.Constant) -> float:
        """A numeric literal as a finite float."""
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ExprError(f"unsupported constant {self.text(node)}: only real numbers are allowed")
        try:
            x = float(v)
        except OverflowError:
            raise ExprError(f"number {self.text(node)} overflows float64") from None
        if not math.isfinite(x):
            raise ExprError(f"number {self.text(node)} overflows float64")
        return x

    def variable(self, node: ast.Name) -> Value:
        """The leaf for a variable, made once per name."""
        name = node.id
        if name in functions():
            raise ExprError(f"{quote(name)} is a function: call it, as in {name}(x)")
        if name not in self.values:
            raise ExprError(f"unknown variable {quote(name)}: give it a value, as in {name}=1.5")
        if name not in self.variables:
            self.variables[name] = Value(self.values[name], label=name)
        return self.variables[name]

    def binary(self, node: ast.BinOp) -> Operand:
        """+ - * / ** on two operands; a chain of 3 or more + and - terms as one Σ gate."""
        terms = sum_chain(node)
        if len(terms) > 2:
            return self.flat_sum(node, terms)
        op = OPERATORS.get(type(node.op))
        if op is None:
            token = UNSUPPORTED_OPERATORS.get(type(node.op), type(node.op).__name__)
            hint = " (for powers use **)" if token == "^" else ""
            raise ExprError(f"unsupported operator {token!r} in {self.text(node)}{hint}")
        a, b = self.visit(node.left), self.visit(node.right)
        return self.checked(node, lambda: _arith(op, a, b))

    def flat_sum(self, node: ast.BinOp, terms: list[tuple[bool, ast.expr]]) -> Operand:
        """±t1 ± t2 ± ...: the Values as one Σ gate (numbers added into one constant input)."""
        values: list[Value] = []
        numbers: list[float] = []
        for negative, term in terms:
            x = self.visit(term)
            signed = self.checked(term, partial(_negated, x)) if negative else x
            if isinstance(signed, Value):
                values.append(signed)
            else:
                numbers.append(signed)
        constant = float(self.checked(node, partial(math.fsum, numbers)))
        if not values:
            return constant
        if len(values) == 1:
            return self.checked(node, lambda: values[0] + constant) if numbers else values[0]
        return self.checked(node, lambda: sum_values([*values, *([constant] if numbers else [])]))

    def unary(self, node: ast.UnaryOp) -> Operand:
        """Unary minus and plus."""
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            token = UNSUPPORTED_OPERATORS.get(type(node.op), type(node.op).__name__)
            raise ExprError(f"unsupported operator {token!r} in {self.text(node)}")
        x = self.visit(node.operand)
        return -x if isinstance(node.op, ast.USub) else x

    def call(self, node: ast.Call) -> Operand:
        """One of the engine's functions, with positional arguments."""
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        known = functions()
        if name not in known:
            raise ExprError(f"unknown function {self.text(node.func)} in {self.text(node)}; allowed: {function_list()}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise ExprError(f"{name} takes plain positional arguments, in {self.text(node)}")
        arity = known[name]
        if (arity is not None and len(node.args) != arity) or not node.args:
            wanted = "at least 1" if arity is None else str(arity)
            raise ExprError(f"{name} takes {wanted} argument(s), got {len(node.args)} in {self.text(node)}")
        args = [self.visit(a) for a in node.args]
        if any(isinstance(a, Value) for a in args):
            return self.checked(node, lambda: apply(name, *args))
        return self.checked(node, lambda: RULES[name].forward(*args))

    def checked(self, node: ast.AST, compute: Callable[[], Operand]) -> Operand:
        """compute(), with overflow, domain errors and non-finite results as ExprError naming node."""
        try:
            out = compute()
        except (ArithmeticError, ValueError) as e:
            raise ExprError(f"cannot evaluate {self.text(node)}: {e}") from None
        if not math.isfinite(out.data if isinstance(out, Value) else out):
            raise ExprError(f"{self.text(node)} overflows float64")
        return out


def sum_chain(node: ast.BinOp) -> list[tuple[bool, ast.expr]]:
    """The terms of a + and - chain, left to right, each with whether it is subtracted (walked without recursion)."""
    terms: list[tuple[bool, ast.expr]] = []
    left: ast.expr = node
    while isinstance(left, ast.BinOp) and isinstance(left.op, (ast.Add, ast.Sub)):
        terms.append((isinstance(left.op, ast.Sub), left.right))
        left = left.left
    terms.append((False, left))
    return terms[::-1]


def _negated(x: Operand) -> Operand:
    return -x


def _arith(op: str, a: Operand, b: Operand) -> Operand:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    if not isinstance(a, Value) and not isinstance(b, Value):
        return RULES["pow"].forward(a, b)  # float ** float raises on overflow, never runs long
    return a**b
