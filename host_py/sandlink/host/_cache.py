"""The startup cache: compiled artifacts on disk, so a new process skips compilation.

Entries are keyed by the wasm's sha256, the wasmtime library (pinned version, file size and
mtime) and the engine configuration. Each file carries the CRC-32 of its payload, against
torn or corrupted files (not an attacker: one who can write the directory can write a
matching checksum too); an entry that does not verify, or that wasmtime refuses, is rebuilt
and rewritten, never trusted.
Wasmtime runs deserialized code as native code: keep the directory private (it is created
0700). The default is per-user (`$SANDLINK_CACHE_DIR`, else the platform's cache directory:
`$XDG_CACHE_HOME` or `~/.cache`, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows,
+ `sandlink`), never the current directory; `cache_dir=False` turns caching off. Reading an
entry marks it used; writing one removes the entries unused for 30 days.
"""

from __future__ import annotations

import os
import re
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from . import _ffi

# The builtin module (`_sha2` from Python 3.12, `_sha256` before): importing hashlib, which
# loads OpenSSL, costs milliseconds at startup.
try:
    from _sha2 import sha256 as _builtin  # type: ignore[import-not-found]
except ImportError:
    try:
        from _sha256 import sha256 as _builtin  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - other Pythons
        from hashlib import sha256 as _builtin
sha256: Callable[..., Any] = _builtin

T = TypeVar("T")
_MAGIC = b"sandlink-cache-2\n"
WASMTIME_VERSION = "50.0.1"  # the pin in pyproject.toml


_ENTRY = r"(module|structure|code)-[0-9a-f]{40}\.bin"  # see Cache._path
_TEMP = ".sandlink-tmp-"
STALE_AFTER = 30 * 24 * 3600
"""Seconds an entry may go unused before a cache write removes it."""


def default_dir() -> Path:
    """`$SANDLINK_CACHE_DIR`, else the platform's per-user cache directory + `sandlink`."""
    explicit = os.environ.get("SANDLINK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().absolute()
    if sys.platform == "darwin":
        base: str | Path = Path.home() / "Library" / "Caches"
    elif sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().absolute() / "sandlink"


def _runtime_fingerprint() -> str:
    library = _ffi.library_path()
    stat = library.stat()
    return f"{WASMTIME_VERSION}-{stat.st_size}-{stat.st_mtime_ns}"


class Cache:
    """Compiled-artifact cache in one directory (or a no-op when `directory` is None)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self.hits: list[str] = []  # the kinds served from disk by the last `load`es
        self.misses: list[str] = []

    def load(
        self,
        kind: str,
        digest: str,
        engine_key: tuple[Any, ...],
        compile: Callable[[], T],
        serialize: Callable[[T], bytes],
        deserialize: Callable[[bytes], T],
    ) -> T:
        """The cached compilation of `kind` for `digest` and engine, else a fresh (saved) one."""
        payload = self.read(kind, digest, engine_key)
        if payload is not None:
            try:
                value = deserialize(payload)
            except Exception:  # stale or refused by wasmtime: rebuild below
                pass
            else:
                self.hits.append(kind)
                return value
        value = compile()
        self.misses.append(kind)
        self.write(kind, digest, engine_key, bytes(serialize(value)))
        return value

    def read(self, kind: str, digest: str, engine_key: tuple[Any, ...]) -> bytes | None:
        """The verified payload of an entry, or None."""
        if self.directory is None:
            return None
        path = self._path(kind, digest, engine_key)
        payload = _read_verified(path)
        if payload is not None:
            try:
                os.utime(path)  # used now: pruning keeps it
            except OSError:
                pass
        return payload

    def write(self, kind: str, digest: str, engine_key: tuple[Any, ...], payload: bytes) -> None:
        if self.directory is not None:
            self._write(self._path(kind, digest, engine_key), payload)

    def _path(self, kind: str, digest: str, engine_key: tuple[Any, ...]) -> Path:
        assert self.directory is not None
        key = sha256(repr((kind, digest, engine_key, _runtime_fingerprint())).encode()).hexdigest()
        return self.directory / f"{kind}-{key[:40]}.bin"

    def _write(self, path: Path, payload: bytes) -> None:
        import tempfile  # only on a miss: it is slow to import

        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # type: ignore[union-attr]
            checksum = b"%08x" % zlib.crc32(payload)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=_TEMP)
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + checksum + b"\n" + payload)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time
        self._prune()

    def _prune(self) -> None:
        """Remove entries unused for STALE_AFTER (other wasmtime versions, components no
        longer loaded) and temporary files a crashed write left, when writing anyway."""
        assert self.directory is not None
        now = time.time()
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        for name in names:
            if re.fullmatch(_ENTRY, name):
                limit = STALE_AFTER
            elif name.startswith(_TEMP):
                limit = 24 * 3600  # a write that never finished
            else:
                continue  # not ours: a user's cache_dir may hold other files
            path = self.directory / name
            try:
                if now - path.stat().st_mtime > limit:
                    path.unlink()
            except OSError:
                pass  # gone already


def _read_verified(path: Path) -> bytes | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header = len(_MAGIC) + 9
    if not data.startswith(_MAGIC) or len(data) < header:
        return None
    checksum, payload = data[len(_MAGIC) : header - 1], data[header:]
    if b"%08x" % zlib.crc32(payload) != checksum:
        return None
    return payload
