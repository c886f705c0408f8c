"""`wasi:cli`: arguments, environment, exit, standard streams, and no terminal."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from .._errors import GuestExit
from .._values import Ok

LOG = logging.getLogger("sandlink.wasi")


def exit(status: Ok | Any) -> None:
    """`wasi:cli/exit#exit`: ok is status 0, err 1 (WASI 0.2 carries no other code)."""
    raise GuestExit(0 if isinstance(status, Ok) else 1)


def exit_with_code(status_code: int) -> None:
    raise GuestExit(status_code)


class TerminalInput:
    """`wasi:cli/terminal-input#terminal-input`: never handed out (no terminals)."""


class TerminalOutput:
    """`wasi:cli/terminal-output#terminal-output`: never handed out (no terminals)."""


def no_terminal() -> None:
    return None


class _LogSink:
    """Guest output to the `sandlink.wasi` logger, a record per write (its final newline
    dropped, a bare newline none): nothing is kept between writes, no write makes more
    than one record."""

    def __init__(self, stream: str, level: int) -> None:
        self.stream = stream
        self.level = level

    def write(self, data: bytes) -> None:
        text = data.decode(errors="replace").removesuffix("\n")
        if text:  # (stderr's line ends come as writes of their own)
            LOG.log(self.level, "guest %s: %s", self.stream, text)


class _InheritSink:
    """Guest output to this process's own stream (as `sys.stdout`/`sys.stderr` are now)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, data: bytes) -> None:
        stream = getattr(sys, self.name)
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            buffer.write(data)
        else:
            stream.write(data.decode(errors="replace"))
        stream.flush()


def sink(target: Callable[[bytes], Any] | str | None, name: str) -> Callable[[bytes], Any]:
    """Where `Wasi(stdout=...)` / `stderr=...` sends each write (checked by `Wasi`)."""
    if target == "inherit":
        return _InheritSink(name).write
    if target is None:
        return _LogSink(name, logging.INFO if name == "stdout" else logging.WARNING).write
    return target  # type: ignore[return-value]
