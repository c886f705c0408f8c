"""The kernels' Python API over a component backend (the fast host or the oracle)."""

from __future__ import annotations

import sys
from typing import Any

from ._checks import json_text, mask_key
from ._errors import JsonError
from ._model import Friend, Person
from ._values import Ok

# The component's records are built straight into the public dataclasses.
RECORD_CLASSES = {"person": Person, "friend": Friend}
HOST_INTERFACE = "host"


def stdout_print(line: str) -> None:
    """The default `print` import: the line to sys.stdout, looked up at call time."""
    sys.stdout.write(line + "\n")


class ComponentKernels:
    """`hello`, `add`, `parse_person`, `ws_mask` over an object exposing the WIT exports."""

    def __init__(self, exports: Any) -> None:
        self.component = exports
        self.hello = exports.hello
        self.add = exports.add
        self._parse_person = exports.parse_person
        self._ws_mask = exports.ws_mask

    def parse_person(self, json: str | bytes) -> Person:
        result = self._parse_person(json_text(json))
        if type(result) is Ok:
            return result.value
        error = result.value
        raise JsonError(error.message, error.line, error.column)

    def ws_mask(self, payload: Any, key: int | bytes, offset: int = 0) -> bytes:
        if type(key) is not int:  # ints are range-checked by the call itself
            key = mask_key(key)
        return self._ws_mask(payload, key, offset)
