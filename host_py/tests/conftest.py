"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
ALLTYPES = REPO / "target" / "alltypes.wasm"
FAULTS = REPO / "target" / "faults.wasm"


def _guest(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path} is missing: build the test guests first (`just build-test-guests`)")
    return path


@pytest.fixture(scope="session")
def alltypes_wasm() -> Path:
    """The all-types test guest component (built from tests/guests/alltypes)."""
    return _guest(ALLTYPES)


@pytest.fixture(scope="session")
def faults_wasm() -> Path:
    """The misbehaving test guest component (built from tests/guests/faults)."""
    return _guest(FAULTS)


class Recorder:
    """Host imports that record their arguments and return configurable values."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def log(self, msg: str) -> None:
        self.calls.append(("log", (msg,)))

    def combine(self, a: int, b: float, tag: str) -> str:
        self.calls.append(("combine", (a, b, tag)))
        return f"{tag}:{a}:{b!r}"

    def pick(self, xs: list[int]) -> int | None:
        self.calls.append(("pick", (xs,)))
        return max(xs, default=None)

    def shout(self, p: Any) -> Any:
        self.calls.append(("shout", (p,)))
        return type(p)(x=p.y, y=p.x)

    def imports(self) -> dict[str, dict[str, Any]]:
        return {
            "sandlink:alltypes/host-fns@0.1.0": {
                "log": self.log,
                "combine": self.combine,
                "pick": self.pick,
                "shout": self.shout,
            }
        }
