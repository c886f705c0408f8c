"""The wasm32 SIMD mask kernel (src/mask.rs, `mask_simd`) against the Python reference.

On wasm32, `mask_in_place` masks a byte head up to a 32-byte address, then 128-byte steps
of eight v128 XORs, then single 16-byte vectors, then the last bytes. These tests mask
ranges of a guest buffer at every start address mod 32, every offset mod 8 and lengths
around each of those boundaries, and check the bytes around the range stay untouched.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandlink

U32 = 2**32
#: Around the vector (16), the step (128), a step plus vectors, and bigger sizes.
LENGTHS = (0, 1, 3, 4, 5, 15, 16, 17, 127, 128, 129, 143, 144, 145, 255, 256, 257)
BIG_LENGTHS = (4095, 4096, 4097, 4096 + 16 * 7 + 15, 65536 + 7)
ALIGN = 32  # the head runs up to a 32-byte address: starts 0..31 cover every case
PAD = 48  # bytes before and after the range, which must not change
_rng = random.Random(6455)
KEYS = (0x37FA213D, 0, U32 - 1, *(_rng.randrange(U32) for _ in range(3)))


@pytest.fixture(scope="module")
def wasm():
    return sandlink.load("wasm")


@pytest.fixture(scope="module")
def python():
    return sandlink.load("python")


def pattern(n: int, seed: int = 0) -> bytes:
    return bytes((i * 131 + seed * 17 + 7) & 0xFF for i in range(n))


def mask_range_in_guest(wasm, data: bytes, start: int, key: int, offset: int) -> bytes:
    """Writes `data` at `start` in a guest buffer with PAD bytes after it, masks just that
    range through the resource, checks the rest is untouched, returns the masked bytes."""
    total = start + len(data) + PAD
    around = pattern(total, seed=1)
    with wasm.buffer(total) as buf:
        buf.write(around)
        buf.write(data, start)
        buf.resource.mask(start, len(data), key, offset)
        out = buf.read()
    assert out[:start] == around[:start]
    assert out[start + len(data) :] == around[start + len(data) :]
    return out[start : start + len(data)]


def test_starts_cover_every_address_mod_32(wasm):
    with wasm.buffer(PAD) as buf:
        base = buf.resource.address()
    assert {(base + start) % ALIGN for start in range(ALIGN)} == set(range(ALIGN))


@pytest.mark.parametrize("offset", range(8))
@pytest.mark.parametrize("key", KEYS, ids=hex)
def test_every_start_and_offset_at_block_boundaries(wasm, python, key, offset):
    for length in LENGTHS:
        data = pattern(length, seed=length)
        expected = python.ws_mask(data, key, offset)
        for start in range(ALIGN):
            got = mask_range_in_guest(wasm, data, start, key, offset)
            assert got == expected, (length, start)


@pytest.mark.parametrize("length", BIG_LENGTHS)
@pytest.mark.parametrize("offset", range(8))
def test_big_lengths_at_every_start(wasm, python, length, offset):
    key = KEYS[offset % len(KEYS)]
    data = pattern(length, seed=offset)
    expected = python.ws_mask(data, key, offset)
    for start in range(ALIGN):
        assert mask_range_in_guest(wasm, data, start, key, offset) == expected, start


@pytest.mark.parametrize("length", LENGTHS + BIG_LENGTHS)
def test_ws_mask_and_ws_mask_into_agree(wasm, python, length):
    """The copying export and in-place masking of a whole buffer."""
    data = pattern(length, seed=3)
    for offset in range(8):
        key = KEYS[offset % len(KEYS)]
        expected = python.ws_mask(data, key, offset)
        assert wasm.ws_mask(data, key, offset) == expected
        with wasm.buffer(length) as buf:
            buf.write(data)
            wasm.ws_mask_into(buf, key, offset)
            assert buf.read() == expected
            wasm.ws_mask_into(buf, key, offset)  # masking is its own inverse
            assert buf.read() == data


def test_chunks_at_every_split_join_to_the_whole_message(wasm, python):
    """Chunk boundaries put the key phase anywhere relative to the vector blocks."""
    data = pattern(700, seed=5)
    key = KEYS[3]
    whole = python.ws_mask(data, key, 0)
    with wasm.buffer(len(data)) as buf:
        for split in range(0, len(data) + 1, 3):
            buf.write(data)
            buf.resource.mask(0, split, key, 0)
            buf.resource.mask(split, len(data) - split, key, split)
            assert buf.read() == whole, split


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.binary(max_size=1200),
    start=st.integers(0, 2 * ALIGN),
    key=st.integers(0, U32 - 1),
    offset=st.integers(0, U32 - 1),
)
def test_property_any_range_key_and_offset(wasm, python, data, start, key, offset):
    expected = python.ws_mask(data, key, offset)
    assert mask_range_in_guest(wasm, data, start, key, offset) == expected
