"""The compiled path against the scalar engine: the first-call comparison, and the scalar engine's errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_lite.functional import gradients
from autograd_lite.rules import RULES
from autograd_lite.value import Value, sum_values

CHECK_RTOL, CHECK_ATOL = 1e-7, 1e-9  # fused sums add in another order than the scalar engine
SINGLE_TOL = (1e-4, 1e-5)  # float32 carries about 7 digits


def compare_with_scalar(
    outputs: list[Value],
    placeholders: list[Value],
    leaves: list[Value],
    in_graph: dict[Any, Any],
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


def raise_like_scalar(op: str, args: list[float], sample: int) -> None:
    """Raise what the scalar engine raises for `op` on `args` (naming the sample); nothing if it accepts them."""
    try:
        RULES[op].forward(*args)
    except (ValueError, ArithmeticError) as e:
        try:
            error = type(e)(f"compiled forward, sample {sample}: {e}")
        except Exception:  # an exception type that cannot be rebuilt from a message: raise it as it is
            raise e from None
        raise error from None
