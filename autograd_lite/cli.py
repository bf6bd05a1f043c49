"""The `autograd-lite` command (also `python -m autograd_lite`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from autograd_lite import Value


def demo(args: argparse.Namespace) -> int:
    """Build and differentiate the slides' f = (x+y)·z and print values and gradients."""
    x, y, z = Value(-2.0, "x"), Value(5.0, "y"), Value(-4.0, "z")
    f = (x + y) * z
    f.backward()
    print(f"f = (x + y) * z at x={x.data:g}, y={y.data:g}, z={z.data:g}")
    print(f"  f     = {f.data:g}")
    for v in (x, y, z):
        print(f"  df/d{v.label} = {v.grad:g}")
    return 0


DRAW_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


def draw(args: argparse.Namespace) -> int:
    """Draw the graph of an expression (read with `ast`, never `eval`) to an SVG, PNG or DOT file."""
    from autograd_lite.expr import ExprError, build, parse_assignments
    from autograd_lite.render import draw_dot

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
        tmp = out.with_name(f".{out.name}.tmp")
        try:
            tmp.write_bytes(data)
            tmp.replace(out)  # all or nothing: no half-written file under the name asked for
        finally:
            tmp.unlink(missing_ok=True)
    except (OSError, RuntimeError, ValueError) as e:
        print(f"autograd-lite draw: error: {e}", file=sys.stderr)
        return 1
    print(f"f = {root.data:g}")
    if not args.forward_only:
        for name, v in variables.items():
            print(f"  df/d{name} = {v.grad:g}")
    print(f"wrote {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="autograd-lite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="the main job: a worked example end to end")
    p.set_defaults(run=demo)
    p = sub.add_parser(
        "draw",
        help="draw the graph of an expression with values and gradients",
        description="Draw EXPR's graph, e.g. autograd-lite draw \"(x + y) * z\" x=-2 y=5 z=-4 -o graph.svg. "
        "EXPR may use + - * / **, numbers and exp log tanh sigmoid relu abs max min (put -- before an EXPR "
        "starting with -).",
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
