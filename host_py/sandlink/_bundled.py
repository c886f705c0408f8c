"""The artifacts bundled in the package (`_artifacts/`): `just build` copies them there."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .host import SandlinkError

ARTIFACT_DIR = Path(__file__).with_name("_artifacts")
COMPONENT = "sandlink.wasm"
NATIVE_LIBRARY = {"win32": "sandlink.dll", "darwin": "libsandlink.dylib"}.get(
    sys.platform, "libsandlink.so"
)


def bundled(name: str) -> Path:
    """The path of a bundled artifact, or a SandlinkError that says how to build it."""
    directory = Path(os.environ.get("SANDLINK_ARTIFACTS", ARTIFACT_DIR))
    path = directory / name
    if not path.is_file():
        raise SandlinkError(
            f"{name} not found in {directory}: run `just build` (or `just build-wasm` / "
            "`just build-native`) first, or set SANDLINK_ARTIFACTS"
        )
    return path
