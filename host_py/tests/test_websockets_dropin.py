"""sandlink as the real `websockets` library's mask: `ws_mask(data, mask)` takes the same
arguments as its `apply_mask`, so a live (sans-I/O) client/server exchange with every frame
masked and unmasked by sandlink must carry every message byte for byte."""

from __future__ import annotations

import pytest
import websockets.frames
from websockets.client import ClientProtocol
from websockets.frames import Frame
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

import sandlink

MESSAGES = [b"", b"x", bytes(range(125)), bytes(126), bytes(range(256)) * 16, b"\xfe" * 70_000]


def connected() -> tuple[ClientProtocol, ServerProtocol]:
    client, server = ClientProtocol(parse_uri("ws://example.test/")), ServerProtocol()
    client.send_request(client.connect())
    server.receive_data(b"".join(client.data_to_send()))
    (request,) = server.events_received()
    server.send_response(server.accept(request))
    client.receive_data(b"".join(server.data_to_send()))
    (response,) = client.events_received()
    assert response.status_code == 101
    return client, server


@pytest.mark.parametrize("backend", ["wasm", "native", "python"])
def test_sandlink_masks_a_live_websockets_exchange(backend, monkeypatch):
    k = sandlink.load(backend)
    theirs = websockets.frames.apply_mask  # websockets' own (its C speedup when built)
    calls = []

    def apply_mask(data: bytes, mask: bytes) -> bytes:
        calls.append(len(data))
        masked = k.ws_mask(data, mask)
        assert masked == theirs(data, mask)  # the wire bytes are what websockets would send
        return masked

    monkeypatch.setattr(websockets.frames, "apply_mask", apply_mask)
    client, server = connected()
    for message in MESSAGES:
        client.send_binary(message)  # client frames are masked...
        server.receive_data(b"".join(client.data_to_send()))  # ...and unmasked here
        (frame,) = server.events_received()
        assert isinstance(frame, Frame) and frame.data == message
        server.send_text(message.hex().encode())  # server frames are not masked
        client.receive_data(b"".join(server.data_to_send()))
        (reply,) = client.events_received()
        assert reply.data == message.hex().encode()
    assert calls == [len(m) for m in MESSAGES for _ in range(2)]  # each masked, unmasked


def test_strided_and_read_only_buffers_mask_like_bytes():
    """websockets may hand over any bytes-like object; a strided view is copied, not
    refused (which would kill the connection)."""
    k = sandlink.load()
    key = b"\x37\xfa\x21\x3d"
    raw = bytes(range(200))
    for data in (memoryview(raw)[::2], memoryview(bytearray(raw))[1::3], memoryview(raw)):
        assert k.ws_mask(data, key) == k.ws_mask(bytes(data), key)
