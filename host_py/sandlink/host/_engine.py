"""Engines shared by configuration, and the epoch ticks that make timeouts and Ctrl-C work.

One Engine per fuel setting, shared by every component loaded with it. Every engine
interrupts wasm at epochs: at each tick (10 ms) a running store calls its deadline
callback, which enforces `Limits.timeout` through the store's `Clock` and lets a pending
Ctrl-C stop the call. One ticker per engine, started at its first instance and stopped
when the engine is no longer used (or at interpreter exit): a native thread when the
compiled call path is there (it ticks while Python is busy), else a daemon Python thread.
After `fork()` the child restarts the tickers it had.
"""

from __future__ import annotations

import atexit
import itertools
import os
import threading
import time
import weakref
from typing import Any

import wasmtime

from . import _ffi as ffi
from . import _interrupts as interrupts

TICK = 0.01  # seconds per epoch: the resolution of timeouts and of Ctrl-C


class EngineHandle:
    """A wasmtime Engine configured for the fast host, plus its ticker."""

    def __init__(self, fuel: bool) -> None:
        config = wasmtime.Config()
        # Linear memory never moves (it grows in place), so a view of it stays valid for the
        # instance's life: the host only ever lengthens it.
        config.memory_may_move = False
        config.epoch_interruption = True
        config.consume_fuel = fuel
        self.engine = wasmtime.Engine(config)
        self.key = ("v2", fuel)  # what a serialized module depends on, besides wasmtime
        self._ticker: Any = None  # an _accel.Ticker or a _PythonTicker
        self._lock = threading.Lock()
        self._closed = False

    def start_ticker(self) -> None:
        """Start the epoch ticker if it is not running."""
        if self._ticker is not None:
            return
        with self._lock:
            if self._ticker is None and not self._closed:
                accel = ffi.accel
                self._ticker = (
                    accel.Ticker(self.engine, ffi.engine_address(self.engine), TICK)
                    if accel is not None
                    else _PythonTicker(self.engine)
                )

    @property
    def ticking(self) -> bool:
        return self._ticker is not None and self._ticker.running

    def close(self) -> None:
        """Stop ticking for good (at interpreter exit)."""
        self._closed = True
        if self._ticker is not None:
            self._ticker.stop()

    def _after_fork(self) -> None:
        """In a forked child: the ticker thread is gone; start a new one if there was one."""
        had_ticker = self._ticker is not None
        self._lock = threading.Lock()
        self._ticker = None  # a native ticker never joins its thread in another process
        if had_ticker:
            self.start_ticker()


class _PythonTicker:
    """The pure-Python ticker: a daemon thread holding the Engine (never the handle, so
    the handle can be collected, which stops it). It needs the GIL for every tick."""

    def __init__(self, engine: wasmtime.Engine) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=_tick, args=(engine, self._stop), name="sandlink-epoch", daemon=True
        )
        self._thread.start()
        weakref.finalize(self, self._stop.set)

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()


def _tick(engine: wasmtime.Engine, stop: threading.Event) -> None:
    while not stop.wait(TICK):
        engine.increment_epoch()


_HANDLES: weakref.WeakValueDictionary[bool, EngineHandle] = weakref.WeakValueDictionary()
_HANDLES_LOCK = threading.Lock()


def engine_for(fuel: bool) -> EngineHandle:
    """The shared engine for this configuration (made on first use)."""
    with _HANDLES_LOCK:
        handle = _HANDLES.get(fuel)
        if handle is None:
            handle = EngineHandle(fuel)
            _HANDLES[fuel] = handle
        return handle


def _after_fork_in_child() -> None:
    global _HANDLES_LOCK
    _HANDLES_LOCK = threading.Lock()
    for handle in list(_HANDLES.values()):
        handle._after_fork()


@atexit.register
def _stop_all() -> None:
    for handle in list(_HANDLES.values()):
        handle.close()


os.register_at_fork(after_in_child=_after_fork_in_child)


# By id: the `env` that raw callbacks of a store get. Weak: a store's session must be
# collectable with the component that made it (its callbacks find nothing after that).
CLOCKS: weakref.WeakValueDictionary[int, Clock] = weakref.WeakValueDictionary()
_clock_ids = itertools.count(1)


class Clock:
    """The time and the failures of the calls into one Store.

    `calls` counts entries into the guest from the host; the first epoch tick a call sees
    starts its clock (`watched_since`), so a nested entry never restarts it. `pending` is
    the exception a callback caught, to be raised by the call it failed.
    """

    __slots__ = ("calls", "id", "pending", "timed_out", "timeout", "watched", "watched_since")

    def __init__(self, timeout: float | None) -> None:
        self.id = next(_clock_ids)
        self.timeout = timeout
        self.calls = self.watched = 0
        self.watched_since = 0.0
        self.timed_out = False
        self.pending: BaseException | None = None

    def watch(self, store: wasmtime.Store, engine: EngineHandle) -> None:
        """Call the deadline callback at every tick while `store` runs wasm."""
        CLOCKS[self.id] = self
        self.on_deadline(store)
        store.set_epoch_deadline(1)
        engine.start_ticker()

    def on_deadline(self, store: wasmtime.Store) -> None:
        ffi.on_epoch_deadline(store, _DEADLINE, self.id)

    def forget(self) -> None:
        CLOCKS.pop(self.id, None)

    def check(self) -> None:
        """Raise Timeout if the current call is past its deadline (for host work: lifting)."""
        timeout = self.timeout
        if timeout is None:
            return
        now = time.monotonic()
        if self.calls != self.watched:
            self.watched, self.watched_since = self.calls, now
        elif now - self.watched_since >= timeout:
            from ._errors import Timeout

            self.timed_out = True
            raise Timeout(f"call took longer than the {timeout} s limit", "INTERRUPT")


@interrupts.callback_entry
def deadline_error(env: int, _c: Clock | None = None) -> int:
    """At an epoch tick of the store of clock `env`: 0 to go on (one more tick), or the
    wasmtime error that stops the call (past its timeout, or Ctrl-C)."""
    try:
        _c = CLOCKS[env]
        if interrupts.DEFERRED:
            interrupts.raise_deferred()
        timeout = _c.timeout
        if timeout is not None:
            now = time.monotonic()
            if _c.calls != _c.watched:  # the first tick of a call starts its clock
                _c.watched, _c.watched_since = _c.calls, now
            elif now - _c.watched_since >= timeout:
                _c.timed_out = True
                result: int = ffi.error_new(b"sandlink: call timed out")
                return result
        return 0
    except BaseException as exc:
        return _interrupted(env, exc)


def _interrupted(env: int, exc: BaseException) -> int:
    """The error that stops a call for `exc`, which the call then raises."""
    try:
        clock = CLOCKS.get(env)
        if clock is not None and clock.pending is None:
            clock.pending = exc.with_traceback(None)  # its frame holds wasmtime's pointers
    except BaseException:
        pass
    result: int = ffi.error_new(b"sandlink: interrupted")
    return result


@interrupts.callback_entry
def _on_deadline(context: int, env: int, delta: Any, kind: Any) -> int:
    try:
        delta[0] = 1
        kind[0] = ffi.DEADLINE_CONTINUE
        result: int = deadline_error(env)
        return result
    except BaseException as exc:  # Python 3.10 may run a signal's handler at the first line
        return _interrupted(env, exc)


_DEADLINE = ffi.DeadlineCallback(_on_deadline)
