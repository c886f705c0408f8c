"""Resources the component defines, as Python objects of the fast host, and the handles
the guest holds to objects of the resources the host implements.

Each session (one thread's Store and instance) has one `HandleTable` per resource type,
as the canonical ABI prescribes: the guest's `resource.new` puts a rep in and gets a
handle, `resource.rep` reads it, `resource.drop` takes it out (running the destructor).
For a resource the host implements, the table holds the host's objects themselves: the
guest can only hold, lend, give back or drop them (`hosted_drop` calls their `close()`).
An `own<R>` the guest returns is taken out of the table: the Python object then holds the
rep itself. Passing it back as `own<R>` puts it in again (and the object gives it away);
a `borrow<R>` into the implementing instance is the rep. Handles are checked: an unknown
one, or one of another resource type, is a trap, never a KeyError.

An object is only usable in the session that made it: after `close()`, after a trap
discarded that instance, or from another thread, it raises StaleResourceError.
"""

from __future__ import annotations

import threading
from typing import Any

from ._errors import GuestTrap, MemoryLimitExceeded, StaleResourceError


class HandleTable:
    """The handles of one resource type in one session: handle -> rep (the host's object,
    for a resource the host implements), with a cap."""

    __slots__ = ("cap", "free", "live", "reps", "what")

    def __init__(self, what: str, cap: int | None) -> None:
        self.what = what
        self.cap = cap
        self.reps: list[Any] = [None]  # handle 0 is never valid; never replaced: the
        # compiled path reads this very list
        self.free: list[int] = []
        self.live = 0

    def add(self, rep: Any) -> int:
        if self.cap is not None and self.live >= self.cap:
            raise MemoryLimitExceeded(
                f"more than {self.cap} live {self.what} handles (Limits.handles)"
            )
        self.live += 1
        if self.free:
            handle = self.free.pop()
            self.reps[handle] = rep
            return handle
        self.reps.append(rep)
        return len(self.reps) - 1

    def get(self, handle: int) -> Any:
        rep = self.reps[handle] if 0 < handle < len(self.reps) else None
        if rep is None:
            raise GuestTrap(f"{handle} is not a live {self.what} handle")
        return rep

    def remove(self, handle: int) -> Any:
        rep = self.get(handle)
        self.reps[handle] = None
        self.free.append(handle)
        self.live -= 1
        return rep


class GuestResource:
    """Base of the generated resource classes (e.g. `Buffer`)."""

    __slots__ = ("__weakref__", "_closed", "_rep", "_session")
    _closed: bool
    _rep: int
    _session: Any  # its `_fast.Session`
    _resource: Any = None  # the ResourceType (its `index` names the session's table)
    _dtor: int | None = None  # index of its destructor in the session's raw functions

    def __new__(cls, *args: Any, **kwargs: Any) -> GuestResource:  # replaced per class
        raise TypeError(f"{cls.__name__} has no constructor: only the component makes them")

    @classmethod
    def _adopt(cls, session: Any, rep: int) -> GuestResource:
        obj = object.__new__(cls)
        obj._rep, obj._session, obj._closed = rep, session, False
        return obj

    @property
    def closed(self) -> bool:
        """True once closed, given away, or lost with its instance."""
        return self._closed or self._session.retired

    def check_live(self) -> None:
        """Raise StaleResourceError unless usable here: open, alive, on its own thread."""
        session = self._session
        if self._closed or session.retired or session.thread is not threading.current_thread():
            raise stale(self)

    def close(self) -> None:
        """Run the guest's destructor (once); the object is unusable afterwards.

        From another thread this raises StaleResourceError (that thread's instance must not
        be entered from here); inside a host callback of the same instance the destructor
        runs once the call into the guest returns.
        """
        if self._closed:
            return
        session = self._session
        if session.retired:
            self._closed = True  # the instance is gone, and the resource with it
            return
        if session.thread is not threading.current_thread():
            raise stale(self)
        self._closed = True
        if self._dtor is not None:
            if session.in_host:
                session.orphans.append((self._dtor, self._rep))
            else:
                session.destroy(self._dtor, self._rep)

    def __enter__(self) -> Any:
        self.check_live()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # Never enter the guest from here: the collector may run on any thread, inside
        # any call. Queue the destructor for the owning thread, which runs it at its next
        # entry into the guest (so a loop that forgets close() stays bounded).
        try:
            if not self._closed:
                self._closed = True
                session = self._session
                if self._dtor is not None and not session.retired:
                    session.orphans.append((self._dtor, self._rep))
        except BaseException:  # best effort: never raise from __del__
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"rep={self._rep:#x}"
        return f"<{type(self).__name__} {state}>"

    def __reduce__(self) -> Any:
        raise TypeError(f"a {type(self).__name__} lives in a guest instance and cannot be copied")


def stale(obj: GuestResource) -> StaleResourceError:
    name = type(obj).__name__
    if obj._closed:
        why = "it was closed or given to the guest"
    elif obj._session.retired:
        why = "its instance was discarded after a trap"
    else:
        why = "it belongs to another thread's instance"
    return StaleResourceError(f"this {name} cannot be used: {why}")


def borrow_check(session: Any, where: str, obj: Any, cls: Any) -> Any:
    """Check an argument passed as `borrow<R>`; return its rep."""
    if type(obj) is not cls:
        raise TypeError(f"{where} must be a {cls.__name__}, not {type(obj).__name__}")
    if obj._session is not session or obj._closed or session.retired:
        raise stale(obj)
    return obj._rep


def own_check(session: Any, where: str, obj: Any, cls: Any, moved: set[int]) -> GuestResource:
    """Check an argument passed as `own<R>` (given to the guest when the call is lowered)."""
    borrow_check(session, where, obj, cls)
    if id(obj) in moved:
        raise ValueError(f"{where}: this {cls.__name__} is given to the guest twice in one call")
    moved.add(id(obj))
    result: GuestResource = obj
    return result


def give(session: Any, table: HandleTable, obj: GuestResource) -> int:
    """Lower a checked `own<R>`: a new handle in the guest's table; the object is moved."""
    obj._closed = True  # the guest owns it now: its drop runs the destructor
    return table.add(obj._rep)


def take(session: Any, table: HandleTable, handle: int, cls: type) -> GuestResource:
    """Lift an `own<R>` the guest hands out: take its handle out of the table."""
    result: GuestResource = cls._adopt(session, table.remove(handle))  # type: ignore[attr-defined]
    return result


def hosted_check(where: str, obj: Any, cls: type) -> Any:
    """Check an object of a resource the host implements, handed to the guest."""
    if not isinstance(obj, cls):
        raise TypeError(f"{where} must be a {cls.__name__}, not {type(obj).__name__}")
    return obj


def hosted_drop(obj: Any) -> None:
    """The guest dropped its last handle to a host object: its `close()`, if it has one."""
    close = getattr(type(obj), "close", None)
    if close is not None:
        close(obj)


HELPERS = {
    "_borrow_check": borrow_check,
    "_own_check": own_check,
    "_give": give,
    "_take": take,
    "_hosted_check": hosted_check,
}
