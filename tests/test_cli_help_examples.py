"""Every example that `--help` shows runs successfully (training ones with 2 epochs), in the order shown."""

from __future__ import annotations

import re
import shlex

from autograd_lite.cli.main import build_parser, main

SUBCOMMANDS = ("demo", "train", "draw")


def help_texts() -> list[str]:
    parser = build_parser()
    texts = [parser.format_help()]
    sub = next(a for a in parser._actions if a.dest == "command")  # argparse keeps subparsers only here
    texts += [sub.choices[name].format_help() for name in SUBCOMMANDS]
    return texts


def examples() -> list[list[str]]:
    """The example command lines, each as argv without the program name (descriptions after 2+ spaces dropped)."""
    found = []
    for text in help_texts():
        for line in text.splitlines():
            m = re.match(r"\s+autograd-lite (.*)", line)
            if m:
                found.append(shlex.split(re.split(r"\s{2,}", m.group(1))[0]))
    return found


def test_every_help_example_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    commands = examples()
    assert {argv[0] for argv in commands} == set(SUBCOMMANDS)
    assert any("--load" in argv for argv in commands)
    for argv in commands:
        short = ["--epochs", "2", "--quiet"] if argv[0] in ("demo", "train") else []
        code = main([*argv, *short])
        assert code == 0, (argv, capsys.readouterr().err)
