"""Resolve guest paths beneath a preopened directory without ever leaving it.

The guest is hostile, so paths are never handed to the kernel whole: they are walked one
component at a time from directory file descriptors, each step opened with O_NOFOLLOW.
Symlinks are read and resolved here, and `..` pops this module's own stack of directory
fds, so neither the kernel nor a directory swapped for a symlink between two checks can
take the walk above the root. No host path string is ever built.
"""

from __future__ import annotations

import errno
import os

# Where openat semantics are missing (Windows) these flags do not exist; the module still
# imports, but `_SUPPORTED` is False and every resolution refuses with "unsupported"
# rather than run unconfined.
_O_NOFOLLOW: int = getattr(os, "O_NOFOLLOW", 0)
_O_DIRECTORY: int = getattr(os, "O_DIRECTORY", 0)
_O_CLOEXEC: int = getattr(os, "O_CLOEXEC", 0)
_SUPPORTED = bool(_O_NOFOLLOW and _O_DIRECTORY) and {os.open, os.readlink} <= os.supports_dir_fd

# How intermediate directories are opened: never through a symlink, never inherited.
_DIR = os.O_RDONLY | _O_DIRECTORY | _O_NOFOLLOW | _O_CLOEXEC

MAX_SYMLINKS = 40  # Linux's MAXSYMLINKS: more than this many expansions is a "loop"
MAX_PATH = 4096  # bytes of one guest path, as PATH_MAX: longer is "name-too-long"
MAX_STEPS = 4096  # components one resolution may walk (its base's, links' and its own)

# Directory fds one walk keeps open; deeper ancestors are closed and reopened by name when
# `..` climbs back to them, so a hostile, very deep tree cannot exhaust the host's fds.
_KEEP = 16

# How an O_NOFOLLOW open refuses a symlink: ELOOP (Linux, macOS), ENOTDIR on Linux when
# O_DIRECTORY is also set (checked before the symlink), EMLINK (FreeBSD), EFTYPE (NetBSD).
_LINK_ERRNOS = {errno.ELOOP, errno.ENOTDIR, errno.EMLINK} | (
    {getattr(errno, "EFTYPE")} if hasattr(errno, "EFTYPE") else set()  # noqa: B009
)

_ERRNO_NAMES = {
    "EACCES": "access",
    "EAGAIN": "would-block",
    "EBADF": "bad-descriptor",
    "EBUSY": "busy",
    "EEXIST": "exist",
    "EFBIG": "file-too-large",
    "EINTR": "interrupted",
    "EINVAL": "invalid",
    "EIO": "io",
    "EISDIR": "is-directory",
    "ELOOP": "loop",
    "EMLINK": "too-many-links",
    "EMFILE": "insufficient-memory",  # (the guest's file budget, or the process's)
    "ENFILE": "insufficient-memory",
    "ENAMETOOLONG": "name-too-long",
    "ENOENT": "no-entry",
    "ENOSPC": "insufficient-space",
    "ENOTDIR": "not-directory",
    "ENOTEMPTY": "not-empty",
    "EPERM": "not-permitted",
    "EROFS": "read-only",
    "EXDEV": "cross-device",
    "ENOTSUP": "unsupported",
    "EOPNOTSUPP": "unsupported",
    "ESPIPE": "invalid-seek",
}
# Built from names because some errnos are missing, or share a value, on some platforms.
_ERRNO_CODES = {
    getattr(errno, name): code for name, code in _ERRNO_NAMES.items() if hasattr(errno, name)
}


class PathError(Exception):
    """A path operation refused; `code` is the WASI `error-code` case the guest gets."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def errno_code(err: OSError) -> str:
    """The WASI `error-code` for a host OSError (unknown errnos become "io")."""
    return _ERRNO_CODES.get(err.errno, "io") if err.errno is not None else "io"


def _parse(path: str) -> list[str]:
    """Like `split`, but a path ending in "/" or "." gets a final "." so the walk opens
    its last name as a directory (following a symlink there), as POSIX does."""
    if "\0" in path:
        raise PathError("invalid")  # the kernel would truncate at NUL: refuse outright
    if not path:
        raise PathError("no-entry")
    if path.startswith("/"):
        raise PathError("not-permitted")  # absolute paths would ignore the preopen
    if len(path) > MAX_PATH:
        raise PathError("name-too-long")  # before any work: a path is guest-sized
    parts = path.split("/")
    comps = [p for p in parts if p not in ("", ".")]
    if parts[-1] in ("", "."):
        comps.append(".")
    return comps


def split(path: str) -> list[str]:
    """A guest path's components: "." and empty ones dropped, ".." kept for the walk.

    Refuses what could never be beneath a preopen (absolute: "not-permitted"), what the
    kernel would misread (NUL: "invalid") and the empty path ("no-entry").
    """
    return [c for c in _parse(path) if c != "."]


class _Walk:
    """Where a walk is: its components below the root and their directory fds.

    `..` returns to an fd opened on the way down instead of opening ".." (whose target a
    concurrent rename could move), and with no fds left it is above the root.
    """

    def __init__(self, root_fd: int) -> None:
        self.root_fd = root_fd  # borrowed: never closed here
        self.names: list[str] = []
        self.fds: list[int] = []  # fds[i] is names[: i + 1]; -1 once closed (see _KEEP)
        self.ids: list[tuple[int, int]] = []  # (st_dev, st_ino) of each, as walked

    @property
    def cur(self) -> int:
        return self.fds[-1] if self.fds else self.root_fd

    def down(self, name: str, fd: int) -> None:
        st = os.fstat(fd)
        self.names.append(name)
        self.fds.append(fd)
        self.ids.append((st.st_dev, st.st_ino))
        old = len(self.fds) - _KEEP - 1
        if old >= 0 and self.fds[old] != -1:
            os.close(self.fds[old])
            self.fds[old] = -1

    def up(self) -> None:
        if not self.fds:
            raise PathError("not-permitted")  # `..` above the preopen
        self.names.pop()
        self.ids.pop()
        child = self.fds.pop()
        try:
            if self.fds and self.fds[-1] == -1:
                self.fds[-1] = self._parent(child)
        finally:
            os.close(child)

    def _parent(self, child: int) -> int:
        """The closed parent of `child` again, in O(1): its "..", if that is still the
        very directory walked through (same device and inode); else by name from the root."""
        try:
            fd = os.open("..", _DIR, dir_fd=child)
        except OSError:
            return self._reopen()
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == self.ids[-1]:
            return fd
        os.close(fd)  # moved meanwhile: walk to it by name (which cannot leave the root)
        return self._reopen()

    def _reopen(self) -> int:
        # These names were real directories on the way down; if one has since become a
        # symlink, fail rather than follow it (each step is O_NOFOLLOW from the root).
        fd = self.root_fd
        try:
            for name in self.names:
                child = os.open(name, _DIR, dir_fd=fd)
                if fd != self.root_fd:
                    os.close(fd)
                fd = child
        except OSError as err:
            if fd != self.root_fd:
                os.close(fd)
            raise PathError(errno_code(err)) from err
        return fd

    def close(self) -> None:
        for fd in self.fds:
            if fd != -1:
                os.close(fd)
        self.fds.clear()


def _link_target(dir_fd: int, name: str, err: OSError) -> str | None:
    """The target if `err` came from opening a symlink with O_NOFOLLOW, else None."""
    if err.errno not in _LINK_ERRNOS:
        return None
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None  # not a symlink (EINVAL): `err` was the real error


def _resolve(
    root_fd: int, comps: list[str], *, follow_last: bool, flags: int, mode: int
) -> tuple[int, list[str]]:
    if not _SUPPORTED:
        raise PathError("unsupported")
    pending = comps[::-1]  # a stack: the next component is last
    walk = _Walk(root_fd)
    links = steps = 0
    try:
        while pending:
            name = pending.pop()
            steps += 1
            if steps > MAX_STEPS:
                raise PathError("name-too-long")  # so deep a walk is too long a path
            if name == ".":
                continue
            if name == "..":
                walk.up()
                continue
            final = not pending
            open_flags = flags | _O_NOFOLLOW | _O_CLOEXEC if final else _DIR
            try:
                fd = os.open(name, open_flags, mode, dir_fd=walk.cur)
            except OSError as err:
                target = _link_target(walk.cur, name, err)
                if target is None:
                    raise PathError(errno_code(err)) from err
                if final and not follow_last:
                    raise PathError("loop") from err  # as WASI has it for a no-follow open
                links += 1
                if links > MAX_SYMLINKS:
                    raise PathError("loop") from err
                pending.extend(_parse(target)[::-1])  # absolute targets: "not-permitted"
                continue
            if final:
                return fd, [*walk.names, name]
            walk.down(name, fd)
        # The path ended on a directory already walked ("." or ".." or a trailing slash):
        # open it again with the caller's flags.
        try:
            fd = os.open(".", flags | _O_NOFOLLOW | _O_CLOEXEC, mode, dir_fd=walk.cur)
        except OSError as err:
            raise PathError(errno_code(err)) from err
        return fd, list(walk.names)
    finally:
        walk.close()


def open_beneath(
    root_fd: int,
    base: list[str],
    path: str,
    *,
    follow_last: bool,
    flags: int,
    mode: int = 0o666,
) -> tuple[int, list[str]]:
    """Open `path`, relative to the directory `base` (its components below the root), and
    return the new fd and its components below the root.

    `base + path` is resolved from `root_fd` so `..` may climb above `base` but never
    above the root. `base` is trusted to be plain names (as returned here); if a rename
    made it stale, the walk still cannot leave the root. Symlinks are followed inside
    the sandbox only, except a final one when not `follow_last` ("loop").
    """
    return _resolve(
        root_fd, [*base, *_parse(path)], follow_last=follow_last, flags=flags, mode=mode
    )


def parent_beneath(root_fd: int, base: list[str], path: str) -> tuple[int, str, list[str]]:
    """For operations on a name (unlink, mkdir, rename, link, symlink, readlink, lstat):
    the parent directory's fd, the last name, and the parent's components.

    The name is a single plain component (never "." or ".."), so `os.unlink(name,
    dir_fd=fd)` and friends act inside the parent and cannot leave the sandbox. A
    trailing slash is dropped ("a/" gives "a"): the caller checks `path.endswith("/")`
    where POSIX gives it meaning (e.g. unlink of "file/" is "not-directory").
    """
    comps = split(path)
    last = path.rstrip("/").rpartition("/")[2]
    if last == "..":
        raise PathError("not-permitted")  # may name the root's parent
    if last == "." or not comps:
        raise PathError("invalid")  # e.g. rmdir(".") is EINVAL
    fd, names = _resolve(root_fd, [*base, *comps[:-1], "."], follow_last=True, flags=_DIR, mode=0)
    return fd, comps[-1], names
