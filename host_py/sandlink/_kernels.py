"""The kernels' Python API over a component backend (the fast host or the oracle)."""

from __future__ import annotations

import sys
from typing import Any

from ._buffer import GuestBuffer
from ._checks import json_text, mask_key
from ._masker import Masker
from ._model import Friend, JsonError, Person
from .host import Ok
from .host._checks import check_int, writable_buffer

# The component's records are built straight into the public dataclasses.
RECORD_CLASSES = {"person": Person, "friend": Friend}
HOST_INTERFACE = "host"


def stdout_print(line: str) -> None:
    """The default `print` import: the line to sys.stdout, looked up at call time."""
    sys.stdout.write(line + "\n")


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
            if buf.owner is not self:
                raise ValueError("buf belongs to another loaded object")
            buf.resource.mask(0, len(buf), key, offset)  # checks it is live
            return
        view = writable_buffer("buf", buf)
        view[:] = self._ws_mask(view, key, offset)

    def masker(self, key: int | bytes) -> Masker:
        """A streaming masker: consecutive chunks of one message, in order."""
        return Masker(self, key)
