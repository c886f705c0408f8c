"""`k.buffer(n)`: bytes to fill, mask in place and read, with one API on every backend.

`HostBuffer` (python, native) keeps them in a bytearray; `GuestBuffer` (wasm, oracle)
in the guest's memory, where the fast host maps them to a memoryview. After `close()`,
every use raises StaleResourceError, and the view handed out is released.
"""

from __future__ import annotations

import contextlib
from typing import Any

from .host import SandlinkError, StaleResourceError
from .host._checks import check_buffer, check_int


class Buffer:
    """What every backend's buffer offers; subclasses keep the bytes."""

    __slots__ = ("_len", "_view")

    def __init__(self, length: int, view: memoryview | None) -> None:
        self._len = length
        self._view = view

    def __len__(self) -> int:
        return self._len

    @property
    def closed(self) -> bool:
        raise NotImplementedError

    def _check_live(self) -> None:
        """Raise StaleResourceError unless the bytes can be used (here, now)."""
        raise NotImplementedError

    def _free(self) -> None:
        raise NotImplementedError

    @property
    def view(self) -> memoryview:
        """A writable memoryview of the bytes (`sock.recv_into(buf.view)`)."""
        self._check_live()
        if self._view is None:
            raise SandlinkError(
                "the oracle backend cannot map guest memory: use read() and write()"
            )
        return self._view

    def read(self, start: int = 0, length: int | None = None) -> bytes:
        start, length = self._range(start, length)
        return self._read(start, length)

    def write(self, data: Any, start: int = 0) -> None:
        self._check_live()
        data = check_buffer("data", data)
        start, _ = self._range(start, data.nbytes)
        self._write(start, data)

    def _read(self, start: int, length: int) -> bytes:
        return bytes(self._view[start : start + length])  # type: ignore[index]

    def _write(self, start: int, data: memoryview) -> None:
        self._view[start : start + data.nbytes] = data  # type: ignore[index]

    def close(self) -> None:
        """Free the bytes and release the view; idempotent."""
        if self._view is not None:
            with contextlib.suppress(BufferError):  # someone holds an export of the view
                self._view.release()
        self._free()

    def __enter__(self) -> Buffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._len} bytes{' closed' if self.closed else ''}>"

    def __reduce__(self) -> Any:
        """Pickled as its bytes: unpickled into a new buffer (of its kernels, unpickled too)."""
        return (_restore, (getattr(self, "owner", None), self.read()))

    def _range(self, start: int, length: int | None) -> tuple[int, int]:
        self._check_live()
        start = check_int("start", "u32", start)
        if length is None:
            length = max(self._len - start, 0)
        else:
            length = check_int("length", "u32", length)
        if start + length > self._len or start > self._len:
            raise IndexError(f"range {start}+{length} is outside the {self._len}-byte buffer")
        return start, length


def _restore(owner: Any, data: bytes) -> Buffer:
    """A pickled buffer: `data` in a new buffer of `owner` (kernels), or a HostBuffer."""
    buf = HostBuffer(len(data)) if owner is None else owner.buffer(len(data))
    buf.write(data)
    return buf


class HostBuffer(Buffer):
    """`k.buffer(n)` on the python and native backends: `n` zero bytes in a bytearray."""

    __slots__ = ("_data",)

    def __init__(self, n: int) -> None:
        n = check_int("n", "u32", n)
        self._data: bytearray | None = bytearray(n)
        super().__init__(n, memoryview(self._data))

    @property
    def closed(self) -> bool:
        return self._data is None

    def _check_live(self) -> None:
        if self._data is None:
            raise StaleResourceError("this HostBuffer cannot be used: it was closed")

    def _free(self) -> None:
        self._data = None


class GuestBuffer(Buffer):
    """`k.buffer(n)` on the wasm and oracle backends: the WIT `buffer` resource.

    On `wasm`, `view` points straight into the instance's linear memory (see
    `sandlink.host.memory_view`); `oracle` cannot map guest memory, so it reads and
    writes through the resource's methods.
    """

    __slots__ = ("mask", "owner", "resource")

    def __init__(self, owner: object, resource: Any, pin: Any) -> None:
        self.owner = owner  # the loaded object it belongs to
        self.resource = resource
        self.mask = resource.mask  # bound once: the in-place mask is the hot call
        length = resource.len_()  # WIT `len`: a builtin, so `len_`
        view = None if pin is None else pin(resource, resource.address(), length)
        super().__init__(length, view)

    @property
    def closed(self) -> bool:
        result: bool = self.resource.closed
        return result

    def _check_live(self) -> None:
        self.resource.check_live()

    def _free(self) -> None:
        self.resource.close()

    def _read(self, start: int, length: int) -> bytes:
        if self._view is None:
            result: bytes = self.resource.read(start, length)
            return result
        return super()._read(start, length)

    def _write(self, start: int, data: memoryview) -> None:
        if self._view is None:
            self.resource.write(start, data)
        else:
            super()._write(start, data)
