"""The seed system for the benchmark: Go functions built with `go build -buildmode=c-shared`
(this directory: `just build-seed-go` writes target/seed_go/libseedgo.so) and called through
ctypes, as the benchmark that started sandlink did. Used by bench/bench.py only.

    import seed_go
    found = seed_go.probe()        # {"status": "ok" | "skipped" | "error", "reason": ..., ...}
    k = seed_go.SeedGo(print=lines.append)
    k.hello("world"); k.add(2, 3); k.parse_person(text); k.ws_mask(payload, key, offset)

Arguments are checked as sandlink's backends check them (the same helpers: TypeError,
OverflowError, ValueError for a bad key or a lone surrogate). `parse_person` returns the same
`sandlink.Person`; a document encoding/json rejects, or one missing a field, raises
`SeedJsonError` (a ValueError) with Go's message, not sandlink's message and position.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sandlink import Friend, Person
from sandlink._checks import json_text, mask_key
from sandlink.host._checks import check_buffer, check_int, check_str

__all__ = ["LIBRARY", "NAME", "SOURCES", "SeedGo", "SeedJsonError", "probe"]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
#: What `just build-seed-go` writes.
LIBRARY = ROOT / "target" / "seed_go" / "libseedgo.so"
SOURCES = tuple(sorted(p for p in HERE.iterdir() if p.suffix in (".go", ".c", ".h", ".mod")))
#: The contestant's name in the benchmark.
NAME = "seed: Go c-shared"

_U32_MAX = 0xFFFF_FFFF


class SeedJsonError(ValueError):
    """encoding/json (or the required-field check after it) rejected the document."""


class _Str(ctypes.Structure):
    """`SeedStr`: UTF-8 bytes, not NUL-terminated in the count."""

    _fields_ = (("ptr", ctypes.POINTER(ctypes.c_char)), ("len", ctypes.c_size_t))


class _Friend(ctypes.Structure):
    _fields_ = (("name", _Str), ("age", ctypes.c_uint32))


class _Person(ctypes.Structure):
    _fields_ = (
        ("error", _Str),
        ("name", _Str),
        ("age", ctypes.c_uint32),
        ("cars", ctypes.POINTER(_Str)),
        ("cars_len", ctypes.c_size_t),
        ("friends", ctypes.POINTER(_Friend)),
        ("friends_len", ctypes.c_size_t),
    )


# `seed_print_fn`, as sandlink's native backend does it: `ctx` is the per-call state list,
# passed through Go and C as a borrowed PyObject*.
_PRINT = ctypes.CFUNCTYPE(None, ctypes.py_object, ctypes.c_void_p, ctypes.c_size_t)
_string_at = ctypes.string_at
_byref = ctypes.byref
_char_from_buffer = ctypes.c_char.from_buffer


def _on_print(state: list, line: int | None, length: int) -> None:
    # An exception escaping a ctypes callback would only be printed: keep it for `hello`.
    try:
        state[0](_string_at(line, length).decode())
    except BaseException as exc:
        state[1] = exc


_PRINT_THUNK = _PRINT(_on_print)  # module-lifetime, so never collected while C holds it

# A fresh bytes object to write the mask into (no copy of the output), as the native backend.
_new_bytes = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.c_void_p, ctypes.c_ssize_t)(
    ("PyBytes_FromStringAndSize", ctypes.pythonapi)
)


def _default_print(line: str) -> None:
    sys.stdout.write(line + "\n")


def _text(s: _Str) -> str:
    return s.ptr[: s.len].decode()


class SeedGo:
    """The seed's four operations from libseedgo.so, with sandlink's argument checks."""

    def __init__(
        self,
        print: Callable[[str], object] | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        self._print = _default_print if print is None else print
        self._lib = lib = ctypes.CDLL(os.fspath(LIBRARY if path is None else path))

        def bind(name: str, restype: object, *argtypes: object) -> Any:
            function = getattr(lib, name)
            function.restype = restype
            function.argtypes = argtypes
            return function

        u32, size, buf = ctypes.c_uint32, ctypes.c_size_t, ctypes.c_void_p
        person = ctypes.POINTER(_Person)
        self._hello = bind("seed_hello", None, ctypes.c_char_p, size, _PRINT, ctypes.py_object)
        self._add = bind("seed_add", u32, u32, u32)
        self._parse_person = bind("seed_parse_person", person, ctypes.c_char_p, size)
        self._person_free = bind("seed_person_free", None, person)
        self._ws_mask = bind("seed_ws_mask", None, buf, buf, size, u32, u32)

    def hello(self, name: str) -> None:
        """Prints `Hello, <name>!` through `print` (called back from Go through C)."""
        check_str("name", name)
        raw = name.encode()
        state = [self._print, None]
        self._hello(raw, len(raw), _PRINT_THUNK, state)
        exc = state[1]
        if exc is not None:
            state[1] = None
            try:
                raise exc
            finally:
                exc = None  # no frame <-> traceback cycle

    def add(self, a: int, b: int) -> int:
        """`a + b` modulo 2^32."""
        if type(a) is not int or not 0 <= a <= _U32_MAX:
            check_int("a", "u32", a)
        if type(b) is not int or not 0 <= b <= _U32_MAX:
            check_int("b", "u32", b)
        return self._add(a, b)

    def parse_person(self, json: str | bytes | bytearray | memoryview) -> Person:
        """encoding/json into a Go struct, then the same `sandlink.Person`; SeedJsonError (a
        ValueError, with Go's message) for a document it rejects or one missing a field."""
        text = json_text(json)  # invalid UTF-8: sandlink's JsonError, as every backend
        raw = json if type(json) is bytes else text.encode()
        result = self._parse_person(raw, len(raw))
        if not result:
            raise MemoryError("seed_parse_person returned NULL")
        try:
            p = result.contents
            if p.error.ptr:
                error = SeedJsonError(_text(p.error))
            else:
                return Person(
                    _text(p.name),
                    p.age,
                    [_text(car) for car in p.cars[: p.cars_len]],
                    [Friend(_text(f.name), f.age) for f in p.friends[: p.friends_len]],
                )
        finally:
            self._person_free(result)
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
                src = view.obj
            else:
                src = view.tobytes()
        if type(key) is not int or not 0 <= key <= _U32_MAX:
            key = mask_key(key)
        if type(offset) is not int or not 0 <= offset <= _U32_MAX:
            check_int("offset", "u32", offset)
        if not n:
            return b""
        out = _new_bytes(None, n)
        self._ws_mask(src, out, n, key, offset)
        return out


def probe() -> dict[str, Any]:
    """Whether the benchmark can run the seed contestant: "ok", "skipped" (no `go` on PATH: the
    contestant is left out, not a failure) or "error" (Go is there but the library is missing
    or older than its sources: the run reports a problem). Also the Go version."""
    found: dict[str, Any] = {"name": NAME, "library": os.path.relpath(LIBRARY, ROOT)}
    go = shutil.which("go")
    if go is None:
        reason = "no Go toolchain on PATH (`just setup-go` installs one)"
        return found | {"status": "skipped", "reason": reason, "go": None}
    try:
        version = subprocess.run(
            [go, "version"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        return found | {"status": "error", "reason": f"`go version` failed: {exc}", "go": None}
    found["go"] = version.removeprefix("go version ")
    if not LIBRARY.exists():
        reason = f"{found['library']} is missing: run `just build-seed-go`"
        return found | {"status": "error", "reason": reason}
    built = LIBRARY.stat().st_mtime
    stale = [p.name for p in SOURCES if p.stat().st_mtime > built]
    if stale:
        reason = f"{found['library']} is older than {', '.join(stale)}: run `just build-seed-go`"
        return found | {"status": "error", "reason": reason}
    return found | {"status": "ok", "reason": None}
