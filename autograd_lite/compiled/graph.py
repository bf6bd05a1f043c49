"""`compile_graph`: trace a scalar graph once, then run it forward and backward over whole batches with numpy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from autograd_lite.compiled.check import compare_with_scalar, raise_like_scalar
from autograd_lite.compiled.codegen import Program
from autograd_lite.compiled.guard import guarded, untrace
from autograd_lite.compiled.plan import make_plan, trace
from autograd_lite.rules import RULES
from autograd_lite.value import Value, apply

_data = attrgetter("data")
BUILT_IN_OPS = frozenset(RULES)  # the rule table as the engine ships it (compiled imports after rules)


class CompileCheckError(ValueError):
    """The graph cannot be replayed for every sample: it depends on the data, or disagrees with the scalar engine."""


class CompiledGraph:
    """A scalar graph replayed over batches: `forward(*columns)` then `backward(weights)`.

    Inputs are the placeholder Values the graph was built from; every other leaf
    (parameters, constants) is read from its `.data` at each `forward`, so
    optimizer steps need no re-tracing. `backward` adds Σ_b weights_b·∂out_b/∂leaf
    to `.grad` of every non-input leaf, like the scalar `backward` would for a
    weighted sum of the per-sample outputs.
    """

    def __init__(
        self,
        outputs: list[Value],
        inputs: list[Value],
        single: bool,
        rebuild: Callable[[list[Value]], list[Value]] | None,
        check: bool,
        first_leaves: Sequence[Value] = (),
        dtype: Any = np.float64,
    ) -> None:
        self.dtype = np.dtype(dtype)  # what the batch, the leaves and the computation are held in
        self.inputs = inputs
        self.outputs = outputs
        self._single = single
        self._rebuild = rebuild
        self._plan = make_plan(outputs, inputs, first_leaves)
        self.leaves: list[Value] = self._plan.leaves
        # A traced function's dependence on the data is found by the guards; what is left to compare is a
        # registered op's numpy form with its float form (the built-in rows are tested by the test suite).
        # A graph built before compile_graph is always compared: its construction was not seen.
        self._check_pending = check and (rebuild is None or self._uses_registered_ops())
        self._out_at = [self._plan.where[out] for out in outputs]
        self._program = Program(self._plan, {b for b, _ in self._out_at})
        self._out_rows = [(self._program.saved.index(f"v{b}"), r) for b, r in self._out_at]  # (saved array, row)
        blocks = {b for b, _ in self._out_at}
        whole = len(blocks) == 1 and [r for _, r in self._out_at] == list(range(self._plan.blocks[min(blocks)].size))
        self._filled = min(blocks) if whole and self._plan.blocks[min(blocks)].varying else None
        self._saved: tuple[Any, ...] | None = None
        self._views_of: tuple[np.ndarray, np.ndarray, tuple[Any, ...]] | None = None  # (leaf array, column, views)
        self._batch = 0

    def _uses_registered_ops(self) -> bool:
        return any(block.op not in BUILT_IN_OPS for block in self._plan.blocks[2:])

    def __repr__(self) -> str:
        blocks = len(self._plan.blocks) - 2
        return (
            f"CompiledGraph({len(self.inputs)} inputs → {len(self.outputs)} output(s), "
            f"{self._plan.nodes} nodes in {blocks} numpy blocks, {len(self.leaves)} leaves)"
        )

    def to_torch(self, dtype: Any = None) -> Any:
        """This graph as a `torch.nn.Module` (float64 by default); needs the torch extra."""
        from autograd_lite.compiled.torch_module import graph_to_torch  # imports torch, so only when asked

        return graph_to_torch(self, dtype)

    @property
    def source(self) -> str:
        """The generated forward and backward code."""
        return self._program.source

    def __call__(self, *columns: Any) -> np.ndarray:
        return self.forward(*columns)

    def forward(self, *columns: Any) -> np.ndarray:
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
        leaf_block, views = self._leaf_views(leaf_values)
        if self._check_pending:
            self._check(batch[:, :1], leaf_block, views)
            self._check_pending = False
        saved, outputs = self._run(batch, leaf_block, views)
        self._saved, self._batch = saved, batch.shape[1]
        return outputs

    def backward(self, weights: Any = None, input_grads: bool = False) -> list[np.ndarray] | None:
        """Add Σ_b weights_b·∂output_b/∂leaf to `.grad` of every non-input leaf (weights 1.0 by default; 1/B: mean).

        `weights` is a number or an array shaped like forward's result. With
        `input_grads=True`, also returns d(weighted outputs)/d(input) per sample:
        one array of length B per input.
        """
        leaf_grads, input_grad_rows = self._gradients(self._last(), self._weights(weights), input_grads)
        for leaf, g in zip(self.leaves, leaf_grads.tolist(), strict=True):
            leaf.grad += g
        return list(input_grad_rows) if input_grads else None

    def gradient(self, weights: np.ndarray) -> np.ndarray:
        """Σ_b weights_b·∂output_b/∂leaf after `run`, as an array in `leaves` order (`.grad` is not touched).

        `weights` must be a float array shaped like run's result (not checked here).
        """
        return self._gradients(self._last(), weights, False)[0]

    def _last(self) -> tuple[Any, ...]:
        if self._saved is None:
            raise RuntimeError("backward needs a forward call first (it differentiates the last batch)")
        return self._saved

    # --- running -------------------------------------------------------------------

    def _leaf_views(self, leaf_values: np.ndarray) -> tuple[np.ndarray, tuple[Any, ...]]:
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
        self, batch: np.ndarray, leaf_block: np.ndarray, views: tuple[Any, ...]
    ) -> tuple[tuple[Any, ...], np.ndarray]:
        """Saved arrays of the forward sweep and the outputs, shape (B,) or (B, n)."""
        with np.errstate(all="ignore"):
            saved = self._program.forward(batch, leaf_block, views)
        if not math.isfinite(saved[-1]):  # the sum of every value: NaN/inf somewhere (or finite values overflowing it)
            with np.errstate(all="ignore"):
                every = self._program.forward_every(batch, leaf_block)
            self._raise_non_finite(every, batch.shape[1])
        width = batch.shape[1]
        if self._single:
            k, r = self._out_rows[0]
            row = saved[k][r]
            return saved, row.copy() if len(row) == width else np.full(width, row[0])
        outputs = np.empty((width, len(self._out_rows)))
        for j, (k, r) in enumerate(self._out_rows):
            outputs[:, j] = saved[k][r]
        return saved, outputs

    def _gradients(self, saved: tuple[Any, ...], weights: np.ndarray, with_inputs: bool) -> tuple[np.ndarray, Any]:
        """(d/d leaf as a 1-D array, d/d input as an (inputs, B) array) of Σ weights·outputs."""
        seeds = self._seeds(saved, weights)
        with np.errstate(all="ignore"):
            leaves, inputs = self._program.backward(with_inputs)(saved, seeds)
        return leaves[:, 0], inputs

    def _seeds(self, saved: tuple[Any, ...], weights: np.ndarray) -> dict[int, np.ndarray]:
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

    def _raise_non_finite(self, values: dict[str, Any], batch: int) -> None:
        """The error the scalar engine raises at the first sample (and first op) that made a NaN or inf, if any.

        Ops that refuse their input on floats (log of a negative, 0 ** -1, exp overflow) raise their own
        error type; an op that quietly makes a NaN or inf (inf - inf, a NaN parameter) raises FloatingPointError,
        so that no later max, min, relu or abs can hide it.
        """
        blocks = [(b, np.broadcast_to(values[f"v{b.index}"], (b.size, batch))) for b in self._plan.blocks[2:]]
        firsts = [int(np.nonzero(~np.isfinite(a).all(axis=0))[0][0]) for _, a in blocks if not np.isfinite(a).all()]
        if not firsts:  # only the sum overflowed: every value is finite
            return
        sample = min(firsts)
        for block, array in blocks:
            bad = np.nonzero(~np.isfinite(array[:, sample]))[0]
            if len(bad):
                node = block.nodes[int(bad[0])]
                args = [self._sample_value(values, p, sample) for p in node.parents]
                raise_like_scalar(node.op, args, sample)
                shown = ", ".join(map(repr, args)) if len(args) <= 6 else ", ".join(map(repr, args[:6])) + ", ..."
                raise FloatingPointError(
                    f"compiled forward: {node.op} produced {float(array[bad[0], sample])!r} at sample {sample} "
                    f"(inputs ({shown}))"
                )

    def _sample_value(self, values: dict[str, Any], node: Value, sample: int) -> float:
        block, row = self._plan.where[node]
        column = values[f"v{block}"][row]
        return float(column[sample] if column.shape[0] > 1 else column[0])

    # --- checking the input ------------------------------------------------------------

    def _columns(self, columns: Sequence[Any]) -> np.ndarray:
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

    def _weights(self, weights: Any) -> np.ndarray:
        """Weights as an array shaped like forward's result; ValueError if they do not fit."""
        shape = (self._batch,) if self._single else (self._batch, len(self.outputs))
        w = np.asarray(1.0 if weights is None else weights)
        if w.dtype.kind not in "iuf":
            raise TypeError(f"weights must be real numbers, got dtype {w.dtype}")
        if w.ndim and w.shape != shape:
            raise ValueError(f"weights must be a number or an array of shape {shape}, got shape {w.shape}")
        if not np.isfinite(w).all():
            raise ValueError("weights must be finite")
        return np.broadcast_to(w.astype(float), shape)

    # --- comparing with the scalar engine ---------------------------------------------------

    def _check(self, sample: np.ndarray, leaf_block: np.ndarray, views: tuple[Any, ...]) -> None:
        """Compiled forward and backward on one sample against the scalar engine; CompileCheckError on mismatch."""
        saved, compiled_out = self._run(sample, leaf_block, views)
        leaf_grads, input_grads = self._gradients(saved, np.ones(compiled_out.shape), True)
        placeholders = [Value(x) for x in sample[:, 0].tolist()]
        outputs = self._rebuild(placeholders) if self._rebuild else self._replay(placeholders)
        problems = compare_with_scalar(
            outputs, placeholders, self.leaves, self._plan.where, compiled_out.ravel(), input_grads[:, 0], leaf_grads,
            single_precision=self.dtype == np.float32,
        )
        if problems:
            raise CompileCheckError(
                f"the compiled graph disagrees with the scalar engine at sample 0 (inputs {sample[:, 0].tolist()}): "
                + "; ".join(problems[:5])
                + ". A custom op whose numpy form differs from its float form, or a graph built outside "
                "compile_graph whose structure depends on `.data` (pass a function to have that detected)."
            )

    def _replay(self, placeholders: list[Value]) -> list[Value]:
        """The traced graph rebuilt by the scalar engine with the inputs set to `placeholders`."""
        made: dict[Value, Value] = dict(zip(self.inputs, placeholders, strict=True))
        for node in trace(self.outputs):
            if node.parents:
                made[node] = apply(node.op, *(made.get(p, p) for p in node.parents))
        return [made.get(out, out) for out in self.outputs]


def compile_graph(
    output: Value | Sequence[Value] | Callable[..., Any],
    inputs: Sequence[Value],
    check: bool = True,
    leaves: Sequence[Value] = (),
    dtype: Any = np.float64,
) -> CompiledGraph:
    """Compile a scalar graph for batches of inputs.

    `output` is a Value (or a list of Values) built from the placeholder leaves
    `inputs`, or a function that builds it from them: `f(*inputs)`. The function
    form is traced with guards: if it decides anything from the inputs' numbers
    (compares or tests `.data`, takes a number out with float() or `Value(x.data)`),
    its graph would be wrong for other samples, and `CompileCheckError` names what
    it did and where. A Value was built before this call, so how it was built cannot
    be seen: pass a function to have that checked. With `check=True` the first
    `forward` also compares the compiled results on its first sample with the scalar
    engine, for a graph given as a Value or using ops registered with `register_op`
    (their numpy forms). Every `forward` raises the scalar engine's error
    (same type, naming the op and the sample) where an op refuses a sample's input,
    and FloatingPointError where a NaN or inf arises, so neither can be hidden.

    `leaves` (e.g. `model.parameters()`) puts those Values first in `CompiledGraph.leaves`,
    in that order, used by the graph or not: `run` and `gradient` then take and give
    arrays in the model's own parameter order, and a layer's weights are read as views.
    Their numbers change between calls, so the guards refuse decisions on them too.
    `dtype=np.float32` computes in single precision (float64, the default, gives the
    scalar engine's numbers).
    """
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"inputs[{i}] must be a Value (a placeholder leaf), got {type(x).__name__}")
        if x.parents:
            raise ValueError(f"inputs[{i}] must be a leaf Value, got the result of op {x.op!r}")
    if len({id(x) for x in inputs}) != len(inputs):
        raise ValueError("inputs must be distinct Values")
    leaves = list(leaves)
    leaf_ids = set(map(id, leaves))  # C loops: a model has thousands of parameters
    if not all(isinstance(leaf, Value) and not leaf.parents for leaf in leaves) or not leaf_ids.isdisjoint(
        map(id, inputs)
    ):
        input_ids = {id(x) for x in inputs}
        for i, leaf in enumerate(leaves):
            if not isinstance(leaf, Value) or leaf.parents or id(leaf) in input_ids:
                raise ValueError(f"leaves[{i}] must be a leaf Value that is not an input (a parameter)")
    if len(leaf_ids) != len(leaves):
        raise ValueError("leaves must be distinct Values")
    if np.dtype(dtype) not in (np.float64, np.float32):
        raise ValueError(f"dtype must be numpy.float64 or numpy.float32, got {dtype!r}")
    rebuild = None
    if callable(output) and not isinstance(output, Value):
        function = output
        output = _traced_call(function, inputs, leaves)

        def rebuild(placeholders: list[Value]) -> list[Value]:
            return _as_outputs(function(*placeholders))[0]

    outputs, single = _as_outputs(output)
    graph = None
    try:
        graph = CompiledGraph(outputs, inputs, single, rebuild, check, leaves, dtype)
        return graph
    finally:
        if rebuild is not None:  # traced: the nodes' data become plain floats again (same values)
            untrace(list(graph._plan.where) if graph is not None else _reachable(outputs))


def _traced_call(function: Callable[..., Any], inputs: list[Value], leaves: list[Value]) -> Any:
    """function(*inputs), refused with CompileCheckError if it decided anything from the numbers of the inputs
    or of the given leaves (parameters, which change between calls)."""
    with guarded(inputs + leaves) as decisions:
        output = function(*inputs)
    if decisions:
        untrace(_reachable(output))
        more = f" (and {len(decisions) - 3} more)" if len(decisions) > 3 else ""
        raise CompileCheckError(
            f"the graph depends on the data of the sample it is traced on: {'; '.join(decisions[:3])}{more}. "
            "The traced graph is replayed unchanged for every sample (and every parameter value), so a function "
            "whose structure depends on `.data` (Python if/min/max on numbers, numbers taken out with float()) "
            "would be wrong for others; use the graph ops (relu, max, min, abs) instead"
        )
    return output


def _reachable(output: Any) -> list[Value]:
    """Every node the output Value(s) depend on, in no particular order."""
    if isinstance(output, Value):
        stack = [output]
    else:
        stack = [v for v in output if isinstance(v, Value)] if isinstance(output, (list, tuple)) else []
    seen: dict[int, Value] = {}
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen[id(node)] = node
            stack.extend(node.parents)
    return list(seen.values())


def _as_outputs(output: Any) -> tuple[list[Value], bool]:
    """(the outputs as a list, whether a single Value was given)."""
    if isinstance(output, Value):
        return [output], True
    if isinstance(output, (list, tuple)) and output and all(isinstance(v, Value) for v in output):
        return list(output), False
    raise TypeError(f"the output to compile must be a Value or a non-empty list of Values, got {type(output).__name__}")
