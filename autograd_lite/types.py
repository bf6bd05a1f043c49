"""Names for the types the engine passes around, for annotations only (nothing here runs on a hot path)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from typing_extensions import Self

    from autograd_lite.value import Value

# A batch of numbers on the compiled numpy path.
Array = npt.NDArray[np.float64]
# The plain number(s) behind an operand: a float, or an array of them.
FloatOrArray = float | Array
# A number or a node: what Value's operators and `apply` take, and what a gradient is (a Value when it must be
# differentiable again: create_graph, nested grad).
FloatOrValue = Union[float, "Value"]
# grad's result: one float or Value for one argnum, a tuple of them for several.
Gradient = FloatOrValue | tuple[FloatOrValue, ...]
# A JSON object as json.loads gives it and json.dumps takes it; whoever reads a value checks it with isinstance.
JSONObject = dict[str, Any]  # Any: JSON values (numbers, text, lists, objects)
# What rules and `ops` compute on: a float, a Value (differentiable) or a numpy array (a batch).
Operand = Union[float, "Value", Array]


class Node(Protocol):
    """What the backward pass and the renderer read of a graph node: a `Value`, or anything shaped like one."""

    @property
    def data(self) -> float: ...

    @property
    def op(self) -> str: ...

    @property
    def parents(self) -> tuple[Self, ...]: ...
