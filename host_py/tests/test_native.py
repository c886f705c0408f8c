"""The native (ctypes) backend on its own: results, argument checks, callbacks, buffers, frees."""

from __future__ import annotations

import array
import ctypes
import os

import pytest

import sandlink
from sandlink import Friend, JsonError, Person
from sandlink import Kernels as NativeKernels
from sandlink._bundled import NATIVE_LIBRARY, bundled

SEED = (
    '{"name": "Elliot", "age": 25, "cars": ["Audi", "BMW", "Tesla"], "friends": '
    '[{"name": "Alice", "age": 30}, {"name": "Bob", "age": 27}, {"name": "Zoë", "age": 31}]}'
)
SEED_PERSON = Person(
    name="Elliot",
    age=25,
    cars=["Audi", "BMW", "Tesla"],
    friends=[Friend("Alice", 30), Friend("Bob", 27), Friend("Zoë", 31)],
)
NEGATIVE_AGE = '{"name": "x", "age": -1, "cars": [], "friends": []}'

# RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
KEY = 0x37FA213D
KEY_BYTES = b"\x37\xfa\x21\x3d"
HELLO = b"Hello"
HELLO_MASKED = b"\x7f\x9f\x4d\x51\x58"


@pytest.fixture(scope="module")
def k() -> NativeKernels:
    return sandlink.load("native", print=lambda line: None)


def reference_mask(payload: bytes, key: int, offset: int = 0) -> bytes:
    kb = key.to_bytes(4, "big")
    return bytes(b ^ kb[(offset + i) % 4] for i, b in enumerate(payload))


# --- loading ------------------------------------------------------------------------------


def test_explicit_path_loads_the_same_library() -> None:
    kernels = sandlink.load("native", path=str(bundled(NATIVE_LIBRARY)))
    assert kernels.add(2, 3) == 5


def test_missing_library_is_an_oserror(tmp_path) -> None:
    with pytest.raises(OSError):
        sandlink.load("native", path=tmp_path / "nope.so")


# --- add ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [(0, 0, 0), (2, 3, 5), (4294967295, 1, 0), (4294967295, 4294967295, 4294967294)],
)
def test_add_wraps_modulo_2_32(k: NativeKernels, a: int, b: int, total: int) -> None:
    assert k.add(a, b) == total


def test_add_accepts_int_subclasses(k: NativeKernels) -> None:
    class MyInt(int):
        pass

    assert k.add(MyInt(7), MyInt(8)) == 15


@pytest.mark.parametrize(
    ("a", "b", "error", "name"),
    [
        ("1", 2, TypeError, "a"),
        (1.0, 2, TypeError, "a"),
        (True, 2, TypeError, "a"),
        (None, 2, TypeError, "a"),
        (-1, 2, OverflowError, "a"),
        (2**32, 2, OverflowError, "a"),
        (1, "2", TypeError, "b"),
        (1, False, TypeError, "b"),
        (1, -1, OverflowError, "b"),
        (1, 2**64, OverflowError, "b"),
        ("x", -1, TypeError, "a"),  # checked in order: a first
    ],
)
def test_add_rejects_bad_arguments_naming_them(
    k: NativeKernels, a: object, b: object, error: type, name: str
) -> None:
    with pytest.raises(error, match=rf"^{name}\b"):
        k.add(a, b)  # type: ignore[arg-type]


# --- hello --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["world", "", "Zoë 🦀", "a\x00b", "x" * 10_000])
def test_hello_prints_one_line_through_the_callable(name: str) -> None:
    lines: list[str] = []
    sandlink.load("native", print=lines.append).hello(name)
    assert lines == [f"Hello, {name}!"]


def test_hello_default_print_writes_to_the_current_stdout(capsys) -> None:
    sandlink.load("native").hello("stdout")
    assert capsys.readouterr().out == "Hello, stdout!\n"


def test_hello_rejects_a_non_str_name(k: NativeKernels) -> None:
    with pytest.raises(TypeError, match=r"^name\b"):
        k.hello(b"world")  # type: ignore[arg-type]


class PrintFailed(Exception):
    pass


@pytest.mark.parametrize("exc_type", [PrintFailed, KeyboardInterrupt, SystemExit])
def test_hello_propagates_what_print_raises(capsys, exc_type: type[BaseException]) -> None:
    calls: list[str] = []

    def bad_print(line: str) -> None:
        calls.append(line)
        if len(calls) == 1:
            raise exc_type("boom")

    kernels = sandlink.load("native", print=bad_print)
    with pytest.raises(exc_type, match="boom") as info:
        kernels.hello("first")
    assert type(info.value) is exc_type
    # ctypes printed nothing (the exception never escaped the callback) ...
    assert capsys.readouterr().err == ""
    # ... and the next call works.
    kernels.hello("second")
    assert calls == ["Hello, first!", "Hello, second!"]


# --- ws_mask ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [KEY, KEY_BYTES, bytearray(KEY_BYTES), memoryview(KEY_BYTES)])
def test_ws_mask_rfc6455_section_5_7(k: NativeKernels, key: object) -> None:
    masked = k.ws_mask(HELLO, key)  # type: ignore[arg-type]
    assert type(masked) is bytes
    assert masked == HELLO_MASKED
    assert k.ws_mask(masked, key) == HELLO  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [
        bytearray(HELLO),
        memoryview(HELLO),
        memoryview(bytearray(HELLO)),
        memoryview(b"xx" + HELLO + b"yy")[2:-2],  # read-only slice: copied
        memoryview(bytearray(b"xx" + HELLO + b"yy"))[2:-2],  # writable slice: its address
        array.array("B", HELLO),
    ],
)
def test_ws_mask_accepts_any_bytes_like(k: NativeKernels, payload: object) -> None:
    before = bytes(payload)  # type: ignore[call-overload]
    assert k.ws_mask(payload, KEY) == HELLO_MASKED
    assert bytes(payload) == before  # type: ignore[call-overload]  # input untouched


def test_ws_mask_of_a_multibyte_array_masks_its_bytes(k: NativeKernels) -> None:
    payload = array.array("I", [1, 2, 3])
    raw = payload.tobytes()
    assert k.ws_mask(payload, KEY, 3) == reference_mask(raw, KEY, 3)


def test_ws_mask_of_nothing_is_the_empty_bytes(k: NativeKernels) -> None:
    assert k.ws_mask(b"", KEY) == b""
    assert k.ws_mask(bytearray(), KEY, 7) == b""


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 31, 64, 1000, 65536 + 3])
@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 4294967295])
def test_ws_mask_matches_the_reference(k: NativeKernels, n: int, offset: int) -> None:
    payload = bytes((i * 7 + 3) & 0xFF for i in range(n))
    assert k.ws_mask(payload, 0xA1B2C3D4, offset) == reference_mask(payload, 0xA1B2C3D4, offset)


def test_ws_mask_chunked_equals_whole(k: NativeKernels) -> None:
    payload = os.urandom(1001)
    whole = k.ws_mask(payload, KEY)
    chunks = b"".join(k.ws_mask(payload[i : i + 97], KEY, i) for i in range(0, 1001, 97))
    assert chunks == whole


def test_ws_mask_returns_fresh_independent_bytes(k: NativeKernels) -> None:
    payload = bytes(100)
    first = k.ws_mask(payload, KEY)
    second = k.ws_mask(payload, KEY)
    assert first == second and first is not second
    assert hash(first) == hash(bytes(first))
    assert payload == bytes(100)
    assert {first: 1}[second] == 1


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        (("Hello", KEY), TypeError, "payload"),
        ((12, KEY), TypeError, "payload"),
        ((None, KEY), TypeError, "payload"),
        ((HELLO, -1), OverflowError, "key"),
        ((HELLO, 2**32), OverflowError, "key"),
        ((HELLO, 1.5), TypeError, "key"),
        ((HELLO, True), TypeError, "key"),
        ((HELLO, b"\x01\x02\x03"), ValueError, "key"),
        ((HELLO, KEY, -1), OverflowError, "offset"),
        ((HELLO, KEY, 2**32), OverflowError, "offset"),
        ((HELLO, KEY, "0"), TypeError, "offset"),
        (("Hello", -1, -1), TypeError, "payload"),  # checked in order
        ((HELLO, -1, -1), OverflowError, "key"),
    ],
)
def test_ws_mask_rejects_bad_arguments_naming_them(
    k: NativeKernels, args: tuple, error: type, name: str
) -> None:
    with pytest.raises(error, match=rf"^{name}\b"):
        k.ws_mask(*args)


# --- ws_mask_into -------------------------------------------------------------------------


def test_ws_mask_into_bytearray(k: NativeKernels) -> None:
    buf = bytearray(HELLO)
    assert k.ws_mask_into(buf, KEY) is None
    assert buf == HELLO_MASKED
    k.ws_mask_into(buf, KEY_BYTES)
    assert buf == HELLO
    buf.extend(b"!")  # no buffer export left behind
    assert buf == HELLO + b"!"


def test_ws_mask_into_memoryview_slice_masks_only_the_slice(k: NativeKernels) -> None:
    buf = bytearray(b"abc" + HELLO + b"xyz")
    k.ws_mask_into(memoryview(buf)[4:8], KEY, 1)
    assert buf == b"abcH" + HELLO_MASKED[1:] + b"xyz"


def test_ws_mask_into_array_and_empty(k: NativeKernels) -> None:
    arr = array.array("I", [1, 2, 3])
    raw = arr.tobytes()
    k.ws_mask_into(arr, KEY, 2)
    assert arr.tobytes() == reference_mask(raw, KEY, 2)
    k.ws_mask_into(bytearray(), KEY)


@pytest.mark.parametrize(
    "buf", [HELLO, memoryview(HELLO), memoryview(bytearray(HELLO)).toreadonly()]
)
def test_ws_mask_into_rejects_read_only_buffers(k: NativeKernels, buf: object) -> None:
    with pytest.raises(TypeError, match=r"^buf\b"):
        k.ws_mask_into(buf, KEY)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        (("Hello", KEY), TypeError, "buf"),
        ((bytearray(1), -1), OverflowError, "key"),
        ((bytearray(1), b"\x01"), ValueError, "key"),
        ((bytearray(1), KEY, -1), OverflowError, "offset"),
    ],
)
def test_ws_mask_into_rejects_bad_arguments_naming_them(
    k: NativeKernels, args: tuple, error: type, name: str
) -> None:
    with pytest.raises(error, match=rf"^{name}\b"):
        k.ws_mask_into(*args)


# --- parse_person -------------------------------------------------------------------------


@pytest.mark.parametrize("doc", [SEED, SEED.encode(), bytearray(SEED.encode())])
def test_parse_person_seed_document(k: NativeKernels, doc: object) -> None:
    assert k.parse_person(doc) == SEED_PERSON  # type: ignore[arg-type]


def test_parse_person_empty_lists(k: NativeKernels) -> None:
    doc = '{"name": "", "age": 4294967295, "cars": [], "friends": []}'
    assert k.parse_person(doc) == Person("", 4294967295, [], [])


def test_parse_person_age_out_of_range(k: NativeKernels) -> None:
    with pytest.raises(JsonError) as info:
        k.parse_person(NEGATIVE_AGE)
    assert info.value == JsonError("age out of range for u32", 1, 22)
    assert (info.value.message, info.value.line, info.value.column) == (
        "age out of range for u32",
        1,
        22,
    )


def test_parse_person_invalid_utf8_bytes(k: NativeKernels) -> None:
    with pytest.raises(JsonError) as info:
        k.parse_person(b'{\n  "name": "Zo\xc3\xab\xff"}')
    assert info.value == JsonError("invalid UTF-8", 2, 15)


def test_parse_person_rejects_non_text(k: NativeKernels) -> None:
    with pytest.raises(TypeError, match=r"^json\b"):
        k.parse_person(42)  # type: ignore[arg-type]


def test_c_entry_point_checks_its_input_itself(k: NativeKernels) -> None:
    # The Python side validates first; the C entry must still not trust its input.
    parse = k.exports._lib["sandlink_parse_person"]  # a fresh function object: own argtypes
    parse.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p)
    out = ctypes.create_string_buffer(256)  # room for any result struct
    assert parse(None, b'{"name": "Zo\xc3\xab\xff"}', 15, out) == 2  # not UTF-8
    assert parse(None, None, 1, out) == 1  # null with a length


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs /proc/self/statm")
def test_parse_person_frees_everything(k: NativeKernels) -> None:
    # A leak of even one small allocation per call would show as >= 3 MiB over 100,000 calls.
    docs = [SEED, NEGATIVE_AGE]

    def run(calls: int) -> None:
        for i in range(calls):
            try:
                k.parse_person(docs[i & 1])
            except JsonError:
                pass

    run(5_000)  # warm up allocator pools and caches
    before = rss_bytes()
    run(100_000)
    growth = rss_bytes() - before
    assert growth < 3 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB"
