"""The kernels' Python types: what every backend returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Friend:
    """A friend of a person (WIT `friend`)."""

    name: str
    age: int


@dataclass(frozen=True, slots=True)
class Person:
    """A person parsed from JSON (WIT `person`)."""

    name: str
    age: int
    cars: list[str] = field(default_factory=list)
    friends: list[Friend] = field(default_factory=list)
