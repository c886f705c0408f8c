"""The kernels' Python API over a component backend (the fast host or the oracle)."""

from __future__ import annotations

import contextlib
import sys
from typing import Any

from ._checks import check_buffer, check_int, json_text, mask_key, writable_buffer
from ._errors import JsonError, SandlinkError
from ._masker import Masker
from ._model import Friend, Person
from ._values import Ok

# The component's records are built straight into the public dataclasses.
RECORD_CLASSES = {"person": Person, "friend": Friend}
HOST_INTERFACE = "host"


def pin_guest_memory(resource: Any, address: int, length: int) -> memoryview:
    """The fast host's view of a resource's bytes in its instance's linear memory."""
    return resource._session.pin_view(address, length)


def stdout_print(line: str) -> None:
    """The default `print` import: the line to sys.stdout, looked up at call time."""
    sys.stdout.write(line + "\n")


class GuestBuffer:
    """`k.buffer(n)` on the wasm and component backends: bytes that live in the guest.

    On `wasm`, `view` is a writable memoryview straight into the instance's linear memory:
    fill it (`sock.recv_into(buf.view)`), mask it in place (`k.ws_mask_into(buf, key)`),
    read it, all without a copy. `component` cannot map guest memory: use read()/write().
    """

    def __init__(self, kernels: ComponentKernels, resource: Any, pin: Any) -> None:
        self._kernels = kernels
        self._resource = resource
        self._len = resource.len()
        self._view = None if pin is None else pin(resource, resource.address(), self._len)

    def __len__(self) -> int:
        return self._len

    @property
    def closed(self) -> bool:
        return self._resource.closed

    @property
    def view(self) -> memoryview:
        self._live()
        if self._view is None:
            raise SandlinkError(
                "the component backend cannot map guest memory: use read() and write()"
            )
        return self._view

    def read(self, start: int = 0, length: int | None = None) -> bytes:
        start, length = self._range(start, length)
        if self._view is not None:
            return bytes(self._view[start : start + length])
        return self._resource.read(start, length)

    def write(self, data: Any, start: int = 0) -> None:
        data = check_buffer("data", data)
        start, length = self._range(start, data.nbytes)
        if self._view is not None:
            self._view[start : start + length] = data
        else:
            self._resource.write(start, data)

    def close(self) -> None:
        """Free the guest's bytes; the buffer and its view are unusable afterwards."""
        if self._view is not None:
            with contextlib.suppress(BufferError):  # someone holds an export of it
                self._view.release()
        self._resource.close()

    def __enter__(self) -> GuestBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<GuestBuffer {self._len} bytes{' closed' if self.closed else ''}>"

    def _live(self) -> None:
        self._resource.check_live()

    def _range(self, start: int, length: int | None) -> tuple[int, int]:
        self._live()
        start = check_int("start", "u32", start)
        length = self._len - start if length is None else check_int("length", "u32", length)
        if start + length > self._len or length < 0:
            raise IndexError(f"range {start}+{length} is outside the {self._len}-byte buffer")
        return start, length


class ComponentKernels:
    """`hello`, `add`, `parse_person`, `ws_mask` over an object exposing the WIT exports."""

    def __init__(self, exports: Any, pin: Any = None) -> None:
        self.component = exports
        self.hello = exports.hello
        self.add = exports.add
        self._parse_person = exports.parse_person
        self._ws_mask = exports.ws_mask
        self._pin = pin  # (resource, address, length) -> view of guest memory (wasm only)

    def parse_person(self, json: str | bytes) -> Person:
        result = self._parse_person(json_text(json))
        if type(result) is Ok:
            return result.value
        error = result.value
        raise JsonError(error.message, error.line, error.column)

    def ws_mask(self, payload: Any, key: int | bytes, offset: int = 0) -> bytes:
        if type(key) is not int:  # ints are range-checked by the call itself
            key = mask_key(key)
        return self._ws_mask(payload, key, offset)

    def buffer(self, n: int) -> GuestBuffer:
        """`n` zero bytes in the guest's memory (see GuestBuffer)."""
        resource = self.component.Buffer(check_int("n", "u32", n))
        return GuestBuffer(self, resource, self._pin)

    def ws_mask_into(self, buf: Any, key: int | bytes, offset: int = 0) -> None:
        """Mask `buf` in place: a GuestBuffer of this object (no copy), or any writable buffer."""
        key = mask_key(key)
        offset = check_int("offset", "u32", offset)
        if isinstance(buf, GuestBuffer):
            if buf._kernels is not self:
                raise ValueError("buf belongs to another loaded object")
            buf._live()
            buf._resource.mask(0, len(buf), key, offset)
            return
        view = writable_buffer("buf", buf)
        view[:] = self._ws_mask(view, key, offset)

    def masker(self, key: int | bytes) -> Masker:
        """A streaming masker: consecutive chunks of one message, in order."""
        return Masker(self, key)
