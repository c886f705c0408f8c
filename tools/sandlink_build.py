"""The build backend of sandlink's sdist (PEP 517, in-tree: `backend-path = ["tools"]`).

Building a wheel from the sdist builds what it can: with Rust (`cargo`) on PATH, the
cdylib and the compiled call path, giving this platform's wheel; with `wasm-tools` and the
wasm32-unknown-unknown target too, the component itself (else the one the sdist carries,
byte for byte the one `just build-wasm` made). Without Rust it is the universal wheel.
SANDLINK_NO_RUST=1 forces that. The wheels are made as `tools/build_wheels.py` makes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import build_wheels

ROOT = build_wheels.ROOT
REQUIRES = ["setuptools>=68"]


def get_requires_for_build_wheel(config_settings: dict | None = None) -> list[str]:
    return list(REQUIRES)


def get_requires_for_build_sdist(config_settings: dict | None = None) -> list[str]:
    return []


def build_wheel(
    wheel_directory: str,
    config_settings: dict | None = None,
    metadata_directory: str | None = None,
) -> str:
    out = Path(wheel_directory)
    rust = shutil.which("cargo") is not None and os.environ.get("SANDLINK_NO_RUST") != "1"
    if rust:
        _build_rust()
    staging = out / ".sandlink-universal"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    universal = build_wheels.build_universal(staging, _setuptools_wheel)
    if rust:
        wheel = build_wheels.build_platform(universal, out)
    else:
        wheel = out / universal.name
        shutil.move(universal, wheel)
    shutil.rmtree(staging)
    return wheel.name


def _build_rust() -> None:
    def run(*args: str) -> None:
        print("sandlink:", " ".join(args), file=sys.stderr)
        subprocess.run(args, cwd=ROOT, check=True)

    artifacts = build_wheels.ARTIFACTS
    artifacts.mkdir(exist_ok=True)
    target = "wasm32-unknown-unknown"
    has_target = subprocess.run(
        ["rustup", "target", "list", "--installed"], capture_output=True, text=True
    ).stdout.split()
    if shutil.which("wasm-tools") and target in has_target:
        run("cargo", "build", "--release", "--locked", "--target", target, "-p", "sandlink")
        built = ROOT / "target" / target / "release" / "sandlink.wasm"
        run("wasm-tools", "component", "new", str(built), "-o", str(artifacts / "sandlink.wasm"))
    else:
        print(
            "sandlink: no wasm-tools or wasm32 target: using the component the sdist carries",
            file=sys.stderr,
        )
    run("cargo", "build", "--release", "--locked", "-p", "sandlink")
    shutil.copy(ROOT / "target" / "release" / "libsandlink.so", artifacts)
    run("cargo", "build", "--profile", "accel", "--locked", "-p", "sandlink-accel")
    shutil.copy(
        ROOT / "target" / "accel" / "lib_accel.so",
        build_wheels.PACKAGE / "sandlink" / "host" / "_accel.abi3.so",
    )


def _setuptools_wheel(stage: Path, out: Path) -> None:
    """A wheel of the staged package, by setuptools (this build's own environment)."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta as b; b.build_wheel(sys.argv[1])",
            str(out),
        ],
        cwd=stage,
        check=True,
    )
