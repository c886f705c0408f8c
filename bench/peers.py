"""What a Python user would pick instead of sandlink: the benchmark's non-sandlink contestants.

Every mask peer has the backends' signature, `mask(payload, key, offset) -> bytes`, with the
4 key bytes in wire order and `offset` the payload's position in the message (RFC 6455 §5.3:
byte i is XORed with key[(offset + i) % 4]), so the same streaming driver runs them all.
The JSON peers are `json.loads`/`orjson.loads` themselves (`bench.py` checks the dict they
return through `person_from_dict`) and the typed baselines below.
"""

from __future__ import annotations

import inspect
import json

import numpy as np
import orjson
from websockets.speedups import apply_mask

from sandlink import Friend, Person


def rotate(key: bytes, offset: int) -> bytes:
    """The key as seen from `offset`: its first byte masks the payload's first byte."""
    shift = offset % 4
    return key[shift:] + key[:shift] if shift else key


# -- masking ---------------------------------------------------------------------------------


def bytearray_loop(payload: bytes, key: bytes, offset: int = 0) -> bytes:
    """The loop everyone writes first: correct and linear, one byte per iteration."""
    key = rotate(key, offset)
    out = bytearray(payload)
    for i in range(len(out)):
        out[i] ^= key[i & 3]
    return bytes(out)


def int_xor(payload: bytes, key: bytes, offset: int = 0) -> bytes:
    """The fastest-known pure-Python trick: one XOR of two big integers."""
    key = rotate(key, offset)
    n = len(payload)
    stream = key * (n // 4) + key[: n % 4]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


# bytes.translate tables, one per key byte: the trick of aiohttp's pure-Python fallback.
_XOR_TABLES = [bytes(a ^ b for a in range(256)) for b in range(256)]


def bytes_translate(payload: bytes, key: bytes, offset: int = 0) -> bytes:
    """Pure Python without a byte loop: each of the 4 strided slices through a XOR table."""
    key = rotate(key, offset)
    out = bytearray(payload)
    for lane in range(4):
        out[lane::4] = out[lane::4].translate(_XOR_TABLES[key[lane]])
    return bytes(out)


def numpy_xor(payload: bytes, key: bytes, offset: int = 0) -> bytes:
    """numpy: the payload as uint8 against the key tiled to its length."""
    n = len(payload)
    data = np.frombuffer(payload, dtype=np.uint8)
    stream = np.tile(np.frombuffer(rotate(key, offset), dtype=np.uint8), -(-n // 4))[:n]
    return np.bitwise_xor(data, stream).tobytes()


def numpy_in_place(data: bytearray, key: bytes) -> tuple[np.ndarray, np.ndarray, np.uint64]:
    """numpy in place, the fastest correct way found: the payload viewed as uint64 and XORed
    with one uint64 scalar holding the key twice, `np.bitwise_xor(words, key64, out=words)`.
    Returns (bytes view, words, key64); the benchmark times `np.bitwise_xor(words, key64,
    words)`. (The uint32 view is as fast; the uint8 array against the tiled key ~20% slower.)
    Needs len(data) % 8 == 0, as every benchmarked size is; a real one would mask the tail
    bytes separately."""
    if len(data) % 8:
        raise ValueError("numpy_in_place needs a multiple of 8 bytes")
    octets = np.frombuffer(data, dtype=np.uint8)
    return octets, octets.view(np.uint64), np.frombuffer(key * 2, dtype=np.uint64)[0]


def websockets_c(payload: bytes, key: bytes, offset: int = 0) -> bytes:
    """websockets' C extension (`websockets.speedups.apply_mask`) at an offset; at offset 0
    the benchmark calls `apply_mask` itself."""
    return apply_mask(payload, rotate(key, offset))


def websockets_is_c() -> bool:
    """True when `apply_mask` is the compiled extension, not websockets' Python fallback."""
    return inspect.isbuiltin(apply_mask) and not inspect.isfunction(apply_mask)


# -- JSON ------------------------------------------------------------------------------------


def person_from_dict(doc: dict) -> Person:
    """The typed result a parsed document stands for (no validation beyond key lookups)."""
    return Person(
        doc["name"], doc["age"], doc["cars"], [Friend(f["name"], f["age"]) for f in doc["friends"]]
    )


def json_person(text: str) -> Person:
    """The fair typed baseline: `json.loads`, then the same dataclasses sandlink returns."""
    return person_from_dict(json.loads(text))


def orjson_person(text: str) -> Person:
    return person_from_dict(orjson.loads(text))
