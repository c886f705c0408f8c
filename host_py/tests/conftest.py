"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ALLTYPES = REPO / "target" / "alltypes.wasm"


@pytest.fixture(scope="session")
def alltypes_wasm() -> Path:
    """The all-types test guest component (built from tests/guests/alltypes)."""
    path = ALLTYPES
    if not path.is_file():
        pytest.fail(f"{path} is missing: build the test guests first (`just build-test-guests`)")
    return path
