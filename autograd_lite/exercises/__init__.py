"""Checked exercises in the lectures' order: `get(n)` gives exercise n, with `.task`, `.check(answer)` and
`.solution()`; a check's Result says right, or what is wrong and where (the input, the expected and the given
number, the likely slip, and `explain`'s paths).

    from autograd_lite import exercises
    ex = exercises.get(1)
    print(ex.task)
    ex.check({"x": -4.0, "y": -4.0, "z": 3.0})            # part a
    ex.check({"x": -8, "y": 6, "z": 2, "w": 0}, part="b")
"""

from __future__ import annotations

from collections.abc import Callable

from autograd_lite.exercises.core import Exercise, Part, Result, Solution
from autograd_lite.exercises.gates import exercise_1, exercise_2
from autograd_lite.exercises.network import exercise_3
from autograd_lite.exercises.order import exercise_6, local_gradients
from autograd_lite.exercises.rows import exercise_4
from autograd_lite.exercises.vector import exercise_5

_MAKERS: dict[int, Callable[[], Exercise]] = {
    1: exercise_1, 2: exercise_2, 3: exercise_3, 4: exercise_4, 5: exercise_5, 6: exercise_6
}


def get(n: int) -> Exercise:
    """Exercise n (1 to 6, in the lectures' order)."""
    if isinstance(n, bool) or not isinstance(n, int) or n not in _MAKERS:
        raise ValueError(f"there are exercises {', '.join(map(str, _MAKERS))}; got {n!r}")
    return _MAKERS[n]()


def solution(n: int) -> Solution:
    """The worked solution of exercise n: the same as `get(n).solution()`."""
    return get(n).solution()


def numbers() -> list[int]:
    """The exercises there are, in order."""
    return list(_MAKERS)


__all__ = ["Exercise", "Part", "Result", "Solution", "get", "local_gradients", "numbers", "solution"]
