"""Notebook runs: 07_exercises runs with its blanks filled from the worked solutions (EXERCISES_SOLVED=1), so
the suite checks that every solution passes; nbmake's kernel inherits this process's environment."""

import os

import pytest

SOLVED_NOTEBOOKS = {"07_exercises.ipynb"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Set EXERCISES_SOLVED=1 while a notebook of SOLVED_NOTEBOOKS runs, and restore the environment after."""
    if item.path.name not in SOLVED_NOTEBOOKS:
        return (yield)
    before = os.environ.get("EXERCISES_SOLVED")
    os.environ["EXERCISES_SOLVED"] = "1"
    try:
        return (yield)
    finally:
        if before is None:
            del os.environ["EXERCISES_SOLVED"]
        else:
            os.environ["EXERCISES_SOLVED"] = before
