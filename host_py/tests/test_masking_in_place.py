"""In-place masking, `k.buffer(n)` and the streaming masker, on every backend that has them.

Every test takes the module-scoped `k` fixture, parametrized over BACKENDS, so another backend
with the same API is covered by adding its name there.
"""

from __future__ import annotations

import array
import ctypes
import itertools
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

import sandlink
from sandlink._masker import Masker

BACKENDS = ("python", "native", "wasm", "oracle")
#: Backends whose buffers cannot hand out a memoryview (`view` raises; read/write work).
NO_VIEW = frozenset({"oracle"})

KEY = b"\x37\xfa\x21\x3d"
KEY_INT = 0x37FA213D
DATA = bytes((i * 37 + 11) & 0xFF for i in range(64))
U32 = 2**32


def reference_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    """RFC 6455 masking, byte by byte: independent of every backend."""
    return bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(data))


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def k(backend):
    return sandlink.load(backend)


@pytest.fixture()
def view_backend(k, backend):
    """`k`, for tests of `buf.view`."""
    if backend in NO_VIEW:
        pytest.skip(f"{backend} buffers have no view")
    return k


# --- ws_mask_into equals ws_mask ----------------------------------------------------------


def masked_in_place(k, kind: str, data: bytes, offset: int, start: int) -> bytes:
    """Mask `data` in place in a buffer of `kind` whose data begins `start` bytes into its
    memory; returns the masked bytes, after checking that nothing around them changed."""
    if kind == "bytearray":
        target = bytearray(data)
        k.ws_mask_into(target, KEY, offset)
        return bytes(target)
    if kind == "slice":  # a window of a larger bytearray, at every alignment
        pad = b"\xaa" * 8
        whole = bytearray(pad[:start] + data + pad)
        k.ws_mask_into(memoryview(whole)[start : start + len(data)], KEY, offset)
        assert whole[:start] == pad[:start] and whole[start + len(data) :] == pad
        return bytes(whole[start : start + len(data)])
    assert kind == "buffer"  # the whole buffer is masked: the lead-in bytes too
    with k.buffer(start + len(data)) as buf:
        buf.write(data, start)
        k.ws_mask_into(buf, KEY, offset)
        out = buf.read()
    assert out[:start] == reference_mask(bytes(start), KEY, offset)
    return out[start:]


@pytest.mark.parametrize("kind", ["bytearray", "slice", "buffer"])
@pytest.mark.parametrize("offset", range(8))
def test_ws_mask_into_equals_ws_mask(k, kind, offset):
    for start in range(8) if kind != "bytearray" else (0,):
        for length in range(41):
            data = DATA[start : start + length]
            at = offset + start if kind == "buffer" else offset
            expected = k.ws_mask(data, KEY, at)
            assert expected == reference_mask(data, KEY, at)
            got = masked_in_place(k, kind, data, offset, start)
            assert got == expected, (start, length)


def test_ws_mask_into_returns_none_and_takes_any_key_form(k):
    buf = bytearray(b"Hello")
    assert k.ws_mask_into(buf, KEY) is None
    assert buf == bytes.fromhex("7f9f4d5158")  # RFC 6455 §5.7
    k.ws_mask_into(buf, KEY_INT)
    assert buf == b"Hello"
    buf.extend(b"!")  # no buffer export left behind
    k.ws_mask_into(memoryview(buf)[3:], bytearray(KEY), 3)
    assert buf == b"Hel" + reference_mask(b"lo!", KEY, 3)


def test_ws_mask_into_non_byte_formats_mask_their_bytes(k):
    arr = array.array("I", [1, 2, 3])
    raw = arr.tobytes()
    k.ws_mask_into(arr, KEY, 2)
    assert arr.tobytes() == reference_mask(raw, KEY, 2)


def test_ws_mask_into_empty(k):
    k.ws_mask_into(bytearray(), KEY, 5)
    with k.buffer(0) as buf:
        k.ws_mask_into(buf, KEY)
        assert buf.read() == b""


@pytest.mark.parametrize(
    "buf", [b"Hello", memoryview(b"Hello"), memoryview(bytearray(b"Hello")).toreadonly()]
)
def test_ws_mask_into_rejects_read_only_buffers(k, buf):
    with pytest.raises(TypeError, match=r"^buf\b"):
        k.ws_mask_into(buf, KEY)


@pytest.mark.parametrize(
    ("args", "error", "name"),
    [
        (("Hello", KEY), TypeError, "buf"),
        ((object(), KEY), TypeError, "buf"),
        ((bytearray(1), -1), OverflowError, "key"),
        ((bytearray(1), U32), OverflowError, "key"),
        ((bytearray(1), b"\x01"), ValueError, "key"),
        ((bytearray(1), "abcd"), TypeError, "key"),
        ((bytearray(1), KEY, -1), OverflowError, "offset"),
        ((bytearray(1), KEY, U32), OverflowError, "offset"),
        ((bytearray(1), KEY, 1.0), TypeError, "offset"),
    ],
)
def test_ws_mask_into_rejects_bad_arguments_naming_them(k, args, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        k.ws_mask_into(*args)
    if isinstance(args[0], bytearray):
        assert args[0] == bytearray(1)  # untouched


# --- k.buffer(n) ----------------------------------------------------------------------------


def test_buffer_is_zero_filled_and_round_trips(k):
    with k.buffer(10) as buf:
        assert len(buf) == 10 and not buf.closed
        assert buf.read() == bytes(10)
        buf.write(b"abc")
        buf.write(memoryview(b"xyz"), 7)
        buf.write(array.array("B", [1, 2]), 4)
        assert buf.read() == b"abc\x00\x01\x02\x00xyz"
        assert buf.read(3) == b"\x00\x01\x02\x00xyz"
        assert buf.read(2, 3) == b"c\x00\x01"
        assert buf.read(10) == b"" and buf.read(4, 0) == b""
        buf.write(b"", 10)
        assert isinstance(buf.read(), bytes)


def test_buffer_view_is_a_writable_byte_view(view_backend):
    k = view_backend
    with k.buffer(6) as buf:
        view = buf.view
        assert isinstance(view, memoryview)
        assert (view.format, view.ndim, view.readonly, view.nbytes) == ("B", 1, False, 6)
        assert bytes(view) == bytes(6)
        view[1:6] = b"Hello"
        assert buf.read() == b"\x00Hello"
        k.ws_mask_into(buf, KEY, 3)
        assert bytes(view) == reference_mask(b"\x00Hello", KEY, 3)  # the same view, in place
        buf.write(b"zz", 4)
        assert bytes(view[4:]) == b"zz"


def test_recv_into_a_buffer_then_mask_it(view_backend):
    k = view_backend
    left, right = socket.socketpair()
    payload = bytes(range(256)) * 64
    with left, right, k.buffer(len(payload)) as buf:
        left.sendall(payload)
        got = 0
        while got < len(payload):
            got += right.recv_into(buf.view[got:])
        k.ws_mask_into(buf, KEY, 1)
        assert buf.read() == reference_mask(payload, KEY, 1)


@pytest.mark.parametrize(
    ("n", "error"),
    [(-1, OverflowError), (U32, OverflowError), ("3", TypeError), (3.0, TypeError)],
)
def test_buffer_size_is_checked_as_u32_n(k, n, error):
    with pytest.raises(error, match=r"^n\b"):
        k.buffer(n)


@pytest.mark.parametrize(
    ("use", "error", "match"),
    [
        (lambda b: b.read(2, 3), IndexError, r"2\+3.*\b4\b"),
        (lambda b: b.read(5), IndexError, r"\b5\b.*\b4\b"),
        (lambda b: b.read(0, 5), IndexError, r"0\+5.*\b4\b"),
        (lambda b: b.write(b"abc", 2), IndexError, r"2\+3.*\b4\b"),
        (lambda b: b.write(b"", 5), IndexError, r"\b5\b.*\b4\b"),
        (lambda b: b.write(b"abcde"), IndexError, r"0\+5.*\b4\b"),
        (lambda b: b.read(-1), OverflowError, r"^start\b"),
        (lambda b: b.read(0, -1), OverflowError, r"^length\b"),
        (lambda b: b.write(b"a", -1), OverflowError, r"^start\b"),
        (lambda b: b.write("a"), TypeError, r"^data\b"),
    ],
)
def test_buffer_bounds_are_checked_never_clamped(k, use, error, match):
    with k.buffer(4) as buf:
        buf.write(b"keep")
        with pytest.raises(error, match=match):
            use(buf)
        assert buf.read() == b"keep"  # a failed write changed nothing


def test_closed_buffers_are_stale(k, backend):
    buf = k.buffer(8)
    view = None if backend in NO_VIEW else buf.view
    buf.close()
    assert buf.closed
    if view is not None:
        with pytest.raises(ValueError):  # the view handed out was released
            view[0]
    masker = k.masker(KEY)
    for use in (
        lambda: buf.view,
        buf.read,
        lambda: buf.read(0, 1),
        lambda: buf.write(b"x"),
        lambda: k.ws_mask_into(buf, KEY),
        lambda: masker.mask_into(buf),
    ):
        with pytest.raises(sandlink.StaleResourceError, match="closed"):
            use()
    assert masker.offset == 0
    buf.close()  # idempotent
    assert buf.closed


def test_an_empty_buffer_goes_stale_too(k):
    buf = k.buffer(0)
    buf.close()
    with pytest.raises(sandlink.StaleResourceError):
        k.ws_mask_into(buf, KEY)
    with pytest.raises(sandlink.StaleResourceError):
        buf.read()


def test_the_context_manager_closes_even_on_error(k):
    with k.buffer(8) as buf:
        assert not buf.closed
    assert buf.closed
    with pytest.raises(RuntimeError), k.buffer(8) as buf:
        raise RuntimeError("boom")
    assert buf.closed
    with pytest.raises(sandlink.StaleResourceError):
        buf.read()


def test_close_with_the_view_exported_still_closes(view_backend):
    k = view_backend
    buf = k.buffer(8)
    buf.write(b"exported")
    held = (ctypes.c_char * 8).from_buffer(buf.view)  # an export of the view: release() fails
    buf.close()  # ... which close() tolerates
    assert buf.closed
    with pytest.raises(sandlink.StaleResourceError):
        _ = buf.view
    # The holder's memory is still mapped (what it holds now is up to the backend: a guest's
    # allocator may reuse freed bytes).
    assert len(held.raw) == 8
    del held


# --- the streaming masker -------------------------------------------------------------------

#: Where a message starts: small, and around 2**32 so its chunks cross the u32 boundary.
START_OFFSETS = st.one_of(
    st.integers(0, 7),
    st.integers(U32 - 8, U32 + 8),
    st.just(2**40 + 3),
)
KEYS = st.one_of(st.integers(0, U32 - 1), st.binary(min_size=4, max_size=4))


def chunks_of(data: bytes, cuts: list[int]) -> list[tuple[int, int]]:
    """(start, end) of the chunks `data` splits into at `cuts` (empty chunks included)."""
    points = [0, *sorted(min(c, len(data)) for c in cuts), len(data)]
    return list(itertools.pairwise(points))


def key_bytes(key: int | bytes) -> bytes:
    return key.to_bytes(4, "big") if isinstance(key, int) else key


@given(
    data=st.binary(max_size=200),
    cuts=st.lists(st.integers(0, 200), max_size=12),
    key=KEYS,
    start=START_OFFSETS,
)
def test_masker_mask_chunks_join_to_the_whole_message(k, data, cuts, key, start):
    masker = k.masker(key)
    assert isinstance(masker, Masker) and masker.offset == 0
    assert masker.key == int.from_bytes(key_bytes(key), "big")
    masker.offset = start
    out = []
    for a, b in chunks_of(data, cuts):
        out.append(masker.mask(data[a:b]))
        assert masker.offset == start + b
    assert b"".join(out) == reference_mask(data, key_bytes(key), start)
    assert b"".join(out) == k.ws_mask(data, key, start % 4)


@given(
    data=st.binary(max_size=200),
    cuts=st.lists(st.integers(0, 200), max_size=12),
    kinds=st.lists(st.sampled_from(["slice", "bytearray", "buffer"]), min_size=13, max_size=13),
    key=KEYS,
    start=START_OFFSETS,
)
def test_masker_mask_into_chunks_join_to_the_whole_message(k, data, cuts, kinds, key, start):
    masker = k.masker(key)
    masker.offset = start
    message = bytearray(data)
    for (a, b), kind in zip(chunks_of(data, cuts), kinds, strict=False):
        if kind == "slice":  # in place, in the message itself
            masker.mask_into(memoryview(message)[a:b])
        elif kind == "bytearray":
            chunk = bytearray(message[a:b])
            masker.mask_into(chunk)
            message[a:b] = chunk
        else:
            with k.buffer(b - a) as buf:
                buf.write(message[a:b])
                masker.mask_into(buf)
                message[a:b] = buf.read()
        assert masker.offset == start + b
    assert message == reference_mask(data, key_bytes(key), start)


def test_masker_advances_by_bytes_not_items(k):
    arr = array.array("H", [0x0102, 0x0304, 0x0506])  # 3 items, 6 bytes
    raw = arr.tobytes()
    masker = k.masker(KEY)
    masker.mask_into(arr)
    assert masker.offset == 6
    assert arr.tobytes() == reference_mask(raw, KEY)
    assert masker.mask(array.array("H", [7])) == reference_mask(
        array.array("H", [7]).tobytes(), KEY, 6
    )
    assert masker.offset == 8


def test_masker_past_4_gib(k):
    masker = k.masker(KEY)
    masker.offset = U32 - 3
    assert masker.mask(b"Hello") == reference_mask(b"Hello", KEY, U32 - 3)
    assert masker.offset == U32 + 2


def test_masker_rejects_bad_arguments_and_keeps_its_place(k):
    with pytest.raises(ValueError, match=r"^key\b"):
        k.masker(b"abc")
    with pytest.raises(OverflowError, match=r"^key\b"):
        k.masker(U32)
    masker = k.masker(KEY)
    masker.mask(b"ab")
    with pytest.raises(TypeError, match=r"^payload\b"):
        masker.mask("text")
    with pytest.raises(TypeError, match=r"^buf\b"):
        masker.mask_into(b"read-only")
    with pytest.raises(OverflowError, match=r"^offset\b"):
        masker.offset = -1
    with pytest.raises(TypeError, match=r"^offset\b"):
        masker.offset = 1.5
    assert masker.offset == 2
    with pytest.raises(AttributeError):
        masker.key = 1


# --- the first nbytes only (what recv_into returned) ---------------------------------------


@given(
    data=st.binary(min_size=1, max_size=100),
    spare=st.integers(0, 40),
    kind=st.sampled_from(["bytearray", "buffer"]),
    offset=st.integers(0, 7),
    key=KEYS,
)
def test_ws_mask_into_masks_the_first_nbytes_only(k, data, spare, kind, offset, key):
    """A buffer bigger than what arrived: the first nbytes are masked, the rest untouched."""
    tail = bytes(range(spare))
    if kind == "bytearray":
        buf = bytearray(data + tail)
        k.ws_mask_into(buf, key, offset, len(data))
        got = bytes(buf)
    else:
        with k.buffer(len(data) + spare) as buf:
            buf.write(data + tail)
            k.ws_mask_into(buf, key, offset, nbytes=len(data))
            got = buf.read()
    assert got == reference_mask(data, key_bytes(key), offset) + tail


def test_masker_mask_into_with_nbytes_streams_a_socket(view_backend):
    """The README recipe: recv_into a buffer bigger than the chunks, mask what arrived."""
    k = view_backend
    message = bytes(range(256)) * 40 + b"tail"
    masker = k.masker(KEY)
    left, right = socket.socketpair()
    out = bytearray()
    with left, right, k.buffer(4096) as buf:
        left.sendall(message)
        left.shutdown(socket.SHUT_WR)
        while n := right.recv_into(buf.view, 1000):  # chunks of up to 1000 of 4096 bytes
            masker.mask_into(buf, n)
            out += buf.view[:n]
    assert masker.offset == len(message)
    assert bytes(out) == reference_mask(message, KEY)


@pytest.mark.parametrize(
    ("nbytes", "error"),
    [(-1, ValueError), (65, ValueError), (True, TypeError), (1.0, TypeError), ("1", TypeError)],
)
def test_nbytes_is_checked_and_a_masker_keeps_its_place(k, nbytes, error):
    masker = k.masker(KEY)
    masker.mask(b"ab")
    for buf in (bytearray(DATA), k.buffer(len(DATA))):
        with pytest.raises(error, match="nbytes"):
            k.ws_mask_into(buf, KEY, 0, nbytes)
        with pytest.raises(error, match="nbytes"):
            masker.mask_into(buf, nbytes)
        assert masker.offset == 2
