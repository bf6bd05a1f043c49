"""The native step's source: one forward and one backward kernel that run any plan, written for numba.

A plan reaches the kernels as integer tables (native.py builds them), not as code,
so a new graph costs no compile: numba compiles these kernels once per rule table
and keeps them on disk. All values of a run live in one flat buffer, block i's
element (r, b) at off[i] + r·width + b (width B if the block varies with the
inputs, else 1); the adjoints live in a second buffer of the same layout. Each
elementwise block is one loop over its rows and samples calling its row's native
form (fused: no temporary arrays), over views where its operands are stretches of
the buffers (loops over offsets into one shared buffer do not vectorize); a
matrix-product block is one BLAS call (np.dot) per product from a few hundred
multiply-adds up, and a loop below. The text depends only on the
rows' names, arities and `selects` flags: the forms themselves are called by name.
"""

from __future__ import annotations

from collections.abc import Sequence

# Columns of the per-block table `meta`.
(SIZE, VARYING, KIND, COUNTED, FIRST, END, N, WROWS, WSRC, XSRC, XROWS, BSRC, BROWS, REACHED, REACHED_INPUTS, DIRECT,
 XDIRECT, WSTRIDE) = range(18)
COLUMNS = 18
MATMUL, SOURCE = -1, -2  # KIND of a matrix-product block and of the input and leaf blocks; ops count from 0
# Multiply-adds in a layer's product above which np.dot (BLAS) beats numba's loop. Measured 2026-12 (AVX-512 core):
# 16x16 weights on 10 samples 0.4 µs by BLAS, 1.7 µs looped; 16x2 on 10 0.17 vs 0.39; 1x16 on 10 0.21 vs 0.11.
BLAS_WORK = 256
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
        "    out = val[o : o + s * W]",
        "    for e in range(s * W):",
        f"        out[e] = F{k}({', '.join(f'vx{j}[e]' for j in range(arity))})",
        "else:",
        *(f"    {line}" for line in _operands(arity)),
        "    for r in range(s):",
        *(f"        {line}" for line in _reads(arity)),
        "        for b in range(W):",
        f"            val[o + r * W + b] = F{k}({_args(arity)})",
    ]


def _direct(arity: int, buffers: tuple[str, ...] = ("val",)) -> list[str]:
    """The branch for operands that are runs of rows as wide as the block: operand j's elements are one stretch of
    each buffer, taken as views (vx{j} of the values, ax{j} of the adjoints) because loops over a view vectorize
    where loops over offsets into one shared buffer do not."""
    lines = ["if meta[i, DIRECT]:"]
    for j in range(arity):
        lines.append(f"    q{j} = off[opnd[first + {j}, 0]] + rows[opnd[first + {j}, 1]] * W")
        views = zip(("vx", "ax"), buffers, strict=False)
        lines += [f"    {name}{j} = {buffer}[q{j} : q{j} + s * W]" for name, buffer in views]
    return lines


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
    lines += [f"c{j} = cslope[first + {j}]" for j in range(arity)]  # (read once: the loops must not reload it)
    lines += [f"u{j} = c{j} != 0.0 and (a{j} != 0 or with_inputs)" for j in range(arity)]
    direct = _adjoints(k, arity, selects, ("vo[e]", "go[e]"), [(f"vx{j}[e]", f"ax{j}[e]") for j in range(arity)])
    general = _adjoints(k, arity, selects, ("val[o + r * W + b]", "adj[o + r * W + b]"),
                        [(f"val[p{j} + b * t{j}]", f"adj[p{j} + b * t{j}]") for j in range(arity)])
    views = ["    vo, go = val[o : o + s * W], adj[o : o + s * W]"]
    lines += [*_direct(arity, ("val", "adj")), *views, "    for e in range(s * W):"]
    lines += [f"        {line}" for line in direct]
    lines += ["else:", "    for r in range(s):", *(f"        {line}" for line in _reads(arity))]
    return [*lines, "        for b in range(W):", *(f"            {line}" for line in general)]


def _adjoints(k: int, arity: int, selects: bool, out: tuple[str, str], at: list[tuple[str, str]]) -> list[str]:
    """One element's adjoint passed to its operands: out and at[j] are (value, adjoint) of the output and operand j."""
    args = ", ".join(value for value, _ in at)
    lines = [f"gg = {out[1]}"]
    for j in range(arity):
        slope = f"S{k}({j}, {out[0]}, {args}) if c{j} != c{j} else c{j}"
        lines += [f"if u{j}:", *(f"    {x}" for x in _add(at[j][1], slope, selects))]
    return lines


_HELPERS = f'''

{JIT[:-1]}, fastmath={{"reassoc"}})
def summed(buffer, start, stop):
    """buffer[start:stop] summed in any order, so that it vectorizes: the forward's sentinel (not finite if an entry
    is not, or the sum overflows) and a bias's adjoint. Over a view: indices from 0 need no wrap-around check,
    which kept the loop over offsets from vectorizing (16 rows of 100 took 1.08 µs, over views 0.23)."""
    part = buffer[start:stop]
    total = 0.0
    for j in range(part.shape[0]):
        total += part[j]
    return total


{JIT}
def offsets(meta, B):
    off = np.empty(meta.shape[0] + 1, np.int64)
    off[0] = 0
    for i in range(meta.shape[0]):
        off[i + 1] = off[i] + meta[i, SIZE] * (B if meta[i, VARYING] else 1)
    return off


{JIT}
def weights(val, off, meta, rows, i):
    """A layer's weights as a contiguous (size, n) copy (BLAS takes them so)."""
    s, n = meta[i, SIZE], meta[i, N]
    w = np.empty((s, n))
    at, stride = meta[i, WROWS], meta[i, WSTRIDE]
    base = off[meta[i, WSRC]]
    if stride:  # each neuron's weights a run of rows, the runs evenly spaced (copied from views: see summed)
        base += rows[at]
        for r in range(s):
            run = val[base + r * stride : base + r * stride + n]
            for k in range(n):
                w[r, k] = run[k]
    else:
        for r in range(s):
            for k in range(n):
                w[r, k] = val[base + rows[at + r * n + k]]
    return w


{JIT}
def shared(val, off, meta, rows, i, B):
    """A layer's shared operands (n, width): the buffer itself if they are a run of rows, else a copy."""
    n, xsrc, at = meta[i, N], meta[i, XSRC], meta[i, XROWS]
    wx = B if meta[xsrc, VARYING] else 1
    if meta[i, XDIRECT]:
        start = off[xsrc] + rows[at] * wx
        return val[start : start + n * wx].reshape(n, wx)
    x = np.empty((n, wx))
    for k in range(n):
        p = off[xsrc] + rows[at + k] * wx
        run = val[p : p + wx]
        for b in range(wx):
            x[k, b] = run[b]
    return x


{JIT}
def blas(s, n, wx, W):
    """Whether a layer's products go to BLAS: operands over all W samples (more than one), above a few hundred
    multiply-adds."""
    return wx == W and wx > 1 and s * n * wx > BLAS_WORK


{JIT}
def matmul_forward(val, off, meta, rows, i, B):
    s, n = meta[i, SIZE], meta[i, N]
    W = B if meta[i, VARYING] else 1
    w, x = weights(val, off, meta, rows, i), shared(val, off, meta, rows, i, B)
    wx = x.shape[1]
    o = off[i]
    out = val[o : o + s * W].reshape(s, W)
    if blas(s, n, wx, W):
        np.dot(w, x, out)
    else:
        tx = 1 if wx > 1 else 0
        for r in range(s):
            for b in range(W):
                out[r, b] = 0.0
            for k in range(n):
                wk = w[r, k]
                for b in range(W):
                    out[r, b] += wk * x[k, b * tx]
    bs = meta[i, BSRC]
    if bs >= 0:
        wb = B if meta[bs, VARYING] else 1
        for r in range(s):
            q = off[bs] + rows[meta[i, BROWS] + r] * wb
            if wb > 1:
                for b in range(W):
                    out[r, b] += val[q + b]
            else:
                c = val[q]
                for b in range(W):
                    out[r, b] += c


{JIT}
def matmul_backward(val, adj, off, meta, rows, i, B, with_inputs):
    s, n = meta[i, SIZE], meta[i, N]
    W = B if meta[i, VARYING] else 1
    w, x = weights(val, off, meta, rows, i), shared(val, off, meta, rows, i, B)
    wx = x.shape[1]
    g = adj[off[i] : off[i] + s * W].reshape(s, W)  # this block's adjoints (the backward writes only its operands')
    xsrc = meta[i, XSRC]
    to_x = with_inputs or xsrc != 0  # the inputs' adjoints are not wanted
    tx = 1 if wx > 1 else 0
    if blas(s, n, wx, W):
        gw = np.dot(g, x.T)
    else:
        gw = np.zeros((s, n))
        for r in range(s):
            for k in range(n):
                t = 0.0
                for b in range(W):
                    t += g[r, b] * x[k, b * tx]
                gw[r, k] = t
    at, stride, base = meta[i, WROWS], meta[i, WSTRIDE], off[meta[i, WSRC]]
    if stride:
        base += rows[at]
        for r in range(s):
            run = adj[base + r * stride : base + r * stride + n]
            for k in range(n):
                run[k] += gw[r, k]
    else:
        for r in range(s):
            for k in range(n):
                adj[base + rows[at + r * n + k]] += gw[r, k]
    if to_x:  # each operand row's adjoints as a view: loops over a view vectorize
        xa = meta[i, XROWS]
        gx = np.dot(w.T, g) if blas(s, n, wx, W) else np.empty((0, 0))
        for k in range(n):
            p = off[xsrc] + rows[xa + k] * wx
            ax = adj[p : p + wx]
            if gx.shape[0]:
                for b in range(wx):
                    ax[b] += gx[k, b]
                continue
            for r in range(s):
                wk = w[r, k]
                for b in range(W):
                    ax[b * tx] += wk * g[r, b]
    bs = meta[i, BSRC]
    if bs >= 0 and (with_inputs or bs != 0):
        wb = B if meta[bs, VARYING] else 1
        for r in range(s):
            q = off[bs] + rows[meta[i, BROWS] + r] * wb
            if wb > 1:
                ab = adj[q : q + W]
                for b in range(W):
                    ab[b] += g[r, b]
            else:
                adj[q] += summed(adj, off[i] + r * W, off[i] + (r + 1) * W)
'''

_FORWARD_HEAD = f"""
{JIT}
def forward(v0, v1, meta, opnd, rows):
    val = np.empty(offsets(meta, v0.shape[1])[-1])
    return val, forward_into(val, v0, v1, meta, opnd, rows)


{JIT}
def forward_into(val, v0, v1, meta, opnd, rows):
    # the forward sweep into val: a loop of many steps keeps one buffer (a new large one is new pages each time)
    B = v0.shape[1]
    off = offsets(meta, B)
    inputs = val[off[0] : off[0] + v0.shape[0] * B].reshape(v0.shape[0], B)  # views (see summed)
    for r in range(v0.shape[0]):
        for b in range(B):
            inputs[r, b] = v0[r, b]
    leaves = val[off[1] : off[1] + v1.shape[0]]
    for r in range(v1.shape[0]):
        leaves[r] = v1[r, 0]
    total = 0.0
    for i in range(2, meta.shape[0]):
        kind, s, first = meta[i, KIND], meta[i, SIZE], meta[i, FIRST]
        W = B if meta[i, VARYING] else 1
        o, counted = off[i], meta[i, COUNTED] == 1
        if kind == -1:
            matmul_forward(val, off, meta, rows, i, B)"""

_FORWARD_TAIL = """        if counted:
            total += summed(val, o, o + s * W)
    return total
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
