"""Waiting for something that happens in another process: poll with a deadline, never a fixed sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], until: Callable[[T], bool] = bool, *, timeout: float = 20.0,
               interval: float = 0.1, what: str = "the condition") -> T:
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not until(last):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s; last value: {last!r:.500}")
        time.sleep(interval)
        last = probe()
    return last
