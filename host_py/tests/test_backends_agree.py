"""Differential tests: every backend gives the same values and the same errors.

The pure-Python backend is the reference; "oracle" (wasmtime's component API) is the
oracle for the fast host. The oracle backend converts list<u8> a byte at a time, so
its payloads stay small here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sandlink

DATA = Path(__file__).parent / "data"
SEED = (DATA / "seed_person.json").read_text(encoding="utf-8")
JSON_ERRORS = json.loads((DATA / "json_errors.json").read_text(encoding="utf-8"))
RFC_KEY = b"\x37\xfa\x21\x3d"
SLOW = {"oracle"}  # backends too slow for big payloads

PROPERTY = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def printed() -> list[str]:
    return []


@pytest.fixture(scope="module")
def backends(printed: list[str]) -> dict[str, sandlink.Kernels]:
    return {name: sandlink.load(name, print=printed.append) for name in sandlink.BACKENDS}


def outcome(call, *args):
    """The value, or (exception class, message, and JsonError position) for comparison."""
    try:
        return ("ok", call(*args))
    except (TypeError, ValueError, OverflowError, sandlink.SandlinkError) as exc:
        return ("error", type(exc), str(exc))


def agree(backends, method: str, *args, skip=()):
    """Call `method` on every backend; assert they agree; return the common outcome."""
    results = {
        name: outcome(getattr(k, method), *args) for name, k in backends.items() if name not in skip
    }
    reference = results["python"]
    for name, result in results.items():
        assert result == reference, f"{name} disagrees with python on {method}{args!r}"
    return reference


# ---------------------------------------------------------------- add and hello


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(2, 3, 5), (0, 0, 0), (4294967295, 1, 0), (4294967295, 4294967295, 4294967294)],
)
def test_add(backends, a, b, expected):
    assert agree(backends, "add", a, b) == ("ok", expected)


@pytest.mark.parametrize(
    ("a", "b", "error", "names"),
    [
        (-1, 0, OverflowError, "a"),
        (0, 2**32, OverflowError, "b"),
        ("2", 3, TypeError, "a"),
        (2, None, TypeError, "b"),
        (2.0, 3, TypeError, "a"),
        (True, 3, TypeError, "a"),
    ],
)
def test_add_rejects_bad_arguments(backends, a, b, error, names):
    kind, cls, message = agree(backends, "add", a, b)
    assert (kind, cls) == ("error", error)
    assert message.startswith(names)


def test_hello_prints_through_the_host(backends, printed):
    printed.clear()
    for name, k in backends.items():
        assert k.hello(f"world {name} 🦀") is None
    assert printed == [f"Hello, world {name} 🦀!" for name in backends]


@pytest.mark.parametrize("backend", sandlink.BACKENDS)
def test_hello_print_exception_propagates_and_the_object_recovers(backend):
    class Boom(Exception):
        pass

    def explode(line: str) -> None:
        raise Boom(line)

    k = sandlink.load(backend, print=explode)
    with pytest.raises(Boom, match="Hello, x!"):
        k.hello("x")
    assert k.add(1, 2) == 3
    with pytest.raises(Boom):
        k.hello("again")


@pytest.mark.parametrize("backend", sandlink.BACKENDS)
def test_keyboard_interrupt_in_print_propagates(backend):
    def interrupt(line: str) -> None:
        raise KeyboardInterrupt

    k = sandlink.load(backend, print=interrupt)
    with pytest.raises(KeyboardInterrupt):
        k.hello("x")
    assert k.add(40, 2) == 42


def test_hello_rejects_non_str(backends):
    kind, cls, message = agree(backends, "hello", b"bytes")
    assert (kind, cls) == ("error", TypeError) and message.startswith("name")


def test_hello_rejects_lone_surrogates(backends):
    kind, cls, message = agree(backends, "hello", "a\ud800")
    assert (kind, cls) == ("error", ValueError) and message.startswith("name")


# ---------------------------------------------------------------- ws_mask


def reference_mask(payload: bytes, key: bytes, offset: int = 0) -> bytes:
    return bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("key", [RFC_KEY, 0x37FA213D, bytearray(RFC_KEY), memoryview(RFC_KEY)])
def test_ws_mask_rfc6455_vector(backends, key):
    assert agree(backends, "ws_mask", b"Hello", key) == ("ok", bytes.fromhex("7f9f4d5158"))


def test_ws_mask_accepts_any_buffer(backends):
    data = bytes(range(256)) * 4
    expected = ("ok", reference_mask(data, RFC_KEY, 3))
    for payload in (data, bytearray(data), memoryview(data), memoryview(bytearray(data))[0:]):
        assert agree(backends, "ws_mask", payload, RFC_KEY, 3) == expected
    strided = memoryview(data)[::2]  # e.g. what websockets may hand its apply_mask: copied
    assert agree(backends, "ws_mask", strided, RFC_KEY) == (
        "ok",
        reference_mask(data[::2], RFC_KEY),
    )


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        (("text", RFC_KEY), TypeError, "payload"),
        ((None, RFC_KEY), TypeError, "payload"),
        ((b"x", b"abc"), ValueError, "key"),
        ((b"x", -1), OverflowError, "key"),
        ((b"x", 2**32), OverflowError, "key"),
        ((b"x", "abcd"), TypeError, "key"),
        ((b"x", RFC_KEY, -1), OverflowError, "offset"),
        ((b"x", RFC_KEY, 2**32), OverflowError, "offset"),
        ((b"x", RFC_KEY, 1.5), TypeError, "offset"),
    ],
)
def test_ws_mask_rejects_bad_arguments(backends, args, error, name):
    kind, cls, message = agree(backends, "ws_mask", *args)
    assert (kind, cls) == ("error", error)
    assert message.startswith(name)


@PROPERTY
@given(
    payload=st.binary(max_size=300),
    key=st.integers(0, 2**32 - 1),
    offset=st.integers(0, 2**32 - 1),
)
def test_ws_mask_property(backends, payload, key, offset):
    expected = reference_mask(payload, key.to_bytes(4, "big"), offset)
    assert agree(backends, "ws_mask", payload, key, offset) == ("ok", expected)


@PROPERTY
@given(
    message=st.binary(max_size=2000),
    key=st.binary(min_size=4, max_size=4),
    cuts=st.lists(st.integers(0, 2000), max_size=6),
)
def test_ws_mask_chunked_equals_whole(backends, message, key, cuts):
    bounds = sorted({0, len(message), *(c for c in cuts if c <= len(message))})
    for name, k in backends.items():
        chunks = [k.ws_mask(message[lo:hi], key, lo) for lo, hi in itertools.pairwise(bounds)]
        assert b"".join(chunks) == k.ws_mask(message, key), name
        assert k.ws_mask(k.ws_mask(message, key), key) == message, name


@pytest.mark.parametrize("size", [0, 1, 3, 65536, 262144, 16 << 20])
def test_ws_mask_large_payloads_grow_memory(backends, size):
    payload = bytes(range(251)) * (size // 251) + bytes(size % 251)
    expected = backends["python"].ws_mask(payload, RFC_KEY, 1)
    for name, k in backends.items():
        if name in SLOW and size > 65536:
            continue
        assert k.ws_mask(payload, RFC_KEY, 1) == expected, name


# ---------------------------------------------------------------- parse_person


def test_parse_person_seed(backends):
    expected = sandlink.Person(
        "Elliot",
        25,
        ["Audi", "BMW", "Tesla"],
        [sandlink.Friend("Alice", 30), sandlink.Friend("Bob", 27), sandlink.Friend("Zoë", 31)],
    )
    assert agree(backends, "parse_person", SEED) == ("ok", expected)
    assert agree(backends, "parse_person", SEED.encode()) == ("ok", expected)
    person = backends["wasm"].parse_person(SEED)
    assert isinstance(person, sandlink.Person) and isinstance(person.friends[0], sandlink.Friend)


@pytest.mark.parametrize(("text", "message", "line", "column"), JSON_ERRORS)
def test_parse_person_errors(backends, text, message, line, column):
    kind, cls, _ = agree(backends, "parse_person", text)
    assert (kind, cls) == ("error", sandlink.JsonError)
    with pytest.raises(sandlink.JsonError) as caught:
        backends["wasm"].parse_person(text)
    assert (caught.value.message, caught.value.line, caught.value.column) == (message, line, column)
    assert isinstance(caught.value, ValueError)


def test_parse_person_invalid_utf8(backends):
    kind, cls, message = agree(backends, "parse_person", b'{"name": "\xff"}')
    assert (kind, cls) == ("error", sandlink.JsonError)
    assert "invalid UTF-8 at line 1 column 11" == message


def test_parse_person_lone_surrogate_in_str(backends):
    kind, cls, message = agree(backends, "parse_person", '{"name": "a\ud800"}')
    assert (kind, cls) == ("error", sandlink.JsonError)
    assert message == "invalid UTF-8 at line 1 column 12"


def test_parse_person_wrong_type(backends):
    kind, cls, message = agree(backends, "parse_person", 42)
    assert (kind, cls) == ("error", TypeError) and message.startswith("json")


def test_parse_person_deep_nesting(backends):
    deep = '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    kind, cls, message = agree(backends, "parse_person", deep)
    assert (kind, cls) == ("error", sandlink.JsonError) and "nesting too deep" in message


def test_parse_person_huge_arrays(backends):
    cars = [f"car {i}" for i in range(100_000)]
    friends = [{"name": f"f{i}", "age": i} for i in range(20_000)]
    noise = list(range(200_000))
    text = json.dumps({"noise": noise, "name": "n", "age": 1, "cars": cars, "friends": friends})
    expected = sandlink.Person(
        "n", 1, cars, [sandlink.Friend(f["name"], f["age"]) for f in friends]
    )
    assert agree(backends, "parse_person", text) == ("ok", expected)


names = st.text(max_size=20)
ages = st.integers(0, 2**32 - 1)
friends = st.builds(dict, name=names, age=ages)
people = st.builds(
    dict,
    name=names,
    age=ages,
    cars=st.lists(names, max_size=5),
    friends=st.lists(friends, max_size=5),
)


@PROPERTY
@given(person=people, ensure_ascii=st.booleans(), indent=st.sampled_from([None, 0, 2]))
def test_parse_person_random_valid(backends, person, ensure_ascii, indent):
    text = json.dumps(person, ensure_ascii=ensure_ascii, indent=indent)
    expected = sandlink.Person(
        person["name"],
        person["age"],
        person["cars"],
        [sandlink.Friend(f["name"], f["age"]) for f in person["friends"]],
    )
    assert agree(backends, "parse_person", text) == ("ok", expected)


def mutations(text: str):
    alphabet = st.sampled_from([*'{}[]:,"\\ \n\t0123456789-+.eEtrufalsn', "é", "🦀", "\x00"])
    return st.lists(
        st.tuples(st.integers(0, len(text)), st.integers(0, 3), st.text(alphabet, max_size=3)),
        min_size=1,
        max_size=4,
    )


@PROPERTY
@given(edits=mutations(SEED))
def test_parse_person_mutated_seed(backends, edits):
    text = SEED
    for position, deleted, inserted in edits:
        text = text[:position] + inserted + text[position + deleted :]
    agree(backends, "parse_person", text)


@PROPERTY
@given(text=st.text(max_size=60))
def test_parse_person_random_junk(backends, text):
    agree(backends, "parse_person", text)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda k: k.ws_mask("text", RFC_KEY), TypeError),
        (lambda k: k.ws_mask(b"x" * 100, RFC_KEY, -1), OverflowError),
        (lambda k: k.parse_person(42), TypeError),
        (lambda k: k.parse_person("lone \ud800"), sandlink.JsonError),
        (lambda k: k.hello(None), TypeError),
        (lambda k: k.add(1, 2**32), OverflowError),
        (lambda k: k.buffer(-1), OverflowError),
    ],
)
@pytest.mark.parametrize("backend", sandlink.BACKENDS)
def test_a_bad_argument_leaves_the_instance_and_its_buffers_intact(backend, call, error):
    """Arguments are checked before the guest is touched: the buffer made before the bad
    call is still live, with its bytes, and the object keeps working."""
    k = sandlink.load(backend, print=lambda line: None, cache_dir=False)
    buf = k.buffer(8)
    buf.write(b"abcdefgh")
    with pytest.raises(error):
        call(k)
    assert not buf.closed and buf.read() == b"abcdefgh"
    k.ws_mask_into(buf, RFC_KEY)
    assert buf.read() == reference_mask(b"abcdefgh", RFC_KEY)
    assert k.add(2, 3) == 5
