"""autograd_lite: a scalar reverse-mode autodiff engine for learning, teaching and prototyping backprop.

Where things are: the rule table (what every op means) in `rules.py`, the
`Value` node in `value.py`, the backward pass in `backward.py`, functional
gradients and `gradcheck` in `functional.py`.
"""

from autograd_lite import fn
from autograd_lite.backward import topological_order
from autograd_lite.compiled import CompileCheckError, CompiledGraph, compile_graph
from autograd_lite.functional import GradcheckError, grad, gradcheck, gradients, value_and_grad
from autograd_lite.modes import detect_anomaly, enable_grad, no_grad
from autograd_lite.rules import RULES, Rule
from autograd_lite.value import Value, apply, constant, dot, register_op, sum_values

__version__ = "0.1.0"

__all__ = [
    "RULES",
    "CompileCheckError",
    "CompiledGraph",
    "GradcheckError",
    "Rule",
    "Value",
    "apply",
    "compile_graph",
    "constant",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "fn",
    "grad",
    "gradcheck",
    "gradients",
    "no_grad",
    "register_op",
    "sum_values",
    "topological_order",
    "value_and_grad",
]
