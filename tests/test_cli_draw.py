"""`autograd-lite draw`: expressions read with ast into a drawn graph; bad input is exit code 2 with a reason."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from autograd_lite.cli.main import main
from autograd_lite.draw.render import GRAD_COLOUR, VALUE_COLOUR

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parent.parent


def coloured_texts(path: Path, colour: str) -> Counter:
    svg = ET.parse(path).getroot()
    return Counter(t.text for t in svg.iter(f"{SVG}text") if t.get("fill") == colour)


def test_draw_writes_the_slides_graph(tmp_path, capsys):
    out = tmp_path / "graph.svg"
    assert main(["draw", "(x + y) * z", "x=-2", "y=5", "z=-4", "-o", str(out)]) == 0
    assert coloured_texts(out, VALUE_COLOUR) == Counter(["-2", "5", "-4", "3", "-12"])
    assert coloured_texts(out, GRAD_COLOUR) == Counter(["-4", "-4", "3", "-4", "1"])
    printed = capsys.readouterr().out
    assert "f = -12" in printed and "df/dx = -4" in printed and f"wrote {out}" in printed


def test_forward_only_records_and_other_formats(tmp_path):
    svg = tmp_path / "g.svg"
    assert main(["draw", "sigmoid(w*x + b)", "w=2", "x=-1", "b=0.5", "-o", str(svg), "--forward-only"]) == 0
    assert not coloured_texts(svg, GRAD_COLOUR)
    assert main(["draw", "x**2 / y", "x=3", "y=2", "-o", str(svg), "--style", "records"]) == 0
    texts = [t.text for t in ET.parse(svg).getroot().iter(f"{SVG}text")]
    assert "data 4.5" in texts and "grad 3" in texts  # d(x²/y)/dx = 2x/y
    png = tmp_path / "g.png"
    assert main(["draw", "max(x, 0) - exp(x)", "x=1", "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")
    gv = tmp_path / "g.dot"
    assert main(["draw", "tanh(x)", "x=1", "-o", str(gv)]) == 0
    assert gv.read_text().startswith("digraph")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["__import__('os').system('true')", "x=1"], "unknown function \"__import__('os').system\""),
        (["x.real", "x=1"], "'x.real'"),
        (["x ^ 2", "x=1"], "'^'"),
        (["x // 2", "x=1"], "'//'"),
        (["math.sin(x)", "x=1"], "unknown function 'math.sin'"),  # a dotted name is never an op's name
        (["max(x)", "x=1"], "max takes 2 argument(s), got 1"),
        (["exp(x=1)", "x=1"], "positional"),
        (["[x]", "x=1"], "'[x]'"),
        (["'a' + x", "x=1"], "\"'a'\""),
        (["lambda: x", "x=1"], "Lambda"),
        (["x + q", "x=1"], "unknown variable 'q'"),
        (["x + y", "x=1", "y=2", "z=3"], "'z', not used"),
        (["x", "x=abc"], "bad number 'abc'"),
        (["x", "x=nan"], "not a finite number"),
        (["x", "x"], "expected NAME=NUMBER"),
        (["x", "x=1", "x=2"], "given twice"),
        (["x", "1x=2"], "not a variable name"),
        (["x +", "x=1"], "invalid expression"),
        (["9**9**9 * x", "x=1"], "overflows"),
        (["x ** 9 ** 9", "x=10"], "overflows"),
        (["1e999 * x", "x=1"], "'1e999' overflows"),
        ([f"{'9' * 400} * x", "x=1"], "overflows"),
        (["1e308 * 10 * x", "x=1"], "overflows"),
        (["exp(x)", "x=1000"], "exp overflows"),
        (["log(x)", "x=-1"], "log is defined only for x > 0"),
        (["x / 0", "x=1"], "division by zero"),
        (["(" * 300 + "x" + ")" * 300, "x=1"], "expression"),
        (["x", "x=1", "-o", "graph.pdf"], "must end in"),
    ],
)
def test_bad_input_is_exit_code_2_naming_the_problem(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["draw", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograd-lite draw: error: ") and message in err
    assert not list(tmp_path.iterdir()), "nothing written"


def test_python_dash_m_draw(tmp_path):
    out = tmp_path / "graph.svg"
    cmd = [sys.executable, "-m", "autograd_lite", "draw", "(x + y) * z", "x=-2", "y=5", "z=-4", "-o", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert coloured_texts(out, VALUE_COLOUR)["-12"] == 1
    bad = subprocess.run([*cmd[:4], "x ^ 2", "x=1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "'^'" in bad.stderr
