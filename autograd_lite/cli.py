"""The `autograd-lite` command (also `python -m autograd_lite`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="autograd-lite", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="the main job: a worked example end to end")
    p.set_defaults(run=demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
