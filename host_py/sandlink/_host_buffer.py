"""`k.buffer(n)` on the python and native backends: bytes in a host bytearray."""

from __future__ import annotations

import contextlib
from typing import Any

from ._checks import check_buffer, check_int
from ._errors import StaleResourceError


class HostBuffer:
    """`n` zero bytes in the host's memory, with the same API as the wasm backend's buffers.

    `view` is a writable memoryview of them: fill it (`sock.recv_into(buf.view)`), mask it in
    place (`k.ws_mask_into(buf, key)`), read it. After `close()` every use raises
    StaleResourceError, the view handed out included.
    """

    __slots__ = ("_data", "_len", "_view")

    def __init__(self, n: int) -> None:
        self._len = check_int("n", "u32", n)
        self._data: bytearray | None = bytearray(self._len)
        self._view = memoryview(self._data)

    def __len__(self) -> int:
        return self._len

    @property
    def closed(self) -> bool:
        return self._data is None

    @property
    def view(self) -> memoryview:
        if self._data is None:
            raise StaleResourceError("this HostBuffer cannot be used: it was closed")
        return self._view

    def read(self, start: int = 0, length: int | None = None) -> bytes:
        view = self.view
        start, length = self._range(start, length)
        return bytes(view[start : start + length])

    def write(self, data: Any, start: int = 0) -> None:
        view = self.view
        data = check_buffer("data", data)
        start, length = self._range(start, data.nbytes)
        view[start : start + length] = data

    def close(self) -> None:
        """Drop the bytes and release the view; idempotent."""
        with contextlib.suppress(BufferError):  # someone holds an export of the view
            self._view.release()
        self._data = None

    def __enter__(self) -> HostBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<HostBuffer {self._len} bytes{' closed' if self.closed else ''}>"

    def _range(self, start: int, length: int | None) -> tuple[int, int]:
        start = check_int("start", "u32", start)
        if length is None:
            length = max(self._len - start, 0)
        else:
            length = check_int("length", "u32", length)
        if start + length > self._len or start > self._len:
            raise IndexError(f"range {start}+{length} is outside the {self._len}-byte buffer")
        return start, length
