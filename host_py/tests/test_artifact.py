"""The shipped component is what the README says it is."""

from __future__ import annotations

import hashlib
import re

import wasmtime
import wasmtime.component

from conftest import REPO
from sandlink._bundled import COMPONENT, bundled
from sandlink.host._binary import read_component

KERNELS = "sandlink:kernels/kernels@0.1.0"


def test_readme_states_the_artifacts_size_and_sha256():
    wasm = bundled(COMPONENT).read_bytes()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    row = re.search(r"\| `target/sandlink.wasm` \| ([\d,]+) bytes \| `([0-9a-f]{64})` \|", readme)
    assert row, "README has no artifact row"
    assert (row[1], row[2]) == (f"{len(wasm):,}", hashlib.sha256(wasm).hexdigest()), (
        "README's artifact table is stale: run `just readme-artifact`"
    )
    assert len(wasm) <= 64 * 1024


def test_component_imports_only_the_host_interface_and_exports_the_kernels():
    engine = wasmtime.Engine()
    wasm = bundled(COMPONENT).read_bytes()
    ctype = wasmtime.component.Component(engine, wasm).type
    assert list(ctype.imports(engine)) == ["sandlink:kernels/host@0.1.0"]
    kernels = ctype.exports(engine)[KERNELS].ty.exports(engine)
    assert {"hello", "add", "parse-person", "ws-mask"} <= set(kernels)


def test_main_core_module_has_no_wasi_or_env_imports():
    engine = wasmtime.Engine()
    wasm = bundled(COMPONENT).read_bytes()
    imports = {
        (imp.module, imp.name)
        for raw in read_component(wasm).modules
        for imp in wasmtime.Module(engine, raw).imports
        if imp.module.startswith(("wasi", "env"))
    }
    assert imports == set()


def test_the_readme_usage_example_runs(capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Using it", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(example, "README.md", "exec"), {})
    assert capsys.readouterr().out == "Hello, world!\n"


def test_one_version_for_the_package_and_its_crates():
    """`sandlink.__version__` is the installed distribution's version and the crates'."""
    import importlib.metadata
    import re

    import sandlink

    assert sandlink.__version__ == importlib.metadata.version("sandlink")
    for manifest in (REPO / "Cargo.toml", REPO / "host_py" / "accel" / "Cargo.toml"):
        # The [package] table's version line (tomllib is 3.11+).
        found = re.search(r'^\[package\][^[]*?^version = "([^"]+)"', manifest.read_text(), re.M)
        assert found is not None and found[1] == sandlink.__version__, manifest
