"""`wasi:io`: errors, pollables and streams, as the host's resource classes.

A stream reads from a `Source` (stdin's bytes, or a file) or writes through a callable
(the user's stdout, or a file's `FileSink`); a file stream has its own duplicate of the
descriptor's fd, so it outlives nothing it depends on. Every size the guest asks for is
capped here, before anything is read or allocated: a hostile `read(2**63)` gets at most
`CHUNK` bytes.
"""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from .._errors import GuestTrap, Timeout
from .._values import Err, Ok, Variant

CHUNK = 1 << 20  # most bytes one read returns, or one write may carry (check-write's answer)
MAX_POLL = 4096  # pollables one poll may wait on


class Error:
    """`wasi:io/error#error`: what went wrong, with a filesystem error code if any."""

    def __init__(self, message: str, code: str | None = None) -> None:
        self.message = message
        self.code = code

    def to_debug_string(self) -> str:
        return self.message


def failed(exc: Exception, code: str | None = None) -> Err:
    """A `stream-error` for an OS failure (or an offset past what the OS takes)."""
    return Err(Variant("last-operation-failed", Error(str(exc), code)))


CLOSED = Err(Variant("closed"))
DONE = Ok(None)  # results are frozen records: the common ones are made once
WRITABLE = Ok(CHUNK)


class Pollable:
    """`wasi:io/poll#pollable`: ready now, or at a monotonic-clock deadline (ns)."""

    def __init__(self, deadline: int | None = None, bound: float | None = None) -> None:
        self.deadline = deadline
        self.bound = bound  # Limits.timeout: no host-side wait outlives it

    def ready(self) -> bool:
        return self.deadline is None or time.monotonic_ns() >= self.deadline

    def block(self) -> None:
        if self.deadline is not None:
            wait(self.deadline, self.bound)


def wait(deadline: int, bound: float | None) -> None:
    """Sleep until `deadline` (monotonic ns), but never past `bound` seconds."""
    delay = (deadline - time.monotonic_ns()) / 1e9
    if delay <= 0:
        return
    if bound is not None and delay > bound:
        time.sleep(bound)
        raise Timeout(f"the guest waited {delay:.3f} s, past Limits.timeout ({bound} s)")
    time.sleep(delay)


def poll(pollables: Sequence[Pollable]) -> list[int]:
    """`wasi:io/poll#poll`: the indices of the ready ones, after waiting for one."""
    if not pollables:
        raise GuestTrap("wasi:io/poll#poll: an empty list would wait forever")
    if len(pollables) > MAX_POLL:
        raise GuestTrap(f"wasi:io/poll#poll of {len(pollables)} pollables: at most {MAX_POLL}")
    ready = [i for i, p in enumerate(pollables) if p.ready()]
    if not ready:
        first = min(pollables, key=lambda p: p.deadline or 0)
        first.block()
        ready = [i for i, p in enumerate(pollables) if p.ready()]
    return ready


# -- sources and sinks


class FdBudget:
    """How many host fds one load's guest may hold (descriptors, file streams, directory
    listings): the host process's own limit is shared with everything else it does."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.used = 0
        self.lock = threading.Lock()

    def take(self) -> None:
        with self.lock:
            if self.used >= self.cap:
                raise OSError(errno.EMFILE, f"the guest holds {self.cap} host files already")
            self.used += 1

    def give(self) -> None:
        with self.lock:
            self.used -= 1


class OwnsFd:
    """Holds an OS file descriptor, closed once: by `close()` (the guest dropped the
    resource) or when collected (its session was discarded); counted in a `FdBudget`."""

    fd = -1
    budget: FdBudget | None = None

    def hold(self, budget: FdBudget | None, open_fd: Callable[[], int]) -> None:
        """Take the fd `open_fd()` gives, within `budget`."""
        if budget is not None:
            budget.take()
        try:
            self.fd = open_fd()
        except BaseException:
            if budget is not None:
                budget.give()
            raise
        self.budget = budget

    def close(self) -> None:
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)
            if self.budget is not None:
                self.budget.give()

    __del__ = close


class Source:
    """Bytes a stream reads: `read(n)` returns at most n bytes, b"" at the end."""

    def read(self, n: int) -> bytes:
        raise NotImplementedError


class BytesSource(Source):
    """Given bytes (stdin), shared by every stream made from it; thread-safe."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0
        self.lock = threading.Lock()

    def read(self, n: int) -> bytes:
        with self.lock:
            chunk = self.data[self.position : self.position + n]
            self.position += len(chunk)
            return chunk


class FileSource(Source, OwnsFd):
    """A file from an offset (its own fd)."""

    def __init__(self, fd: int, offset: int, budget: FdBudget | None) -> None:
        self.hold(budget, lambda: os.dup(fd))
        self.offset = offset

    def read(self, n: int) -> bytes:
        chunk = os.pread(self.fd, n, self.offset)
        self.offset += len(chunk)
        return chunk


class FileSink(OwnsFd):
    """A file at an offset, or appending (offset None); its own fd."""

    def __init__(self, fd: int, offset: int | None, budget: FdBudget | None) -> None:
        self.hold(budget, lambda: os.dup(fd))
        self.offset = offset

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            offset = os.fstat(self.fd).st_size if self.offset is None else self.offset
            n = os.pwrite(self.fd, view, offset)
            if self.offset is not None:
                self.offset += n
            view = view[n:]


# -- the stream resources


class InputStream:
    """`wasi:io/streams#input-stream`."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def read(self, n: int) -> Ok | Err:
        try:
            chunk = self.source.read(min(n, CHUNK))
        except (OSError, OverflowError) as exc:  # (an offset past what the OS takes)
            return failed(exc)
        return Ok(chunk) if chunk or not n else CLOSED

    blocking_read = read  # sources never wait: what is there is there

    def skip(self, n: int) -> Ok | Err:
        result = self.read(n)
        return Ok(len(result.value)) if isinstance(result, Ok) else result

    blocking_skip = skip

    def subscribe(self) -> Pollable:
        return Pollable()

    def close(self) -> None:
        close = getattr(self.source, "close", None)
        if close is not None:
            close()


def _permitted(n: int) -> None:
    """A write of `n` bytes must fit what check-write permits (else the guest broke the
    stream's contract: a trap)."""
    if n > CHUNK:
        raise GuestTrap(
            f"wasi:io/streams#output-stream.write of {n} bytes: "
            f"more than check-write permits ({CHUNK})"
        )


class OutputStream:
    """`wasi:io/streams#output-stream`: each write goes straight to `put` (nothing buffered,
    so nothing is lost if the guest never flushes): the user's stdout callable itself, or
    a file's `FileSink.write`."""

    def __init__(self, put: Callable[[bytes], Any], done: Callable[[], None] | None = None) -> None:
        self.put = put
        self.done = done  # run when the guest drops the stream

    def check_write(self) -> Ok:
        return WRITABLE

    def write(self, contents: bytes) -> Ok | Err:
        _permitted(len(contents))
        try:
            self.put(contents)
        except (OSError, OverflowError) as exc:
            return failed(exc)
        return DONE

    blocking_write_and_flush = write

    def flush(self) -> Ok:
        return DONE

    blocking_flush = flush

    def write_zeroes(self, n: int) -> Ok | Err:
        _permitted(n)  # before the zeroes are made
        return self.write(bytes(n))

    blocking_write_zeroes_and_flush = write_zeroes

    def splice(self, src: InputStream, n: int) -> Ok | Err:
        result = src.read(n)
        if isinstance(result, Err):
            return result
        written = self.write(result.value)
        return Ok(len(result.value)) if isinstance(written, Ok) else written

    blocking_splice = splice

    def subscribe(self) -> Pollable:
        return Pollable()

    def close(self) -> None:
        if self.done is not None:
            self.done()
