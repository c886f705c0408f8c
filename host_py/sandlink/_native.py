"""The native backend: the kernels as a cdylib, called through ctypes (C ABI in `src/native.rs`).

No sandbox and no portability, but the lowest per-call cost: the reference the wasm backends
are measured against. Same public API, checks and exceptions as every other backend.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable

from ._artifacts import NATIVE_LIBRARY, artifact_path
from ._buffer import HostBuffer
from ._checks import json_text, mask_key
from ._masker import Masker
from ._model import Friend, JsonError, Person
from .host import SandlinkError
from .host._checks import check_buffer, check_int, check_str, writable_buffer

__all__ = ["NativeKernels"]

_U32_MAX = 0xFFFF_FFFF

# Status codes and result tags of `src/native.rs`.
_OK = 0
_PARSE_OK = 0

_string_at = ctypes.string_at
_byref = ctypes.byref
# The first byte of a writable buffer, holding its export; not `(c_char * n).from_buffer`, as
# ctypes caches one array type per length forever.
_char_from_buffer = ctypes.c_char.from_buffer


class _Str(ctypes.Structure):
    """`SandlinkStr`: UTF-8 bytes, not NUL-terminated, owned by the parse result."""

    # POINTER(c_char), not c_void_p: `ptr[:len]` makes the bytes in one step, about twice as
    # fast as ctypes.string_at (a foreign call of its own).
    _fields_ = (("ptr", ctypes.POINTER(ctypes.c_char)), ("len", ctypes.c_size_t))


class _Friend(ctypes.Structure):
    _fields_ = (("name", _Str), ("age", ctypes.c_uint32))


class _Person(ctypes.Structure):
    _fields_ = (
        ("name", _Str),
        ("age", ctypes.c_uint32),
        ("cars", ctypes.POINTER(_Str)),
        ("cars_len", ctypes.c_size_t),
        ("friends", ctypes.POINTER(_Friend)),
        ("friends_len", ctypes.c_size_t),
    )


class _JsonError(ctypes.Structure):
    _fields_ = (("message", _Str), ("line", ctypes.c_uint32), ("column", ctypes.c_uint32))


class _ParsePayload(ctypes.Union):
    _fields_ = (("ok", _Person), ("err", _JsonError))


class _ParseResult(ctypes.Structure):
    _fields_ = (("tag", ctypes.c_uint32), ("payload", _ParsePayload))


# `SandlinkPrint`. `ctx` is the per-call state list, passed through C as a borrowed PyObject*.
_PRINT = ctypes.CFUNCTYPE(None, ctypes.py_object, ctypes.c_void_p, ctypes.c_size_t)


def _on_print(state: list, line: int | None, length: int) -> None:
    # ctypes would only print an exception escaping a callback: keep it for `hello` to raise.
    try:
        state[0](_string_at(line, length).decode())
    except BaseException as exc:
        state[1] = exc


_PRINT_THUNK = _PRINT(_on_print)  # module-lifetime, so never collected while C holds it

# A fresh bytes object with uninitialized contents (the C API idiom for "fill this in"): ws_mask
# writes the result straight into it, so the output costs no copy. Never called with size 0
# (that returns the shared empty singleton). A private prototype, so the shared
# `ctypes.pythonapi.PyBytes_FromStringAndSize` keeps whatever argtypes others give it.
_new_bytes = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_ssize_t)(
    ("PyBytes_FromStringAndSize", ctypes.pythonapi)
)


def _default_print(line: str) -> None:
    sys.stdout.write(line + "\n")  # sys.stdout looked up per call, so redirection works


def _text(s: _Str) -> str:
    return s.ptr[: s.len].decode()


def _person(p: _Person) -> Person:
    return Person(
        _text(p.name),
        p.age,
        [_text(car) for car in p.cars[: p.cars_len]],
        [Friend(_text(f.name), f.age) for f in p.friends[: p.friends_len]],
    )


def _status_error(function: str, status: int) -> SandlinkError:
    return SandlinkError(f"{function} failed with status {status}")


class NativeKernels:
    """The kernels from the native library, via ctypes."""

    def __init__(
        self,
        print: Callable[[str], object] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        """`print` receives each line `hello` prints (default: sys.stdout); `path` overrides the
        bundled library."""
        self._print = _default_print if print is None else print
        if path is None:
            path = artifact_path(NATIVE_LIBRARY)
        self._lib = lib = ctypes.CDLL(os.fspath(path))

        def bind(name: str, restype: object, *argtypes: object) -> ctypes._CFuncPtr:
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
            return function

        u32, size, status = ctypes.c_uint32, ctypes.c_size_t, ctypes.c_int32
        # c_void_p for buffers: it passes a bytes object's own storage, or a byref() address.
        buf, text, result = ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(_ParseResult)
        self._add = bind("sandlink_add", u32, u32, u32)
        self._hello = bind("sandlink_hello", status, text, size, _PRINT, ctypes.py_object)
        self._ws_mask = bind("sandlink_ws_mask", status, buf, buf, size, u32, u32)
        self._ws_mask_in_place = bind("sandlink_ws_mask_in_place", status, buf, size, u32, u32)
        self._parse_person = bind("sandlink_parse_person", result, text, size)
        self._parse_result_free = bind("sandlink_parse_result_free", None, result)

    def hello(self, name: str) -> None:
        """Prints `Hello, <name>!` through `print`; an exception `print` raises propagates."""
        check_str("name", name)
        raw = name.encode()
        state = [self._print, None]
        status = self._hello(raw, len(raw), _PRINT_THUNK, state)
        exc = state[1]
        if exc is not None:
            state[1] = None
            try:
                raise exc
            finally:
                exc = None  # no frame <-> traceback cycle
        if status != _OK:
            raise _status_error("sandlink_hello", status)

    def add(self, a: int, b: int) -> int:
        """`a + b` modulo 2^32."""
        # Inline fast path; check_int raises the shared errors (and accepts int subclasses).
        if type(a) is not int or not 0 <= a <= _U32_MAX:
            check_int("a", "u32", a)
        if type(b) is not int or not 0 <= b <= _U32_MAX:
            check_int("b", "u32", b)
        return self._add(a, b)

    def parse_person(self, json: str | bytes | bytearray | memoryview) -> Person:
        """Parses one JSON document; raises JsonError with its 1-based line and column."""
        text = json_text(json)
        raw = json if type(json) is bytes else text.encode()  # bytes: already validated UTF-8
        result = self._parse_person(raw, len(raw))
        if not result:
            raise _status_error("sandlink_parse_person", -1)
        try:
            r = result.contents
            if r.tag == _PARSE_OK:
                return _person(r.payload.ok)
            e = r.payload.err
            error = JsonError(_text(e.message), e.line, e.column)
        finally:
            self._parse_result_free(result)
        raise error

    def ws_mask(self, payload: object, key: int | bytes, offset: int = 0) -> bytes:
        """RFC 6455 masking of `payload` (any bytes-like) into new bytes; `key`: u32 or 4 bytes."""
        if type(payload) is bytes:
            src: object = payload
            n = len(payload)
        else:
            view = check_buffer("payload", payload)
            n = view.nbytes
            if not view.readonly:
                src = _byref(_char_from_buffer(view)) if n else None
            elif type(view.obj) is bytes and len(view.obj) == n:
                src = view.obj  # the whole bytes object: its address, no copy
            else:
                src = view.tobytes()
        if type(key) is not int or not 0 <= key <= _U32_MAX:
            key = mask_key(key)
        if type(offset) is not int or not 0 <= offset <= _U32_MAX:
            check_int("offset", "u32", offset)
        if not n:
            return b""
        out = _new_bytes(None, n)
        status = self._ws_mask(src, out, n, key, offset)
        if status != _OK:
            raise _status_error("sandlink_ws_mask", status)
        return out

    def ws_mask_into(self, buf: object, key: int | bytes, offset: int = 0) -> None:
        """Masks `buf` in place, no copy: a `buffer(n)` or any writable buffer (bytearray...)."""
        view = buf.view if isinstance(buf, HostBuffer) else writable_buffer("buf", buf)
        key = mask_key(key)
        check_int("offset", "u32", offset)
        n = view.nbytes
        if not n:
            return
        # byref keeps the export (and so the buffer's size) alive until the call returns.
        status = self._ws_mask_in_place(_byref(_char_from_buffer(view)), n, key, offset)
        if status != _OK:
            raise _status_error("sandlink_ws_mask_in_place", status)

    def buffer(self, n: int) -> HostBuffer:
        """`n` zero bytes to fill, mask in place and read (see HostBuffer)."""
        return HostBuffer(n)

    def masker(self, key: int | bytes) -> Masker:
        """A streaming masker: consecutive chunks of one message, in order."""
        return Masker(self, key)
