"""The generated canonical-ABI code, compared with checked-in expectations.

Every function the fast host calls runs Python source that `_codegen` writes from its WIT
types; these tests pin that source for a spread of types (scalars, strings, lists, records,
results, variants, flags, spilled parameters, results by pointer, resource methods, every
import shape), so a change to the generated code is seen and reviewed as a diff of
tests/codegen/. After an intended change:

    SANDLINK_UPDATE_CODEGEN=1 pytest tests/test_codegen_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import wasmtime

from sandlink._bundled import COMPONENT, bundled
from sandlink.host import Limits
from sandlink.host._codegen import Emitter, Plan, export_source, import_source
from sandlink.host._fast import _module_info
from sandlink.host._graph import read_structure
from sandlink.host._structure import Structure

EXPECTED = Path(__file__).with_name("codegen")
UPDATE = os.environ.get("SANDLINK_UPDATE_CODEGEN") == "1"
LIMITS = Limits()  # the code every default load runs

ALLTYPES_EXPORTS = [
    "echo-u32",
    "echo-char",
    "echo-string",
    "echo-bytes",
    "echo-list-string",
    "echo-record",
    "echo-nested-record",
    "echo-option-string",
    "echo-result",
    "echo-variant",
    "echo-flags-mid",
    "many-params",
    "big-result",
]
KERNELS_EXPORTS = ["[constructor]buffer", "[method]buffer.read", "[method]buffer.write"]
# Also on the compiled call path (only the raw calls differ).
COMPILED_EXPORTS = ["echo-u32", "echo-string"]


def _structure(path: Path) -> Structure:
    engine = wasmtime.Engine()
    return read_structure(
        path.read_bytes(), lambda raw: [_module_info(wasmtime.Module(engine, m)) for m in raw]
    )


def _compare(name: str, source: str) -> None:
    path = EXPECTED / f"{name}.py.txt"
    if UPDATE:
        path.write_text(source, encoding="utf-8")
        return
    if not path.is_file():
        pytest.fail(f"{path.name} is missing: run with SANDLINK_UPDATE_CODEGEN=1 and review it")
    assert source == path.read_text(encoding="utf-8"), (
        f"the code generated for {name} changed: if intended, run with "
        "SANDLINK_UPDATE_CODEGEN=1 and review the diff of tests/codegen/"
    )


def _export(structure: Structure, wit_name: str, compiled: bool = False) -> str:
    (fn,) = [f for f in structure.exports if f.where.rsplit("#", 1)[-1] == wit_name]
    assert fn.options is not None
    plan = Plan(core=0, abi=0, post_return=None if fn.options.post_return is None else 1)
    em = Emitter(fn.options.encoding, budget=True, compiled=compiled)
    return export_source(fn, plan, em, LIMITS)


@pytest.mark.parametrize("wit_name", ALLTYPES_EXPORTS)
def test_alltypes_export(alltypes_wasm: Path, wit_name: str) -> None:
    _compare(f"alltypes.{wit_name}", _export(_structure(alltypes_wasm), wit_name))


@pytest.mark.parametrize("wit_name", COMPILED_EXPORTS)
def test_alltypes_export_compiled(alltypes_wasm: Path, wit_name: str) -> None:
    source = _export(_structure(alltypes_wasm), wit_name, compiled=True)
    _compare(f"alltypes.{wit_name}.compiled", source)


@pytest.mark.parametrize("wit_name", KERNELS_EXPORTS)
def test_kernels_resource_export(wit_name: str) -> None:
    _compare(f"kernels.{wit_name}", _export(_structure(bundled(COMPONENT)), wit_name))


def test_alltypes_imports(alltypes_wasm: Path) -> None:
    structure = _structure(alltypes_wasm)
    assert len(structure.lowered) == 4
    for lowered in structure.lowered:
        fn = lowered.function
        em = Emitter(lowered.options.encoding, budget=True)
        source, n_raw = import_source(fn, 0, em, cap=LIMITS.memory)
        _compare(f"alltypes.import.{fn.name}", f"# raw slots: {n_raw}\n{source}")


def test_no_stale_expectations() -> None:
    names = {f"alltypes.{n}" for n in ALLTYPES_EXPORTS} | {f"kernels.{n}" for n in KERNELS_EXPORTS}
    names |= {f"alltypes.import.{n}" for n in ("log", "combine", "pick", "shout")}
    names |= {f"alltypes.{n}.compiled" for n in COMPILED_EXPORTS}
    on_disk = {p.name.removesuffix(".py.txt") for p in EXPECTED.glob("*.py.txt")}
    assert on_disk == names
