"""Component shapes beyond wasmtime-py's tests (tests/shapes/*.wat), on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

import sandlink
from conftest import wat_builder

SHAPES = Path(__file__).resolve().parent / "shapes"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return wat_builder(SHAPES, tmp_path_factory.mktemp("shapes"))


@pytest.mark.parametrize("backend", ["oracle", "wasm"])
def test_a_composed_component_calls_across_its_parts(build, backend):
    """One part lowers functions another part lifts: values (strings included) cross from
    one part's memory to the other's, and both backends agree."""
    c = sandlink.load_component(build("composed"), backend=backend, cache_dir=False)
    assert c.add3(1, 2, 3) == 6
    assert c.add3(2**32 - 1, 1, 5) == 5  # u32 arithmetic wraps in the guest
    for text in ("", "hello", "Mixed Case 123", "zoë ß", "x" * 10_000):
        expected = "".join(ch.upper() if "a" <= ch <= "z" else ch for ch in text)
        assert c.shout_twice(text) == expected
    with pytest.raises(OverflowError):
        c.add3(-1, 0, 0)
    if backend == "wasm" and sandlink.host.COMPILED:  # the calls across parts compiled too
        assert not c.__sandlink__._codes, "no function ran as generated Python"
