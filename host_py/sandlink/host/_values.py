"""How WIT values look in Python, for any component.

bool/int/float/str as themselves (`char` is a one-character str), `list<u8>` as bytes,
other lists as list, tuples as tuple, records as frozen records that behave as dataclasses
(`_records`), `option<T>` as None or the value, `result` as `Ok(value)` / `Err(value)`,
`variant` as `Variant(case, value)`, `enum` as the case name, `flags` as a frozenset of
flag names.
"""

from __future__ import annotations

from typing import Any

from ._records import record


@record
class Ok:
    """The `ok` case of a WIT `result` (`value` is None when the case has no payload)."""

    value: Any = None


@record
class Err:
    """The `err` case of a WIT `result` (`value` is None when the case has no payload)."""

    value: Any = None


@record
class Variant:
    """One case of a WIT `variant`: its name and payload (None when it has none)."""

    case: str
    value: Any = None
