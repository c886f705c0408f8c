"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

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
