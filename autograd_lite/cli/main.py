"""The `autograd-lite` command (also `python -m autograd_lite`).

Every run ends with exit code 0 and the promised files, or with exit code 2 and one
line that names the problem (and the flag): never a traceback.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from autograd_lite import __version__
from autograd_lite.cli import interrupt, playground, streams
from autograd_lite.cli.expressions import ExprError, build, function_list, parse_assignments, quote
from autograd_lite.cli.nn_origin import shadowing_nn
from autograd_lite.cli.options import UsageError, add_training_arguments, integer_in
from autograd_lite.cli.paths import refuse_system_folder
from autograd_lite.files import write_atomic
from autograd_lite.modes import detect_anomaly
from autograd_lite.value import Value

DRAW_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}
DRAW_MAX_NODES = 500
DRAW_NODES_LIMIT = 5_000  # the most --max-nodes may allow: a bigger graph takes Graphviz minutes and is unreadable
DRAW_OPTIONS_WITH_VALUE = ("-o", "--output", "--style", "--max-nodes")
MESSAGE_LIMIT = 300  # characters of an error line


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (`autograd-lite train: error: argument --lr: ...`) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(message: str) -> str:
    """The first line of a message, cut to MESSAGE_LIMIT characters."""
    first = message.strip().splitlines()[0] if message.strip() else "failed"
    return first if len(first) <= MESSAGE_LIMIT else first[: MESSAGE_LIMIT - 1] + "…"


def draw(args: argparse.Namespace) -> int:
    """Draw the graph of an expression (read with `ast`, never `eval`) to an SVG, PNG or DOT file."""
    from autograd_lite.draw.render import draw_dot

    out = Path(args.output)
    fmt = DRAW_FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ExprError(f"-o {quote(args.output)} must end in {', '.join(DRAW_FORMATS)}")
    folder = out.parent
    if not folder.is_dir():
        raise ExprError(f"-o {quote(args.output)}: the folder {quote(str(folder))} does not exist")
    problem = refuse_system_folder("-o", quote(args.output), folder)
    if problem:
        raise ExprError(problem)
    root, variables = build(args.expr.strip(), parse_assignments(args.values))
    if not args.forward_only:
        backpropagate(root, variables)
    try:
        graph = draw_dot(root, style=args.style, show_grad=not args.forward_only, max_nodes=args.max_nodes)
    except ValueError as e:
        raise ExprError(f"{e} (on the command line: --max-nodes N)") from None
    data = graph.source.encode() if fmt == "dot" else graph.pipe(format=fmt)
    try:
        write_atomic(out, data)  # all or nothing: no half-written file under the name asked for
    except OSError as e:
        raise ExprError(f"-o {quote(args.output)}: cannot write ({e.strerror or type(e).__name__})") from None
    print(f"f = {root.data:g}")
    if not args.forward_only:
        for name, v in variables.items():
            print(f"  df/d{name} = {v.grad:g}")
    print(f"wrote {out}")
    return 0


def backpropagate(root: Value, variables: dict[str, Value]) -> None:
    """root.backward(); an inf or nan on the way, or in a gradient, is an error here (not a number to print)."""
    if not variables:  # "2 + 3": a constant, nothing to differentiate (backward() of a constant is an error)
        return
    try:
        with detect_anomaly():
            root.backward()
    except (ArithmeticError, ValueError) as e:
        raise ExprError(f"the backward pass fails at these values: {e}") from None
    for name, v in variables.items():
        if not math.isfinite(v.grad):
            raise ExprError(f"df/d{name} = {v.grad}: the gradient is not a finite number at these values")


def protect_expression(argv: list[str]) -> list[str]:
    """In `draw`, an EXPR starting with - ("-x", "-2*x") is the expression, with or without a `--` before it.

    argparse would read it as an option; a leading space keeps it positional (the expression is stripped).
    """
    if not argv or argv[0] != "draw":
        return argv
    out, rest, expr_seen = ["draw"], argv[1:], False
    i = 0
    while i < len(rest):
        token = rest[i]
        if token == "--" and not expr_seen and i + 1 < len(rest):
            out.append(" " + rest[i + 1])
            expr_seen, i = True, i + 2
            continue
        if token in DRAW_OPTIONS_WITH_VALUE:
            out.extend(rest[i : i + 2])
            i += 2
            continue
        is_option = token.startswith("--") or token == "-h" or token.startswith("-o")
        if not expr_seen and not is_option:
            token = " " + token if token.startswith("-") else token
            expr_seen = True
        out.append(token)
        i += 1
    return out


EXAMPLES = """examples:
  autograd-lite demo                      train the two-moons MLP, write pictures to out/
  autograd-lite train --data xor --hidden 4 --activation tanh --loss bce --epochs 300
  autograd-lite draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    raw = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog="autograd-lite", description=__doc__, epilog=EXAMPLES, formatter_class=raw)
    parser.add_argument("--version", action="version", version=f"autograd-lite {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,train,draw,playground}")
    p = sub.add_parser(
        "demo",
        help="the main job: train micrograd's two-moons MLP and write its pictures",
        description="Train an MLP 2-16-16-1 (ReLU) on 100 two-moons points with the hinge loss, print the "
        "accuracy, and write decision_boundary.svg, loss.svg, neuron_graph.svg and model.json to --out.",
        epilog="example:\n  autograd-lite demo --out out",
        formatter_class=raw,
    )
    add_training_arguments(p, demo=True)
    p.set_defaults(run=run_train)
    p = sub.add_parser(
        "train",
        help="train an MLP on a toy data set, as demo does but with your settings",
        description="Train an MLP on a 2-D toy data set and write the same four files as demo (model.json is a "
        "checkpoint: model, optimizer state and history, so --load resumes training).",
        epilog="examples:\n"
        "  autograd-lite train --data circles --hidden 8,8 --activation tanh --loss bce --epochs 200 --out circles\n"
        "  autograd-lite train --data spirals --classes 3 --loss cross_entropy --hidden 32,32 --epochs 300 "
        "--out spirals\n"
        "  autograd-lite train --data circles --loss bce --load circles/model.json --epochs 50 --out circles_more",
        formatter_class=raw,
    )
    add_training_arguments(p, demo=False)
    p.set_defaults(run=run_train)
    p = sub.add_parser(
        "draw",
        help="draw the graph of an expression with values and gradients",
        description="Draw EXPR's graph, e.g. autograd-lite draw \"(x + y) * z\" x=-2 y=5 z=-4 -o graph.svg. "
        f"EXPR may use numbers, + - * / ** and the rule table's ops: {function_list()} "
        "((n): any number of arguments). An EXPR starting with - works as it is (\"-x\"), also after --; "
        "options may come before or after it.",
        epilog="examples:\n"
        '  autograd-lite draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg\n'
        '  autograd-lite draw "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --style records -o n.png\n'
        '  autograd-lite draw -- "-x" x=2 -o neg.svg',
        formatter_class=raw,
    )
    p.add_argument("expr", metavar="EXPR", help="the expression, e.g. \"(x + y) * z\"")
    p.add_argument("values", metavar="NAME=NUMBER", nargs="*", help="a value for each variable")
    p.add_argument("-o", "--output", default="graph.svg", help="file to write: .svg, .png or .dot (default graph.svg)")
    p.add_argument("--style", choices=("wires", "records"), default="wires", help="slides' wires or micrograd's boxes")
    p.add_argument("--forward-only", action="store_true", help="values only, before backward")
    p.add_argument(
        "--max-nodes", type=integer_in(1, DRAW_NODES_LIMIT), default=DRAW_MAX_NODES,
        help=f"refuse to draw more nodes than this, 1 to {DRAW_NODES_LIMIT} (default: {DRAW_MAX_NODES})",
    )
    p.set_defaults(run=draw)
    playground.add_parser(sub)
    return parser


def run_train(args: argparse.Namespace) -> int:
    """`train` and `demo`: nn is checked to be ours before anything imports it (a local nn.py would hide it)."""
    problem = shadowing_nn()
    if problem is not None:
        raise UsageError(problem)
    from autograd_lite.cli.train import train

    return train(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script: 0 with the files written, or 2 with one line on stderr."""
    with streams.guarded() as (stdout, _):
        args = build_parser().parse_args(protect_expression(list(sys.argv[1:] if argv is None else argv)))
        code, message = run(args)
        stdout.flush()
        if message is None and stdout.broken:  # `train | head -2`: the files are written, the report was cut
            message = "standard output was closed before everything was printed (broken pipe); the run itself finished"
            code = 2
        if message is not None:
            print(f"autograd-lite {args.command}: error: {one_line(message)}", file=sys.stderr)
        return code


def run(args: argparse.Namespace) -> tuple[int, str | None]:
    """Run the command: (exit code, None) or (2, the problem) or (130, None) after Ctrl-C."""
    try:
        interrupt.restore()  # from here on Ctrl-C is a KeyboardInterrupt: training stops cleanly, files are not torn
        code: int = args.run(args)
        return code, None
    except (UsageError, ExprError) as e:
        return 2, str(e)
    except (RecursionError, MemoryError) as e:
        return 2, f"too large to handle ({type(e).__name__})"
    except (RuntimeError, OSError, ValueError, ArithmeticError, ImportError) as e:  # dot, disk, no torch
        return 2, f"{type(e).__name__}: {e}"
    except KeyboardInterrupt:
        print(f"autograd-lite {args.command}: interrupted", file=sys.stderr)
        return 130, None


if __name__ == "__main__":
    sys.exit(main())
