"""What every exercise is made of: a `Part` (task, check, answer, worked solution), an `Exercise` of parts, the
`Result` a check returns and the `Solution` it shows; and the small helpers every check shares."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_lite.value import Value

Answer = Any  # Any: a learner's answer is a number, a dict, a function or a row; each check says which it wants


@dataclass(frozen=True)
class Result:
    """What a check says: `ok`, and a `message` that names what is wrong and where (shown as the message)."""

    ok: bool
    message: str

    def __repr__(self) -> str:
        return self.message

    __str__ = __repr__


@dataclass(frozen=True)
class Part:
    """One checked task: its text, its check, the answer the check accepts, and how to get there."""

    name: str  # "a", "b", ...
    task: str
    check: Callable[[Answer], Result]
    answer: Callable[[], Answer]
    worked: str  # the worked solution, in words and numbers


@dataclass(frozen=True)
class Solution:
    """The worked solution of one exercise: `solution["a"]` is part a's answer, as its check accepts it."""

    number: int
    title: str
    answers: dict[str, Answer]
    worked: dict[str, str]

    def __getitem__(self, part: str) -> Answer:
        if part not in self.answers:
            raise KeyError(f"exercise {self.number} has parts {', '.join(map(repr, self.answers))}, not {part!r}")
        return self.answers[part]

    @property
    def answer(self) -> Answer:
        """The first part's answer (the only one for a one-part exercise)."""
        return next(iter(self.answers.values()))

    def __repr__(self) -> str:
        lines = [f"Solution of exercise {self.number}: {self.title}"]
        for name, text in self.worked.items():
            lines.append(f"({name}) {text}")
        return "\n".join(lines)

    __str__ = __repr__


@dataclass(frozen=True)
class Exercise:
    """Exercise n: `.task`, `.check(answer, part="a")`, `.solution()`; `.parts` by name."""

    number: int
    title: str
    intro: str
    parts: dict[str, Part] = field(default_factory=dict)

    @property
    def task(self) -> str:
        """The whole text: the introduction and every part's task."""
        lines = [f"Exercise {self.number}: {self.title}", self.intro]
        lines += [f"({p.name}) {p.task}" for p in self.parts.values()]
        return "\n".join(lines)

    def part(self, name: str | None = None) -> Part:
        """Part `name` (the first part for None); KeyError naming the parts there are."""
        if name is None:
            return next(iter(self.parts.values()))
        if name not in self.parts:
            raise KeyError(f"exercise {self.number} has parts {', '.join(map(repr, self.parts))}, not {name!r}")
        return self.parts[name]

    def check(self, answer: Answer, part: str | None = None) -> Result:
        """Check an answer to one part (the first part unless `part` names another)."""
        chosen = self.part(part)
        result = chosen.check(answer)
        label = f"Exercise {self.number}{chosen.name if len(self.parts) > 1 else ''}"
        return Result(result.ok, f"{label}: {result.message}")

    def solution(self) -> Solution:
        """Every part's answer and its worked solution."""
        answers = {name: p.answer() for name, p in self.parts.items()}
        return Solution(self.number, self.title, answers, {name: p.worked for name, p in self.parts.items()})

    def __repr__(self) -> str:
        return self.task


# --- helpers every check shares


def is_blank(x: object) -> bool:
    """A blank the learner has not filled yet: None or `...`."""
    return x is None or x is Ellipsis


def real_number(x: object) -> float | str:
    """x as a float, or a sentence saying why it is not a number the check can read."""
    if is_blank(x):
        return "is still blank (None or ...): fill in a number"
    if isinstance(x, Value):
        return f"is a Value ({x!r}); give its number: the gradient is `.grad`, the value `.data`"
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, numbers.Real):
        return f"must be a number, got {type(x).__name__} {x!r}"
    return float(x)


def number_text(x: float) -> str:
    """x to 9 significant digits, as the lectures print gradients."""
    return "0" if x == 0 else f"{x:.9g}"


def checked_mapping(answer: Answer, keys: list[str], what: str) -> Mapping[str, Any] | str:  # Any: as Answer
    """answer if it is a dict with exactly these keys; otherwise a sentence saying what to give."""
    wanted = "{" + ", ".join(f'"{k}": ...' for k in keys) + "}"
    if is_blank(answer):
        return f"still blank: give {what} as a dict {wanted}"
    if not isinstance(answer, Mapping):
        return f"give {what} as a dict {wanted}, not a {type(answer).__name__}"
    missing = [k for k in keys if k not in answer]
    extra = [str(k) for k in answer if k not in keys]
    if missing or extra:
        parts = [f"missing {', '.join(map(repr, missing))}" if missing else "",
                 f"unexpected {', '.join(map(repr, extra))}" if extra else ""]
        return f"the dict has the wrong keys ({'; '.join(p for p in parts if p)}): give {wanted}"
    return answer


def call_learner(f: Callable[..., object], *args: object) -> tuple[object, str | None]:
    """f(*args), or the error it raised as a sentence (the learner's code may raise anything)."""
    try:
        return f(*args), None
    except RecursionError:
        return None, "raised RecursionError: the recursion never stops (does every call reach a leaf?)"
    except NotImplementedError:
        return None, "is still blank (it raises NotImplementedError): write its body"
    except Exception as error:  # the learner's code: any error is reported, never passed on as a wrong number
        return None, f"raised {type(error).__name__}: {error}"


def combine(lines: list[str], ok: bool, summary: str) -> Result:
    """A Result whose message is the summary line followed by the detail lines."""
    return Result(ok, "\n".join([summary, *lines]))
