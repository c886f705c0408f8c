"""`k.masker(key)`: masks one WebSocket message chunk by chunk, on any backend.

Generic over the kernels object: it only needs `ws_mask(payload, key, offset)` and
`ws_mask_into(buf, key, offset)`. The kernels take a u32 offset, but only `offset % 4`
matters, so a message may run past 4 GiB.
"""

from __future__ import annotations

from typing import Any

from ._buffer import Buffer, GuestBuffer
from ._checks import mask_key, prefix_length
from .host._checks import check_int


class Masker:
    """Masks consecutive chunks of one message: joined, they equal masking it all at once.

    `key` is the masking key as a u32; `offset` is how many bytes were masked so far (the
    position of the next chunk in the message).
    """

    __slots__ = ("_kernels", "_key", "_offset")

    def __init__(self, kernels: Any, key: int | bytes, offset: int = 0) -> None:
        self._kernels = kernels
        self._key = mask_key(key)
        self._offset = check_int("offset", "u64", offset)

    @property
    def key(self) -> int:
        return self._key

    @property
    def offset(self) -> int:
        return self._offset

    @offset.setter
    def offset(self, value: int) -> None:  # e.g. to resume a message part-way
        self._offset = check_int("offset", "u64", value)

    def mask(self, chunk: Any) -> bytes:
        """The next chunk (any bytes-like), masked into new bytes."""
        out = self._kernels._ws_mask(chunk, self._key, self._offset % 4)  # the key is checked
        self._offset += len(out)
        result: bytes = out
        return result

    def mask_into(self, buf: Any, nbytes: int | None = None) -> None:
        """The next chunk, masked in place: a buffer from `k.buffer(n)` or any writable one,
        all of it or its first `nbytes` bytes (what `recv_into` returned)."""
        if type(buf) is GuestBuffer and buf.owner is self._kernels:  # the common case, short
            n = buf._len if nbytes is None else prefix_length(nbytes, buf._len)
            buf.mask(0, n, self._key, self._offset % 4)
            self._offset += n
            return
        self._kernels.ws_mask_into(buf, self._key, self._offset % 4, nbytes)
        self._offset += _nbytes(buf) if nbytes is None else nbytes

    def __repr__(self) -> str:
        return f"<Masker key={self._key:#010x} offset={self._offset}>"

    def __reduce__(self) -> Any:  # its kernels, key and place in the message
        return (Masker, (self._kernels, self._key, self._offset))


def _nbytes(buf: Any) -> int:
    """The byte length of a buffer `ws_mask_into` just accepted."""
    if isinstance(buf, Buffer):  # a `k.buffer(n)` object: its length is in bytes
        return buf._len
    try:
        view = memoryview(buf)
    except TypeError:  # a `k.buffer(n)` object: its len() is in bytes
        return len(buf)
    with view:  # released at once, so a bytearray stays resizable
        return view.nbytes
