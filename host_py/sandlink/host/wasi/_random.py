"""`wasi:random`: the OS's secure random bytes, and a seeded generator for the insecure ones."""

from __future__ import annotations

import os
import random as _random

from .._errors import MemoryLimitExceeded


def _checked(n: int, cap: int) -> int:
    if n > cap:
        raise MemoryLimitExceeded(f"the guest asked for {n} random bytes, more than {cap}")
    return n


def secure(cap: int) -> dict[str, object]:
    return {
        "get-random-bytes": lambda n: os.urandom(_checked(n, cap)),
        "get-random-u64": lambda: int.from_bytes(os.urandom(8), "little"),
    }


def insecure(cap: int) -> dict[str, object]:
    generator = _random.Random(os.urandom(16))
    return {
        "get-insecure-random-bytes": lambda n: generator.randbytes(_checked(n, cap)),
        "get-insecure-random-u64": lambda: generator.getrandbits(64),
    }


def insecure_seed() -> dict[str, object]:
    seed = (int.from_bytes(os.urandom(8), "little"), int.from_bytes(os.urandom(8), "little"))
    return {"insecure-seed": lambda: seed}
