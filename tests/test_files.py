"""write_atomic: the old file or the new one, never half of one, and no temporary file left behind."""

from __future__ import annotations

import os

import pytest

from autograd_lite.files import write_atomic


def test_writes_text_and_bytes_with_ordinary_permissions(tmp_path):
    mask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "σ gate")
        write_atomic(tmp_path / "b.bin", b"\x00\x01")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "σ gate"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.json"
    write_atomic(target, "old")
    with pytest.raises(TypeError):
        write_atomic(target, 12345)  # not str or bytes: fails while writing
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.json"]


def test_the_process_umask_is_never_touched(tmp_path, monkeypatch):
    def no_umask(mask):
        raise AssertionError("write_atomic must not change the process umask (other threads create files too)")

    monkeypatch.setattr(os, "umask", no_umask)
    write_atomic(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").read_text() == "x"


def test_it_is_a_public_name_of_the_engine():
    import autograd_lite

    assert autograd_lite.write_atomic is write_atomic
