"""The native step's source: one forward and one backward kernel that run any plan, written for numba.

A plan reaches the kernels as integer tables (native.py builds them), not as code,
so a new graph costs no compile: numba compiles these kernels once per rule table
and keeps them on disk. All values of a run live in one flat buffer, block i's
element (r, b) at off[i] + r·width + b (width B if the block varies with the
inputs, else 1); the adjoints live in a second buffer of the same layout. Each
elementwise block is one loop over its rows and samples calling its row's native
form (fused: no temporary arrays); a matrix-product block is a loop for a small
layer and one BLAS call (np.dot) for a large one. The text depends only on the
rows' names, arities and `selects` flags: the forms themselves are called by name.
"""

from __future__ import annotations

from collections.abc import Sequence

# Columns of the per-block table `meta`.
(SIZE, VARYING, KIND, COUNTED, FIRST, END, N, WROWS, WSRC, XSRC, XROWS, BSRC, BROWS, REACHED, REACHED_INPUTS, DIRECT,
 XDIRECT, WSTRIDE) = range(18)
COLUMNS = 18
MATMUL, SOURCE = -1, -2  # KIND of a matrix-product block and of the input and leaf blocks; ops count from 0
BLAS_WORK = 4096  # multiply-adds in a layer's product above which np.dot (BLAS) beats the plain loop
JIT = '@njit(cache=True, error_model="numpy", nogil=True)'

Op = tuple[str, int | None, bool]  # (name, arity or None for any, selects)


def interpreter(ops: Sequence[Op], digest: str) -> str:
    """The module's text for these ops (kind k is ops[k])."""
    columns = (
        "SIZE, VARYING, KIND, COUNTED, FIRST, END, N, WROWS, WSRC, XSRC, XROWS, BSRC, BROWS, REACHED, REACHED_INPUTS, "
        "DIRECT, XDIRECT, WSTRIDE"
    )
    head = [
        f"# autograd_lite native step: the interpreter for ops {', '.join(op for op, _, _ in ops)} (forms {digest})",
        "import numpy as np",
        "from numba import njit",
        "from autograd_lite.compiled.native import form",
        f"COLUMNS = {COLUMNS}",
        f"{columns} = range(COLUMNS)",
        f"BLAS_WORK = {BLAS_WORK}",
        *(f'F{k} = form("{op}", "forward")\nS{k} = form("{op}", "slope")' for k, (op, _, _) in enumerate(ops)),
        _HELPERS,
    ]
    forward = [_FORWARD_HEAD, *(_branch(k, op, "forward") for k, op in enumerate(ops)), _FORWARD_TAIL]
    backward = [_BACKWARD_HEAD, *(_branch(k, op, "backward") for k, op in enumerate(ops))]
    return "\n".join([*head, *forward, *backward]) + "\n"


def _branch(k: int, op: Op, sweep: str) -> str:
    """The `elif kind == k:` branch of one op, in the forward or the backward kernel."""
    _, arity, selects = op
    body = _forward_body(k, arity) if sweep == "forward" else _backward_body(k, arity, selects)
    return f"        elif kind == {k}:\n" + "".join(f"            {line}\n" for line in body)


def _operands(arity: int) -> list[str]:
    """Where operand j's element for row r lives: p{j} (row start) and t{j} (1 if it has a column per sample)."""
    lines = []
    for j in range(arity):
        lines += [
            f"a{j} = opnd[first + {j}, 0]",
            f"w{j} = B if meta[a{j}, VARYING] else 1",
            f"t{j} = 1 if w{j} > 1 else 0",
        ]
    return lines


def _reads(arity: int) -> list[str]:
    return [f"p{j} = off[a{j}] + rows[opnd[first + {j}, 1] + r] * w{j}" for j in range(arity)]


def _args(arity: int | None, buffer: str = "val") -> str:
    return "xs" if arity is None else ", ".join(f"{buffer}[p{j} + b * t{j}]" for j in range(arity))


def _forward_body(k: int, arity: int | None) -> list[str]:
    if arity is None:
        return [
            "count = meta[i, END] - first",
            "xs = np.empty(count)",
            "for r in range(s):",
            "    for b in range(W):",
            "        for j in range(count):",
            "            a = opnd[first + j, 0]",
            "            wa = B if meta[a, VARYING] else 1",
            "            xs[j] = val[off[a] + rows[opnd[first + j, 1] + r] * wa + (b if wa > 1 else 0)]",
            f"        val[o + r * W + b] = F{k}(xs)",
        ]
    return [
        *_direct(arity),
        "    for e in range(s * W):",
        f"        val[o + e] = F{k}({_direct_args(arity)})",
        "else:",
        *(f"    {line}" for line in _operands(arity)),
        "    for r in range(s):",
        *(f"        {line}" for line in _reads(arity)),
        "        for b in range(W):",
        f"            val[o + r * W + b] = F{k}({_args(arity)})",
    ]


def _direct(arity: int) -> list[str]:
    """The branch for operands that are runs of rows as wide as the block: element e of operand j at q{j} + e."""
    return ["if meta[i, DIRECT]:", *(f"    q{j} = off[opnd[first + {j}, 0]] + rows[opnd[first + {j}, 1]] * W"
                                     for j in range(arity))]


def _direct_args(arity: int, buffer: str = "val") -> str:
    return ", ".join(f"{buffer}[q{j} + e]" for j in range(arity))


def _add(target: str, slope: str, selects: bool) -> list[str]:
    """Adding gg·slope into target; a selection drops gg where the slope is 0 (no 0·inf)."""
    if selects:
        return [f"d = {slope}", "if d != 0.0:", f"    {target} += gg * d"]
    return [f"{target} += gg * ({slope})"]


def _backward_body(k: int, arity: int | None, selects: bool) -> list[str]:
    if arity is None:
        return [
            "count = meta[i, END] - first",
            "xs = np.empty(count)",
            "at = np.empty(count, np.int64)",
            "for r in range(s):",
            "    for b in range(W):",
            "        for j in range(count):",
            "            a = opnd[first + j, 0]",
            "            wa = B if meta[a, VARYING] else 1",
            "            at[j] = off[a] + rows[opnd[first + j, 1] + r] * wa + (b if wa > 1 else 0)",
            "            xs[j] = val[at[j]]",
            "        gg = adj[o + r * W + b]",
            "        for j in range(count):",
            "            c = cslope[first + j]",
            "            if c == 0.0 or (opnd[first + j, 0] == 0 and not with_inputs):",
            "                continue",
            *(
                f"            {line}"
                for line in _add("adj[at[j]]", f"S{k}(j, val[o + r * W + b], xs) if c != c else c", selects)
            ),
        ]
    lines = [*_operands(arity)]
    lines += [f"u{j} = cslope[first + {j}] != 0.0 and (a{j} != 0 or with_inputs)" for j in range(arity)]
    direct = _adjoints(k, arity, selects, "o + e", [f"q{j} + e" for j in range(arity)])
    general = _adjoints(k, arity, selects, "o + r * W + b", [f"p{j} + b * t{j}" for j in range(arity)])
    lines += [*_direct(arity), "    for e in range(s * W):", *(f"        {line}" for line in direct)]
    lines += ["else:", "    for r in range(s):", *(f"        {line}" for line in _reads(arity))]
    return [*lines, "        for b in range(W):", *(f"            {line}" for line in general)]


def _adjoints(k: int, arity: int, selects: bool, out: str, at: list[str]) -> list[str]:
    """One element's adjoint passed to its operands: the output at val[out], operand j at val[at[j]]."""
    args = ", ".join(f"val[{a}]" for a in at)
    lines = [f"gg = adj[{out}]"]
    for j in range(arity):
        c = f"cslope[first + {j}]"
        slope = f"S{k}({j}, val[{out}], {args}) if {c} != {c} else {c}"
        lines += [f"if u{j}:", *(f"    {x}" for x in _add(f"adj[{at[j]}]", slope, selects))]
    return lines


_HELPERS = f'''

{JIT[:-1]}, fastmath={{"reassoc"}})
def sentinel(val, start, stop):
    """val[start:stop] summed in any order (so it vectorizes): not finite if an entry is not (or the sum overflows)."""
    total = 0.0
    for j in range(start, stop):
        total += val[j]
    return total


{JIT}
def offsets(meta, B):
    off = np.empty(meta.shape[0] + 1, np.int64)
    off[0] = 0
    for i in range(meta.shape[0]):
        off[i + 1] = off[i] + meta[i, SIZE] * (B if meta[i, VARYING] else 1)
    return off


{JIT}
def gathers(val, off, meta, rows, i, B):
    """A layer's weights (size, n) and shared operands (n, width) as contiguous arrays."""
    s, n = meta[i, SIZE], meta[i, N]
    ws, xsrc = meta[i, WSRC], meta[i, XSRC]
    wx = B if meta[xsrc, VARYING] else 1
    w = np.empty((s, n))
    stride = meta[i, WSTRIDE]
    if stride:  # each neuron's weights a run of rows, the runs evenly spaced: copied as slices
        w0 = off[ws] + rows[meta[i, WROWS]]
        for r in range(s):
            w[r, :] = val[w0 + r * stride : w0 + r * stride + n]
    else:
        for r in range(s):
            for k in range(n):
                w[r, k] = val[off[ws] + rows[meta[i, WROWS] + r * n + k]]
    if meta[i, XDIRECT]:  # a run of rows: the buffer itself
        start = off[xsrc] + rows[meta[i, XROWS]] * wx
        return w, val[start : start + n * wx].reshape(n, wx)
    x = np.empty((n, wx))
    for k in range(n):
        p = off[xsrc] + rows[meta[i, XROWS] + k] * wx
        for b in range(wx):
            x[k, b] = val[p + b]
    return w, x


{JIT}
def matmul_forward(val, off, meta, rows, i, B):
    s, n = meta[i, SIZE], meta[i, N]
    W = B if meta[i, VARYING] else 1
    w, x = gathers(val, off, meta, rows, i, B)
    wx = x.shape[1]
    if wx > 1 and s * n * wx > BLAS_WORK:
        p = np.dot(w, x)
    else:
        p = np.zeros((s, wx))
        for r in range(s):
            for k in range(n):
                wk = w[r, k]
                for b in range(wx):
                    p[r, b] += wk * x[k, b]
    o, tx = off[i], 1 if wx > 1 else 0
    bs = meta[i, BSRC]
    wb = B if bs >= 0 and meta[bs, VARYING] else 1
    for r in range(s):
        q = off[bs] + rows[meta[i, BROWS] + r] * wb if bs >= 0 else 0
        for b in range(W):
            out = p[r, b * tx]
            if bs >= 0:
                out += val[q + (b if wb > 1 else 0)]
            val[o + r * W + b] = out


{JIT}
def matmul_backward(val, adj, off, meta, rows, i, B, with_inputs):
    s, n = meta[i, SIZE], meta[i, N]
    W = B if meta[i, VARYING] else 1
    w, x = gathers(val, off, meta, rows, i, B)
    wx = x.shape[1]
    g = adj[off[i] : off[i] + s * W].reshape(s, W)  # this block's adjoints (the backward writes only its operands')
    xsrc = meta[i, XSRC]
    to_x = with_inputs or xsrc != 0  # the inputs' adjoints are not wanted
    if wx > 1 and s * n * wx > BLAS_WORK:
        gw = np.dot(g, np.ascontiguousarray(x.T))
        gx = np.dot(np.ascontiguousarray(w.T), g) if to_x else np.empty((0, 0))
    else:  # the inner loops run along k over sample-major copies, so they vectorize (the sums keep their order)
        gw = np.zeros((s, n))
        xt = np.ascontiguousarray(x.T)
        gxt = np.zeros((wx, n))
        tx = 1 if wx > 1 else 0
        for r in range(s):
            for b in range(W):
                gb = g[r, b]
                for k in range(n):
                    gw[r, k] += gb * xt[b * tx, k]
                if to_x:
                    for k in range(n):
                        gxt[b * tx, k] += w[r, k] * gb
        gx = np.ascontiguousarray(gxt.T)
    ws, stride = meta[i, WSRC], meta[i, WSTRIDE]
    for r in range(s):
        q = off[ws] + rows[meta[i, WROWS]] + r * stride
        for k in range(n):
            if stride:
                adj[q + k] += gw[r, k]
            else:
                adj[off[ws] + rows[meta[i, WROWS] + r * n + k]] += gw[r, k]
    if to_x:
        for k in range(n):
            p = off[xsrc] + rows[meta[i, XROWS] + k] * wx
            for b in range(wx):
                adj[p + b] += gx[k, b]
    bs = meta[i, BSRC]
    if bs >= 0 and (with_inputs or bs != 0):
        wb = B if meta[bs, VARYING] else 1
        for r in range(s):
            q = off[bs] + rows[meta[i, BROWS] + r] * wb
            for b in range(W):
                adj[q + (b if wb > 1 else 0)] += g[r, b]
'''

_FORWARD_HEAD = f"""
{JIT}
def forward(v0, v1, meta, opnd, rows):
    B = v0.shape[1]
    off = offsets(meta, B)
    val = np.empty(off[-1])
    for r in range(v0.shape[0]):
        for b in range(B):
            val[off[0] + r * B + b] = v0[r, b]
    for r in range(v1.shape[0]):
        val[off[1] + r] = v1[r, 0]
    total = 0.0
    for i in range(2, meta.shape[0]):
        kind, s, first = meta[i, KIND], meta[i, SIZE], meta[i, FIRST]
        W = B if meta[i, VARYING] else 1
        o, counted = off[i], meta[i, COUNTED] == 1
        if kind == -1:
            matmul_forward(val, off, meta, rows, i, B)"""

_FORWARD_TAIL = """        if counted:
            total += sentinel(val, o, o + s * W)
    return val, total
"""

_BACKWARD_HEAD = f"""
{JIT}
def backward(val, adj, meta, opnd, rows, cslope, B, with_inputs):
    off = offsets(meta, B)
    reached = REACHED_INPUTS if with_inputs else REACHED
    for i in range(meta.shape[0] - 1, 1, -1):
        if meta[i, reached] == 0:
            continue
        kind, s, first = meta[i, KIND], meta[i, SIZE], meta[i, FIRST]
        W = B if meta[i, VARYING] else 1
        o = off[i]
        if kind == -1:
            matmul_backward(val, adj, off, meta, rows, i, B, with_inputs)"""
