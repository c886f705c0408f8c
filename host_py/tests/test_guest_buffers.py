"""Zero-copy guest buffers on the fast host: views into linear memory that never go stale
silently, never point at freed memory, and mask in place."""

from __future__ import annotations

import socket
import threading

import pytest

import sandlink

KEY = b"\x37\xfa\x21\x3d"


def reference_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    return bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(data))


@pytest.fixture()
def k():
    return sandlink.load(cache_dir=False)


def test_the_view_is_guest_memory_and_masking_happens_in_it(k):
    with k.buffer(5) as buf:
        view = buf.view
        view[:] = b"Hello"
        k.ws_mask_into(buf, KEY)
        assert bytes(view) == bytes.fromhex("7f9f4d5158")  # same view, changed in place
        assert buf.read() == bytes.fromhex("7f9f4d5158")
        resource = buf.resource
        assert bytes(resource.read(0, 5)) == bytes(view)  # what the guest itself sees


@pytest.mark.parametrize("offset", range(8))
def test_in_place_mask_every_offset_and_alignment(k, offset):
    data = bytes(range(7, 7 + 100))
    for start in range(8):
        for length in (0, 1, 3, 4, 5, 31, 32, 33, 64 - start):
            with k.buffer(start + length) as buf:
                buf.write(data[:length], start)
                k.ws_mask_into(buf, KEY, offset)
                expected = reference_mask(bytes(start), KEY, offset)
                expected += reference_mask(data[:length], KEY, offset + start)
                assert buf.read() == expected


def test_recv_into_lands_in_the_guest(k):
    left, right = socket.socketpair()
    with left, right, k.buffer(64 * 1024) as buf:
        payload = bytes(range(256)) * 256
        left.sendall(payload)
        got = 0
        while got < len(payload):
            got += right.recv_into(buf.view[got:])
        k.ws_mask_into(buf, KEY, 3)
        assert buf.read() == reference_mask(payload, KEY, 3)


def test_views_survive_memory_growth(k):
    buf = k.buffer(1024)
    buf.view[:4] = b"keep"
    grown = k.ws_mask(bytes(32 << 20), 1)  # 32 MiB in and out: the memory grows
    assert len(grown) == 32 << 20
    assert bytes(buf.view[:4]) == b"keep"
    k.ws_mask_into(buf, 0)
    assert buf.read(0, 4) == b"keep"


def test_closed_buffers_are_stale(k):
    buf = k.buffer(8)
    view = buf.view
    buf.close()
    assert buf.closed
    with pytest.raises(ValueError):  # the view handed out was released
        view[0]
    for use in (
        lambda: buf.view,
        buf.read,
        lambda: buf.write(b"x"),
        lambda: k.ws_mask_into(buf, KEY),
    ):
        with pytest.raises(sandlink.StaleResourceError, match="closed"):
            use()
    buf.close()  # idempotent


def test_a_trap_makes_buffers_stale_but_never_dangling(k):
    buf = k.buffer(16)
    piece = buf.view[0:4]  # a derived view: it keeps the old instance's memory alive
    with pytest.raises(sandlink.GuestTrap):
        buf.resource.read(10, 100)  # the guest traps on a range past the end
    with pytest.raises(sandlink.StaleResourceError, match="trap"):
        buf.read()
    assert bytes(piece) == bytes(4)  # readable: the memory was kept, not freed
    with k.buffer(4) as fresh:  # the next call gets a fresh instance
        assert fresh.read() == bytes(4)


def test_bounds_are_checked(k):
    with k.buffer(4) as buf:
        with pytest.raises(IndexError):
            buf.read(2, 3)
        with pytest.raises(IndexError):
            buf.write(b"abc", 2)
        with pytest.raises(OverflowError):
            buf.read(-1)


def test_buffers_belong_to_their_thread(k):
    buf = k.buffer(4)
    errors: list[BaseException] = []

    def use() -> None:
        try:
            buf.read()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], sandlink.StaleResourceError)
    assert buf.read() == bytes(4)


def test_closing_frees_guest_memory(k):
    for _ in range(3000):  # 3000 x 256 KiB = 750 MiB if the destructor did not run
        with k.buffer(256 * 1024) as buf:
            buf.view[0] = 1
    assert k.add(1, 1) == 2


def test_writable_python_buffers_are_masked_through_a_copy(k):
    data = bytearray(b"Hello")
    k.ws_mask_into(data, KEY)
    assert data == bytes.fromhex("7f9f4d5158")
    with pytest.raises(TypeError, match="buf"):
        k.ws_mask_into(b"read-only", KEY)


def test_buffers_dropped_without_close_are_freed_too(k):
    for _ in range(3000):  # each one is collected unclosed; its destructor runs later
        buf = k.buffer(256 * 1024)
        buf.view[0] = 1
        del buf
    assert k.add(1, 1) == 2
