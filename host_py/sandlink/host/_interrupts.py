"""Ctrl-C during a guest call, and what `fork()` takes away.

Python runs a signal's handler at the next bytecode boundary of the main thread. While
the guest runs, that is the first instruction of one of sandlink's ctypes callbacks (the
epoch deadline callback, a host trampoline): an exception raised there would escape the
callback before its guard, and ctypes would hand wasmtime an uninitialised return value.
So sandlink wraps the SIGINT handler: at a callback's entry it only notes the signal,
and the callback raises it from inside its guard (`raise_deferred`), where it becomes a
trap for that call and comes out of the call as the KeyboardInterrupt it is. Anywhere
else the previous handler runs as usual. Each callback starts with `try:` so that no
other instruction precedes its guard.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # not `signal`: it makes enums of every signal at import (~0.5 ms)
import threading
from collections.abc import Callable
from types import CodeType, FrameType
from typing import Any

DEFERRED: list[tuple[Callable[..., Any], int, FrameType | None]] = []
_ENTRIES: set[CodeType] = set()
_previous: Callable[..., Any] | None = None


def callback_entry(function: Callable[..., Any]) -> Callable[..., Any]:
    """Register `function` as the Python entry of a ctypes callback."""
    _ENTRIES.add(function.__code__)
    return function


def raise_deferred() -> None:
    """Run the handlers of signals noted at a callback's entry (from inside its guard)."""
    while DEFERRED:
        handler, signum, frame = DEFERRED.pop(0)
        handler(signum, frame)


def _on_sigint(signum: int, frame: FrameType | None) -> Any:
    previous = _previous if callable(_previous) else _signal.default_int_handler
    if (
        frame is not None
        and frame.f_code in _ENTRIES
        and frame.f_lineno == frame.f_code.co_firstlineno  # not yet inside its guard
    ):
        DEFERRED.append((previous, signum, frame))
        return None
    return previous(signum, frame)


def install() -> None:
    """Wrap the SIGINT handler (once; only the main thread may, and only a Python one)."""
    global _previous
    if threading.current_thread() is not threading.main_thread():
        return
    current = _signal.getsignal(_signal.SIGINT)
    if current is _on_sigint or not callable(current):
        return
    _previous = current
    _signal.signal(_signal.SIGINT, _on_sigint)
