"""no_grad, enable_grad and detect_anomaly hold for the thread or asyncio task that entered them, no other."""

from __future__ import annotations

import asyncio
import math
import threading

import pytest

import autograd_lite as ag
from autograd_lite import Value


def _inside(mode, entered: threading.Event, release: threading.Event) -> threading.Thread:
    """A thread that enters `mode()` and stays inside until `release` is set."""

    def run() -> None:
        with mode():
            entered.set()
            release.wait(timeout=30)

    thread = threading.Thread(target=run)
    thread.start()
    assert entered.wait(timeout=30)
    return thread


@pytest.mark.parametrize("mode", [ag.no_grad, ag.detect_anomaly, ag.enable_grad])
def test_another_threads_mode_does_not_leak_into_this_one(mode):
    entered, release = threading.Event(), threading.Event()
    thread = _inside(mode, entered, release)
    try:
        w = Value(2.0)
        (w * w * 3.0).backward()
        assert w.grad == 12.0
        inf = Value(math.inf)
        assert math.isnan((inf - inf).data)  # no anomaly check here, though the other thread has one on
    finally:
        release.set()
        thread.join()


def test_this_threads_mode_does_not_reach_another_thread():
    results: dict[str, object] = {}

    def other() -> None:
        w = Value(2.0)
        (w * w * 3.0).backward()
        results["grad"] = w.grad
        results["recorded"] = bool((w * 2).parents)

    with ag.no_grad():
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert (Value(1.0) * 2).parents == ()  # still off here
    assert results == {"grad": 12.0, "recorded": True}


def test_many_threads_switching_modes_each_see_their_own():
    errors: list[str] = []
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait(timeout=30)
        for _ in range(200):
            if i % 2:
                with ag.no_grad():
                    if (Value(1.0) * 2).parents:
                        errors.append(f"thread {i}: recorded inside no_grad")
            else:
                w = Value(2.0)
                (w * w * 3.0).backward()
                if w.grad != 12.0:
                    errors.append(f"thread {i}: grad {w.grad}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]


def test_asyncio_tasks_keep_their_own_modes():
    async def quiet(entered: asyncio.Event, release: asyncio.Event) -> None:
        with ag.no_grad():
            entered.set()
            await release.wait()
            assert (Value(1.0) * 2).parents == ()

    async def learning(entered: asyncio.Event, release: asyncio.Event) -> float:
        await entered.wait()  # the other task is inside no_grad now
        w = Value(2.0)
        (w * w * 3.0).backward()
        release.set()
        return w.grad

    async def main() -> float:
        entered, release = asyncio.Event(), asyncio.Event()
        _, grad = await asyncio.gather(quiet(entered, release), learning(entered, release))
        return grad

    assert asyncio.run(main()) == 12.0


def test_nested_modes_restore_in_order():
    with ag.no_grad():
        with ag.enable_grad():
            assert (Value(1.0) * 2).parents
        assert not (Value(1.0) * 2).parents
    assert (Value(1.0) * 2).parents
