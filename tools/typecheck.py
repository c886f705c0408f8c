"""Type checks of `just lint`: the package itself (`mypy --strict` and pyright), and, with
`mypy --strict`, what users type-check against it: the README's usage example, the stubs
`sandlink stubs` writes for the bundled component and for a WASI component, and code using
such a stub."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import check_wheels

ROOT = Path(__file__).resolve().parent.parent

USES_STUB = """\
import sandlink
import kernels_stub

c: kernels_stub.Component = sandlink.load_component("k.wasm", {"host": {"print": print}})
total: int = c.add(1, 2) + c.kernels.add(3, 4)
masked: bytes = c.ws_mask(b"Hello", 0x3D21FA37, 0)
with c.Buffer(16) as buf:
    data: bytes = buf.read(0, 16)
k = sandlink.load()
person = k.parse_person('{"name": "x", "age": 1, "cars": [], "friends": []}')
name: str = person.name
"""


def main() -> None:
    example = check_wheels.example()  # (this directory is on the path: a script's own)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        (out / "readme_example.py").write_text(example)
        (out / "uses_stub.py").write_text(USES_STUB)
        for name, component in (
            ("kernels_stub", ROOT / "target" / "sandlink.wasm"),
            ("wasi_cli_stub", ROOT / "target" / "wasi_cli.wasm"),
        ):
            subprocess.run(
                [sys.executable, "-m", "sandlink", "stubs", str(component), "-o", f"{name}.pyi"],
                cwd=out,
                check=True,
            )
        files = sorted(p.name for p in out.iterdir())
        env = {"MYPYPATH": str(ROOT / "host_py"), "PATH": "/usr/bin:/bin"}
        mypy = [sys.executable, "-m", "mypy", "--python-version", "3.10"]
        package = subprocess.run([*mypy, "--strict", "-p", "sandlink"], cwd=out, env=env)
        users = subprocess.run(
            [*mypy, "--strict", "--follow-imports=silent", *files], cwd=out, env=env
        )
        pyright = subprocess.run(
            [
                sys.executable,
                "-m",
                "pyright",
                "--pythonversion",
                "3.10",
                "--pythonpath",
                sys.executable,
                str(ROOT / "host_py" / "sandlink"),
            ],
        )
        sys.exit(package.returncode or users.returncode or pyright.returncode)


if __name__ == "__main__":
    main()
