"""Engines shared by configuration, and the epoch ticker that makes timeouts work.

One Engine per (epoch interruption, fuel) setting, shared by every component loaded with
it. An engine with epoch interruption gets one daemon ticker thread, started at its first
instance and stopped when the engine is no longer used (or at interpreter exit).
"""

from __future__ import annotations

import atexit
import threading
import weakref

import wasmtime

TICK = 0.01  # seconds per epoch: the resolution of timeouts


class EngineHandle:
    """A wasmtime Engine configured for the fast host, plus its ticker."""

    def __init__(self, epoch: bool, fuel: bool) -> None:
        config = wasmtime.Config()
        # Linear memory never moves (it grows in place), so a view of it stays valid for the
        # instance's life: the host only ever lengthens it.
        config.memory_may_move = False
        config.epoch_interruption = epoch
        config.consume_fuel = fuel
        self.engine = wasmtime.Engine(config)
        self.key = ("v1", epoch, fuel)  # what a serialized module depends on, besides wasmtime
        self._epoch = epoch
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._lock = threading.Lock()
        weakref.finalize(self, self._stop.set)

    def start_ticker(self) -> None:
        """Start the epoch ticker if this engine needs one and it is not running."""
        if not self._epoch or self._ticker is not None:
            return
        with self._lock:
            if self._ticker is None:
                self._ticker = threading.Thread(
                    target=_tick, args=(self.engine, self._stop), name="sandlink-epoch", daemon=True
                )
                self._ticker.start()
                _RUNNING.add(self._ticker)

    @property
    def ticking(self) -> bool:
        return self._ticker is not None and self._ticker.is_alive()


def _tick(engine: wasmtime.Engine, stop: threading.Event) -> None:
    # Holds the Engine, never the handle, so the handle can be collected (which stops this).
    while not stop.wait(TICK):
        engine.increment_epoch()
    _RUNNING.discard(threading.current_thread())


_HANDLES: weakref.WeakValueDictionary[tuple[bool, bool], EngineHandle] = (
    weakref.WeakValueDictionary()
)
_HANDLES_LOCK = threading.Lock()
_RUNNING: set[threading.Thread] = set()


def engine_for(epoch: bool, fuel: bool) -> EngineHandle:
    """The shared engine for this configuration (made on first use)."""
    with _HANDLES_LOCK:
        handle = _HANDLES.get((epoch, fuel))
        if handle is None:
            handle = EngineHandle(epoch, fuel)
            _HANDLES[(epoch, fuel)] = handle
        return handle


@atexit.register
def _stop_all() -> None:
    for handle in list(_HANDLES.values()):
        handle._stop.set()
