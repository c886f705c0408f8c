"""Proves README's "Adding a kernel" (`just check-add-kernel`, run by CI).

Copies the tree to a temporary directory, adds a throw-away kernel there in exactly the
five places the README lists (a WIT line, a Rust function, its registration line, a method
of the Python reference and a test), runs `just generate` (which rewrites only derived
files), then builds it and runs the new test on every backend, plus the tests that hold
the generated files and all backends to the WIT. Any other file the kernel would need is
a failure here: the copy has no other change.

The kernel is Adler-32 (RFC 1950): `checksum: func(data: list<u8>) -> u32`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WIT_LINE = """
    /// Adler-32 (RFC 1950) of `data`.
    checksum: func(data: list<u8>) -> u32;
"""
RUST_FUNCTION = """
/// Adler-32 (RFC 1950) of `data`.
pub fn checksum(data: alloc::vec::Vec<u8>) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}
"""
REGISTRATION = "pub use crate::arith::checksum;\n"
PYTHON_REFERENCE = """
    def checksum(self, data: Any) -> int:
        a, b = 1, 0
        for byte in check_buffer("data", data).cast("B"):
            a = (a + byte) % 65521
            b = (b + a) % 65521
        return (b << 16) | a
"""
TEST = '''"""The throw-away kernel `checksum` (tools/check_add_kernel.py), on every backend."""

import zlib

import pytest

import sandlink


@pytest.mark.parametrize("backend", ["wasm", "oracle", "native", "python"])
def test_checksum(backend):
    k = sandlink.load(backend)
    assert k.checksum(b"Wikipedia") == 0x11E60398
    assert k.checksum(b"") == 1
    data = bytes(range(256)) * 300
    assert k.checksum(bytearray(data)) == zlib.adler32(data)
    assert k.checksum(memoryview(data)[::3]) == zlib.adler32(data[::3])
    with pytest.raises(TypeError, match="data"):
        k.checksum("not bytes")
    assert k.checksum.__doc__ == "Adler-32 (RFC 1950) of `data`."
'''

#: Each place: (path, text inserted, the line it goes after: None for a new file).
PLACES = [
    (
        "wit/sandlink.wit",
        WIT_LINE,
        "    ws-mask: func(payload: list<u8>, key: u32, offset: u32) -> list<u8>;\n",
    ),
    ("src/arith.rs", RUST_FUNCTION, "    a.wrapping_add(b)\n}\n"),
    ("src/registry.rs", REGISTRATION, "pub use crate::arith::add;\n"),
    ("host_py/sandlink/_python.py", PYTHON_REFERENCE, "    masked_copy = ws_mask\n"),
    ("host_py/tests/test_checksum.py", TEST, None),
]
#: What `just generate` rewrites from the five.
DERIVED = {"host_py/sandlink/_api.py", "README.md"}
TESTS = [
    "tests/test_checksum.py",
    "tests/test_generated_api.py",
    "tests/test_artifact.py",
    "tests/test_backends_agree.py",
]


def copy_tree(destination: Path) -> None:
    """The working tree as git sees it (tracked and new files, not ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    subprocess.run(["git", "add", "-A"], cwd=destination, check=True)
    subprocess.run(
        ["git", "-c", "user.name=check", "-c", "user.email=check@invalid", "commit", "-qm", "copy"],
        cwd=destination,
        check=True,
    )


def add_kernel(tree: Path) -> None:
    for name, text, after in PLACES:
        path = tree / name
        if after is None:
            path.write_text(text, encoding="utf-8")
            continue
        source = path.read_text(encoding="utf-8")
        if source.count(after) != 1:
            sys.exit(f"check-add-kernel: {name} no longer has the line {after.strip()!r} once")
        path.write_text(source.replace(after, after + text), encoding="utf-8")


def run(tree: Path, *command: str) -> None:
    print("+", " ".join(command), flush=True)
    subprocess.run(command, cwd=tree, check=True)


def changed_files(tree: Path) -> set[str]:
    status = subprocess.run(
        ["git", "status", "--porcelain", "-uall"], cwd=tree, capture_output=True, check=True
    ).stdout.decode()
    return {line[3:] for line in status.splitlines()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the copy and print its path")
    args = parser.parse_args(argv)
    tree = Path(tempfile.mkdtemp(prefix="sandlink-add-kernel-"))
    try:
        copy_tree(tree)
        add_kernel(tree)
        run(tree, "just", "generate")
        touched = changed_files(tree)
        expected = {name for name, _, _ in PLACES} | DERIVED
        if touched != expected:
            sys.exit(f"check-add-kernel: changed {sorted(touched)}, expected {sorted(expected)}")
        run(tree, "just", "build")
        run(
            tree / "host_py",
            "../.venv/bin/python",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *TESTS,
        )
        print(f"check-add-kernel: a kernel added in {len(PLACES)} places works on every backend")
        return 0
    finally:
        if args.keep:
            print(f"check-add-kernel: the copy is {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
