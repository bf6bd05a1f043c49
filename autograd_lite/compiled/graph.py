"""`compile_graph`: trace a scalar graph once, then run it forward and backward over whole batches with numpy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from autograd_lite.compiled.check import Replay, compare_with_scalar
from autograd_lite.compiled.codegen import Program, Saved, Views
from autograd_lite.compiled.plan import Layout, Plan, make_plan
from autograd_lite.rules import RULES
from autograd_lite.value import Value

if TYPE_CHECKING:
    import torch

    from autograd_lite.compiled.native import NativeProgram
    from autograd_lite.compiled.native_train import Steps, Training
    from autograd_lite.compiled.torch_module import GraphModule

_data = attrgetter("data")
add = np.add.reduce  # a sum without ndarray.sum's Python wrapper (this runs every step)
BUILT_IN_OPS = frozenset(RULES)  # the rule table as the engine ships it (compiled imports after rules)


def native_program(plan: Plan, program: Program, dtype: np.dtype) -> NativeProgram:
    """The native sweeps of a plan; ValueError saying why if it has none here (numba missing, float32, an op)."""
    if dtype != np.float64:
        raise ValueError(f"backend='native' computes in float64, got dtype {dtype}; use backend='numpy' for float32")
    from autograd_lite.compiled.native import NativeProgram  # numba is optional: loaded only when asked for

    try:
        return NativeProgram(plan, program.outputs, program)
    except NotImplementedError as e:
        raise ValueError(f"backend='native' is not available: {e}") from None


class CompileCheckError(ValueError):
    """The graph cannot be replayed for every sample: it depends on the data, or disagrees with the scalar engine."""


class CompiledGraph:
    """A scalar graph replayed over batches: `forward(*columns)` then `backward(weights)`.

    Inputs are the placeholder Values the graph was built from; the parameters (compile_graph's
    `leaves`) are read from their `.data` at each `forward`, so optimizer steps need no
    re-tracing; every other leaf is a constant, and a call after one changed is refused.
    `backward` adds Σ_b weights_b·∂out_b/∂leaf to `.grad` of every non-input leaf, like the
    scalar `backward` would for a weighted sum of the per-sample outputs.
    """

    def __init__(
        self,
        outputs: list[Value],
        inputs: list[Value],
        single: bool,
        rebuild: Callable[[list[Value]], list[Value]],
        check: bool,
        first_leaves: Sequence[Value] = (),
        dtype: npt.DTypeLike = np.float64,
        program: Sequence[Value] = (),
        backend: str = "numpy",
    ) -> None:
        self.dtype = np.dtype(dtype)  # what the batch, the leaves and the computation are held in
        self.inputs = inputs
        self.outputs = outputs
        self._single = single
        self._rebuild = rebuild
        # Nodes the function made but did not return are computed too: the scalar engine would raise there.
        self._plan = make_plan([*outputs, *program], inputs, first_leaves)
        self.leaves: list[Value] = self._plan.leaves
        self._parameters = len(first_leaves)
        self._constants = np.array([leaf.data for leaf in self.leaves[self._parameters :]], dtype=float)
        self._replay = Replay(program, inputs, self.leaves)
        # The trace cannot depend on the data (it had none); what is left to compare is a registered op's numpy
        # form with its float form (the built-in rows are tested by the test suite).
        self._check_pending = check and self._uses_registered_ops()
        self._out_at = [self._plan.where[out] for out in outputs]
        self._program: Program | NativeProgram = Program(self._plan, {b for b, _ in self._out_at})
        self.backend = "numpy"  # which code runs the sweeps: "numpy", or "native" (numba, the fast extra)
        if backend == "native":
            self._program = native_program(self._plan, self._program, self.dtype)
            self.backend = "native"
        self._out_rows = [(self._program.saved.index(f"v{b}"), r) for b, r in self._out_at]  # (saved array, row)
        blocks = {b for b, _ in self._out_at}
        whole = len(blocks) == 1 and [r for _, r in self._out_at] == list(range(self._plan.blocks[min(blocks)].size))
        self._filled = min(blocks) if whole and self._plan.blocks[min(blocks)].varying else None
        self._saved: Saved | None = None
        self._views_of: tuple[np.ndarray, np.ndarray, Views] | None = None  # (leaf array, column, views)
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (batch, leaf values) of the last run

    def _uses_registered_ops(self) -> bool:
        return any(block.op not in BUILT_IN_OPS for block in self._plan.blocks[2:])

    def __repr__(self) -> str:
        blocks = len(self._plan.blocks) - 2
        return (
            f"CompiledGraph({len(self.inputs)} inputs → {len(self.outputs)} output(s), "
            f"{self._plan.nodes} nodes in {blocks} numpy blocks, {len(self.leaves)} leaves)"
        )

    @property
    def layout(self) -> Layout:
        """The plan the code was generated from: its blocks, leaves, and where each output is."""
        plan = self._plan
        return Layout(tuple(plan.blocks), tuple(plan.leaves), tuple(self._out_at), self._single)

    def to_torch(self, dtype: torch.dtype | None = None) -> GraphModule:
        """This graph as a `torch.nn.Module` (float64 by default); needs the torch extra."""
        from autograd_lite.compiled.torch_module import graph_to_torch  # imports torch, so only when asked

        return graph_to_torch(self.layout, dtype)

    @property
    def source(self) -> str:
        """The generated forward and backward code."""
        return self._program.source

    def __call__(self, *columns: npt.ArrayLike) -> np.ndarray:
        return self.forward(*columns)

    def forward(self, *columns: npt.ArrayLike) -> np.ndarray:
        """The outputs for a batch: one column (1-D array, or a number broadcast) per input, all of length B.

        Returns shape (B,) for a single output, (B, n_outputs) for several.
        """
        batch = self._columns(columns)
        return self.run(batch, np.fromiter(map(_data, self.leaves), self.dtype, len(self.leaves)))

    def run(self, batch: np.ndarray, leaf_values: np.ndarray) -> np.ndarray:
        """`forward` on arrays, for training loops that keep the parameters in an array.

        `batch` is an (inputs, B) float array of finite numbers, `leaf_values` holds one
        number per entry of `leaves` (instead of their `.data`); neither is checked here.
        """
        batch = batch.astype(self.dtype, copy=False)
        self._check_constants(leaf_values)
        leaf_block, views = self._leaf_views(leaf_values)
        if self._check_pending:
            self._check(batch[:, :1], leaf_block, views)
            self._check_pending = False
        saved, outputs = self._run(batch, leaf_block, views)
        self._saved, self._last = saved, (batch, leaf_block)
        return outputs

    def can_train_natively(self) -> bool:
        """Whether `train_natively` runs here: the native backend, and outputs that are one block in order."""
        return self.backend == "native" and self._filled is not None

    def train_natively(
        self, batch: np.ndarray, leaf_values: np.ndarray, training: Training, lrs: list[float], first_step: int
    ) -> Steps:
        """Up to len(lrs) training steps on `batch` in one native call (native_train.py); `leaf_values` (float64,
        1-D, contiguous) is updated in place. It stops before a step it cannot vouch for: take that one with `run`.
        """
        if not self.can_train_natively():
            raise ValueError("train_natively needs backend='native' and outputs that are one block in order")
        if leaf_values.dtype != np.float64 or leaf_values.ndim != 1 or not leaf_values.flags.c_contiguous:
            raise ValueError("train_natively updates the leaf values in place: pass a contiguous 1-D float64 array")
        self._check_constants(leaf_values)
        if self._check_pending:
            self.run(batch[:, :1], leaf_values)
        from autograd_lite.compiled import native_train

        program = self._program
        assert isinstance(program, native_train.NativeProgram) and self._filled is not None
        self._saved = self._last = None  # the parameters move on: the last run's arrays are not theirs any more
        return native_train.run(program, self._filled, batch.astype(np.float64, copy=False), leaf_values, training,
                                lrs, first_step)

    def backward(self, weights: npt.ArrayLike | None = None, input_grads: bool = False) -> list[np.ndarray] | None:
        """Add Σ_b weights_b·∂output_b/∂leaf to `.grad` of every non-input leaf (weights 1.0 by default; 1/B: mean).

        `weights` is a number or an array shaped like forward's result. With
        `input_grads=True`, also returns d(weighted outputs)/d(input) per sample:
        one array of length B per input.
        """
        leaf_grads, input_grad_rows = self._gradients(self._saved_arrays(), self._weights(weights), input_grads)
        for leaf, g in zip(self.leaves, leaf_grads.tolist(), strict=True):
            leaf.grad += g
        return list(input_grad_rows) if input_grad_rows is not None else None

    def gradient(self, weights: np.ndarray) -> np.ndarray:
        """Σ_b weights_b·∂output_b/∂leaf after `run`, as an array in `leaves` order (`.grad` is not touched).

        `weights` must be a float array shaped like run's result (not checked here).
        """
        return self._gradients(self._saved_arrays(), weights, False)[0]

    def _saved_arrays(self) -> Saved:
        if self._saved is None:
            raise RuntimeError("backward needs a forward call first (it differentiates the last batch)")
        return self._saved

    # --- running -------------------------------------------------------------------

    def _leaf_views(self, leaf_values: np.ndarray) -> tuple[np.ndarray, Views]:
        """The leaf block as one column and the program's views of it (weights, biases).

        A training loop passes the same array at every step and updates it in place; its views are made
        once. An array of another dtype or layout is copied, and a copy is never reused (it would go stale).
        """
        cached = self._views_of
        if cached is not None and cached[0] is leaf_values:
            return cached[1], cached[2]
        block = leaf_values.astype(self.dtype, copy=False).reshape(-1, 1)
        views = self._program.views(block)
        if np.may_share_memory(block, leaf_values):  # a view, not a copy
            self._views_of = (leaf_values, block, views)
        return block, views

    def _run(
        self, batch: np.ndarray, leaf_block: np.ndarray, views: Views
    ) -> tuple[Saved, np.ndarray]:
        """Saved arrays of the forward sweep and the outputs, shape (B,) or (B, n)."""
        with np.errstate(all="ignore"):
            saved = self._program.forward(batch, leaf_block, views)
        if not math.isfinite(saved[-1]):  # the sum of every value: NaN/inf somewhere (or finite values overflowing it)
            with np.errstate(all="ignore"):
                every = self._program.forward_every(batch, leaf_block)
            self._raise_non_finite(every, batch, leaf_block)
        width = batch.shape[1]
        if self._single:
            k, r = self._out_rows[0]
            row = cast(np.ndarray, saved[k])[r]
            return saved, row.copy() if len(row) == width else np.full(width, row[0])
        outputs = np.empty((width, len(self._out_rows)))
        for j, (k, r) in enumerate(self._out_rows):
            outputs[:, j] = cast(np.ndarray, saved[k])[r]
        return saved, outputs

    def _gradients(self, saved: Saved, weights: np.ndarray, with_inputs: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """(d/d leaf as a 1-D array, d/d input as an (inputs, B) array) of Σ weights·outputs.

        Where the sum is not finite, the gradient is the scalar engine's, sample by sample: a batch sums the
        adjoints of a parameter's op before multiplying by its slope, and (Σ g)·inf is not Σ (g·inf) when a g is 0.
        """
        seeds = self._seeds(saved, weights)
        with np.errstate(all="ignore"):
            leaves, inputs = self._program.backward(with_inputs)(saved, seeds)
        leaves = leaves[:, 0]
        # one sum is finite only if every entry is (a sum of huge finite ones may overflow: the slow path is right too)
        if math.isfinite(add(leaves, None)) and (inputs is None or math.isfinite(add(inputs, None))):
            return leaves, inputs
        assert self._last is not None  # gradients follow a run
        batch, leaf_block = self._last
        scalar_leaves, scalar_inputs = self._replay.gradients(batch, leaf_block[:, 0].tolist(), weights, self.outputs)
        return scalar_leaves.astype(self.dtype), scalar_inputs.astype(self.dtype) if with_inputs else None

    def _seeds(self, saved: Saved, weights: np.ndarray) -> dict[int, np.ndarray]:
        """The adjoints of the output blocks: the weights in the outputs' rows, zeros elsewhere."""
        if self._filled is not None:  # the outputs are a whole block in order: the weights are its adjoint (a copy)
            return {self._filled: np.array(weights[None, :] if self._single else weights.T, self.dtype)}
        seeds: dict[int, np.ndarray] = {}
        for j, ((b, r), (k, _)) in enumerate(zip(self._out_at, self._out_rows, strict=True)):
            seed = seeds.get(b)
            if seed is None:
                seed = seeds[b] = np.zeros_like(saved[k])
            w = weights if self._single else weights[:, j]
            if self._plan.blocks[b].varying:
                seed[r] += w
            else:
                seed[r, 0] += w.sum()
        return seeds

    def _raise_non_finite(
        self, values: dict[str, np.ndarray | float], batch: np.ndarray, leaf_block: np.ndarray
    ) -> None:
        """The scalar engine's error at the first sample that made a NaN or inf, if any: its ops replayed in program
        order on that sample's numbers raise what the scalar engine raises (log of a negative, 0 ** -1, an
        overflow), or FloatingPointError where an op quietly makes a NaN or inf (a NaN parameter, or a float32
        overflow), so that no later max, min, relu or abs can hide it."""
        width = batch.shape[1]
        firsts = [
            int(np.nonzero(~np.isfinite(a).all(axis=0))[0][0])
            for a in (np.broadcast_to(values[f"v{b.index}"], (b.size, width)) for b in self._plan.blocks[2:])
            if not np.isfinite(a).all()
        ]
        if not firsts:  # only the sum overflowed: every value is finite
            return
        sample = min(firsts)
        self._replay.run(batch[:, sample].tolist(), leaf_block[:, 0].tolist(), sample)
        raise FloatingPointError(
            f"compiled forward: a NaN or an infinity at sample {sample} in {self.dtype} that the scalar engine, in "
            "float64, does not make (float32's range is about ±3.4e38)"
        )

    def _check_constants(self, leaf_values: np.ndarray) -> None:
        """ValueError naming the first constant leaf whose number changed since the trace (it is not a parameter)."""
        now = leaf_values[self._parameters :]
        if not len(now) or (now == self._constants).all() or np.array_equal(now, self._constants, equal_nan=True):
            return
        k = int(np.nonzero(~((now == self._constants) | (np.isnan(now) & np.isnan(self._constants))))[0][0])
        leaf = self.leaves[self._parameters + k]
        name = repr(leaf.label) if leaf.label else f"#{self._parameters + k} of leaves"
        raise ValueError(
            f"leaf {name} changed from {float(self._constants[k])!r} to {float(now[k])!r} since compile_graph traced "
            "it; it is a constant of the compiled graph (the trace may have used its number): pass it in leaves= (e.g. "
            "leaves=model.parameters()) so that it is read at every call"
        )

    # --- checking the input ------------------------------------------------------------

    def _columns(self, columns: Sequence[npt.ArrayLike]) -> np.ndarray:
        """The batch as an (inputs, B) float array; ValueError for a wrong count, length or non-finite value."""
        if len(columns) != len(self.inputs):
            raise ValueError(f"expected {len(self.inputs)} input column(s), one per input, got {len(columns)}")
        arrays = []
        for i, column in enumerate(columns):
            a = np.asarray(column)
            if a.dtype.kind not in "iuf":
                raise TypeError(f"input column {i} must hold real numbers, got dtype {a.dtype}")
            if a.ndim > 1:
                raise ValueError(f"input column {i} must be 1-D (one number per sample), got shape {a.shape}")
            arrays.append(a)
        lengths = {a.shape[0] for a in arrays if a.ndim == 1}
        if len(lengths) > 1:
            detail = ", ".join(f"{i}: {a.shape[0]}" for i, a in enumerate(arrays) if a.ndim == 1)
            raise ValueError(f"input columns must all have the same length, got lengths {{{detail}}}")
        batch = lengths.pop() if lengths else 1
        if batch == 0:
            raise ValueError("input columns are empty: a batch needs at least one sample")
        out = np.empty((len(arrays), batch), self.dtype)
        for i, a in enumerate(arrays):
            out[i] = a
        if not np.isfinite(out).all():
            i, sample = (int(k[0]) for k in np.nonzero(~np.isfinite(out)))
            raise ValueError(f"input column {i} holds a non-finite value ({out[i, sample]!r}) at sample {sample}")
        return out

    def _weights(self, weights: npt.ArrayLike | None) -> np.ndarray:
        """Weights as an array shaped like forward's result; ValueError if they do not fit."""
        batch = 0 if self._last is None else self._last[0].shape[1]
        shape = (batch,) if self._single else (batch, len(self.outputs))
        w = np.asarray(1.0 if weights is None else weights)
        if w.dtype.kind not in "iuf":
            raise TypeError(f"weights must be real numbers, got dtype {w.dtype}")
        if w.ndim and w.shape != shape:
            raise ValueError(f"weights must be a number or an array of shape {shape}, got shape {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("weights must be finite")
        return np.broadcast_to(w.astype(float), shape)

    # --- comparing with the scalar engine ---------------------------------------------------

    def _check(self, sample: np.ndarray, leaf_block: np.ndarray, views: Views) -> None:
        """Compiled forward and backward on one sample against the scalar engine; CompileCheckError on mismatch."""
        self._last = (sample, leaf_block)
        saved, compiled_out = self._run(sample, leaf_block, views)
        leaf_grads, input_grads = self._gradients(saved, np.ones(compiled_out.shape), True)
        assert input_grads is not None  # asked for
        placeholders = [Value(x) for x in sample[:, 0].tolist()]
        outputs = self._rebuild(placeholders)
        problems = compare_with_scalar(
            outputs, placeholders, self.leaves, self._plan.where, compiled_out.ravel(), input_grads[:, 0], leaf_grads,
            single_precision=self.dtype == np.float32,
        )
        if problems:
            raise CompileCheckError(
                f"the compiled graph disagrees with the scalar engine at sample 0 (inputs {sample[:, 0].tolist()}): "
                + "; ".join(problems[:5])
                + ". A custom op whose numpy form differs from its float form?"
            )
