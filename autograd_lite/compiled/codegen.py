"""Straight-line numpy code for a plan: one function for the forward sweep, one for the backward sweep.

The forward function takes the input block and the leaf block and returns every
array the backward sweep needs; the backward function takes those arrays and one
zeroed adjoint array per block (the outputs' rows already seeded) and adds
d(outputs)/d(row) into them. Elementwise blocks call the rule table's
`vectorized` and `partials`; matrix-product blocks are the n-ary `dot` rule
applied to a whole layer at once: out = W @ x + bias, whose adjoints are
gW = g @ xᵀ, gx = Wᵀ @ g and gbias = g (dot's partials: each side gets the other).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from autograd_lite.compiled.plan import INPUTS, LEAVES, Block, Gather, Plan
from autograd_lite.rules import RULES


class Program:
    """The generated source, compiled to Python functions (never from user text)."""

    def __init__(self, plan: Plan, outputs: set[int]) -> None:
        self.plan = plan
        self.outputs = outputs  # blocks holding an output: their adjoints come seeded
        self._ready: set[int] = set()  # blocks whose adjoint exists so far in the backward code
        # add: np.add.reduce, a sum without ndarray.sum's Python wrapper (this code runs every step)
        self.namespace: dict[str, Any] = {"np": np, "grid": _grid, "times": _times, "add": np.add.reduce}
        self.saved: list[str] = []  # names returned by forward, in order
        self.arguments: dict[int, str] = {}  # elementwise block -> its operands in the generated code
        self._probed: dict[tuple[str, int], tuple[float | None, ...]] = {}  # (op, arity) -> constant partials
        self.forward_source = self._function("forward", "v0, v1", self._forward_lines(), f"return ({self._saved()})")
        self.forward = self._compile("forward", self.forward_source)
        self._backward: dict[bool, Any] = {}
        self.backward_sources: dict[bool, str] = {}

    def backward(self, with_inputs: bool) -> Any:
        """The backward function; with `with_inputs` it also returns the input block's adjoints.

        It takes the saved arrays and the seeded adjoints of the output blocks
        ({block: array}) and returns the adjoints of (leaf block, input block).
        Every other adjoint is created by its first contribution.
        """
        if with_inputs not in self._backward:
            self._ready = set(self.outputs)
            header = [f"({self._saved()}) = S", *(f"g{b} = G[{b}]" for b in sorted(self._ready))]
            lines = []
            for block in reversed(self.plan.blocks[2:]):
                lines += self._backward_lines(block, with_inputs)
            inputs = self._adjoint(INPUTS) if with_inputs else "None"
            tail = f"return ({self._adjoint(LEAVES)}, {inputs})"
            source = self._function("backward", "S, G", header + _freeing(lines), tail)
            self.backward_sources[with_inputs] = source
            self._backward[with_inputs] = self._compile("backward", source)
        return self._backward[with_inputs]

    def _adjoint(self, block: int) -> str:
        return f"g{block}" if block in self._ready else f"np.zeros_like(v{block})"

    @property
    def source(self) -> str:
        """The forward and backward code, for reading."""
        self.backward(True)
        return self.forward_source + "\n" + self.backward_sources[True]

    # --- emitting -------------------------------------------------------------------

    def _saved(self) -> str:
        return ", ".join(self.saved) + ","

    @staticmethod
    def _function(name: str, args: str, lines: list[str], tail: str) -> str:
        body = "".join(f"    {line}\n" for line in [*lines, tail])
        return f"def {name}({args}):\n{body}"

    def _compile(self, name: str, source: str) -> Any:
        scope: dict[str, Any] = {}
        exec(compile(source, f"<compiled graph: {name}>", "exec"), self.namespace, scope)
        return scope[name]

    def _const(self, prefix: str, value: Any) -> str:
        """A name in the generated code's namespace bound to `value` (index arrays, rule functions)."""
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def _save(self, name: str) -> str:
        self.saved.append(name)
        return name

    def _forward_lines(self) -> list[str]:
        self._save("v0")
        self._save("v1")
        lines: list[str] = []
        for block in self.plan.blocks[2:]:
            lines += self._matmul_forward(block) if block.weights else self._elementwise_forward(block)
        # One number that is finite only if every value is: a NaN or inf anywhere makes the sum NaN or inf.
        lines.append(f"{self._save('total')} = " + " + ".join(f"add(v{b.index}, None)" for b in self.plan.blocks[2:]))
        return lines

    def _elementwise_forward(self, block: Block) -> list[str]:
        i = block.index
        rule = RULES[block.op]
        f = self._const("F_" + block.op + "_", rule.vectorized)
        args, lines = [], []
        for j, operand in enumerate(block.operands):
            expr = self._read(operand, broadcast=True)
            if expr != f"v{operand.block}":
                lines.append(f"{self._save(f'a{i}_{j}')} = {expr}")
                expr = f"a{i}_{j}"
            args.append(expr)
        lines.append(f"{self._save(f'v{i}')} = {f}({', '.join(args)})")
        if block.size > 1 and all(len(set(o.rows)) == 1 for o in block.operands):
            lines.append(f"v{i} = np.repeat(v{i}, {block.size}, axis=0)")  # every row the same node's op
        self.arguments[i] = ", ".join(args)
        return lines

    def _matmul_forward(self, block: Block) -> list[str]:
        i = block.index
        assert block.shared is not None  # a matrix-product block always has its shared operands
        lines = [f"{self._save(f'w{i}')} = {self._weights_read(block)}"]
        lines.append(f"{self._save(f'x{i}')} = {self._read(block.shared, broadcast=False)}")
        bias = f" + {self._read(block.bias, broadcast=True)}" if block.bias else ""
        lines.append(f"{self._save(f'v{i}')} = w{i} @ x{i}{bias}")
        return lines

    def _weights_read(self, block: Block) -> str:
        assert block.weights is not None
        src, rows = block.weights
        view = self._grid(src, rows, "v")
        if view is not None:
            return view
        return f"v{src}[{self._const('I', np.array(rows))}, 0]"

    def _backward_lines(self, block: Block, with_inputs: bool) -> list[str]:
        def wanted(g: Gather | None) -> bool:
            return g is not None and (with_inputs or g.block != INPUTS)

        i = block.index
        lines: list[str] = []
        if block.weights:
            assert block.shared is not None
            shared_varying = self.plan.blocks[block.shared.block].varying
            gs = f"g{i}"
            if not (shared_varying or not block.varying):
                gs = f"gs{i}"
                lines.append(f"gs{i} = add(g{i}, 1, keepdims=True)")
            lines += self._weights_add(block, f"{gs} @ x{i}.T")
            if wanted(block.shared):
                lines += self._add(block.shared, f"w{i}.T @ {gs}", from_varying=shared_varying, broadcast=False)
            if block.bias is not None and wanted(block.bias):
                lines += self._add(block.bias, f"g{i}", from_varying=block.varying, broadcast=True)
            return lines
        rule = RULES[block.op]
        key = (block.op, len(block.operands))
        if key not in self._probed:  # per program: a rule registered later with the same name is probed anew
            self._probed[key] = _constant_partials(*key)
        constants = self._probed[key]
        args = self.arguments[i]
        if any(c is None for c in constants):
            lines.append(f"d{i} = {self._const('D_' + block.op + '_', rule.partials)}(v{i}, {args})")
        for j, operand in enumerate(block.operands):
            c = constants[j]
            if not wanted(operand) or c == 0.0:
                continue
            if c is None and len(block.operands) == 1:  # g is read here only: multiply in its memory
                contribution = f"times(g{i}, d{i}[0])"
            else:
                contribution = f"g{i} * d{i}[{j}]" if c is None else (f"g{i}" if c == 1.0 else f"g{i} * {c!r}")
            lines += self._add(operand, contribution, from_varying=block.varying, broadcast=True)
        return lines

    def _weights_add(self, block: Block, contribution: str) -> list[str]:
        assert block.weights is not None
        src, rows = block.weights
        flat = [r for row in rows for r in row]
        lines = self._allocate(src)
        view = self._grid(src, rows, "g")
        if view is not None:  # a view of the adjoint rows: one in-place add, no gather or scatter
            return [*lines, f"gw = {view}", f"gw += {contribution}"]
        index = self._const("I", np.array(rows))
        if len(set(flat)) == len(flat):
            return [*lines, f"g{src}[{index}, 0] += {contribution}"]
        return [*lines, f"np.add.at(g{src}[:, 0], {index}, {contribution})"]

    def _grid(self, src: int, rows: tuple[tuple[int, ...], ...], prefix: str) -> str | None:
        """Code for a (size, n) view of a one-column block whose rows[i][j] = start + i·step + j, or None."""
        args = _grid_args(rows)
        if args is None:
            return None
        start, size, n, step = args
        if start + size * step <= self.plan.blocks[src].size:  # a slice reshaped (cheaper than as_strided)
            cut = "" if step == n else f"[:, :{n}]"
            return f"{prefix}{src}[{start}:{start + size * step}, 0].reshape({size}, {step}){cut}"
        return f"grid({prefix}{src}, {start}, {size}, {n}, {step})"

    def _allocate(self, block: int) -> list[str]:
        """A zeroed adjoint for `block` if nothing has been added to it yet."""
        if block in self._ready:
            return []
        self._ready.add(block)
        return [f"g{block} = np.zeros_like(v{block})"]

    # --- gathering rows and scattering adjoints back ------------------------------------

    def _read(self, g: Gather, broadcast: bool) -> str:
        """Code reading rows `g.rows` of block `g.block`; a repeated single row stays one row if `broadcast`."""
        rows, name = g.rows, f"v{g.block}"
        kind = self._rows_kind(g, broadcast)
        if kind == "all":
            return name
        if kind in ("one", "range"):
            return f"{name}[{rows[0]}:{rows[0] + (1 if kind == 'one' else len(rows))}]"
        if kind == "stride":
            return f"{name}[{_stride_slice(rows)}]"
        return f"{name}[{self._const('I', np.array(rows))}]"

    def _add(self, g: Gather, contribution: str, from_varying: bool, broadcast: bool) -> list[str]:
        """Code adding a contribution (one row per reading node) into the adjoints of the rows it read."""
        rows, name = g.rows, f"g{g.block}"
        c = contribution
        if from_varying and not self.plan.blocks[g.block].varying:
            c = f"add({c}, 1, keepdims=True)"  # an input-independent row was used by every sample
        kind = self._rows_kind(g, broadcast)
        if kind == "all" and g.block not in self._ready:
            self._ready.add(g.block)  # the first contribution becomes the adjoint (a copy if it is another's)
            return [f"{name} = {c}.copy()" if c.isidentifier() else f"{name} = {c}"]
        lines = self._allocate(g.block)
        if kind == "all":
            return [*lines, f"{name} += {c}"]
        if kind == "one":
            summed = f"add({c}, 0, keepdims=True)" if len(rows) > 1 else c
            return [*lines, f"{name}[{rows[0]}:{rows[0] + 1}] += {summed}"]
        if kind == "range":
            return [*lines, f"{name}[{rows[0]}:{rows[0] + len(rows)}] += {c}"]
        if kind == "stride":
            return [*lines, f"{name}[{_stride_slice(rows)}] += {c}"]
        index = self._const("I", np.array(rows))
        if len(set(rows)) == len(rows):
            return [*lines, f"{name}[{index}] += {c}"]
        return [*lines, f"np.add.at({name}, {index}, {c})"]

    def _rows_kind(self, g: Gather, broadcast: bool) -> str:
        """How rows are taken: the whole block, one row for all, a contiguous range, or by index."""
        rows = g.rows
        if rows == tuple(range(self.plan.blocks[g.block].size)):
            return "all"
        if len(rows) == 1 or (broadcast and len(set(rows)) == 1):
            return "one"
        if rows == tuple(range(rows[0], rows[0] + len(rows))):
            return "range"
        if rows[1] > rows[0] and rows == tuple(range(rows[0], rows[-1] + 1, rows[1] - rows[0])):
            return "stride"  # every k-th row, e.g. the biases between the weights of a layer's neurons
        return "index"


def _times(g: np.ndarray, d: Any) -> np.ndarray:
    """g·d, in g's memory when that holds the product (g is an adjoint that nothing reads afterwards)."""
    if type(d) is np.ndarray and d.shape == g.shape and d.dtype == g.dtype:
        g *= d
        return g
    return g * d


def _freeing(lines: list[str]) -> list[str]:
    """`lines` with each intermediate adjoint (g2, g3, ...; not the leaves' g1 or the inputs' g0) and each
    block's partials (d2, d3, ...) deleted after their last use, so a large batch holds few of them at once."""
    last: dict[str, int] = {}
    for k, line in enumerate(lines):
        for name in re.findall(r"\b(g[2-9]\d*|g1\d+|gs\d+|d\d+)\b", line):
            last[name] = k
    after: dict[int, list[str]] = {}
    for name, k in last.items():
        after.setdefault(k, []).append(name)
    out = []
    for k, line in enumerate(lines):
        out.append(line)
        if k in after:
            out.append(f"del {', '.join(sorted(after[k]))}")
    return out


def _stride_slice(rows: tuple[int, ...]) -> str:
    """A basic slice taking `rows`, an arithmetic progression (a view, not a copy)."""
    return f"{rows[0]}:{rows[-1] + 1}:{rows[1] - rows[0]}"


def _grid_args(rows: tuple[tuple[int, ...], ...]) -> tuple[int, int, int, int] | None:
    """(start, size, n, step) when rows[i][j] = start + i·step + j (a layer's weights), else None."""
    start, n = rows[0][0], len(rows[0])
    step = rows[1][0] - start if len(rows) > 1 else n
    if step < n:
        return None
    for i, row in enumerate(rows):
        if row != tuple(range(start + i * step, start + i * step + n)):
            return None
    return start, len(rows), n, step


def _grid(block: np.ndarray, start: int, size: int, n: int, step: int) -> np.ndarray:
    """A (size, n) view of a one-column block: row i is block[start + i·step : start + i·step + n, 0]."""
    column = block[start:, 0]
    stride = column.strides[0]
    return np.lib.stride_tricks.as_strided(column, (size, n), (step * stride, stride))


def _constant_partials(op: str, arity: int) -> tuple[float | None, ...]:
    """Per input of `op`: its local derivative if the rule gives a plain number on arrays (add: 1.0), else None."""
    rule = RULES[op]
    probe = [np.full((1, 1), 0.5) for _ in range(arity)]
    if rule.vectorized is None:
        return (None,) * arity
    try:
        partials = rule.partials(rule.vectorized(*probe), *probe)
    except Exception:  # a rule that cannot run on the probe is simply not specialised
        return (None,) * arity
    return tuple(None if isinstance(d, np.ndarray) or not isinstance(d, (int, float)) else float(d) for d in partials)
