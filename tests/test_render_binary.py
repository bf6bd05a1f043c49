"""Which `dot` renders: a system Graphviz when on PATH, else graphviz-pure's, else a clear error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_lite import Value, draw_dot
from autograd_lite.draw import graphviz_program as dot_binary
from autograd_lite.draw.graphviz_program import locate_dot


def small_graph() -> Value:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    f = x * y
    f.backward()
    return f


def test_without_dot_on_path_graphviz_pure_renders(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot, no graphviz-pure
    drawing = draw_dot(small_graph())
    binary = drawing.dot_binary
    assert binary.name.startswith("graphviz-pure")
    assert binary.parent in dot_binary.fallback_dirs()
    svg = drawing.pipe(format="svg").decode()
    assert "graphviz-pure" in svg and ">6<" in svg


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for dot")
def test_a_dot_on_path_is_preferred(monkeypatch, tmp_path):
    pure = locate_dot(path="")
    fake = tmp_path / "dot"
    fake.write_text(f'#!/bin/sh\nexec "{pure}" "$@"\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    drawing = draw_dot(small_graph())
    assert drawing.dot_binary == fake
    assert b"<svg" in drawing.pipe(format="svg")


@pytest.mark.skipif(shutil.which("dot") is None, reason="no system Graphviz dot on PATH")
def test_system_dot_renders():
    drawing = draw_dot(small_graph())
    assert drawing.dot_binary == Path(shutil.which("dot"))
    assert b"<svg" in drawing.pipe(format="svg")


def test_neither_binary_is_a_clear_error(monkeypatch, tmp_path):
    with pytest.raises(RuntimeError, match="pip install graphviz-pure"):
        locate_dot(path=str(tmp_path), extra_dirs=[])
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(dot_binary, "fallback_dirs", lambda: [])
    with pytest.raises(RuntimeError, match=r"graphviz\.org"):
        draw_dot(small_graph())


def test_graphviz_pure_is_found_next_to_the_python_running():
    assert locate_dot(path="", extra_dirs=[Path(sys.executable).parent]).name.startswith("graphviz-pure")


def test_importing_the_package_does_not_import_graphviz():
    code = "import sys, autograd_lite; assert 'graphviz' not in sys.modules; autograd_lite.draw_dot; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent, capture_output=True)
    assert done.stdout.strip() == b"ok", done.stderr


def test_the_drawing_shows_inline_in_jupyter_as_svg():
    bundle = draw_dot(small_graph())._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
