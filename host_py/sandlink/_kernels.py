"""The kernels' Python API, one facade over any backend's exports.

Every backend provides the WIT exports as the component declares them (`_api.Exports`):
the component through `sandlink.host` (`wasm`, `oracle`), the cdylib bound from the WIT
(`native`), or the pure-Python reference (`python`). The facade passes each export through
as it is, with its WIT documentation, and adapts only what reads better in Python:
`parse_person` raises `JsonError` and takes bytes too, `ws_mask` takes the key as 4 bytes
and an offset by default; plus buffers, in-place masking and the streaming masker.
"""

from __future__ import annotations

import sys
from typing import Any

from . import _api
from ._api import Person
from ._buffer import Buffer, GuestBuffer, HostBuffer
from ._checks import json_text, mask_key, prefix_length
from ._masker import Masker
from ._model import JsonError
from .host import Ok
from .host._checks import check_int, writable_buffer
from .host._exports import document

# The component's records are built straight into the public dataclasses.
RECORD_CLASSES = {"person": _api.Person, "friend": _api.Friend}
HOST_INTERFACE = "host"


def stdout_print(line: str) -> None:
    """The default `print` import: the line to sys.stdout, looked up at call time."""
    sys.stdout.write(line + "\n")


def imports_for(print: Any) -> dict[str, dict[str, Any]]:
    """The kernels' WIT imports, as every backend takes them."""
    return {HOST_INTERFACE: {"print": print or stdout_print}}


# What unpickling loaded in this process, by how it was loaded (see `Kernels.__reduce__`).
_RELOADED: dict[tuple[str, tuple[tuple[str, Any], ...]], Kernels] = {}


def reload(backend: str, how: tuple[tuple[str, Any], ...]) -> Kernels:
    """`sandlink.load(backend, **dict(how))`, once per process: what a pickled object of
    `load()` unpickles to (so a pool's tasks share one loaded object)."""
    try:
        return _RELOADED[(backend, how)]
    except KeyError:
        pass
    except TypeError:  # an unhashable argument (say, a list's append as `print`)
        return _load_again(backend, how)
    kernels = _RELOADED[(backend, how)] = _load_again(backend, how)
    return kernels


def _load_again(backend: str, how: tuple[tuple[str, Any], ...]) -> Kernels:
    from . import load

    return load(backend, **dict(how))  # type: ignore[arg-type, return-value]


class Kernels:
    """`hello`, `add`, `parse_person`, `ws_mask`, buffers and maskers over one backend."""

    _how: tuple[tuple[str, Any], ...] | None = None  # `load()`'s arguments (set by it)

    def __init__(self, backend: str, exports: Any, artifact: object) -> None:
        self.backend = backend
        self.exports = exports  # the WIT exports, as the backend provides them
        self._artifact = artifact
        for name, doc in _api.DOCS.items():  # every export the facade does not adapt, as it is
            if name not in Kernels.__dict__ and name not in type(self).__dict__:
                function = getattr(exports, name)
                document(function, doc)  # this load's own function: it gets the WIT docs
                setattr(self, name, function)
        self._parse_person = exports.parse_person
        self._ws_mask = exports.ws_mask

    def __repr__(self) -> str:
        return f"<sandlink kernels on {self.backend!r} from {self._artifact}>"

    def __reduce__(self) -> Any:
        """Pickled as how it was loaded: unpickling loads the kernels (once per process), so
        `spawn` pools, Dask and Ray can take an object of `load()` along."""
        if self._how is None:
            raise TypeError("only what sandlink.load() returns can be pickled")
        return (reload, (self.backend, self._how))

    def parse_person(self, json: str | bytes | bytearray | memoryview) -> Person:
        """Parses one JSON document (strict RFC 8259) into a `Person`, or raises
        `JsonError` with its 1-based line and column (UTF-8 bytes are accepted too).

        The top-level value must be an object with the fields `name` (string), `age`
        (integer in 0..=4294967295), `cars` (array of strings) and `friends` (array of
        objects with `name` and `age`); see the WIT for every rule."""
        # ASCII text needs no UTF-8 check of its own (O(1) to know): the common case.
        text = json if type(json) is str and json.isascii() else json_text(json)
        result = self._parse_person(text)
        if type(result) is Ok:
            person: Person = result.value
            return person
        error = result.value
        raise JsonError(error.message, error.line, error.column)

    def ws_mask(self, payload: Any, key: int | bytes, offset: int = 0) -> bytes:
        """RFC 6455 §5.3 masking of `payload` (any bytes-like) into new bytes: `out[i] =
        payload[i] ^ key[(offset + i) % 4]`. `key` is the 4 masking-key bytes as on the
        wire (or them read as a big-endian u32); `offset` is the payload's position in the
        whole message."""
        if type(key) is not int:  # ints are range-checked by the call itself
            key = mask_key(key)
        result: bytes = self._ws_mask(payload, key, offset)
        return result

    def masker(self, key: int | bytes) -> Masker:
        """A streaming masker: consecutive chunks of one message, in order."""
        return Masker(self, key)

    def buffer(self, n: int) -> Buffer:
        """`n` zero bytes to fill, mask in place (`ws_mask_into`) and read."""
        raise NotImplementedError

    def ws_mask_into(
        self, buf: Any, key: int | bytes, offset: int = 0, nbytes: int | None = None
    ) -> None:
        """`ws_mask` in place: `buf` is a `buffer(n)` or any writable buffer (bytearray...);
        `nbytes`: only its first `nbytes` bytes (what `recv_into` returned), else all."""
        raise NotImplementedError


class GuestKernels(Kernels):
    """The kernels in the component (`wasm`, `oracle`): buffers live in guest memory."""

    def __init__(self, backend: str, exports: Any, artifact: object, pin: Any) -> None:
        super().__init__(backend, exports, artifact)
        self._pin = pin  # (resource, address, length) -> view of guest memory, or None

    def buffer(self, n: int) -> GuestBuffer:
        """`n` zero bytes in the guest's memory (see GuestBuffer)."""
        resource = self.exports.Buffer(check_int("n", "u32", n))
        return GuestBuffer(self, resource, self._pin)

    def ws_mask_into(
        self, buf: Any, key: int | bytes, offset: int = 0, nbytes: int | None = None
    ) -> None:
        """Mask `buf` in place: a buffer of this object (no copy), or any writable buffer."""
        if type(key) is not int:
            key = mask_key(key)
        if type(buf) is GuestBuffer and buf.owner is self:  # the common case, kept short:
            n = buf._len if nbytes is None else prefix_length(nbytes, buf._len)
            buf.mask(0, n, key, offset)  # the call checks key and offset
            return
        key = mask_key(key)
        offset = check_int("offset", "u32", offset)
        if isinstance(buf, GuestBuffer):
            if buf.owner is not self:
                raise ValueError("buf belongs to another loaded object")
            buf.resource.mask(0, prefix_length(nbytes, len(buf)), key, offset)  # checks it is live
            return
        view = writable_buffer("buf", buf)
        view = view[: prefix_length(nbytes, view.nbytes)]
        view[:] = self._ws_mask(view, key, offset)


class HostKernels(Kernels):
    """The kernels outside a sandbox (`native`, `python`): buffers are bytearrays; besides
    the WIT exports the backend gives `mask_in_place(view, key, offset)`, which masks
    memory the caller owns, and `masked_copy(payload, key, offset)`, `ws-mask` with the
    fewest copies it can."""

    def __init__(self, backend: str, exports: Any, artifact: object) -> None:
        super().__init__(backend, exports, artifact)
        self._ws_mask = exports.masked_copy

    def buffer(self, n: int) -> HostBuffer:
        """`n` zero bytes to fill, mask in place and read (see HostBuffer)."""
        return HostBuffer(n)

    def ws_mask_into(
        self, buf: Any, key: int | bytes, offset: int = 0, nbytes: int | None = None
    ) -> None:
        view = buf.view if isinstance(buf, HostBuffer) else writable_buffer("buf", buf)
        key, offset = mask_key(key), check_int("offset", "u32", offset)
        self.exports.mask_in_place(view[: prefix_length(nbytes, view.nbytes)], key, offset)
