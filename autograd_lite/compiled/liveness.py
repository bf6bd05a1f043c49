"""What the generated code keeps and frees, decided on the plan (blocks and rule rows) before any code is written.

The forward sweep returns only the arrays the backward sweep reads and frees the
others after the last block that reads them; the backward sweep frees each
adjoint after its own block, since only the blocks before it (already swept) add
into it. Names follow the code generator: `v{i}` is block i's value, `a{i}_{j}`
its j-th operand when that is not a whole block, `x{i}`/`w{i}`/`b{i}` a matrix
product's shared operand, weights and bias.
"""

from __future__ import annotations

from collections.abc import Iterator

from autograd_lite.compiled.plan import INPUTS, LEAVES, Block, Gather, Plan
from autograd_lite.rules import RULES


def rows_kind(plan: Plan, g: Gather, broadcast: bool) -> str:
    """How rows are taken: the whole block, one row for all, a contiguous range, every k-th row, or by index."""
    rows = g.rows
    size = plan.blocks[g.block].size
    if len(rows) == size and rows[0] == 0 and rows[-1] == size - 1 and rows == tuple(range(size)):
        return "all"
    if len(rows) == 1 or (broadcast and len(set(rows)) == 1):
        return "one"
    if rows == tuple(range(rows[0], rows[0] + len(rows))):
        return "range"
    if rows[1] > rows[0] and rows == tuple(range(rows[0], rows[-1] + 1, rows[1] - rows[0])):
        return "stride"  # every k-th row, e.g. the biases between the weights of a layer's neurons
    return "index"


def operand_names(plan: Plan, block: Block) -> list[str]:
    """The forward's name for each operand of an elementwise block: a whole block's own name, else a{i}_{j}."""
    return [
        f"v{g.block}" if rows_kind(plan, g, broadcast=True) == "all" else f"a{block.index}_{j}"
        for j, g in enumerate(block.operands)
    ]


def slopes(block: Block) -> list[float | None]:
    """Per operand of an elementwise block, its slope when the row says it is always one number, else None."""
    rule, count = RULES[block.op], len(block.operands)
    return [rule.constant_slope(j, count) for j in range(count)]


def calls_partials(block: Block) -> bool:
    """The backward of an elementwise block calls the row's partials (some slope is not a constant)."""
    return any(c is None for c in slopes(block))


def _sources(block: Block) -> Iterator[tuple[Gather, bool]]:
    """(operand, whether its adjoint can be non-zero) for every operand a block's backward adds into."""
    if block.weights:
        assert block.shared is not None  # a matrix-product block always has its shared operand
        yield Gather(block.weights[0], ()), True
        yield block.shared, True
        if block.bias is not None:
            yield block.bias, True
        return
    for g, c in zip(block.operands, slopes(block), strict=True):
        yield g, c != 0.0


def adjoint_blocks(plan: Plan, outputs: set[int], with_inputs: bool) -> set[int]:
    """The blocks whose adjoint the backward sweep makes: the outputs and what they reach through non-zero slopes."""
    reached = set(outputs)
    for block in reversed(plan.blocks[2:]):
        if block.index in reached:
            reached.update(g.block for g, live in _sources(block) if live and (with_inputs or g.block != INPUTS))
    return reached


def kept(plan: Plan, outputs: set[int]) -> set[str]:
    """The forward's arrays the backward reads (for the gradient and the inputs' gradient), the outputs, v0 and v1.

    relu's input, for one, is not kept: its slope is read from its output.
    """
    names = {"v0", "v1", *(f"v{b}" for b in outputs)}
    for i in adjoint_blocks(plan, outputs, with_inputs=True) - {INPUTS, LEAVES}:
        block = plan.blocks[i]
        if block.weights:
            names.update((f"w{i}", f"x{i}"))
        elif calls_partials(block):
            names.add(f"v{i}")
            if RULES[block.op].slopes_read_inputs:
                names.update(operand_names(plan, block))
    return names


def last_reader(plan: Plan) -> dict[int, int]:
    """Per block, the last block whose forward reads it (itself if none does)."""
    last = {block.index: block.index for block in plan.blocks}
    for block in plan.blocks[2:]:
        read = [g.block for g in (*block.operands, block.shared, block.bias) if g is not None]
        if block.weights:
            read.append(block.weights[0])
        for j in read:
            last[j] = max(last[j], block.index)
    return last
