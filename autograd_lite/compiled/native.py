"""The native step (the `fast` extra): a plan's forward and backward sweeps run by kernels that numba compiles.

The kernels (native_code.py) are written once per rule table, not per graph: a
plan reaches them as integer tables made here (per block: size, op, operands'
rows; per layer: where its weights, shared operands and bias are). They are
compiled on first use and kept in numba's on-disk cache beside their source, in
a cache folder under a name that is a hash of the source, so later processes
and new graphs pay no compile. A NaN or an infinity is found as the numpy path
finds it (one sum of the values that could hold one), and what follows, naming
the op and the sample or giving the scalar engine's gradient, is the numpy path's.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from autograd_lite.compiled import liveness
from autograd_lite.compiled import native_code as code
from autograd_lite.compiled.codegen import Program, Saved, Views
from autograd_lite.compiled.plan import INPUTS, LEAVES, Block, Plan
from autograd_lite.rules import RULES

Kernel = Callable[..., Any]  # Any: a numba dispatcher (its results are typed where they are used)
_FORMS: dict[tuple[str, str], Kernel] = {}


def missing() -> str | None:
    """Why the native step cannot run here (numba, or scipy for numba's BLAS calls, not installed), or None."""
    for package in ("numba", "scipy"):
        if importlib.util.find_spec(package) is None:
            return f"the native step needs {package}: pip install 'autograd-lite[fast]'"
    return None


def form(op: str, which: str) -> Kernel:
    """Row `op`'s native forward or slope, compiled by numba (the kernels call it by name)."""
    key = (op, which)
    if key not in _FORMS:
        from numba import njit  # the fast extra, imported only when a native step is built

        native = RULES[op].native
        assert native is not None  # the interpreter is written only for rows that have one
        _FORMS[key] = njit(error_model="numpy")(getattr(native, which))
    return _FORMS[key]


def unsupported(plan: Plan) -> str | None:
    """Why this plan has no native step (an op without a native form), or None."""
    for block in plan.blocks[2:]:
        if not block.weights and RULES[block.op].native is None:
            return f"op {block.op!r} has no native form (a NativeForm in its rule row)"
    return None


class NativeProgram:
    """The plan's sweeps run by the native kernels, with `Program`'s interface (forward, views, backward, saved)."""

    def __init__(self, plan: Plan, outputs: set[int], numpy_program: Program) -> None:
        why = unsupported(plan) or missing()
        if why:
            raise NotImplementedError(why)
        self.plan, self.outputs, self.numpy = plan, outputs, numpy_program
        self.ops = native_ops()
        self.meta, self.operands, self.rows, self.slopes = _tables(
            plan, outputs, {op: k for k, op in enumerate(self.ops)}
        )
        self.kernels = interpreter(self.ops)
        self.seeded = sorted(outputs)
        self.saved = [f"v{b}" for b in self.seeded] + ["values", "total"]  # what forward returns
        self._sizes = np.array([b.size for b in plan.blocks])
        self._varying = np.array([b.varying for b in plan.blocks])
        self._offsets: dict[int, np.ndarray] = {}
        self.source = f"# native step: the interpreter's tables for this plan\nmeta = {self.meta.tolist()}\n"

    def offsets(self, width: int) -> np.ndarray:
        """Where each block starts in the flat buffers, for a batch of `width` samples."""
        if width not in self._offsets:
            self._offsets[width] = np.concatenate([[0], np.cumsum(self._sizes * np.where(self._varying, width, 1))])
        return self._offsets[width]

    def views(self, leaf_block: np.ndarray) -> Views:
        """No views: the kernels read the leaf block themselves."""
        return ()

    def forward(self, batch: np.ndarray, leaf_block: np.ndarray, views: Views) -> Saved:
        """The output blocks, the flat buffer of every value and the sum of those that could be NaN or infinite."""
        values, total = self.kernels.forward(
            np.ascontiguousarray(batch), np.ascontiguousarray(leaf_block), self.meta, self.operands, self.rows
        )
        return (*self._blocks(values, self.seeded, batch.shape[1]), values, total)

    def _blocks(self, flat: np.ndarray, blocks: list[int], width: int) -> list[np.ndarray]:
        off = self.offsets(width)
        shaped = []
        for b in blocks:
            block = self.plan.blocks[b]
            shaped.append(flat[off[b] : off[b + 1]].reshape(block.size, width if block.varying else 1))
        return shaped

    def forward_every(self, batch: np.ndarray, leaf_block: np.ndarray) -> dict[str, np.ndarray | float]:
        """The numpy path's arrays by name (the error path is the numpy path's)."""
        return self.numpy.forward_every(batch, leaf_block)

    def backward(self, with_inputs: bool) -> Callable[[Saved, dict[int, np.ndarray]], tuple[np.ndarray, Any]]:
        """The backward function: (saved, seeds) -> (leaf adjoints (leaves, 1), input adjoints or None)."""

        def backward(saved: Saved, seeds: dict[int, np.ndarray]) -> tuple[np.ndarray, Any]:  # Any: array or None
            values = saved[-2]
            assert isinstance(values, np.ndarray)
            width = self._width(values)
            adjoints = np.zeros_like(values)
            off = self.offsets(width)
            for b, seed in seeds.items():
                adjoints[off[b] : off[b + 1]] = seed.ravel()
            self.kernels.backward(
                values, adjoints, self.meta, self.operands, self.rows, self.slopes, width, with_inputs
            )
            blocks = self._blocks(adjoints, [LEAVES, INPUTS], width)
            return blocks[0], blocks[1] if with_inputs else None

        return backward

    def _width(self, values: np.ndarray) -> int:
        """The batch size a flat buffer was made for (its length is fixed + width · varying)."""
        fixed = int(self._sizes[~self._varying].sum())
        varying = int(self._sizes[self._varying].sum())
        return (len(values) - fixed) // varying if varying else 1


def _tables(plan: Plan, outputs: set[int], kinds: dict[str, int]) -> tuple[np.ndarray, ...]:
    """(meta, operands, rows, constant slopes): the plan as the kernels read it (see native_code's columns)."""
    meta = np.zeros((len(plan.blocks), code.COLUMNS), np.int64)
    operands: list[tuple[int, int]] = []
    rows: list[int] = []
    slopes: list[float] = []
    reached = liveness.adjoint_blocks(plan, outputs, with_inputs=False)
    reached_inputs = liveness.adjoint_blocks(plan, outputs, with_inputs=True)
    for block in plan.blocks:
        m = meta[block.index]
        m[code.SIZE], m[code.VARYING] = block.size, block.varying
        m[code.REACHED], m[code.REACHED_INPUTS] = block.index in reached, block.index in reached_inputs
        m[code.FIRST] = len(operands)
        if block.index in (INPUTS, LEAVES):
            m[code.KIND] = code.SOURCE
        elif block.weights:
            _layer(m, block, rows)
        else:
            m[code.KIND] = kinds[block.op]
            m[code.COUNTED] = not RULES[block.op].keeps_finite or any(g.block == LEAVES for g in block.operands)
            m[code.DIRECT] = all(_run(g.rows) and plan.blocks[g.block].varying == block.varying for g in block.operands)
            for g, c in zip(block.operands, liveness.slopes(block), strict=True):
                operands.append((g.block, len(rows)))
                rows.extend(g.rows)
                slopes.append(np.nan if c is None else c)
        m[code.END] = len(operands)
    return (meta, np.array(operands, np.int64).reshape(-1, 2), np.array(rows, np.int64), np.array(slopes, np.float64))


def _layer(m: np.ndarray, block: Block, rows: list[int]) -> None:
    """A matrix-product block's entries: where its weights, shared operands and bias are."""
    assert block.weights is not None and block.shared is not None
    src, weight_rows = block.weights
    m[code.KIND], m[code.COUNTED], m[code.N] = code.MATMUL, 1, len(weight_rows[0])
    m[code.WSRC], m[code.WROWS], m[code.WSTRIDE] = src, len(rows), _stride(weight_rows)
    rows.extend(r for row in weight_rows for r in row)
    m[code.XSRC], m[code.XROWS], m[code.XDIRECT] = block.shared.block, len(rows), _run(block.shared.rows)
    rows.extend(block.shared.rows)
    m[code.BSRC] = -1
    if block.bias is not None:
        m[code.BSRC], m[code.BROWS] = block.bias.block, len(rows)
        rows.extend(block.bias.rows)


def _stride(weight_rows: Sequence[Sequence[int]]) -> int:
    """The distance between consecutive neurons' first weight rows if each neuron's are a run and the runs are
    evenly spaced without overlap (an MLP's layer: weights then bias, neuron after neuron), else 0."""
    n, starts = len(weight_rows[0]), [row[0] for row in weight_rows]
    stride = starts[1] - starts[0] if len(starts) > 1 else n
    if stride < n or not all(_run(row) for row in weight_rows):
        return 0
    return stride if all(b - a == stride for a, b in pairwise(starts)) else 0


def _run(rows: Sequence[int]) -> bool:
    """Whether rows are consecutive (r0, r0 + 1, ...): then the elements they name are one stretch of the buffer."""
    return all(b - a == 1 for a, b in pairwise(rows))


_KERNELS: dict[tuple[str, ...], ModuleType] = {}
# What a process pays before its first native step, measured on a 2-core x86_64 machine (2026-12): compiling the
# kernels when numba's disk cache has none (once per machine and rule table), else importing numba and loading them.
COMPILE_SECONDS = 15.0
LOAD_SECONDS = 1.5


def native_ops() -> list[str]:
    """The rule table's ops that have a native form, in the order the kernels number them."""
    return [name for name, rule in sorted(RULES.items()) if rule.native is not None]


def interpreter(ops: list[str]) -> ModuleType:
    """The kernels for these ops: written once per rule table, compiled once per machine (numba's disk cache)."""
    key = tuple(ops)
    if key not in _KERNELS:
        _KERNELS[key] = load(_source(ops))
    return _KERNELS[key]


_SOURCES: dict[tuple[object, ...], str] = {}
_ON_DISK: set[str] = set()


def _source(ops: list[str]) -> str:
    """The kernels' text for these rows, made once per set of rows (fit looks it up in every set-up's estimate)."""
    rows = [RULES[op] for op in ops]
    key = tuple((r.name, r.arity, r.selects, r.native) for r in rows)
    if key not in _SOURCES:
        _SOURCES[key] = code.interpreter([(r.name, r.arity, r.selects) for r in rows], _digest(ops))
    return _SOURCES[key]


def interpreter_name() -> str:
    """The module name of the kernels for this rule table (a hash of their text), loaded or not."""
    return module_name(_source(native_ops()))


def on_disk(name: str) -> bool:
    """Whether numba's disk cache holds compiled code of the generated module `name` (once seen there, it stays)."""
    key = f"{cache_folder()}/{name}"
    if key not in _ON_DISK and any((cache_folder() / "__pycache__").glob(f"{name}.*.nbi")):
        _ON_DISK.add(key)
    return key in _ON_DISK


def startup_seconds() -> float | None:
    """About what the first native step of this process costs in set-up (None: the fast extra is not installed).

    0 once this process has the kernels, LOAD_SECONDS when numba's disk cache holds them, else COMPILE_SECONDS.
    """
    if missing():
        return None
    ops = native_ops()
    if tuple(ops) in _KERNELS:
        return 0.0
    return LOAD_SECONDS if on_disk(module_name(_source(ops))) else COMPILE_SECONDS


def _digest(ops: list[str]) -> str:
    """A digest of the native forms, so a changed row gets new kernels (and a new cache entry)."""
    digest = hashlib.sha256()
    for op in ops:
        native = RULES[op].native
        assert native is not None
        for f in (native.forward, native.slope):
            digest.update(op.encode() + marshal.dumps(f.__code__))
    return digest.hexdigest()[:16]


def cache_folder() -> Path:
    """Where the kernels and numba's cache of them live: $AUTOGRAD_LITE_CACHE, else the user's cache folder."""
    chosen = os.environ.get("AUTOGRAD_LITE_CACHE")
    if chosen:
        return Path(chosen) / "native"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "autograd_lite" / "native"


def module_name(source: str) -> str:
    """The generated module's name: a hash of its text, so that numba's cache of it stays valid."""
    return "autograd_lite_native_" + hashlib.sha256(source.encode()).hexdigest()[:20]


def load(source: str) -> ModuleType:
    """The generated module, written (atomically, once) under its hash so that numba's cache of it stays valid."""
    name = module_name(source)
    folder = cache_folder()
    path = folder / f"{name}.py"
    loaded = sys.modules.get(name)
    if loaded is not None and loaded.__file__ == str(path):
        return loaded
    folder.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != source:
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as f:
            f.write(source)
        os.replace(f.name, path)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module
