"""autograd_lite: a scalar reverse-mode autodiff engine for learning, teaching and prototyping backprop.

Where things are: the rule table (what every op means) in `rules.py` (rows) and
`registry.py` (what a rule is), every op as a function on floats, Values and
arrays in `ops.py`, the `Value` node in `value.py`, `register_op` and its checks
in `custom_ops.py`, the backward pass in `backward.py`, functional
gradients and `gradcheck` in `functional.py`. Drawing (`draw_dot`,
`backward_steps`, `save_backward_animation`) and `explain` are loaded on first
use, so `import autograd_lite` does not import graphviz. `from autograd_lite
import nn` (as `from torch import nn`) gives the `nn` package; unlike torch, `import
autograd_lite` alone does not load it, since the engine itself never imports nn.
"""

# Helpers under private names, and no `from __future__ import annotations`: the package's names are its API.
import importlib as _importlib
import typing as _typing

# isort: split
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

if _typing.TYPE_CHECKING:  # the lazy names' real types, for mypy and editors; at run time __getattr__ loads them
    from autograd_lite.draw.backward_frames import backward_steps, save_backward_animation
    from autograd_lite.draw.explain import explain
    from autograd_lite.draw.explore import explore
    from autograd_lite.draw.render import draw_dot

__version__ = "0.1.0"

_NN_HINT = (
    " (the engine never imports nn, so `import autograd_lite` leaves it out:"
    " write `from autograd_lite import nn` or `import autograd_lite.nn`)"
)
_LAZY = {
    "draw_dot": "autograd_lite.draw.render",
    "backward_steps": "autograd_lite.draw.backward_frames",
    "save_backward_animation": "autograd_lite.draw.backward_frames",
    "explain": "autograd_lite.draw.explain",
    "explore": "autograd_lite.draw.explore",
}


def __getattr__(name: str) -> object:
    """Load the drawing and explaining functions on first use; say how to get `nn`, which the engine never loads."""
    module = _LAZY.get(name)
    if module is None:
        hint = _NN_HINT if name == "nn" else ""
        raise AttributeError(f"module 'autograd_lite' has no attribute {name!r}{hint}")
    value = getattr(_importlib.import_module(module), name)
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
