"""autograd_lite: a scalar reverse-mode autodiff engine for learning, teaching and prototyping backprop.

Where things are: the rule table (what every op means) in `rules.py` (rows) and
`registry.py` (what a rule is), every op as a function on floats, Values and
arrays in `ops.py`, the `Value` node in `value.py`, `register_op` and its checks
in `custom_ops.py`, the backward pass in `backward.py`, functional
gradients and `gradcheck` in `functional.py`. Drawing (`draw_dot`,
`backward_steps`, `save_backward_animation`) and `explain` are loaded on first
use, so `import autograd_lite` does not import graphviz. `autograd_lite.nn` (`from
autograd_lite import nn`, as `from torch import nn`) is the `nn` package, loaded only
when asked for: the engine itself never imports nn.
"""

from __future__ import annotations

from typing import Any

# First, before numpy loads: in the `autograd-lite` command (only there), Ctrl-C while loading is one line.
from autograd_lite.cli import interrupt as _interrupt  # noqa: F401  (acts on import; see cli/interrupt.py)

# isort: split
from autograd_lite import ops
from autograd_lite.backward import topological_order
from autograd_lite.compiled import CompileCheckError, CompiledGraph, compile_graph
from autograd_lite.custom_ops import register_op
from autograd_lite.files import write_atomic
from autograd_lite.functional import GradcheckError, grad, gradcheck, gradients, value_and_grad
from autograd_lite.jacobian import hessian, jacobian
from autograd_lite.modes import detect_anomaly, enable_grad, no_grad
from autograd_lite.rules import RULES, Rule
from autograd_lite.value import Value, apply, constant, dot, sum_values

__version__ = "0.1.0"

_LAZY = {
    "draw_dot": "autograd_lite.draw.render",
    "backward_steps": "autograd_lite.draw.backward_frames",
    "save_backward_animation": "autograd_lite.draw.backward_frames",
    "explain": "autograd_lite.draw.explain",
    "explore": "autograd_lite.draw.explore",
}


def __getattr__(name: str) -> Any:  # Any: a different function for each lazy name
    """Load the drawing and explaining functions on first use."""
    if name == "nn":  # `autograd_lite.nn`, like `torch.nn`; loaded only when asked for: the engine never imports nn
        import importlib

        return importlib.import_module("autograd_lite.nn")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

__all__ = [
    "RULES",
    "CompileCheckError",
    "CompiledGraph",
    "GradcheckError",
    "Rule",
    "Value",
    "apply",
    "backward_steps",
    "compile_graph",
    "constant",
    "detect_anomaly",
    "dot",
    "draw_dot",
    "enable_grad",
    "explain",
    "explore",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "jacobian",
    "no_grad",
    "ops",
    "register_op",
    "save_backward_animation",
    "sum_values",
    "topological_order",
    "value_and_grad",
    "write_atomic",
]
