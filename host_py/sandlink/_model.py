"""The kernels' exception: a rejected JSON document (the WIT record `json-error`, raised).

Their records, `Person` and `Friend`, are generated from the WIT into `_api`.
"""

from __future__ import annotations

from .host import SandlinkError


class JsonError(SandlinkError, ValueError):
    """`parse_person` rejected its input; `line` and `column` are 1-based, columns in characters."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line} column {column}")
        self.message = message
        self.line = line
        self.column = column

    def __eq__(self, other: object) -> bool:
        return isinstance(other, JsonError) and (self.message, self.line, self.column) == (
            other.message,
            other.line,
            other.column,
        )

    def __hash__(self) -> int:
        return hash((self.message, self.line, self.column))

    def __reduce__(
        self,
    ) -> tuple[type, tuple[str, int, int]]:  # keep pickling (multiprocessing, pytest-xdist) working
        return (type(self), (self.message, self.line, self.column))
