"""The pure-Python reference backend on its own: the spec's examples and every error case."""

from __future__ import annotations

import inspect
import io
import json
import sys
import time
from pathlib import Path

import pytest

import sandlink
from sandlink import Friend, JsonError, Person
from sandlink import Kernels as PythonKernels

DATA = Path(__file__).parent / "data"
SEED = (DATA / "seed_person.json").read_text(encoding="utf-8")
#: [input, message, line, column] rows, shared with the Rust unit tests in src/person.rs.
ERRORS = json.loads((DATA / "json_errors.json").read_text(encoding="utf-8"))

KEY = 0x37FA213D


@pytest.fixture
def k() -> PythonKernels:
    return sandlink.load("python", print=lambda line: None)


def doc(**members: str) -> str:
    """A valid person document with some members replaced or added (values as raw JSON)."""
    fields = {"name": '"a"', "age": "1", "cars": "[]", "friends": "[]"} | members
    return "{" + ", ".join(f'"{name}": {value}' for name, value in fields.items()) + "}"


def naive_mask(payload: bytes, key: int, offset: int) -> bytes:
    key_bytes = key.to_bytes(4, "big")
    return bytes(b ^ key_bytes[(offset + i) % 4] for i, b in enumerate(payload))


# -- hello and add ---------------------------------------------------------------------------


def test_hello_prints_through_the_callable() -> None:
    lines: list[str] = []
    sandlink.load("python", print=lines.append).hello("Zoë 🦀")
    assert lines == ["Hello, Zoë 🦀!"]


def test_hello_defaults_to_the_current_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    kernels = sandlink.load("python")
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)  # looked up at call time, not at construction
    kernels.hello("world")
    assert out.getvalue() == "Hello, world!\n"


def test_hello_checks_its_argument(k: PythonKernels) -> None:
    with pytest.raises(TypeError):
        k.hello(b"bytes")  # type: ignore[arg-type]


def test_add_wraps_at_u32(k: PythonKernels) -> None:
    assert k.add(2, 3) == 5
    assert k.add(0xFFFF_FFFF, 1) == 0
    assert k.add(0xFFFF_FFFF, 0xFFFF_FFFF) == 0xFFFF_FFFE


@pytest.mark.parametrize(
    ("a", "b", "error"),
    [(-1, 0, OverflowError), (0, 2**32, OverflowError), (1.0, 0, TypeError), (True, 0, TypeError)],
)
def test_add_checks_its_arguments(k: PythonKernels, a: object, b: object, error: type) -> None:
    with pytest.raises(error):
        k.add(a, b)  # type: ignore[arg-type]


# -- ws_mask ---------------------------------------------------------------------------------


def test_mask_rfc6455_section_5_7_example(k: PythonKernels) -> None:
    assert k.ws_mask(b"Hello", KEY) == bytes.fromhex("7f9f4d5158")
    assert k.ws_mask(bytes.fromhex("7f9f4d5158"), bytes.fromhex("37fa213d")) == b"Hello"


def test_mask_empty_payload(k: PythonKernels) -> None:
    assert k.ws_mask(b"", KEY) == b""
    assert k.ws_mask(bytearray(), KEY, 3) == b""


def test_mask_twice_is_identity(k: PythonKernels) -> None:
    payload = bytes(range(256)) * 5
    for offset in range(4):
        assert k.ws_mask(k.ws_mask(payload, KEY, offset), KEY, offset) == payload


def test_mask_matches_the_byte_loop_for_every_length_and_offset(k: PythonKernels) -> None:
    payload = bytes((i * 31 + 7) % 256 for i in range(41))
    for key in (KEY, 0, 0xFFFF_FFFF, 0x0102_0304):
        for offset in range(8):
            for length in range(41):
                expected = naive_mask(payload[:length], key, offset)
                assert k.ws_mask(payload[:length], key, offset) == expected


def test_mask_chunked_equals_whole_at_every_split(k: PythonKernels) -> None:
    message = bytes((i * 31 + 7) % 256 for i in range(37))
    whole = k.ws_mask(message, KEY)
    for a in range(len(message) + 1):
        for b in range(a, len(message) + 1):
            parts = [(0, message[:a]), (a, message[a:b]), (b, message[b:])]
            assert b"".join(k.ws_mask(part, KEY, at) for at, part in parts) == whole


def test_mask_only_offset_mod_4_matters(k: PythonKernels) -> None:
    payload = bytes(77)
    for offset in (0xFFFF_FFF8, 0xFFFF_FFFB, 0xFFFF_FFFE, 0xFFFF_FFFF):
        assert k.ws_mask(payload, KEY, offset) == naive_mask(payload, KEY, offset % 4)
    assert k.ws_mask(bytes(5), KEY, 0xFFFF_FFFF) == bytes.fromhex("3d37fa213d")


def test_mask_accepts_any_contiguous_buffer(k: PythonKernels) -> None:
    import array

    words = array.array("H", [0x0102, 0x0304])
    assert k.ws_mask(words, KEY) == naive_mask(words.tobytes(), KEY, 0)
    assert k.ws_mask(memoryview(b"xHello")[1:], KEY) == k.ws_mask(b"Hello", KEY)


@pytest.mark.parametrize(
    ("payload", "key", "offset", "error"),
    [
        ("text", KEY, 0, TypeError),
        (b"x", b"abc", 0, ValueError),
        (b"x", -1, 0, OverflowError),
        (b"x", KEY, 2**32, OverflowError),
        (b"x", KEY, None, TypeError),
    ],
)
def test_mask_checks_its_arguments(
    k: PythonKernels, payload: object, key: object, offset: object, error: type
) -> None:
    with pytest.raises(error):
        k.ws_mask(payload, key, offset)  # type: ignore[arg-type]


# -- parse_person ----------------------------------------------------------------------------


def test_seed_document(k: PythonKernels) -> None:
    expected = Person(
        name="Elliot",
        age=25,
        cars=["Audi", "BMW", "Tesla"],
        friends=[Friend("Alice", 30), Friend("Bob", 27), Friend("Zoë", 31)],
    )
    assert k.parse_person(SEED) == expected
    assert k.parse_person(SEED.encode()) == expected


@pytest.mark.parametrize(("text", "message", "line", "column"), ERRORS)
def test_error_table(k: PythonKernels, text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(JsonError) as caught:
        k.parse_person(text)
    assert (caught.value.message, caught.value.line, caught.value.column) == (
        message,
        line,
        column,
    )


def test_json_error_says_where(k: PythonKernels) -> None:
    with pytest.raises(JsonError, match=r"^expected integer at line 3 column 10$"):
        k.parse_person('{\n  "name": "Zoë 🦀",\n  "age": true}')


def test_invalid_utf8_bytes(k: PythonKernels) -> None:
    with pytest.raises(JsonError) as caught:
        k.parse_person(b'{"name": "Zo\xc3"}')
    assert (caught.value.message, caught.value.line, caught.value.column) == (
        "invalid UTF-8",
        1,
        13,
    )


def test_json_must_be_text(k: PythonKernels) -> None:
    with pytest.raises(TypeError):
        k.parse_person(42)  # type: ignore[arg-type]


def test_whitespace_around_and_inside(k: PythonKernels) -> None:
    text = ' \t\r\n{ "name" :\t"a" ,\r\n"age" : 0 , "cars" : [ ] , "friends" : [ ] } \n'
    assert k.parse_person(text) == Person("a", 0, [], [])


@pytest.mark.parametrize(("age", "value"), [("0", 0), ("-0", 0), ("4294967295", 0xFFFF_FFFF)])
def test_age_bounds(k: PythonKernels, age: str, value: int) -> None:
    assert k.parse_person(doc(age=age)).age == value


@pytest.mark.parametrize(
    ("escaped", "decoded"),
    [
        (r"\ud83e\udd80", "🦀"),
        (r"\uD83E\uDD80", "🦀"),
        (r"Zo\u00eb \u00E9\u4e2d", "Zoë é中"),
        ("Zoë 🦀 中文", "Zoë 🦀 中文"),
        (r"\"\\\/\b\f\n\r\t", '"\\/\b\f\n\r\t'),
        (r"a\u0000b", "a\0b"),
        (r"\uffff\u0080\u07ff\u0800", "\uffff\u0080\u07ff\u0800"),
        (r"\udbff\udfff", "\U0010ffff"),
        (r"\ud800\udc00", "\U00010000"),
        ("\x7f\ufeff", "\x7f\ufeff"),
        (r"x\ud83e\udd80y🦀\n", "x🦀y🦀\n"),
    ],
)
def test_unicode_strings(k: PythonKernels, escaped: str, decoded: str) -> None:
    text = (
        f'{{"name": "{escaped}", "age": 1, "cars": ["{escaped}"], '
        f'"friends": [{{"name": "{escaped}", "age": 2}}]}}'
    )
    assert k.parse_person(text) == Person(decoded, 1, [decoded], [Friend(decoded, 2)])


@pytest.mark.parametrize(
    "value",
    [
        "null",
        "true",
        "false",
        "0",
        "-0",
        "-12.5e+3",
        "1E-7",
        "0.0",
        "123456789012345678901234567890",
        r'"text with \"escapes\" \u00e9 \ud83e\udd80"',
        "[]",
        "{}",
        '[1, "two", [3, [4, {}]], {"five": [5]}, null, true, false]',
        '{"a": {"b": {"c": [1, 2, {"d": null}]}}, "a": "duplicate unknowns are fine"}',
        '{"name": 1, "age": "x"}',
    ],
)
def test_unknown_fields_of_every_kind_are_ignored(k: PythonKernels, value: str) -> None:
    assert k.parse_person(doc(x=value)) == Person("a", 1, [], [])


def test_unknown_fields_in_friends_are_ignored(k: PythonKernels) -> None:
    text = (
        '{"name": "a", "age": 1, "cars": [], "friends": '
        '[{"nick": ["x", {"y": 1}], "name": "b", "age": 2, "z": null}], "extra": {}}'
    )
    assert k.parse_person(text) == Person("a", 1, [], [Friend("b", 2)])


def test_cars_and_friends_keep_document_order(k: PythonKernels) -> None:
    text = (
        '{"friends": [{"age": 1, "name": "x"}, {"name": "y", "age": 2}], '
        '"cars": ["c", "b", "a"], "age": 3, "name": "n"}'
    )
    assert k.parse_person(text) == Person("n", 3, ["c", "b", "a"], [Friend("x", 1), Friend("y", 2)])


def test_nesting_128_levels_is_fine(k: PythonKernels) -> None:
    # The top-level object is level 1, so 127 containers inside it reach level 128.
    assert k.parse_person(doc(x="[" * 127 + "]" * 127))
    assert k.parse_person(doc(x='{"y": ' * 127 + "1" + "}" * 127))
    friend = '{"name": "b", "age": 2, "x": ' + "[" * 125 + "]" * 125 + "}"  # friends: level 3
    assert k.parse_person(doc(friends=f"[{friend}]")).friends == [Friend("b", 2)]


def test_nesting_129_levels_is_an_error(k: PythonKernels) -> None:
    with pytest.raises(JsonError) as caught:
        k.parse_person(doc(x="[" * 128 + "]" * 128))
    assert (caught.value.message, caught.value.line, caught.value.column) == (
        "nesting too deep",
        1,
        len('{"name": "a", "age": 1, "cars": [], "friends": [], "x": ') + 128,
    )


@pytest.mark.parametrize("opener", ["[", '{"a": '])
def test_nesting_100_000_levels_fails_fast(k: PythonKernels, opener: str) -> None:
    start = time.perf_counter()
    with pytest.raises(JsonError, match=r"^nesting too deep"):
        k.parse_person(doc(x=opener * 100_000))
    assert time.perf_counter() - start < 0.5


def test_deep_nesting_needs_no_python_stack(k: PythonKernels) -> None:
    limit = sys.getrecursionlimit()
    depth = len(inspect.stack(0))
    sys.setrecursionlimit(depth + 40)  # far fewer frames than nesting levels
    try:
        assert k.parse_person(doc(x="[" * 127 + "]" * 127))
    finally:
        sys.setrecursionlimit(limit)
