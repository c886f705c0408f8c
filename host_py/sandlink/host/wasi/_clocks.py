"""`wasi:clocks`: the host's monotonic and wall clocks (nanoseconds)."""

from __future__ import annotations

import time
from typing import Any

from .._records import record
from ._io import Pollable


@record
class Datetime:
    """`wasi:clocks/wall-clock#datetime`."""

    seconds: int
    nanoseconds: int


def datetime(ns: int) -> Datetime:
    return Datetime(ns // 1_000_000_000, ns % 1_000_000_000)


def monotonic_now() -> int:
    return time.monotonic_ns()


def monotonic_resolution() -> int:
    return max(1, round(time.get_clock_info("monotonic").resolution * 1e9))


def wall_now() -> Datetime:
    return datetime(time.time_ns())


def wall_resolution() -> Datetime:
    return datetime(max(1, round(time.get_clock_info("time").resolution * 1e9)))


def subscriptions(bound: float | None) -> tuple[Any, ...]:
    """`subscribe-instant` and `subscribe-duration`, whose waits stop at `bound` seconds."""

    def subscribe_instant(when: int) -> Pollable:
        return Pollable(when, bound)

    def subscribe_duration(when: int) -> Pollable:
        return Pollable(time.monotonic_ns() + when, bound)

    return subscribe_instant, subscribe_duration
