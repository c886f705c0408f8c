"""Engines shared by configuration, and the epoch ticker that makes timeouts and Ctrl-C work.

One Engine per fuel setting, shared by every component loaded with it. Every engine
interrupts wasm at epochs: each tick (10 ms) runs the store's deadline callback, which
enforces `Limits.timeout` and lets a pending Ctrl-C stop the call. One daemon ticker
thread per engine, started at its first instance and stopped when the engine is no longer
used (or at interpreter exit). After `fork()` the child restarts the tickers it had.
"""

from __future__ import annotations

import atexit
import os
import threading
import weakref

import wasmtime

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
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._lock = threading.Lock()
        weakref.finalize(self, self._stop.set)

    def start_ticker(self) -> None:
        """Start the epoch ticker if it is not running."""
        if self._ticker is not None:
            return
        with self._lock:
            if self._ticker is None:
                self._ticker = threading.Thread(
                    target=_tick, args=(self.engine, self._stop), name="sandlink-epoch", daemon=True
                )
                self._ticker.start()

    @property
    def ticking(self) -> bool:
        return self._ticker is not None and self._ticker.is_alive()

    def _after_fork(self) -> None:
        """In a forked child: the ticker thread is gone; start a new one if there was one."""
        had_ticker = self._ticker is not None
        self._lock = threading.Lock()
        self._ticker = None
        if had_ticker and not self._stop.is_set():
            self.start_ticker()


def _tick(engine: wasmtime.Engine, stop: threading.Event) -> None:
    # Holds the Engine, never the handle, so the handle can be collected (which stops this).
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
        handle._stop.set()


os.register_at_fork(after_in_child=_after_fork_in_child)
