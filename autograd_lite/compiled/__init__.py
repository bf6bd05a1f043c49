"""Compiled batches: a scalar graph traced once and replayed over numpy arrays.

`plan.py` groups the traced nodes into blocks (a layer of neurons becomes one
matrix product), `codegen.py` writes straight-line numpy code for them, and
`graph.py` is the public `compile_graph` / `CompiledGraph`; `native.py` runs a plan's sweeps as numba kernels
and `native_train.py` many training steps in one such call.
"""

from autograd_lite.compiled.compile import compile_graph
from autograd_lite.compiled.graph import CompileCheckError, CompiledGraph
from autograd_lite.compiled.native import startup_seconds as native_startup_seconds
from autograd_lite.compiled.native_train import Steps, Training
from autograd_lite.compiled.native_train import startup_seconds as native_loop_startup_seconds

__all__ = [
    "CompileCheckError", "CompiledGraph", "Steps", "Training", "compile_graph", "native_loop_startup_seconds",
    "native_startup_seconds",
]
