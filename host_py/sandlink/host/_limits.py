"""Limits: what one sandboxed instance and each entry into it may use, on by default."""

from __future__ import annotations

from ._errors import GuestTrap, OutOfFuel, Timeout
from ._records import record

MiB = 1 << 20
_U64_MAX = (1 << 64) - 1
_INFINITY = float("inf")


@record(slots=False)
class Limits:
    """Per-instance caps and per-call budgets for the `wasm` and `component` backends.

    - `memory`: bytes of linear memory one instance may grow to (default 512 MiB). Past it
      the guest's allocation fails, which raises `MemoryLimitExceeded`; arguments too big
      to fit, and results that would lift into more host memory than this, raise it too.
    - `timeout`: seconds of wall-clock time one call may take (default 10 s); checked by
      epoch interruption, so it fires within about 10 ms of the deadline while guest code
      runs (time spent in host callbacks and lifting counts too). Raises `Timeout`.
    - `fuel`: units of fuel (roughly wasm instructions) one call may burn (default off:
      metering costs speed). Raises `OutOfFuel`.
    - `handles`: live handles of one resource type one instance may hold (default 65,536).
      Past it the guest's `resource.new` traps with `MemoryLimitExceeded`.

    Every entry into the guest gets a fresh `timeout` and `fuel`: calls, constructors,
    destructors (`close()`) and the start functions that run at instantiation. None
    switches a limit off. The `native` and `python` backends are not sandboxed and
    ignore limits.
    """

    memory: int | None = 512 * MiB
    timeout: float | None = 10.0
    fuel: int | None = None
    handles: int | None = 1 << 16

    def __post_init__(self) -> None:
        for name in ("memory", "fuel", "handles"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Limits.{name} must be an int or None, not {type(value).__name__}")
            if not 0 < value <= _U64_MAX:
                raise ValueError(f"Limits.{name} must be between 1 and 2**64 - 1, not {value}")
        timeout = self.timeout
        if timeout is not None:
            if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
                raise TypeError(
                    f"Limits.timeout must be a number of seconds or None, "
                    f"not {type(timeout).__name__}"
                )
            if not 0 < timeout < _INFINITY:  # NaN too
                raise ValueError(
                    f"Limits.timeout must be a positive, finite number of seconds (None for no "
                    f"timeout), not {timeout}"
                )

    def exceeded(self, code: str | None) -> GuestTrap | None:
        """The exception for a trap that means a limit was hit (by wasmtime's code), or None."""
        if code == "INTERRUPT":
            return Timeout(f"call took longer than the {self.timeout} s limit", code)
        if code == "OUT_OF_FUEL":
            return OutOfFuel(f"call used up its {self.fuel} units of fuel", code)
        return None

    @classmethod
    def none(cls) -> Limits:
        """No limits at all (still sandboxed: faults are exceptions, not crashes)."""
        return cls(memory=None, timeout=None, fuel=None, handles=None)


DEFAULT = Limits()
