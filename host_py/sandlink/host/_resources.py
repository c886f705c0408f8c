"""Resources the component exports, as Python objects of the fast host.

The canonical ABI's handle table for them lives here, per session (Store + instance): the
guest's constructor registers its object with `[resource-new]` and returns the handle; the
host takes the handle out of the table and keeps the object's `rep`. Methods get the rep
(a borrow into the implementing instance is the rep itself); `close()` runs the guest's
destructor. An object is only usable in the session that made it: after `close()`, after
a trap discarded that instance, or from another thread, it raises StaleResourceError.
"""

from __future__ import annotations

import threading
from typing import Any

from ._errors import StaleResourceError


class GuestResource:
    """Base of the generated resource classes (e.g. `Buffer`)."""

    __slots__ = ("__weakref__", "_closed", "_rep", "_session")
    _wit_name = "resource"
    _dtor: int | None = None  # index of `[dtor]R` in the host's core exports, if any

    def __new__(cls, *args: Any, **kwargs: Any) -> GuestResource:  # replaced per class
        raise TypeError(f"{cls.__name__} has no constructor")

    @classmethod
    def _adopt(cls, session: Any, rep: int) -> GuestResource:
        obj = object.__new__(cls)
        obj._rep, obj._session, obj._closed = rep, session, False
        return obj

    @property
    def closed(self) -> bool:
        return self._closed or self._session.retired

    def check_live(self) -> None:
        """Raise StaleResourceError unless usable here: open, alive, on its own thread."""
        session = self._session
        if self._closed or session.retired or session.thread is not _this_thread():
            raise stale(self, None)

    def close(self) -> None:
        """Run the guest's destructor (once); the object is unusable afterwards."""
        if self._closed:
            return
        self._closed = True
        session = self._session
        if self._dtor is not None and not session.retired and session.thread is _this_thread():
            session.call_core(self._dtor, self._rep)
        # Otherwise the instance is gone (nothing to free) or belongs to another thread,
        # whose Store must not be entered from here: the rep stays until that instance ends.

    def __enter__(self) -> GuestResource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Never enter the guest from here: the collector may run on any thread, and may
        # already have freed the Store. Queue the destructor for the owning thread, which
        # runs it when it next makes one of these (so a loop that forgets close() is bounded).
        if not self._closed:
            self._closed = True
            session = self._session
            if self._dtor is not None and not session.retired:
                session.orphans.append((self._dtor, self._rep))

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"rep={self._rep:#x}"
        return f"<{type(self).__name__} {state}>"


def _this_thread() -> threading.Thread:
    return threading.current_thread()


def stale(obj: GuestResource, session: Any) -> StaleResourceError:
    name = type(obj).__name__
    if obj._closed:
        why = "it was closed"
    elif obj._session.retired:
        why = "its instance was discarded after a trap"
    elif obj._session is not session:
        why = "it belongs to another thread's instance"
    else:  # pragma: no cover - callers check one of the above first
        why = "it is no longer valid"
    return StaleResourceError(f"this {name} cannot be used: {why}")


def borrow(session: Any, where: str, obj: Any, cls: type) -> int:
    """Lower a borrow into the implementing instance: the object's rep."""
    if type(obj) is not cls:
        raise TypeError(f"{where} must be a {cls.__name__}, not {type(obj).__name__}")
    if obj._session is not session or obj._closed or session.retired:
        raise stale(obj, session)
    return obj._rep


def give(session: Any, where: str, obj: Any, cls: type) -> int:
    """Lower an own into the implementing instance: a new handle; the object is moved."""
    rep = borrow(session, where, obj, cls)
    obj._closed = True  # the guest owns it now: its drop runs the destructor
    return session.new_handle(rep)


def take(session: Any, handle: int, cls: type) -> GuestResource:
    """Lift an own the guest hands out: take its handle out of the table."""
    try:
        rep = session.handles.pop(handle)
    except KeyError:
        from ._errors import GuestTrap

        raise GuestTrap(f"guest returned unknown {cls.__name__} handle {handle}") from None
    return cls._adopt(session, rep)


HELPERS = {"_borrow": borrow, "_give": give, "_take": take}
