"""`Value`: one scalar node of the graph, and `apply`, the only way nodes are made from ops."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from autograd_lite.backward import accumulate_grads
from autograd_lite.modes import _DEFAULT, current
from autograd_lite.registry import RULES, Forward, Rule, add_rule, forward_allowing_infinity
from autograd_lite.tracing import OPAQUE, Opaque

_C = TypeVar("_C")

if TYPE_CHECKING:
    from typing import TypeGuard

    from autograd_lite.types import FloatOrValue


def as_float(x: object, what: str = "Value data") -> float:
    """x as a float if it is a real number (int, float, numpy real scalar); TypeError naming its type otherwise."""
    if type(x) is Opaque:  # Value(x.data) while tracing: a number taken out of the graph
        x.refuse(f"{what} made from traced data (e.g. Value(x.data)), from traced data", depth=3)
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a real number (int, float or numpy real scalar), got {type(x).__name__}")
    try:
        return float(x)
    except OverflowError:  # float() alone says "int too large to convert to float", naming neither value nor place
        raise OverflowError(f"{what} (an {type(x).__name__}) is beyond the float64 range of about ±1.8e308") from None


def methods_from_rules(cls: type[_C]) -> type[_C]:
    """Marks `Value`: its op methods are the rule table's rows with `method=True` (for the mypy plugin; a no-op)."""
    return cls


def _recording(name: str) -> Callable[[Value, FloatOrValue], Value]:
    """Value.__add__ or __mul__: self op other, the node made right here in the common case.

    + and × of two Values with the default switches (a learner's every op) cost no further call but the row's
    forward; any other operand or switch takes `_binary`, which gives the same node or error.
    """

    def operator(self: Value, other: FloatOrValue) -> Value:
        if type(other) is Value and current() is _DEFAULT:
            rule = RULES[name]
            node = _new(Value)
            node.data = rule.forward(self.data, other.data)
            node.grad, node.label, node.op = 0.0, "", rule.name
            node.parents, node.requires_grad = (self, other), True
            return node
        return _binary(name, self, other)

    operator.__name__, operator.__qualname__ = f"__{name}__", f"Value.__{name}__"
    return operator


@methods_from_rules
class Value:
    """A scalar in the graph: its `data`, its accumulated `grad`, and the `op` and `parents` that made it."""

    __slots__ = ("data", "grad", "label", "op", "parents", "requires_grad")
    __array_ufunc__ = None  # numpy scalars on the left defer to our reflected operators

    def __init__(self, data: float, label: str = "", requires_grad: bool = True) -> None:
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}")
        self.data = data if type(data) is float else as_float(data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.parents: tuple[Value, ...] = ()
        self.requires_grad = requires_grad  # False for numbers wrapped by an operator (constants)

    # --- arithmetic: primitives from the rule table, the rest composed from them

    __add__ = _recording("add")  # self + other

    def __radd__(self, other: FloatOrValue) -> Value:  # other + self
        return _binary("add", other, self)

    __mul__ = _recording("mul")  # self * other

    def __rmul__(self, other: FloatOrValue) -> Value:  # other * self
        return _binary("mul", other, self)

    def __pow__(self, other: FloatOrValue) -> Value:
        return _binary("pow", self, other)

    def __rpow__(self, other: FloatOrValue) -> Value:  # other ** self
        return _binary("pow", other, self)

    def __neg__(self) -> Value:  # drawn as the slides' "*-1" gate
        return self * -1.0

    def __sub__(self, other: FloatOrValue) -> Value:  # self + (-other)
        if not _is_operand(other):
            return NotImplemented
        return self + (-other if isinstance(other, Value) else -as_float(other))

    def __rsub__(self, other: FloatOrValue) -> Value:  # other - self
        return other + (-self) if _is_operand(other) else NotImplemented

    def __truediv__(self, other: FloatOrValue) -> Value:  # self * other**-1
        if not _is_operand(other):
            return NotImplemented
        _check_divisor(self.data, _data(other))
        return self * (other**-1 if isinstance(other, Value) else 1.0 / as_float(other))

    def __rtruediv__(self, other: FloatOrValue) -> Value:  # other * self**-1
        if not _is_operand(other):
            return NotImplemented
        _check_divisor(_data(other), self.data)
        reciprocal = self**-1
        # 1/x is one gate on the slides (the expanded sigmoid), not 1 × x**-1
        return reciprocal if not isinstance(other, Value) and other == 1 else other * reciprocal

    def __abs__(self) -> Value:
        return apply("abs", self)

    # exp, log, ..., max, min: the rule table's rows with `method=True`, made by `add_op` (and declared for mypy by
    # autograd_lite/mypy_plugin.py, which reads the same rows)

    # --- the rest

    def backward(self, grad: float = 1.0) -> None:
        """Add d(self)/d(node) · grad to `.grad` of every node in the graph; repeated calls accumulate."""
        if not self.parents and not self.requires_grad:  # every .grad would stay 0 without a word
            raise ValueError(
                f"backward() of a Value that needs no gradient (data={self.data!r}): it was made under no_grad() "
                "or is a constant, so no graph leads to it"
            )
        accumulate_grads(self, as_float(grad, "backward's grad"))

    def __float__(self) -> float:
        if type(self.data) is Opaque:
            self.data.refuse("float() of a Value's traced data")
        if self.parents or self.requires_grad:
            switches = current()
            if switches.taking_partials:
                raise TypeError(
                    f"float() of a Value (data={self.data!r}) cuts the graph, so higher-order gradients would be "
                    "wrong; write partials with autograd_lite.ops (ops.cos, ops.exp, ...) instead of math"
                )
            if switches.float_reads is not None:
                switches.float_reads.append(self.data)
        return self.data

    def __bool__(self) -> bool:  # `if v:` would take one branch for every sample of a compiled batch
        if type(self.data) is Opaque:
            self.data.refuse("a truth test of a Value's traced data")
        raise TypeError(
            f"the truth value of a Value is ambiguous (Value(data={self.data!r})); compare its number instead, "
            "e.g. `v.data > 0`, or use a graph op such as relu, max or min"
        )

    def __repr__(self) -> str:  # the engine's own text: traced data shows as <traced>, and is not a touch
        label = f", label={self.label!r}" if self.label else ""
        data = "<traced>" if type(self.data) is Opaque else repr(self.data)
        return f"Value(data={data}, grad={self.grad!r}{label})"


def _is_operand(x: object) -> TypeGuard[FloatOrValue]:  # traced data is not: Python then asks its refusing dunder
    if type(x) is Value:
        return True
    return type(x) is not Opaque and isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _data(x: FloatOrValue) -> float:
    return x.data if isinstance(x, Value) else float(x)


def _check_divisor(numerator: float, divisor: float) -> None:
    """a / b is a · b**-1: refuse b = 0, and a b whose reciprocal overflows, the same way for a Value or a number.

    Traced data is not checked here: the replay checks every sample (pow's forward refuses 0 ** -1 the same way).
    """
    if type(divisor) is Opaque or type(numerator) is Opaque:
        return
    if divisor == 0:
        raise ZeroDivisionError(f"division by zero: {numerator!r} / {divisor!r}")
    if math.isinf(1.0 / divisor) and math.isfinite(divisor):
        raise OverflowError(f"division: {numerator!r} / {divisor!r} overflows float64 (1 / {divisor!r} is too large)")


def constant(x: FloatOrValue) -> Value:
    """A number as a leaf that needs no gradient (how operators wrap plain numbers)."""
    if isinstance(x, Value):
        return x
    node = _node(x if type(x) is float else as_float(x, "operand"), (), "")
    node.requires_grad = False
    return node


_new = Value.__new__


def _node(data: float, parents: tuple[Value, ...], op: str) -> Value:
    """A node made by an op, skipping the checks `Value(...)` does on user input."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node.op = op
    node.parents = parents
    node.requires_grad = True
    return node


def _binary(name: str, a: object, b: object) -> Value:
    if type(a) is not Value:
        if not _is_operand(a):
            return NotImplemented
        a = constant(a)
    if type(b) is not Value:
        if not _is_operand(b):
            return NotImplemented
        b = constant(b)
    rule = RULES[name]
    switches = current()
    if switches.tracer is None and switches.grad_enabled and not switches.anomaly:  # as in _apply, without a call
        node = _new(Value)
        node.data = rule.forward(a.data, b.data)
        node.grad = 0.0
        node.label = ""
        node.op = rule.name
        node.parents = (a, b)
        node.requires_grad = True
        return node
    return _apply(rule, (a, b))


def _apply(rule: Rule, parents: tuple[Value, ...], forward: Forward | None = None) -> Value:
    """Run the row's forward (or `forward`) on the parents' numbers and record the node under this thread's switches.

    While compile_graph traces, an op with an opaque input runs no forward: its node records the structure only,
    with opaque data, and the replay computes (and checks) its numbers for every sample.
    """
    switches = current()
    if switches.tracer is not None and any(type(p.data) is Opaque for p in parents):
        node = _node(OPAQUE, parents, rule.name)  # type: ignore[arg-type]  # traced data holds no number
        switches.tracer.nodes.append(node)
        return node
    out = (rule.forward if forward is None else forward)(*[p.data for p in parents])
    if switches.anomaly and not math.isfinite(out):
        inputs = ", ".join(repr(p.data) for p in parents)
        raise FloatingPointError(f"{rule.name} produced {out!r} from inputs ({inputs})")
    if switches.grad_enabled:
        return _node(out, parents, rule.name)
    result = _node(out, (), "")
    result.requires_grad = False  # as in PyTorch: a result made under no_grad is a constant, not a parameter
    return result


def apply(op: str, *args: FloatOrValue) -> Value:
    """Apply the rule-table op `op` to Values or numbers, making one node (or none, if it raises)."""
    rule = _checked_rule(op, len(args))
    return _apply(rule, tuple([a if type(a) is Value else constant(a) for a in args]))


def apply_allowing_infinity(op: str, *args: FloatOrValue) -> Value:
    """`apply`, but a result too large for a float (overflow, 0 ** negative) is ±inf, as in numpy and PyTorch.

    For derivatives, which are infinite where a curve is vertical (the slope of x**0.5 at 0): a user's own
    `x ** -1` at 0 still raises.
    """
    rule = _checked_rule(op, len(args))
    parents = tuple([a if type(a) is Value else constant(a) for a in args])
    return _apply(rule, parents, partial(forward_allowing_infinity, rule))


def _checked_rule(op: str, n_inputs: int) -> Rule:
    rule = RULES.get(op)
    if rule is None:
        raise ValueError(f"unknown op {op!r}; the rule table has: {', '.join(RULES)}")
    if rule.arity is not None and n_inputs != rule.arity:
        raise TypeError(f"{op} takes {rule.arity} input(s), got {n_inputs}")
    if rule.arity is None and not n_inputs:
        raise TypeError(f"{op} needs at least one input")
    return rule


def sum_values(values: Iterable[FloatOrValue]) -> Value:
    """Σ values as one n-ary node (one gate instead of a chain of adds); 0 for no values."""
    values = tuple(values)
    return apply("sum", *values) if values else constant(0.0)


def dot(a: Sequence[FloatOrValue], b: Sequence[FloatOrValue], bias: FloatOrValue | None = None) -> Value:
    """Σ a_i·b_i (+ bias) as one node: a neuron's weighted sum without a chain of binary gates."""
    a, b = tuple(a), tuple(b)
    if len(a) != len(b):
        raise ValueError(f"dot needs sequences of equal length, got {len(a)} and {len(b)}")
    if not a and bias is None:
        return constant(0.0)
    return apply("dot", *a, *b, *(() if bias is None else (bias,)))


def add_op(rule: Rule) -> Rule:
    """Add a built-in row to the table; with `method=True` it is also a `Value` method (`x.cos()`, `x.max(y)`)."""
    if rule.method and hasattr(Value, rule.name):
        raise ValueError(f"op {rule.name!r} would hide Value.{rule.name}; choose another name")
    add_rule(rule)
    if rule.method:
        setattr(Value, rule.name, _method(rule))
    return rule


def _method(rule: Rule) -> Callable[..., Value]:
    """The Value method of a one- or two-input row: `x.name()` or `x.name(other)`, other a Value or a number."""
    name = rule.name
    if rule.arity == 1:

        def method(self: Value) -> Value:
            rule = RULES[name]
            if current() is _DEFAULT:  # as in Value.__add__: no further call but the row's forward
                return _node(rule.forward(self.data), (self,), rule.name)
            return _apply(rule, (self,))  # every other case, and every check

    else:

        def method(self: Value, other: FloatOrValue) -> Value:  # type: ignore[misc]  # one name, two signatures
            return apply(name, self, other)

    method.__name__, method.__qualname__ = name, f"Value.{name}"
    method.__doc__ = rule.doc or f"The rule-table op {name!r} of this Value."
    return method
