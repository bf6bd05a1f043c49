"""`compile_graph`: trace a scalar graph once, then run it forward and backward over whole batches with numpy."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

import numpy as np

from autograd_lite.compiled.codegen import Program
from autograd_lite.compiled.plan import make_plan, trace
from autograd_lite.functional import gradients
from autograd_lite.value import Value, apply, sum_values

_data = attrgetter("data")
CHECK_RTOL, CHECK_ATOL = 1e-7, 1e-9  # fused sums add in another order than the scalar engine


class CompileCheckError(ValueError):
    """The compiled graph disagrees with the scalar engine (usually: the graph branched on `.data`)."""


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
        rebuild: Callable[[list[float]], list[Value]] | None,
        check: bool,
    ) -> None:
        self.inputs = inputs
        self.outputs = outputs
        self._single = single
        self._rebuild = rebuild
        self._check_pending = check
        self._plan = make_plan(outputs, inputs)
        self.leaves: list[Value] = self._plan.leaves
        self._out_at = [self._plan.where[out] for out in outputs]
        self._program = Program(self._plan, {b for b, _ in self._out_at})
        self._saved: tuple[Any, ...] | None = None
        self._batch = 0

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
        if self._check_pending:
            self._check(batch[:, :1])
            self._check_pending = False
        saved, outputs = self._run(batch)
        self._saved, self._batch = saved, batch.shape[1]
        return outputs

    def backward(self, weights: Any = None, input_grads: bool = False) -> list[np.ndarray] | None:
        """Add Σ_b weights_b·∂output_b/∂leaf to `.grad` of every non-input leaf (weights 1.0 by default; 1/B: mean).

        `weights` is a number or an array shaped like forward's result. With
        `input_grads=True`, also returns d(weighted outputs)/d(input) per sample:
        one array of length B per input.
        """
        if self._saved is None:
            raise RuntimeError("backward needs a forward call first (it differentiates the last batch)")
        leaf_grads, input_grad_rows = self._gradients(self._saved, self._weights(weights), input_grads)
        for leaf, g in zip(self.leaves, leaf_grads.tolist(), strict=True):
            leaf.grad += g
        return list(input_grad_rows) if input_grads else None

    # --- running -------------------------------------------------------------------

    def _run(self, batch: np.ndarray) -> tuple[tuple[Any, ...], np.ndarray]:
        """Saved arrays of the forward sweep and the outputs, shape (B,) or (B, n)."""
        params = np.fromiter(map(_data, self.leaves), float, len(self.leaves)).reshape(-1, 1)
        with np.errstate(all="ignore"):
            saved = self._program.forward(batch, params)
        block_values = dict(zip(self._program.saved, saved, strict=True))
        rows = [np.broadcast_to(block_values[f"v{b}"][r], (batch.shape[1],)) for b, r in self._out_at]
        outputs = rows[0] if self._single else np.stack(rows, axis=1)
        if not np.isfinite(outputs).all():
            raise FloatingPointError(self._non_finite(block_values, batch.shape[1]))
        return saved, np.array(outputs)

    def _gradients(self, saved: tuple[Any, ...], weights: np.ndarray, with_inputs: bool) -> tuple[np.ndarray, Any]:
        """(d/d leaf as a 1-D array, d/d input as an (inputs, B) array) of Σ weights·outputs."""
        values = dict(zip(self._program.saved, saved, strict=True))
        seeds: dict[int, np.ndarray] = {}
        for k, (b, r) in enumerate(self._out_at):
            seed = seeds.setdefault(b, np.zeros_like(values[f"v{b}"]))
            w = weights if self._single else weights[:, k]
            if self._plan.blocks[b].varying:
                seed[r] += w
            else:
                seed[r, 0] += w.sum()
        with np.errstate(all="ignore"):
            leaves, inputs = self._program.backward(with_inputs)(saved, seeds)
        return leaves[:, 0], inputs

    def _non_finite(self, values: dict[str, Any], batch: int) -> str:
        """Where the first NaN or inf appeared: op and sample."""
        for block in self._plan.blocks[2:]:
            bad = ~np.isfinite(np.broadcast_to(values[f"v{block.index}"], (block.size, batch)))
            if bad.any():
                row, sample = (int(i[0]) for i in np.nonzero(bad))
                node = block.nodes[row]
                inputs = ", ".join(repr(self._sample_value(values, p, sample)) for p in node.parents)
                return f"compiled forward: {node.op} produced a NaN or inf at sample {sample} (inputs ({inputs}))"
        return "compiled forward produced a NaN or inf"

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
        out = np.empty((len(arrays), batch))
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

    def _check(self, sample: np.ndarray) -> None:
        """Compiled forward and backward on one sample against the scalar engine; CompileCheckError on mismatch."""
        xs = sample[:, 0].tolist()
        saved, compiled_out = self._run(sample)
        ones = np.ones(compiled_out.shape)
        leaf_grads, input_grads = self._gradients(saved, ones, True)
        placeholders = [Value(x) for x in xs]
        outputs = self._rebuild(placeholders) if self._rebuild else self._replay(placeholders)
        scalar_out = [out.data for out in outputs]
        shared = [(i, leaf) for i, leaf in enumerate(self.leaves) if leaf.requires_grad]
        total = outputs[0] if len(outputs) == 1 else sum_values(outputs)
        scalar_grads = [g.data for g in gradients(total, [leaf for _, leaf in shared] + placeholders)]
        in_graph = set(trace(outputs))
        problems = _mismatches("output", compiled_out.ravel().tolist(), scalar_out)
        problems += _mismatches("d/d input", input_grads[:, 0].tolist(), scalar_grads[len(shared) :])
        problems += [
            p
            for (i, leaf), g in zip(shared, scalar_grads, strict=False)
            if leaf in in_graph
            for p in _mismatches(f"d/d leaf {leaf.label or i}", [leaf_grads[i]], [g])
        ]
        if problems:
            raise CompileCheckError(
                f"the compiled graph disagrees with the scalar engine at sample 0 (inputs {xs}): "
                + "; ".join(problems[:5])
                + ". The traced graph is replayed unchanged for every sample, so a model whose structure depends "
                "on `.data` (Python if/min/max on values, numbers taken out with float()) cannot be compiled; "
                "use the graph ops (relu, max, min, abs) instead, or pass check=False if this is intended."
            )

    def _replay(self, placeholders: list[Value]) -> list[Value]:
        """The traced graph rebuilt by the scalar engine with the inputs set to `placeholders`."""
        made: dict[Value, Value] = dict(zip(self.inputs, placeholders, strict=True))
        for node in trace(self.outputs):
            if node.parents:
                made[node] = apply(node.op, *(made.get(p, p) for p in node.parents))
        return [made.get(out, out) for out in self.outputs]


def _mismatches(what: str, compiled: list[float], scalar: list[float]) -> list[str]:
    """Descriptions of the entries that differ beyond the check's tolerance."""
    return [
        f"{what}{f' {k}' if len(scalar) > 1 else ''}: compiled {c!r}, scalar {s!r}"
        for k, (c, s) in enumerate(zip(compiled, scalar, strict=True))
        if not math.isclose(c, s, rel_tol=CHECK_RTOL, abs_tol=CHECK_ATOL)
    ]


def compile_graph(
    output: Value | Sequence[Value] | Callable[..., Any], inputs: Sequence[Value], check: bool = True
) -> CompiledGraph:
    """Compile a scalar graph for batches of inputs.

    `output` is a Value (or a list of Values) built from the placeholder leaves
    `inputs`, or a function that builds it from them: `f(*inputs)`. With
    `check=True` the first `forward` compares the compiled results on its first
    sample with the scalar engine and raises `CompileCheckError` on mismatch. Only
    the function form can rebuild the graph for that sample, so only it detects
    models that branch on `.data`; a Value is replayed as traced.
    """
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"inputs[{i}] must be a Value (a placeholder leaf), got {type(x).__name__}")
        if x.parents:
            raise ValueError(f"inputs[{i}] must be a leaf Value, got the result of op {x.op!r}")
    if len({id(x) for x in inputs}) != len(inputs):
        raise ValueError("inputs must be distinct Values")
    rebuild = None
    if callable(output) and not isinstance(output, Value):
        function = output
        output = function(*inputs)

        def rebuild(placeholders: list[Value]) -> list[Value]:
            return _as_outputs(function(*placeholders))[0]

    outputs, single = _as_outputs(output)
    return CompiledGraph(outputs, inputs, single, rebuild, check)


def _as_outputs(output: Any) -> tuple[list[Value], bool]:
    """(the outputs as a list, whether a single Value was given)."""
    if isinstance(output, Value):
        return [output], True
    if isinstance(output, (list, tuple)) and output and all(isinstance(v, Value) for v in output):
        return list(output), False
    raise TypeError(f"the output to compile must be a Value or a non-empty list of Values, got {type(output).__name__}")
