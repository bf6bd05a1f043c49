"""The compiled path against the scalar engine: the first-call comparison, and the scalar engine as the
judge wherever a batch meets a NaN or an infinity (the error it raises, the gradient it gives)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from autograd_lite.functional import gradients
from autograd_lite.value import Value, apply, sum_values

CHECK_RTOL, CHECK_ATOL = 1e-7, 1e-9  # fused sums add in another order than the scalar engine
SINGLE_TOL = (1e-4, 1e-5)  # float32 carries about 7 digits


def compare_with_scalar(
    outputs: list[Value],
    placeholders: list[Value],
    leaves: list[Value],
    in_graph: Mapping[Value, tuple[int, int]],  # the plan's node -> (block, row)
    compiled_out: np.ndarray,
    compiled_input_grads: np.ndarray,
    compiled_leaf_grads: np.ndarray,
    single_precision: bool = False,
) -> list[str]:
    """What differs between the compiled results on one sample and the scalar graph `outputs` built for it."""
    shared = [i for i, leaf in enumerate(leaves) if leaf.requires_grad and leaf in in_graph]
    total = outputs[0] if len(outputs) == 1 else sum_values(outputs)
    scalar_grads = [g.data for g in gradients(total, [leaves[i] for i in shared] + placeholders)]
    tol = SINGLE_TOL if single_precision else (CHECK_RTOL, CHECK_ATOL)
    out_names = ["" for _ in outputs]
    problems = _mismatches("output", compiled_out, np.array([out.data for out in outputs]), out_names, tol)
    input_names = [str(k) for k in range(len(placeholders))]
    scalar_inputs = np.array(scalar_grads[len(shared) :])
    problems += _mismatches("d/d input", compiled_input_grads, scalar_inputs, input_names, tol)
    names = [leaves[i].label or str(i) for i in shared]
    scalar_leaves = np.array(scalar_grads[: len(shared)])
    problems += _mismatches("d/d leaf", compiled_leaf_grads[shared], scalar_leaves, names, tol)
    return problems


def _mismatches(
    what: str, compiled: np.ndarray, scalar: np.ndarray, names: list[str], tol: tuple[float, float]
) -> list[str]:
    """Descriptions of the entries that differ beyond the tolerance (rtol, atol); NaN equals NaN, inf itself."""
    if compiled.size == 0:
        return []
    with np.errstate(invalid="ignore"):
        same = np.isclose(compiled, scalar, rtol=tol[0], atol=tol[1], equal_nan=True) | (compiled == scalar)
    return [
        f"{what}{f' {names[k]}' if len(names) > 1 else ''}: compiled {compiled[k].item()!r}, "
        f"scalar {scalar[k].item()!r}"
        for k in np.nonzero(~same)[0][:5].tolist()
    ]


class Replay:
    """The traced graph rebuilt by the scalar engine for one sample: its ops run in program order, as the
    traced function ran them, so the first one to refuse a number raises, with the scalar engine's error."""

    def __init__(self, program: Sequence[Value], inputs: Sequence[Value], leaves: Sequence[Value]) -> None:
        self.program, self.inputs, self.leaves = program, inputs, leaves

    def run(self, inputs: Sequence[float], leaves: Sequence[float], sample: int) -> dict[Value, Value]:
        """Every traced node's scalar Value at these numbers; the scalar engine's error (naming the sample) if an op
        refuses them, or FloatingPointError at the first op that makes a NaN or an infinity."""
        made: dict[Value, Value] = dict(zip(self.inputs, map(Value, inputs), strict=True))
        made.update(zip(self.leaves, map(Value, leaves), strict=True))
        for node in self.program:
            args = [made.get(p, p) for p in node.parents]
            try:
                made[node] = out = apply(node.op, *args)
            except (ValueError, ArithmeticError) as e:
                raise _at_sample(e, sample) from None
            if out.data - out.data != 0:  # NaN or ±inf from inputs an op accepts (a NaN parameter, inf - inf)
                shown = ", ".join(repr(a.data) for a in args[:6]) + (", ..." if len(args) > 6 else "")
                raise FloatingPointError(
                    f"compiled forward: {node.op} produced {out.data!r} at sample {sample} (inputs ({shown}))"
                )
        return made

    def gradients(self, batch: np.ndarray, leaves: Sequence[float], weights: np.ndarray, outputs: Sequence[Value],
                  ) -> tuple[np.ndarray, np.ndarray]:
        """(Σ_b d(weights_b · outputs_b)/d leaf, d/d input per sample) as the scalar engine gives them, sample by
        sample: where a batch's gradient is not finite, this (slow) sum is what the compiled path returns."""
        leaf_grads = np.zeros(len(self.leaves))
        input_grads = np.zeros((len(self.inputs), batch.shape[1]))
        for b in range(batch.shape[1]):
            made = self.run(batch[:, b].tolist(), leaves, b)
            total = sum_values([float(w) * made.get(o, o) for w, o in zip(np.atleast_1d(weights[b]), outputs)])
            wrt = [made[leaf] for leaf in self.leaves] + [made[x] for x in self.inputs]
            grads = [g.data for g in gradients(total, wrt)]
            leaf_grads += grads[: len(self.leaves)]
            input_grads[:, b] = grads[len(self.leaves) :]
        return leaf_grads, input_grads


def _at_sample(error: Exception, sample: int) -> Exception:
    """`error` with the sample named first (same type); the error itself if its type cannot be rebuilt."""
    try:
        return type(error)(f"compiled forward, sample {sample}: {error}")
    except Exception:
        return error
