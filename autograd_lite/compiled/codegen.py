"""Straight-line numpy code for a plan: one function for the forward sweep, one for the backward sweep.

The forward function takes the input block, the leaf block and the views of the
leaf block that `views` makes (a layer's weights and biases: made once per leaf
array), and returns only the arrays the backward sweep reads and the outputs,
freeing the others as soon as it is past them. The backward function takes those
arrays and the seeded adjoints of the output blocks, and writes d(outputs)/d(row)
into one adjoint per block: a first write assigns (a matrix product or sum straight
into the rows, with out=), later ones add. Elementwise blocks call the rule table's
`vectorized` and `partials`; matrix-product blocks are the n-ary `dot` rule
applied to a whole layer at once: out = W @ x + bias, whose adjoints are
gW = g @ xᵀ, gx = Wᵀ @ g and gbias = g (dot's partials: each side gets the other).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import CodeType
from typing import Any

import numpy as np

from autograd_lite.compiled import liveness
from autograd_lite.compiled.plan import INPUTS, LEAVES, Block, Gather, Plan
from autograd_lite.rules import RULES


@dataclass(frozen=True)
class Allocate:
    """Where the backward sweep creates adjoint `block`: zeros or uninitialised, known once the sweep is written."""

    block: int


Line = str | Allocate  # a line of the backward sweep
Saved = tuple["np.ndarray | float", ...]  # what the forward function returns: arrays, then the sum of every value
Views = tuple[np.ndarray, ...]  # the leaf block's views the forward function takes
Generated = Callable[..., Any]  # Any: a function of the generated code (its results are typed where they are used)


class Program:
    """The generated source, compiled to Python functions (never from user text)."""

    def __init__(self, plan: Plan, outputs: set[int]) -> None:
        self.plan = plan
        self.outputs = outputs  # blocks holding an output: their adjoints come seeded
        self._ready: set[int] = set()  # blocks whose adjoint exists so far in the backward code
        self._written: dict[int, np.ndarray] = {}  # per adjoint: which rows hold a value so far
        self._zeroed: set[int] = set()  # adjoints that must start as zeros (some row is added into, or never set)
        # add: np.add.reduce, a sum without ndarray.sum's Python wrapper (this code runs every step)
        self.namespace: dict[str, object] = {
            "np": np, "grid": _grid, "times": _times, "select": _select, "add": np.add.reduce
        }
        self.every: list[str] = []  # every array the forward sweep makes, in order
        self.last_use: dict[str, int] = {}  # per array of the forward sweep: the last block that reads it
        self.leaf_views: list[tuple[str, str]] = []  # (name, view of the leaf block): made once per leaf array
        self.arguments: dict[int, str] = {}  # elementwise block -> its operands in the generated code
        self._last_reader = liveness.last_reader(plan)
        kept = liveness.kept(plan, outputs)
        forward = self._forward_lines()
        self.saved = [name for name in self.every if name in kept] + ["total"]  # what forward returns, in order
        view_names = [name for name, _ in self.leaf_views]
        unpack = [f"({', '.join(view_names)},) = R"] if view_names else []
        dropped = set(self.every) - kept - set(view_names)  # freed after their last use (the views live on in R)
        self.forward_source = self._function(
            "forward", "v0, v1, R", unpack + self._freeing_forward(forward, dropped), f"return ({self._saved()})"
        )
        self.forward = self._compile("forward", self.forward_source)
        views = "".join(f"{expr}, " for _, expr in self.leaf_views)
        self.views_source = self._function("views", "v1", [], f"return ({views})")
        self.views = self._compile("views", self.views_source)
        everything = f"return ({', '.join(self.every)},)"  # for the error path: where a NaN or inf arose
        self._every_source = self._function("forward", "v0, v1, R", unpack + _joined(forward), everything)
        self._forward_every: Generated | None = None
        self._header = [f"({self._saved()}) = S", "B, dt = v0.shape[1], v1.dtype"]
        self._header += [f"g{b} = G[{b}]" for b in sorted(outputs)]
        self._backward_sources: dict[bool, str] = {}  # written when first asked for: a fit needs one of the two
        self._backward: dict[bool, Generated] = {}

    def forward_every(self, batch: np.ndarray, leaf_block: np.ndarray) -> dict[str, np.ndarray | float]:
        """Every array of the forward sweep by name (for finding where a NaN or inf arose; slower, keeps all)."""
        if self._forward_every is None:
            self._forward_every = self._compile("forward", self._every_source)
        return dict(zip(self.every, self._forward_every(batch, leaf_block, self.views(leaf_block)), strict=True))

    def backward(self, with_inputs: bool) -> Generated:
        """The backward function; with `with_inputs` it also returns the input block's adjoints.

        It takes forward's arrays and the seeded adjoints of the output blocks
        ({block: array}, which it may overwrite) and returns the adjoints of
        (leaf block, input block). Every other adjoint is created by its first contribution.
        """
        if with_inputs not in self._backward:
            self._backward[with_inputs] = self._compile("backward", self.backward_source(with_inputs))
        return self._backward[with_inputs]

    def backward_source(self, with_inputs: bool) -> str:
        """The backward function's text (with `with_inputs`, returning the input block's adjoints too)."""
        if with_inputs not in self._backward_sources:
            body, tail = self._backward_body(with_inputs)
            self._backward_sources[with_inputs] = self._function("backward", "S, G", self._header + body, tail)
        return self._backward_sources[with_inputs]

    def _backward_body(self, with_inputs: bool) -> tuple[list[str], str]:
        """(the backward sweep's lines, its return line)."""
        self._ready, self._zeroed = set(self.outputs), set()
        self._written = {b: np.ones(self.plan.blocks[b].size, bool) for b in self.outputs}  # seeded: all set
        lines: list[str | Allocate] = []
        for block in reversed(self.plan.blocks[2:]):
            body, temporaries = self._backward_lines(block, with_inputs)
            lines += body
            if temporaries:  # no block before this one reads them: block i's adjoint is complete once it is swept
                lines.append(f"del {', '.join(temporaries)}")
        inputs = self._adjoint(INPUTS) if with_inputs else "None"
        tail = f"return ({self._adjoint(LEAVES)}, {inputs})"
        return [self._allocation(line.block) if isinstance(line, Allocate) else line for line in lines], tail

    def _allocation(self, b: int) -> str:
        """The line creating adjoint `b`: uninitialised if every row is set before anything adds to it."""
        fill = "zeros" if b in self._zeroed or not self._written[b].all() else "empty"
        return f"g{b} = np.{fill}(({self.plan.blocks[b].size}, {'B' if self.plan.blocks[b].varying else '1'}), dt)"

    def _adjoint(self, block: int) -> str:
        return f"g{block}" if block in self._ready else f"np.zeros_like(v{block})"

    @property
    def source(self) -> str:
        """The forward and backward code, for reading."""
        return self.views_source + "\n" + self.forward_source + "\n" + self.backward_source(True)

    # --- emitting -------------------------------------------------------------------

    def _saved(self) -> str:
        return ", ".join(self.saved) + ","

    @staticmethod
    def _function(name: str, args: str, lines: list[str], tail: str) -> str:
        body = "".join(f"    {line}\n" for line in [*lines, tail])
        return f"def {name}({args}):\n{body}"

    def _compile(self, name: str, source: str) -> Generated:
        scope: dict[str, Generated] = {}
        exec(_code(name, source), self.namespace, scope)
        return scope[name]

    def _const(self, prefix: str, value: object) -> str:
        """A name in the generated code's namespace bound to `value` (index arrays, rule functions)."""
        name = f"{prefix}{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def _save(self, name: str, block: int) -> str:
        """Note an array the forward sweep makes; block i's operands are read by block i alone, its value by its
        readers."""
        self.every.append(name)
        self.last_use[name] = self._last_reader[block] if name == f"v{block}" else block
        return name

    def _forward_lines(self) -> list[tuple[int, list[str]]]:
        """(block, its lines) for the forward sweep, in order."""
        self._save("v0", INPUTS)
        self._save("v1", LEAVES)
        # One number that is finite only if every value is: a NaN or inf anywhere makes the sum NaN or inf. An op
        # that keeps finite numbers finite adds nothing to it, unless it reads the leaves (a NaN parameter).
        groups = [(LEAVES, ["total = 0.0"])]
        for block in self.plan.blocks[2:]:
            lines = self._matmul_forward(block) if block.weights else self._elementwise_forward(block)
            if block.weights or not RULES[block.op].keeps_finite or any(o.block == LEAVES for o in block.operands):
                lines.append(f"total += add(v{block.index}, None)")
            groups.append((block.index, lines))
        return groups

    def _freeing_forward(self, groups: list[tuple[int, list[str]]], dropped: set[str]) -> list[str]:
        """The forward's lines, each array in `dropped` deleted after the last block that reads it: a large batch
        holds about what hand-written numpy would."""
        after: dict[int, list[str]] = {}
        for name in dropped:
            after.setdefault(self.last_use[name], []).append(name)
        lines: list[str] = []
        for index, body in groups:
            lines += body
            if index in after:
                lines.append(f"del {', '.join(sorted(after[index]))}")
        return lines

    def _elementwise_forward(self, block: Block) -> list[str]:
        i = block.index
        rule = RULES[block.op]
        f = self._const("F_" + block.op + "_", rule.vectorized)
        args = liveness.operand_names(self.plan, block)
        lines: list[str] = []
        for name, operand in zip(args, block.operands, strict=True):
            if name != f"v{operand.block}":
                lines += self._assign(name, self._read(operand, broadcast=True), self._is_view(operand, True), i)
        lines.append(f"{self._save(f'v{i}', i)} = {f}({', '.join(args)})")
        if block.size > 1 and all(len(set(o.rows)) == 1 for o in block.operands):
            lines.append(f"v{i} = np.repeat(v{i}, {block.size}, axis=0)")  # every row the same node's op
        self.arguments[i] = ", ".join(args)
        return lines

    def _matmul_forward(self, block: Block) -> list[str]:
        i = block.index
        assert block.shared is not None  # a matrix-product block always has its shared operands
        weights, weights_view = self._weights_read(block)
        lines = self._assign(f"w{i}", weights, weights_view, i)
        lines += self._assign(f"x{i}", self._read(block.shared, False), self._is_view(block.shared, False), i)
        bias = ""
        if block.bias:
            lines += self._assign(f"b{i}", self._read(block.bias, True), self._is_view(block.bias, True), i)
            bias = f" + b{i}"
        lines.append(f"{self._save(f'v{i}', i)} = w{i} @ x{i}{bias}")
        return lines

    def _assign(self, name: str, expr: str, view: bool, block: int) -> list[str]:
        """The line `name = expr`, or none if expr is a view of the leaf block: made once per leaf array instead."""
        self._save(name, block)
        if view:
            self.leaf_views.append((name, expr))
            return []
        return [f"{name} = {expr}"]

    def _is_view(self, g: Gather, broadcast: bool) -> bool:
        """The rows are a basic slice of the leaf block: a view that stays valid while the leaf array does."""
        return g.block == LEAVES and liveness.rows_kind(self.plan, g, broadcast) in ("one", "range", "stride")

    def _weights_read(self, block: Block) -> tuple[str, bool]:
        """Code reading a matrix product's weights, and whether it is a view of the leaf block."""
        assert block.weights is not None
        src, rows = block.weights
        view = self._grid(src, rows, "v")
        if view is not None:
            return view, src == LEAVES
        return f"v{src}[{self._const('I', np.array(rows))}, 0]", False

    def _backward_lines(self, block: Block, with_inputs: bool) -> tuple[list[Line], list[str]]:
        """Block i's backward code, and the names it made that no earlier block reads (its adjoint among them)."""
        i = block.index
        if i not in self._ready:  # nothing downstream reads it: a node the function made but did not return
            return [], []
        if block.weights:
            lines, temporaries = self._matmul_backward(block, with_inputs)
        else:
            lines, temporaries = self._elementwise_backward(block, with_inputs)
        return lines, [f"g{i}", *temporaries]

    def _matmul_backward(self, block: Block, with_inputs: bool) -> tuple[list[Line], list[str]]:
        i = block.index
        lines: list[Line] = []
        assert block.shared is not None
        assert block.shared is not None
        shared_varying = self.plan.blocks[block.shared.block].varying
        gs = f"g{i}"
        if not (shared_varying or not block.varying):
            gs = f"gs{i}"
            lines.append(f"gs{i} = add(g{i}, 1, keepdims=True)")
        lines += self._weights_add(block, f"np.matmul({gs}, x{i}.T)")
        if with_inputs or block.shared.block != INPUTS:
            lines += self._add(block.shared, f"np.matmul(w{i}.T, {gs})", shared_varying, False, call=True)
        if block.bias is not None and (with_inputs or block.bias.block != INPUTS):
            lines += self._add(block.bias, f"g{i}", from_varying=block.varying, broadcast=True)
        return lines, [gs] if gs != f"g{i}" else []

    def _elementwise_backward(self, block: Block, with_inputs: bool) -> tuple[list[Line], list[str]]:
        i = block.index
        rule = RULES[block.op]
        lines: list[Line] = []
        constants = liveness.slopes(block)
        args = self.arguments[i] if rule.slopes_read_inputs else ", ".join(["None"] * len(constants))
        temporaries = []
        if liveness.calls_partials(block):
            lines.append(f"d{i} = {self._const('D_' + block.op + '_', rule.partials)}(v{i}, {args})")
            temporaries.append(f"d{i}")
        for j, operand in enumerate(block.operands):
            c = constants[j]
            if not (with_inputs or operand.block != INPUTS) or c == 0.0:
                continue
            if c is None and rule.selects:  # a selection: g where the partial is not 0, and 0 there (no 0·inf)
                alone = len(block.operands) == 1  # g is read here only: select in its memory
                lines += self._add(operand, f"select(g{i}, d{i}[{j}], {alone})", block.varying, True)
            elif c is None and len(block.operands) == 1:  # g is read here only: multiply in its memory
                lines += self._add(operand, f"times(g{i}, d{i}[0])", block.varying, True)
            elif c == 1.0:
                lines += self._add(operand, f"g{i}", block.varying, True)
            else:
                factor = f"d{i}[{j}]" if c is None else repr(c)
                lines += self._add(operand, f"np.multiply(g{i}, {factor})", block.varying, True, call=True)
        return lines, temporaries

    def _weights_add(self, block: Block, contribution: str) -> list[Line]:
        """Code adding a matrix product's weight adjoints (a call taking out=) into the leaf rows they came from."""
        assert block.weights is not None
        src, rows = block.weights
        flat = [r for row in rows for r in row]
        lines = self._allocate(src)
        view = self._grid(src, rows, "g")
        if view is not None:  # a view of the adjoint rows: written in place, no gather or scatter
            return [*lines, f"gw = {view}", _write("gw", contribution, self._mark(src, flat), call=True)]
        index = self._const("I", np.array(rows))
        if len(set(flat)) == len(flat):
            return [*lines, _write(f"g{src}[{index}, 0]", contribution, self._mark(src, flat), call=False)]
        self._mark(src, flat, assigns=False)
        return [*lines, f"np.add.at(g{src}[:, 0], {index}, {contribution})"]

    def _mark(self, block: int, rows: list[int] | tuple[int, ...], assigns: bool = True) -> bool:
        """Note a write into `rows` of a block's adjoint; True if none of them was written before (it may assign).

        Adding into a row that holds nothing yet needs the adjoint to start as zeros.
        """
        written = self._written.get(block)
        if written is None:
            written = self._written[block] = np.zeros(self.plan.blocks[block].size, bool)
        index = np.fromiter(rows, int, len(rows))
        before = written[index]
        first = assigns and not before.any()
        if not first and not before.all():
            self._zeroed.add(block)
        written[index] = True
        return first

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

    def _allocate(self, block: int) -> list[Line]:
        """An adjoint for `block` if it has none yet: zeros or uninitialised, decided when the sweep is written."""
        if block in self._ready:
            return []
        self._ready.add(block)
        return [Allocate(block)]

    # --- gathering rows and scattering adjoints back ------------------------------------

    def _read(self, g: Gather, broadcast: bool) -> str:
        """Code reading rows `g.rows` of block `g.block`; a repeated single row stays one row if `broadcast`."""
        rows, name = g.rows, f"v{g.block}"
        kind = liveness.rows_kind(self.plan, g, broadcast)
        if kind == "all":
            return name
        if kind in ("one", "range"):
            return f"{name}[{rows[0]}:{rows[0] + (1 if kind == 'one' else len(rows))}]"
        if kind == "stride":
            return f"{name}[{_stride_slice(rows)}]"
        return f"{name}[{self._const('I', np.array(rows))}]"

    def _add(self, g: Gather, contribution: str, from_varying: bool, broadcast: bool, call: bool = False) -> list[Line]:
        """Code adding a contribution (one row per reading node) into the adjoints of the rows it read.

        `call`: the contribution is one numpy call that can take `out=` (written straight into a first write's rows).
        """
        rows, name = g.rows, f"g{g.block}"
        c = contribution
        if from_varying and not self.plan.blocks[g.block].varying:
            c, call = f"add({c}, 1, keepdims=True)", True  # an input-independent row was used by every sample
        kind = liveness.rows_kind(self.plan, g, broadcast)
        if kind == "all" and g.block not in self._ready:
            self._ready.add(g.block)  # the first contribution becomes the adjoint (a copy if it is another's)
            self._written[g.block] = np.ones(self.plan.blocks[g.block].size, bool)
            return [f"{name} = {c}.copy()" if c.isidentifier() else f"{name} = {c}"]
        lines = self._allocate(g.block)
        if kind == "one" and len(rows) > 1:
            c, call, rows = f"add({c}, 0, keepdims=True)", True, rows[:1]
        if kind == "index":
            index = self._const("I", np.array(rows))
            if len(set(rows)) < len(rows):
                self._mark(g.block, rows, assigns=False)
                return [*lines, f"np.add.at({name}, {index}, {c})"]
            return [*lines, _write(f"{name}[{index}]", c, self._mark(g.block, rows), call=False)]  # a copy: no out=
        if kind == "all":
            target = name
        elif kind == "stride":
            target = f"{name}[{_stride_slice(rows)}]"
        else:  # one row or a contiguous range
            target = f"{name}[{rows[0]}:{rows[0] + len(rows)}]"
        return [*lines, _write(target, c, self._mark(g.block, rows), call)]


def _write(target: str, contribution: str, first: bool, call: bool) -> str:
    """Code putting a contribution into `target`: added, or (a first write) assigned, through out= if a call."""
    if not first:
        return f"{target} += {contribution}"
    if call:  # target is a view (a basic slice): the call writes its result there with no temporary
        return f"{contribution[:-1]}, out={target})"
    return f"{target}[...] = {contribution}" if target.isidentifier() else f"{target} = {contribution}"


@functools.lru_cache(maxsize=64)
def _code(name: str, source: str) -> CodeType:
    """The code of a generated function's text, compiled once per process: a model fitted again (a restart, a
    grid of runs) compiles nothing new. Its names are looked up in each graph's own namespace when it runs."""
    return compile(source, f"<compiled graph: {name}>", "exec")


def _times(g: np.ndarray, d: np.ndarray | float) -> np.ndarray:
    """g·d, in g's memory when that holds the product (g is an adjoint that nothing reads afterwards)."""
    if type(d) is np.ndarray and d.shape == g.shape and d.dtype == g.dtype:
        g *= d
        return g
    return g * d


def _select(g: np.ndarray, d: np.ndarray | float, in_place: bool) -> np.ndarray:
    """The adjoint through a selecting op (relu, abs, max, min): g·d where d is not 0, and 0 where it is, even where
    g is inf or NaN (PyTorch's where-based backward, not 0·inf = NaN).

    relu's boolean mask, when nothing else reads g, is multiplied in g's memory: a masked where is several times
    slower. A 0·inf there makes a NaN, which every later sum, product and matrix product carries into the
    gradient, whose one finiteness check then hands the batch to the per-sample replay that selects.
    """
    if in_place and type(d) is np.ndarray and d.dtype == np.bool_:
        return np.multiply(g, d, out=g) if d.shape == g.shape else g * d
    with np.errstate(invalid="ignore"):  # the inf·0 products are dropped by the where
        return np.where(d, np.multiply(g, d), 0.0)


def _stride_slice(rows: tuple[int, ...]) -> str:
    """A basic slice taking `rows`, an arithmetic progression (a view, not a copy)."""
    return f"{rows[0]}:{rows[-1] + 1}:{rows[1] - rows[0]}"


def _grid_args(rows: tuple[tuple[int, ...], ...]) -> tuple[int, int, int, int] | None:
    """(start, size, n, step) when rows[i][j] = start + i·step + j (a layer's weights), else None."""
    start, n = rows[0][0], len(rows[0])
    step = rows[1][0] - start if len(rows) > 1 else n
    if step < n or any(len(row) != n for row in rows):
        return None
    grid = start + step * np.arange(len(rows))[:, None] + np.arange(n)  # one comparison in C for a whole layer
    return (start, len(rows), n, step) if np.array_equal(np.array(rows), grid) else None


def _grid(block: np.ndarray, start: int, size: int, n: int, step: int) -> np.ndarray:
    """A (size, n) view of a one-column block: row i is block[start + i·step : start + i·step + n, 0]."""
    column = block[start:, 0]
    stride = column.strides[0]
    return np.lib.stride_tricks.as_strided(column, (size, n), (step * stride, stride))


def _joined(groups: list[tuple[int, list[str]]]) -> list[str]:
    """The lines of (block, lines) groups, in order."""
    return [line for _, lines in groups for line in lines]
