"""From a scalar graph to a plan of blocks: groups of nodes that one numpy call computes for a whole batch.

Every value of the compiled program is a row of a block, a 2-D array with one
row per node and one column per sample (one column only when the block does not
depend on the inputs: parameters, constants and what is computed from them alone).
Block 0 holds the inputs, block 1 the other leaves. Op nodes at the same depth
(so none depends on another) with the same op and the same source block at every
parent position form one elementwise block. `dot` nodes whose weights all come
from one input-independent block and that share their other operand (a layer of
neurons) form one matrix-product block instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import TYPE_CHECKING

from autograd_lite.rules import RULES

if TYPE_CHECKING:
    from autograd_lite.value import Value

INPUTS, LEAVES = 0, 1  # the two blocks every plan starts with


@dataclass(frozen=True)
class Gather:
    """Rows `rows` of block `block`, one per node of the block that reads them."""

    block: int
    rows: tuple[int, ...]


@dataclass
class Block:
    """One array of the compiled program: `size` nodes, computed by one op (or read from the leaves)."""

    index: int
    size: int
    varying: bool  # depends on the inputs: one column per sample; else a single column
    op: str = ""  # rule name of an elementwise block, "dot" for a matrix-product block
    operands: tuple[Gather, ...] = ()  # elementwise: one gather per parent position
    weights: tuple[int, tuple[tuple[int, ...], ...]] | None = None  # matmul: (block, rows: size × n)
    shared: Gather | None = None  # matmul: the n operands every row shares
    bias: Gather | None = None  # matmul: one bias per row, if the dots have one
    nodes: list[Value] = field(default_factory=list, repr=False)


@dataclass
class Plan:
    """The blocks, where every node lives, and which leaves feed block 1."""

    blocks: list[Block]
    where: dict[Value, tuple[int, int]]  # node -> (block, row); nodes hash by identity
    leaves: list[Value]
    nodes: int


@dataclass(frozen=True)
class Layout:
    """A compiled graph's plan as other code may read it (the torch bridge): blocks, leaves, where the outputs are."""

    blocks: tuple[Block, ...]
    leaves: tuple[Value, ...]  # the leaf block's Values, in its row order
    outputs: tuple[tuple[int, int], ...]  # (block, row) of each output
    single: bool  # one output, returned as shape (B,); else (B, outputs)


def trace(outputs: Sequence[Value]) -> list[Value]:
    """Every node the outputs depend on, each after its parents (the merged topological orders)."""
    order: list[Value] = []
    seen: set[Value] = set()  # nodes hash by identity
    for out in outputs:
        if out in seen:
            continue
        seen.add(out)
        # Depth first, parents in order, each node after them: topological_order's order, with one walk for all
        # outputs (an output's nodes already placed are skipped, as the merge would) and leaves placed at once.
        stack = [(out, iter(out.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in seen:
                    seen.add(parent)
                    if parent.parents:
                        stack.append((parent, iter(parent.parents)))
                        break
                    order.append(parent)
            else:
                stack.pop()
                order.append(node)
    return order


def make_plan(outputs: Sequence[Value], inputs: Sequence[Value], first_leaves: Sequence[Value] = ()) -> Plan:
    """Group the traced graph into blocks; NotImplementedError for an op without a numpy form.

    The leaf block starts with `first_leaves` in their order (a model's parameters: a layer's weights
    then lie at regular rows, read as views), then the graph's other leaves in the order traced.
    """
    order = trace(outputs)
    input_rows = {x: i for i, x in enumerate(inputs)}
    placed = set(first_leaves)
    leaves = [*first_leaves, *(n for n in order if not n.parents and n not in input_rows and n not in placed)]
    for node in order:
        if node.parents and RULES[node.op].vectorized is None:
            raise NotImplementedError(
                f"op {node.op!r} has no vectorized (numpy) form, so graphs using it cannot be compiled; "
                f"register it with vectorized=... to compile it"
            )
    where: dict[Value, tuple[int, int]] = dict(_rows(INPUTS, inputs))
    where.update(_rows(LEAVES, leaves))
    blocks = [Block(INPUTS, len(inputs), True, nodes=list(inputs)), Block(LEAVES, len(leaves), False, nodes=leaves)]
    for level in _levels(order):
        groups: dict[GroupKey, list[Value]] = {}
        weights: dict[Value, Located] = {}  # where a matmul node's weights are, found once for key and block
        for node in level:
            groups.setdefault(_group_key(node, where, blocks, weights), []).append(node)
        for key, nodes in groups.items():
            block = _make_block(key, nodes, len(blocks), where, blocks, weights)
            blocks.append(block)
            where.update(_rows(block.index, nodes))
    return Plan(blocks, where, leaves, len(order))


def _rows(block: int, nodes: Sequence[Value]) -> Iterator[tuple[Value, tuple[int, int]]]:
    """(node, (block, row)) for each of `nodes`, in C loops: a model has thousands of leaves."""
    return zip(nodes, zip(repeat(block), range(len(nodes))))


def _levels(order: list[Value]) -> list[list[Value]]:
    """Op nodes by depth (longest path from a leaf): nodes of one level never depend on each other."""
    depth: dict[Value, int] = {}  # op nodes only: a leaf's depth is 0
    levels: list[list[Value]] = []
    for node in order:
        if not node.parents:
            continue
        d = 1 + max(map(depth.get, node.parents, repeat(0)))
        depth[node] = d
        while len(levels) < d:
            levels.append([])
        levels[d - 1].append(node)
    return levels


Located = tuple[tuple[int, int], ...]  # (block, row) of each of some nodes
MatmulKey = tuple[str, int, Located, int | None]  # ("matmul", weight block, shared operands, bias block)
ElementwiseKey = tuple[str, str, tuple[int, ...]]  # ("elementwise", op, source block per parent)
GroupKey = MatmulKey | ElementwiseKey


def _matmul_sides(
    node: Value, where: dict[Value, tuple[int, int]], blocks: list[Block]
) -> tuple[Located, Located] | None:
    """Where the (weights, shared) operands of a dot that can join a matrix product are, or None."""
    n = len(node.parents) // 2
    if node.op != "dot" or n == 0:
        return None
    a = tuple(map(where.__getitem__, node.parents[:n]))
    b = tuple(map(where.__getitem__, node.parents[n : 2 * n]))
    for weights, shared in ((a, b), (b, a)):
        weight_blocks = {block for block, _ in weights}
        if len(weight_blocks) != 1 or blocks[weight_blocks.pop()].varying:
            continue
        if len({block for block, _ in shared}) == 1:
            return weights, shared
    return None


def _group_key(
    node: Value, where: dict[Value, tuple[int, int]], blocks: list[Block], weights_at: dict[Value, Located]
) -> GroupKey:
    """Nodes with equal keys (at one depth) become one block; where a matmul node's weights are goes in `weights_at`."""
    sides = _matmul_sides(node, where, blocks)
    if sides is not None:
        weights, shared = sides
        weights_at[node] = weights
        bias = where[node.parents[-1]][0] if len(node.parents) % 2 else None
        return ("matmul", weights[0][0], shared, bias)
    return ("elementwise", node.op, tuple(where[p][0] for p in node.parents))


def _make_block(
    key: GroupKey,
    nodes: list[Value],
    index: int,
    where: dict[Value, tuple[int, int]],
    blocks: list[Block],
    weights_at: dict[Value, Located],
) -> Block:
    """The block computing `nodes`, grouped under `key`."""
    if len(key) == 4:  # a matrix product's key
        _, weight_block, shared, bias_block = key
        weight_rows = tuple(tuple([row for _, row in weights_at[n]]) for n in nodes)
        shared_gather = Gather(shared[0][0], tuple(row for _, row in shared))
        bias = None if bias_block is None else Gather(bias_block, tuple(where[n.parents[-1]][1] for n in nodes))
        varying = blocks[shared_gather.block].varying or (bias is not None and blocks[bias.block].varying)
        return Block(index, len(nodes), varying, "dot", (), (weight_block, weight_rows), shared_gather, bias, nodes)
    _, op, sources = key
    operands = tuple(Gather(src, tuple(where[n.parents[j]][1] for n in nodes)) for j, src in enumerate(sources))
    varying = any(blocks[src].varying for src in sources)
    return Block(index, len(nodes), varying, op, operands, nodes=nodes)
