"""The `autograd-lite` command (also `python -m autograd_lite`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from autograd_lite.cli.train import add_training_arguments, train
from autograd_lite.files import write_atomic

DRAW_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


def draw(args: argparse.Namespace) -> int:
    """Draw the graph of an expression (read with `ast`, never `eval`) to an SVG, PNG or DOT file."""
    from autograd_lite.cli.expressions import ExprError, build, parse_assignments
    from autograd_lite.draw.render import draw_dot

    out = Path(args.output)
    fmt = DRAW_FORMATS.get(out.suffix.lower())
    try:
        if fmt is None:
            raise ExprError(f"output {args.output!r} must end in {', '.join(DRAW_FORMATS)}")
        root, variables = build(args.expr, parse_assignments(args.values))
    except ExprError as e:
        print(f"autograd-lite draw: error: {e}", file=sys.stderr)
        return 2
    if not args.forward_only:
        root.backward()
    try:
        graph = draw_dot(root, style=args.style, show_grad=not args.forward_only)
        data = graph.source.encode() if fmt == "dot" else graph.pipe(format=fmt)
        write_atomic(out, data)  # all or nothing: no half-written file under the name asked for
    except (OSError, RuntimeError, ValueError) as e:
        print(f"autograd-lite draw: error: {e}", file=sys.stderr)
        return 1
    print(f"f = {root.data:g}")
    if not args.forward_only:
        for name, v in variables.items():
            print(f"  df/d{name} = {v.grad:g}")
    print(f"wrote {out}")
    return 0


EXAMPLES = """examples:
  autograd-lite demo                      train the two-moons MLP, write pictures to out/
  autograd-lite train --data xor --hidden 4 --activation tanh --loss bce --epochs 300
  autograd-lite draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="autograd-lite", description=__doc__, epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="{demo,train,draw}")
    p = sub.add_parser(
        "demo",
        help="the main job: train micrograd's two-moons MLP and write its pictures",
        description="Train an MLP 2-16-16-1 (ReLU) on 100 two-moons points with the hinge loss, print the "
        "accuracy, and write decision_boundary.png, loss.png, neuron_graph.svg and model.json to --out.",
        epilog="example:\n  autograd-lite demo --out out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_training_arguments(p, demo=True)
    p.set_defaults(run=train)
    p = sub.add_parser(
        "train",
        help="train an MLP on a toy data set, as demo does but with your settings",
        description="Train an MLP on a 2-D toy data set and write the same four files as demo.",
        epilog="examples:\n"
        "  autograd-lite train --data circles --hidden 8,8 --activation tanh --loss bce --epochs 200\n"
        "  autograd-lite train --data spirals --classes 3 --loss cross_entropy --hidden 32,32 --epochs 300\n"
        "  autograd-lite train --load out/model.json --epochs 50 --out more",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_training_arguments(p, demo=False)
    p.set_defaults(run=train)
    p = sub.add_parser(
        "draw",
        help="draw the graph of an expression with values and gradients",
        description="Draw EXPR's graph, e.g. autograd-lite draw \"(x + y) * z\" x=-2 y=5 z=-4 -o graph.svg. "
        "EXPR may use + - * / **, numbers and exp log tanh sigmoid relu abs max min (put -- before an EXPR "
        "starting with -).",
        epilog="examples:\n"
        '  autograd-lite draw "(x + y) * z" x=-2 y=5 z=-4 -o graph.svg\n'
        '  autograd-lite draw "sigmoid(w0*x0 + w1*x1 + w2)" w0=2 x0=-1 w1=-3 x1=-2 w2=-3 --style records -o n.png',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("expr", metavar="EXPR", help="the expression, e.g. \"(x + y) * z\"")
    p.add_argument("values", metavar="NAME=NUMBER", nargs="*", help="a value for each variable")
    p.add_argument("-o", "--output", default="graph.svg", help="file to write: .svg, .png or .dot (default graph.svg)")
    p.add_argument("--style", choices=("wires", "records"), default="wires", help="slides' wires or micrograd's boxes")
    p.add_argument("--forward-only", action="store_true", help="values only, before backward")
    p.set_defaults(run=draw)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
