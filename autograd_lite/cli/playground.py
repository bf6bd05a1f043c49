"""`autograd-lite playground`: the live training page, served on 127.0.0.1 (see autograd_lite/playground/)."""

from __future__ import annotations

import argparse

from autograd_lite.cli.options import integer_in


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The playground subcommand and its options."""
    p = sub.add_parser(
        "playground",
        help="train a network live in the browser and watch the gradients flow",
        description="Serve the Playground on 127.0.0.1 and open it in the browser: data sets, a model to shape, "
        "play/pause/step, the decision surface, each neuron's heat map, and the graph of one point with every "
        "wire's value and gradient. Nothing is loaded from the internet. Ctrl-C stops the server.",
        epilog="examples:\n  autograd-lite playground\n  autograd-lite playground --port 8765 --no-browser",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--port", type=integer_in(0, 65535), default=0, help="the port (default: a free one, printed)")
    p.add_argument("--no-browser", action="store_true", help="do not open the browser")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    import nn  # the CLI is the part of the engine that may import nn; the playground gets it from here
    from autograd_lite.playground import serve

    return serve(nn, port=args.port, open_browser=not args.no_browser)
