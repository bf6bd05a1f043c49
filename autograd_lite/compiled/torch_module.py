"""`CompiledGraph.to_torch()`: the traced graph as a `torch.nn.Module`, block by block with torch operations.

The module walks the same plan as the numpy path (`plan.py`): elementwise blocks
call the op's torch form, matrix-product blocks are `W @ x + bias`. Backward is
torch's autograd, so the module trains on any device torch offers. The torch form
of each rule-table row is named by the row (`Rule.torch`, e.g. "torch.exp"); a custom
op gets one with `register_torch_form`, and an op without one is a clear error.
This module imports torch; `autograd_lite` loads it only when `to_torch` is called.
"""

from __future__ import annotations

from collections.abc import Callable

from autograd_lite.compiled.plan import Block, Gather, Layout
from autograd_lite.rules import RULES

EXTRA_HINT = 'install the optional extra: pip install "autograd-lite[torch]"'

try:
    import torch
except ImportError as error:  # the core never needs torch; only this bridge does
    raise ImportError(f"CompiledGraph.to_torch needs PyTorch; {EXTRA_HINT}") from error


def pow_form(x: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """x ** p with the rule's d/dp = x**p·log x where x > 0 and 0 elsewhere (torch's own pow gives NaN there)."""
    positive = x > 0
    safe = torch.where(positive, x, torch.ones_like(x))
    return torch.where(positive, torch.pow(safe, p), torch.pow(x, p.detach()))


def dot_form(*xs: torch.Tensor) -> torch.Tensor:
    """a·b (+ bias) over elementwise rows, as the rule's n-ary dot (products first, then the bias)."""
    n = len(xs) // 2
    products = [a * b for a, b in zip(xs[:n], xs[n : 2 * n])]
    bias = [xs[-1]] if len(xs) % 2 else []
    if not products:
        return bias[0] if bias else torch.zeros_like(xs[0])
    total = sum_form(*products)
    return total + bias[0] if bias else total


def sum_form(*xs: torch.Tensor) -> torch.Tensor:
    """x1 + x2 + ... as the rule's n-ary sum."""
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


# Torch forms given with `register_torch_form` (custom ops); a row of the rule table names its own in `Rule.torch`,
# and each must agree with the row's `vectorized` and `partials` (tests/test_torch_bridge.py checks every row).
TorchForm = Callable[..., "torch.Tensor"]  # tensors (or numbers) in, a tensor out
TORCH_FORMS: dict[str, TorchForm] = {}


def register_torch_form(name: str, form: TorchForm) -> None:
    """Give the rule-table op `name` (e.g. a custom op from `register_op`) its torch form."""
    if name not in RULES:
        raise ValueError(f"unknown op {name!r}; the rule table has: {', '.join(RULES)}")
    if not callable(form):
        raise TypeError(f"the torch form of {name!r} must be callable, got {type(form).__name__}")
    TORCH_FORMS[name] = form


def torch_form(name: str) -> TorchForm:
    """The torch form of the rule-table op `name` (its row's, or one registered); NotImplementedError if none."""
    rule = RULES.get(name)
    if rule is None:
        raise ValueError(f"unknown op {name!r}; the rule table has: {', '.join(RULES)}")
    form = TORCH_FORMS.get(name)
    if form is not None:
        return form
    try:
        return rule.torch_form()
    except NotImplementedError as error:
        raise NotImplementedError(
            f"{error}, so a graph using it cannot become a torch module; "
            f"add one with autograd_lite.compiled.torch_module.register_torch_form({name!r}, f)"
        ) from None


class GraphModule(torch.nn.Module):
    """A compiled graph in torch: `forward(*columns)` gives the outputs, autograd the gradients.

    `leaves` holds the graph's trainable leaves (those with `requires_grad`) in the
    order of `leaf_index`; the other leaves (constants) are the buffer `constants`.
    `write_back()` copies trained values into the graph's leaf Values.
    """

    constants: torch.Tensor  # buffers, declared for type checkers
    leaf_order: torch.Tensor

    def __init__(self, plan: Layout, dtype: torch.dtype) -> None:
        super().__init__()
        self._blocks: tuple[Block, ...] = plan.blocks
        self._single = plan.single
        self._out_at = list(plan.outputs)
        self._values = list(plan.leaves)  # the graph's leaf Values, for write_back
        self._forms = {b.index: torch_form(b.op) for b in plan.blocks[2:] if not b.weights}
        trainable = [i for i, leaf in enumerate(plan.leaves) if leaf.requires_grad]
        fixed = [i for i, leaf in enumerate(plan.leaves) if not leaf.requires_grad]
        self.leaf_index = trainable  # leaves[k] is the graph's leaf number leaf_index[k]
        self.leaves = torch.nn.Parameter(torch.tensor([plan.leaves[i].data for i in trainable], dtype=dtype))
        self.register_buffer("constants", torch.tensor([plan.leaves[i].data for i in fixed], dtype=dtype))
        # the leaf block in the graph's order: a permutation of cat(leaves, constants)
        order = torch.empty(len(plan.leaves), dtype=torch.long)
        order[torch.tensor(trainable + fixed, dtype=torch.long)] = torch.arange(len(plan.leaves))
        self.register_buffer("leaf_order", order)
        self._indices: dict[tuple[int, ...], str] = {}
        for block in plan.blocks[2:]:
            for rows in _row_lists(block):
                self._index(rows)
        self.n_inputs = plan.blocks[0].size

    def extra_repr(self) -> str:
        return f"{self.n_inputs} inputs, {len(self._out_at)} output(s), {len(self._blocks) - 2} blocks"

    def forward(self, *columns: torch.Tensor | float) -> torch.Tensor:
        """The outputs for a batch of columns (1-D tensors of length B, or numbers): shape (B,) or (B, outputs)."""
        inputs = self._inputs(columns)
        batch = inputs.shape[1]
        leaf_block = torch.cat([self.leaves, self.constants])[self.leaf_order].reshape(-1, 1)
        values: list[torch.Tensor] = [inputs, leaf_block]
        for block in self._blocks[2:]:
            values.append(self._matmul(block, values) if block.weights else self._elementwise(block, values))
        rows = [values[b][r].expand(batch) for b, r in self._out_at]
        out = rows[0] if self._single else torch.stack(rows, dim=1)
        if not bool(torch.isfinite(out).all()):
            raise FloatingPointError("the graph's torch module produced a NaN or inf (compiled forward names where)")
        return out

    def write_back(self) -> None:
        """Copy the module's leaf values into the graph's leaf Values (after training in torch)."""
        values = torch.cat([self.leaves, self.constants])[self.leaf_order].detach().cpu().tolist()
        for leaf, value in zip(self._values, values, strict=True):
            leaf.data = float(value)

    # --- blocks -----------------------------------------------------------------------

    def _inputs(self, columns: tuple[torch.Tensor | float, ...]) -> torch.Tensor:
        """The batch as an (inputs, B) tensor on the module's device and dtype."""
        if len(columns) != self.n_inputs:
            raise ValueError(f"expected {self.n_inputs} input column(s), one per input, got {len(columns)}")
        like = self.leaves
        tensors = [torch.as_tensor(c, dtype=like.dtype, device=like.device) for c in columns]
        for i, t in enumerate(tensors):
            if t.ndim > 1:
                raise ValueError(f"input column {i} must be 1-D (one number per sample), got shape {tuple(t.shape)}")
        lengths = {t.shape[0] for t in tensors if t.ndim == 1}
        if len(lengths) > 1:
            raise ValueError(f"input columns must all have the same length, got lengths {sorted(lengths)}")
        batch = lengths.pop() if lengths else 1
        if batch == 0:
            raise ValueError("input columns are empty: a batch needs at least one sample")
        if not tensors:
            return torch.empty((0, batch), dtype=like.dtype, device=like.device)
        inputs = torch.stack([t.expand(batch) for t in tensors])
        if not bool(torch.isfinite(inputs).all()):  # max/min/relu could hide a NaN input
            raise ValueError("input columns hold a NaN or infinity")
        return inputs

    def _matmul(self, block: Block, values: list[torch.Tensor]) -> torch.Tensor:
        src, rows = block.weights  # type: ignore[misc]
        flat = tuple(r for row in rows for r in row)
        weights = self._take(values[src], flat).reshape(len(rows), len(rows[0]))
        assert block.shared is not None
        out = weights @ self._take(values[block.shared.block], block.shared.rows)
        return out + self._read(block.bias, values) if block.bias else out

    def _elementwise(self, block: Block, values: list[torch.Tensor]) -> torch.Tensor:
        args = [self._read(g, values) for g in block.operands]
        out = self._forms[block.index](*args)
        if out.shape[0] != block.size:  # every operand one row: the same node's op for every row
            out = out.expand(block.size, -1)
        return out

    def _read(self, g: Gather, values: list[torch.Tensor]) -> torch.Tensor:
        """Rows `g.rows` of a block; a row repeated for every reading node stays one row (broadcast)."""
        if len(set(g.rows)) == 1:
            return values[g.block][g.rows[0] : g.rows[0] + 1]
        return self._take(values[g.block], g.rows)

    def _take(self, value: torch.Tensor, rows: tuple[int, ...]) -> torch.Tensor:
        if rows == tuple(range(value.shape[0])):
            return value
        return value[getattr(self, self._indices[rows])]

    def _index(self, rows: tuple[int, ...]) -> None:
        """A buffer holding `rows` as an index tensor, so `.to(device)` moves it with the module."""
        if rows not in self._indices:
            name = f"index_{len(self._indices)}"
            self.register_buffer(name, torch.tensor(rows, dtype=torch.long), persistent=False)
            self._indices[rows] = name


def _row_lists(block: Block) -> list[tuple[int, ...]]:
    """Every row list the block reads by index."""
    if block.weights:
        assert block.shared is not None
        rows = [tuple(r for row in block.weights[1] for r in row), block.shared.rows]
        return rows + ([block.bias.rows] if block.bias else [])
    return [g.rows for g in block.operands]


def graph_to_torch(plan: Layout, dtype: torch.dtype | None = None) -> GraphModule:
    """A compiled graph's plan as a torch module (float64 unless `dtype` says otherwise)."""
    return GraphModule(plan, torch.float64 if dtype is None else dtype)


__all__ = [
    "TORCH_FORMS",
    "GraphModule",
    "dot_form",
    "graph_to_torch",
    "pow_form",
    "register_torch_form",
    "sum_form",
    "torch_form",
]
