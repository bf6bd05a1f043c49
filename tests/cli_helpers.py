"""What the CLI tests share: the files a run writes, a quick run's flags, and running main in process."""

from __future__ import annotations

from pathlib import Path

from autograd_lite.cli.main import main

FILES = ("decision_boundary.svg", "loss.svg", "neuron_graph.svg", "model.json")  # model.json: the checkpoint
ROOT = Path(__file__).resolve().parent.parent
QUICK = ["--epochs", "2", "--quiet", "--hidden", "4"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    """main(args) in process, as (exit code, stdout, stderr); argparse's own exits count too."""
    try:
        code = main(list(args))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 2
    out, err = capsys.readouterr()
    return code, out, err


def fails(capsys, *args: str) -> str:
    """The one error line of a run that must end with exit code 2."""
    code, _, err = run(capsys, *args)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]
