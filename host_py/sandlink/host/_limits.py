"""Limits: what one sandboxed call may use, on by default."""

from __future__ import annotations

from dataclasses import dataclass

from ._errors import GuestTrap, OutOfFuel, Timeout

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Per-instance memory cap and per-call budgets for the `wasm` and `component` backends.

    - `memory`: bytes of linear memory one instance may grow to (default 512 MiB). Past it
      the guest's allocation fails, which raises `MemoryLimitExceeded`; an argument too big
      to fit raises it before the guest runs.
    - `timeout`: seconds of wall-clock time one call may take (default 10 s); checked by
      epoch interruption, so it fires within about 10 ms of the deadline while guest code
      runs (time spent in host callbacks counts once the guest resumes). Raises `Timeout`.
    - `fuel`: units of fuel (roughly wasm instructions) one call may burn (default off:
      metering costs speed). Raises `OutOfFuel`.

    None switches a limit off. The `native` and `python` backends are not sandboxed and
    ignore limits.
    """

    memory: int | None = 512 * MiB
    timeout: float | None = 10.0
    fuel: int | None = None

    def __post_init__(self) -> None:
        for name in ("memory", "timeout", "fuel"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise TypeError(f"Limits.{name} must be a number or None")
            if value <= 0 or (name != "timeout" and not isinstance(value, int)):
                raise ValueError(
                    f"Limits.{name} must be a positive {'number' if name == 'timeout' else 'int'}"
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
        return cls(memory=None, timeout=None, fuel=None)


DEFAULT = Limits()
