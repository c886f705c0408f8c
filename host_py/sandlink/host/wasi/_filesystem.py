"""`wasi:filesystem`: descriptors beneath the preopened directories, and nothing else.

Every path the guest names is resolved by `_paths` from the preopen's own directory fd,
one component at a time, so no path (`..`, absolute, symlinks pointing out, a directory
swapped for a symlink meanwhile) reaches outside it. Operations on a name (unlink, mkdir,
rename, link, symlink, readlink) act on a single plain name in a parent directory opened
that way. A read-only preopen refuses every change ("not-permitted") before the OS is
asked.
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable, Iterator
from typing import Any

from .._records import record
from .._values import Err, Ok
from ._clocks import Datetime, datetime
from ._io import CHUNK, FdBudget, FileSink, FileSource, InputStream, OutputStream, OwnsFd
from ._paths import PathError, errno_code, open_beneath, parent_beneath, split

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO inside a preopen must not hang the host
_READ_ANY = os.O_RDONLY | _NONBLOCK


@record
class DescriptorStat:
    type_: str
    link_count: int
    size: int
    data_access_timestamp: Datetime | None
    data_modification_timestamp: Datetime | None
    status_change_timestamp: Datetime | None


@record
class DirectoryEntry:
    type_: str
    name: str


@record
class MetadataHashValue:
    lower: int
    upper: int


def _type_of(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "regular-file"),
        (stat.S_ISDIR, "directory"),
        (stat.S_ISLNK, "symbolic-link"),
        (stat.S_ISCHR, "character-device"),
        (stat.S_ISBLK, "block-device"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
    ):
        if test(mode):
            return name
    return "unknown"


def _stat(st: os.stat_result) -> DescriptorStat:
    return DescriptorStat(
        _type_of(st.st_mode),
        st.st_nlink,
        st.st_size,
        datetime(st.st_atime_ns),
        datetime(st.st_mtime_ns),
        datetime(st.st_ctime_ns),
    )


def _checked(method: Callable[..., Any]) -> Callable[..., Any]:
    """A descriptor method whose OS and path failures are `Err(error-code)`."""

    @functools.wraps(method)
    def run(self: Descriptor, *args: Any) -> Any:
        try:
            return method(self, *args)
        except PathError as exc:
            return Err(exc.code)
        except OSError as exc:
            return Err(errno_code(exc))
        except (OverflowError, ValueError):  # sizes, offsets or times the OS cannot take
            return Err("invalid")

    return run


class Root(OwnsFd):
    """One preopened directory: its fd (kept for the life of the load) and its mode."""

    def __init__(self, host_path: str, guest_path: str, writable: bool, budget: FdBudget):
        self.fd = os.open(host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.guest_path = guest_path
        self.writable = writable
        self.files = budget  # what the guest's files opened beneath it count against


class Descriptor(OwnsFd):
    """`wasi:filesystem/types#descriptor`: a file or directory beneath a preopen."""

    def __init__(self, root: Root, base: list[str], fd: int, flags: frozenset[str]) -> None:
        """Takes over `fd`: closes it if the guest holds too many files already (else its
        `close()`, or the collector, does)."""
        try:
            self.hold(root.files, lambda: fd)
        except BaseException:
            os.close(fd)
            raise
        self.root = root
        self.base = base  # its components below the root (how paths from it resolve)
        self.flags = flags
        self.kind = _type_of(os.fstat(fd).st_mode)

    # -- helpers

    def _writable(self) -> None:
        if not self.root.writable:
            raise PathError("not-permitted")  # what wasmtime's WASI says too

    def _directory(self) -> None:
        if self.kind != "directory":
            raise PathError("not-directory")

    def _parent(self, path: str) -> tuple[int, str]:
        self._directory()
        fd, name, _ = parent_beneath(self.root.fd, self.base, path)
        return fd, name

    def _open(self, path: str, follow: bool, flags: int) -> tuple[int, list[str]]:
        self._directory()
        return open_beneath(self.root.fd, self.base, path, follow_last=follow, flags=flags)

    # -- streams

    @_checked
    def read_via_stream(self, offset: int) -> Ok:
        return Ok(InputStream(FileSource(self.fd, offset, self.root.files)))

    @_checked
    def write_via_stream(self, offset: int) -> Ok:
        self._writable()
        sink = FileSink(self.fd, offset, self.root.files)
        return Ok(OutputStream(sink.write, sink.close))

    @_checked
    def append_via_stream(self) -> Ok:
        self._writable()
        sink = FileSink(self.fd, None, self.root.files)
        return Ok(OutputStream(sink.write, sink.close))

    # -- the descriptor itself

    def advise(self, offset: int, length: int, advice: str) -> Ok:
        return Ok(None)

    @_checked
    def sync_data(self) -> Ok:
        os.fdatasync(self.fd)
        return Ok(None)

    @_checked
    def sync(self) -> Ok:
        os.fsync(self.fd)
        return Ok(None)

    def get_flags(self) -> Ok:
        return Ok(self.flags)

    def get_type(self) -> Ok:
        return Ok(self.kind)

    @_checked
    def set_size(self, size: int) -> Ok:
        self._writable()
        os.ftruncate(self.fd, size)
        return Ok(None)

    @_checked
    def set_times(self, atime: Any, mtime: Any) -> Ok:
        self._writable()
        _set_times(self.fd, atime, mtime)
        return Ok(None)

    @_checked
    def read(self, length: int, offset: int) -> Ok:
        want = min(length, CHUNK)
        data = os.pread(self.fd, want, offset)
        return Ok((data, len(data) < want))

    @_checked
    def write(self, buffer: bytes, offset: int) -> Ok:
        self._writable()
        return Ok(os.pwrite(self.fd, buffer, offset))

    @_checked
    def read_directory(self) -> Ok:
        self._directory()
        return Ok(DirectoryEntryStream(self.fd, self.root.files))

    @_checked
    def stat(self) -> Ok:
        return Ok(_stat(os.fstat(self.fd)))

    def is_same_object(self, other: Descriptor) -> bool:
        a, b = os.fstat(self.fd), os.fstat(other.fd)
        return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)

    @_checked
    def metadata_hash(self) -> Ok:
        return Ok(_hash(os.fstat(self.fd)))

    # -- paths

    @_checked
    def stat_at(self, path_flags: frozenset[str], path: str) -> Ok:
        return Ok(_stat(self._stat_at(path_flags, path)))

    @_checked
    def metadata_hash_at(self, path_flags: frozenset[str], path: str) -> Ok:
        return Ok(_hash(self._stat_at(path_flags, path)))

    def _stat_at(self, path_flags: frozenset[str], path: str) -> os.stat_result:
        if "symlink-follow" in path_flags:
            fd, _ = self._open(path, True, _READ_ANY)
            try:
                return os.fstat(fd)
            finally:
                os.close(fd)
        parent, name = self._parent(path)
        try:
            return os.stat(name, dir_fd=parent, follow_symlinks=False)
        finally:
            os.close(parent)

    @_checked
    def set_times_at(self, path_flags: frozenset[str], path: str, atime: Any, mtime: Any) -> Ok:
        self._writable()
        fd, _ = self._open(path, "symlink-follow" in path_flags, _READ_ANY)
        try:
            _set_times(fd, atime, mtime)
        finally:
            os.close(fd)
        return Ok(None)

    @_checked
    def open_at(
        self,
        path_flags: frozenset[str],
        path: str,
        open_flags: frozenset[str],
        flags: frozenset[str],
    ) -> Ok:
        writes = "write" in flags or bool(open_flags & {"create", "truncate"})
        if writes or "mutate-directory" in flags:
            self._writable()
        if "write" in flags:
            mode = os.O_RDWR if "read" in flags else os.O_WRONLY
        else:
            mode = os.O_RDONLY
        for name, bit in (
            ("create", os.O_CREAT),
            ("exclusive", os.O_EXCL),
            ("truncate", os.O_TRUNC),
            ("directory", os.O_DIRECTORY),
        ):
            if name in open_flags:
                mode |= bit
        # Non-blocking, and kept so: a FIFO (or device) in a preopen can hang neither the
        # open nor a read (no host call may outlive Limits.timeout); files are unaffected.
        fd, names = self._open(path, "symlink-follow" in path_flags, mode | _NONBLOCK)
        return Ok(Descriptor(self.root, names, fd, flags))  # it owns fd, also if it fails

    @_checked
    def readlink_at(self, path: str) -> Ok:
        parent, name = self._parent(path)
        try:
            return Ok(os.readlink(name, dir_fd=parent))
        finally:
            os.close(parent)

    @_checked
    def create_directory_at(self, path: str) -> Ok:
        self._writable()
        return self._on_name(path, lambda parent, name: os.mkdir(name, dir_fd=parent))

    @_checked
    def remove_directory_at(self, path: str) -> Ok:
        self._writable()
        return self._on_name(path, lambda parent, name: os.rmdir(name, dir_fd=parent))

    @_checked
    def unlink_file_at(self, path: str) -> Ok:
        self._writable()
        if path.endswith("/"):
            raise PathError("not-directory")  # POSIX: "file/" names a directory
        return self._on_name(path, lambda parent, name: os.unlink(name, dir_fd=parent))

    @_checked
    def symlink_at(self, old_path: str, new_path: str) -> Ok:
        self._writable()
        _inside(old_path)
        parent, name = self._parent(new_path)
        try:
            os.symlink(old_path, name, dir_fd=parent)
        finally:
            os.close(parent)
        return Ok(None)

    @_checked
    def rename_at(self, old_path: str, new_descriptor: Descriptor, new_path: str) -> Ok:
        self._writable()
        new_descriptor._writable()
        old_parent, old_name = self._parent(old_path)
        try:
            new_parent, new_name = new_descriptor._parent(new_path)
            try:
                os.rename(old_name, new_name, src_dir_fd=old_parent, dst_dir_fd=new_parent)
            finally:
                os.close(new_parent)
        finally:
            os.close(old_parent)
        return Ok(None)

    @_checked
    def link_at(
        self,
        old_path_flags: frozenset[str],
        old_path: str,
        new_descriptor: Descriptor,
        new_path: str,
    ) -> Ok:
        self._writable()
        new_descriptor._writable()
        if "symlink-follow" in old_path_flags:
            # Resolve the link's target inside the sandbox first; the kernel never follows.
            fd, names = self._open(old_path, True, _READ_ANY)
            os.close(fd)
            old_path, base = "/".join(names), []
        else:
            base = self.base
        old_parent, old_name, _ = parent_beneath(self.root.fd, base, old_path)
        try:
            new_parent, new_name = new_descriptor._parent(new_path)
            try:
                os.link(
                    old_name,
                    new_name,
                    src_dir_fd=old_parent,
                    dst_dir_fd=new_parent,
                    follow_symlinks=False,
                )
            finally:
                os.close(new_parent)
        finally:
            os.close(old_parent)
        return Ok(None)

    def _on_name(self, path: str, act: Callable[[int, str], None]) -> Ok:
        parent, name = self._parent(path)
        try:
            act(parent, name)
        finally:
            os.close(parent)
        return Ok(None)


class DirectoryEntryStream(OwnsFd):
    """`wasi:filesystem/types#directory-entry-stream`: read an entry at a time (a listing
    is never copied whole), from its own open of the directory (its own position)."""

    def __init__(self, directory_fd: int, budget: FdBudget) -> None:
        self.hold(budget, lambda: os.open(".", _READ_ANY | os.O_DIRECTORY, dir_fd=directory_fd))
        self.entries: Iterator[os.DirEntry[str]] | None = os.scandir(self.fd)

    def read_directory_entry(self) -> Ok:
        entry = None if self.entries is None else next(self.entries, None)
        if entry is None:
            self.close()  # the listing is done: its fds go now
            return Ok(None)
        return Ok(DirectoryEntry(_type_of(entry.stat(follow_symlinks=False).st_mode), entry.name))

    def close(self) -> None:
        if self.entries is not None:
            entries, self.entries = self.entries, None
            entries.close()  # type: ignore[attr-defined]
        super().close()


def filesystem_error_code(err: Any) -> str | None:
    return getattr(err, "code", None)


def _hash(st: os.stat_result) -> MetadataHashValue:
    return MetadataHashValue(st.st_ino & (2**64 - 1), st.st_dev & (2**64 - 1))


def _inside(target: str) -> None:
    """Refuse a symlink target that could point outside the sandbox (even if never
    followed here, other programs reading the directory might): only downward targets,
    which stay inside wherever the link is moved and through whatever links they pass."""
    if ".." in split(target):  # absolute targets: "not-permitted" already
        raise PathError("not-permitted")


def _set_times(fd: int, atime: Any, mtime: Any) -> None:
    st = os.fstat(fd)
    now = None

    def pick(new: Any, current: int) -> int:
        nonlocal now
        if new.case == "no-change":
            return current
        if new.case == "now":
            if now is None:
                import time

                now = time.time_ns()
            return now
        if new.value.nanoseconds >= 1_000_000_000:
            raise PathError("invalid")
        result: int = new.value.seconds * 1_000_000_000 + new.value.nanoseconds
        return result

    os.utime(fd, ns=(pick(atime, st.st_atime_ns), pick(mtime, st.st_mtime_ns)))


def preopened(roots: list[Root]) -> list[tuple[Descriptor, str]]:
    """`wasi:filesystem/preopens#get-directories`: a fresh descriptor for each root."""
    found = []
    for root in roots:
        flags = {"read", "mutate-directory"} if root.writable else {"read"}
        descriptor = Descriptor(root, [], os.dup(root.fd), frozenset(flags))
        found.append((descriptor, root.guest_path))
    return found
