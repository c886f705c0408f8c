"""The exceptions sandlink raises: one root, typed leaves, never a string to parse."""

from __future__ import annotations


class SandlinkError(Exception):
    """Root of every error sandlink itself raises."""


class UnsupportedTypeError(SandlinkError, TypeError):
    """A component export uses a WIT type the fast host cannot call yet (raised at load)."""


class GuestTrap(SandlinkError):
    """The guest trapped (or broke the canonical ABI); the instance is replaced on the next call.

    `code` is wasmtime's trap code name (e.g. "UNREACHABLE"), or None when there is none.
    """

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message if code is None else f"{message} [{code}]")
        self.message = message
        self.code = code


class Timeout(GuestTrap, TimeoutError):
    """A call ran past `Limits.timeout` (wall clock) and was interrupted."""


class OutOfFuel(GuestTrap):
    """A call used up `Limits.fuel` and was stopped."""


class MemoryLimitExceeded(GuestTrap):
    """The guest needed more linear memory than `Limits.memory` allows."""


class GuestExit(SandlinkError):
    """The guest called WASI's `exit`: `code` is its status (0 for success). The call that
    exited raises this; the component's next call runs in a fresh instance."""

    def __init__(self, code: int) -> None:
        super().__init__(f"the guest exited with status {code}")
        self.code = code


class StaleResourceError(SandlinkError, ValueError):
    """A resource (e.g. a guest buffer) was used after `close()`, or after the instance it
    lived in was discarded by a trap, or from a thread other than the one that made it."""
