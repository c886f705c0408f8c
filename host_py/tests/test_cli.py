"""`python -m sandlink`: `info` shows a component's exports and imports as Python
signatures; `call` calls one export (WASI components get only what the options grant).
Each runs as the command does, in a child process."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

import sandlink
from conftest import HOSTRES, PYGUEST, REPO, WASI_CLI, _guest


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sandlink", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        cwd=Path(sandlink.__file__).parents[1],
    )


def test_info_lists_exports_and_imports_as_python_signatures():
    path = _guest(HOSTRES)
    done = run("info", str(path))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert lines[0] == f"{path}: {path.stat().st_size:,} bytes, sha256 {digest}"
    assert "  peeked(start: int) -> tuple[int, int]" in lines
    assert "  maybe_value(start: int) -> int | None" in lines
    assert lines[lines.index("imports:") + 1] == "  sandlink:hostres/tally"
    for line in (
        "    Counter(start: int)",
        "    Counter.get(self) -> int",
        "    Counter.merge(a: Counter, b: Counter) -> Counter  (static)",
        "    fresh(n: int) -> list[Counter]",
        "    maybe(start: int) -> Counter | None",
    ):
        assert line in lines


def test_call_prints_the_result_and_the_guest_s_output():
    done = run("call", str(_guest(WASI_CLI)), "greet", "world")
    assert (done.returncode, done.stdout) == (0, b"hello, world\n'hello, world'\n"), done.stderr
    assert run("call", str(WASI_CLI), "add", "4294967295", "2").stdout == b"1\n"


def test_call_grants_only_what_the_options_say(tmp_path):
    (tmp_path / "x.txt").write_text("data")
    wasm = str(_guest(WASI_CLI))
    assert run("call", wasm, "args").stdout == b"[]\n"
    assert run("call", wasm, "args", "--arg", "a", "--arg", "b c").stdout == b"['a', 'b c']\n"
    assert run("call", wasm, "env", "--env", "K=V").stdout == b"[('K', 'V')]\n"
    assert run("call", wasm, "read_stdin", stdin=b"in").stdout == b"b'in'\n"
    denied = run("call", wasm, "read-file", "/data/x.txt").stdout
    assert denied == b"Err(value='No such file or directory (os error 44)')\n"
    read = run("call", wasm, "read-file", "/data/x.txt", "--dir", f"/data={tmp_path}").stdout
    assert read == b"Ok(value='data')\n"
    ro = run("call", wasm, "write-file", "/data/y", "z", "--dir", f"/data={tmp_path}").stdout
    assert ro == b"Err(value='Operation not permitted (os error 63)')\n"
    rw = run("call", wasm, "write-file", "/data/y", "z", "--dir", f"/data={tmp_path}:rw")
    assert rw.stdout == b"Ok(value=None)\n"
    assert (tmp_path / "y").read_text() == "z"


def test_call_shapes_json_arguments_by_type():
    path = str(_guest(PYGUEST))
    items = '[{"name": "a", "count": 2, "tags": []}, {"name": "b", "count": 5, "tags": ["x"]}]'
    assert run("call", path, "total", items).stdout == b"7\n"
    masked = run("call", str(REPO / "target" / "sandlink.wasm"), "add", "1", "2")
    assert masked.returncode == 1  # imports print: not something the command can give
    assert b"missing import: sandlink:kernels/host@0.1.0#print" in masked.stderr


@pytest.mark.parametrize(
    ("args", "status", "message"),
    [
        (("exit-with", "0"), 0, b""),
        (("exit-with", "3"), 1, b""),  # WASI 0.2's exit is ok or err
        (("nosuch",), 1, b"exports no 'nosuch'"),
        (("add", "1", "x"), 1, b"TypeError"),
    ],
)
def test_call_failures_are_one_line_and_a_status(args, status, message):
    done = run("call", str(_guest(WASI_CLI)), *args)
    assert done.returncode == status, done.stderr
    assert message in done.stderr
    assert b"Traceback" not in done.stderr


def test_a_missing_file_is_an_error_not_a_traceback():
    done = run("info", "no/such.wasm")
    assert done.returncode == 1
    assert done.stderr.startswith(b"sandlink: FileNotFoundError:")


def test_bench_times_the_kernels_on_each_backend():
    done = run("bench", "--seconds", "0.02")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.decode().splitlines()
    assert lines[0] == "| call | wasm | native | python |"
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| add",
        "| parse_person",
        "| ws_mask 125 B",
        "| ws_mask 64 KiB",
    ]
    assert all(line.count("s |") == 3 for line in lines[2:]), lines
