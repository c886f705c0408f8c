"""WASI 0.2: a real Rust `std` guest (tests/wasi_guests/wasi_cli, built for wasm32-wasip2)
on the fast host, whose WASI is sandlink's own, against the oracle, whose WASI is
wasmtime's (`Linker.add_wasip2`): same results, nothing granted by default, no escape from
a preopened directory (the attacks run in a child process)."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import pytest
from test_hostile import BACKENDS, encode, run_child, show

import sandlink
from sandlink import Err, Ok


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def tree(root: Path) -> Path:
    """A preopen with a file and a subdirectory, beside a secret outside it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "secret.txt").write_text("SECRET")
    box = root / "box"
    (box / "sub").mkdir(parents=True)
    (box / "hello.txt").write_text("hi there")
    return box


def story(k: Any) -> list[Any]:
    """Every kind of WASI use the guest has, with results that do not depend on time."""
    return [
        k.add(2, 3),
        k.greet("you"),
        k.args(),
        k.env(),
        k.read_stdin(),
        k.read_stdin(),  # stdin is read once
        k.read_file("/data/hello.txt"),
        k.read_file("/data/missing.txt"),
        k.read_file("/elsewhere/x"),
        k.write_file("/data/new.txt", "new"),
        k.append_file("/data/new.txt", "+more"),
        k.read_file("/data/new.txt"),
        k.file_size("/data/new.txt"),
        k.list_dir("/data"),
        k.make_dir("/data/sub/deeper"),
        k.make_dir("/data/sub/deeper"),
        k.rename_path("/data/new.txt", "/data/sub/deeper/moved.txt"),
        k.list_dir("/data/sub/deeper"),
        k.remove_file("/data/sub/deeper"),
        k.remove_file("/data/sub/deeper/moved.txt"),
        k.remove_dir("/data/sub/deeper"),
        k.soft_link("hello.txt", "/data/link"),
        k.read_link("/data/link"),
        k.read_file("/data/link"),
        k.hard_link("/data/hello.txt", "/data/hard"),
        k.read_file("/data/hard"),
        k.remove_file("/data/link"),
        k.remove_file("/data/hard"),
        len(k.random_bytes(33)),
        k.random_bytes(0),
        k.elapsed_nanos() >= 0,
        abs(k.wall_seconds() - time.time()) < 60,
    ]


def test_the_guest_agrees_with_the_oracle(wasi_cli, tmp_path):
    runs = {}
    for backend in BACKENDS:
        box = tree(tmp_path / backend)
        out: list[bytes] = []
        err: list[bytes] = []
        wasi = sandlink.Wasi(
            args=["prog", "two words"],
            env={"B": "2", "A": "1"},
            stdin=b"from stdin\n",
            stdout=out.append,
            stderr=err.append,
            preopens={"/data": (box, "rw")},
        )
        k = sandlink.load_component(wasi_cli, backend=backend, wasi=wasi)
        results = story(k)
        k.shout("loud")
        assert b"".join(out) == b"hello, you\n", backend
        assert b"".join(err) == b"loud\n", backend
        runs[backend] = results
        assert sorted(os.listdir(box)) == ["hello.txt", "sub"], backend
    assert runs["wasm"] == runs["oracle"]
    assert runs["wasm"][:8] == [
        5,
        "hello, you",
        ["prog", "two words"],
        [("A", "1"), ("B", "2")],
        b"from stdin\n",
        b"",
        Ok("hi there"),
        Err("No such file or directory (os error 44)"),
    ]


def test_a_python_guest_agrees_with_the_oracle(pyguest):
    """Another toolchain's component (CPython inside, importing wasi:sockets too)."""
    runs = {}
    for backend in BACKENDS:
        out: list[bytes] = []
        k = sandlink.load_component(pyguest, backend=backend, wasi=sandlink.Wasi(stdout=out.append))
        items = k.tally(["b", "a", "b", "é"])
        runs[backend] = [
            k.add(2**32 - 1, 2),
            k.greet("wasm"),
            [(i.name, i.count, i.tags) for i in items],
            k.total(items),
            k.can_connect(),  # sockets are imported, but there is no network
            b"".join(out),
        ]
    assert runs["wasm"] == runs["oracle"]
    assert runs["wasm"] == [
        1,
        "hello, wasm",
        [("a", 1, ["A"]), ("b", 2, ["B"]), ("é", 1, ["É"])],
        4,
        False,
        b"hello, wasm\n",
    ]


def test_exit_is_guest_exit_and_the_component_goes_on(wasi_cli, backend):
    k = sandlink.load_component(wasi_cli, backend=backend, wasi=True)
    with pytest.raises(sandlink.GuestExit) as exited:
        k.exit_with(0)
    assert exited.value.code == 0
    with pytest.raises(sandlink.GuestExit) as exited:
        k.exit_with(3)
    assert exited.value.code == 1  # WASI 0.2's exit says only ok or err
    assert k.add(1, 1) == 2


def test_nothing_is_granted_by_default(wasi_cli, backend, caplog):
    k = sandlink.load_component(wasi_cli, backend=backend, wasi=True)
    with caplog.at_level(logging.INFO, logger="sandlink.wasi"):
        assert k.greet("log") == "hello, log"
        k.shout("warned")
    assert k.args() == []
    assert k.env() == []
    assert k.read_stdin() == b""
    assert k.read_file("/data/hello.txt") == Err("No such file or directory (os error 44)")
    assert k.list_dir("/") == Err("No such file or directory (os error 44)")
    assert len(k.random_bytes(8)) == 8  # clocks and random numbers are always there
    if backend == "wasm":  # wasmtime's logger is its own
        records = [(r.levelname, r.getMessage()) for r in caplog.records]
        assert records == [
            ("INFO", "guest stdout: hello, log"),
            ("WARNING", "guest stderr: warned"),
        ]


def test_inherited_output_is_this_process_s(wasi_cli, backend, capfd):
    k = sandlink.load_component(
        wasi_cli, backend=backend, wasi=sandlink.Wasi(stdout="inherit", stderr="inherit")
    )
    k.greet("fd")
    k.shout("fd2")
    captured = capfd.readouterr()
    assert captured.out == "hello, fd\n"
    assert captured.err == "fd2\n"


def test_without_wasi_the_load_error_says_how(wasi_cli, backend):
    with pytest.raises(sandlink.SandlinkError, match=r"missing import: wasi:.*wasi=") as raised:
        sandlink.load_component(wasi_cli, backend=backend)
    assert "wasi:cli/environment@0.2.6#get-arguments" in str(raised.value)


def test_read_only_preopens_refuse_changes(wasi_cli, tmp_path):
    runs = {}
    for backend in BACKENDS:
        box = tree(tmp_path / backend)
        k = sandlink.load_component(
            wasi_cli, backend=backend, wasi=sandlink.Wasi(preopens={"/data": box})
        )
        runs[backend] = [
            k.read_file("/data/hello.txt"),
            k.write_file("/data/hello.txt", "changed"),
            k.write_file("/data/new.txt", "new"),
            k.append_file("/data/hello.txt", "more"),
            k.make_dir("/data/dir"),
            k.remove_file("/data/hello.txt"),
            k.remove_dir("/data/sub"),
            k.rename_path("/data/hello.txt", "/data/moved.txt"),
            k.soft_link("hello.txt", "/data/link"),
            k.hard_link("/data/hello.txt", "/data/hard"),
        ]
        assert sorted(os.listdir(box)) == ["hello.txt", "sub"], backend
        assert (box / "hello.txt").read_text() == "hi there", backend
    assert runs["wasm"][0] == Ok("hi there")
    assert all(isinstance(r, Err) for r in runs["wasm"][1:]), runs["wasm"]
    assert runs["wasm"] == runs["oracle"]


def test_the_user_s_imports_override_sandlink_s_wasi(wasi_cli):
    k = sandlink.load_component(
        wasi_cli, wasi=True, imports={"environment": {"get-arguments": lambda: ["mine"]}}
    )
    assert k.args() == ["mine"]


def test_a_sleep_past_the_timeout_stops_at_it(wasi_cli):
    k = sandlink.load_component(wasi_cli, wasi=True, limits=sandlink.Limits(timeout=0.3))
    started = time.monotonic()
    with pytest.raises(sandlink.Timeout):
        k.sleep_ms(60_000)
    assert time.monotonic() - started < 30  # a hang would be a minute
    k.sleep_ms(1)


@pytest.mark.parametrize(
    ("given", "error"),
    [
        ({"args": "prog"}, TypeError),
        ({"args": [1]}, TypeError),
        ({"env": {"A": 1}}, TypeError),
        ({"stdin": "text"}, TypeError),
        ({"stdout": "somewhere"}, TypeError),
        ({"preopens": {"/d": ("/nonexistent-sandlink-dir", "ro")}}, ValueError),
        ({"preopens": {"/d": (".", "rwx")}}, ValueError),
    ],
)
def test_bad_capabilities_are_refused(given, error):
    with pytest.raises(error):
        sandlink.Wasi(**given)


def test_wasi_must_be_a_wasi(wasi_cli):
    with pytest.raises(TypeError, match=r"wasi must be a sandlink\.Wasi"):
        sandlink.load_component(wasi_cli, wasi={"args": []})


# -- escapes from a preopen (in a child: a crash fails the test, not pytest) ---------------

ESCAPES = """
import os, shutil
base = ARGS["base"]
box = os.path.join(base, "box")
os.makedirs(os.path.join(box, "sub"))
with open(os.path.join(base, "secret.txt"), "w") as f:
    f.write("SECRET")
with open(os.path.join(box, "inside.txt"), "w") as f:
    f.write("inside")
os.symlink("..", os.path.join(box, "dirlink"))
os.symlink("../secret.txt", os.path.join(box, "secret_link"))
os.symlink(os.path.join(base, "secret.txt"), os.path.join(box, "abs"))
os.symlink("../inside.txt", os.path.join(box, "sub", "up_link"))
wasi = sandlink.Wasi(preopens={"/data": (box, "rw")})
k = sandlink.load_component(ARGS["path"], backend=ARGS["backend"], wasi=wasi, cache_dir=False)
results = [call(k, name, *args) for name, args in ARGS["calls"]]
outside = sorted(os.listdir(base))
with open(os.path.join(base, "secret.txt")) as f:
    secret = f.read()
hard = os.path.join(box, "hl")
linked = os.path.exists(hard) and os.stat(hard, follow_symlinks=False).st_ino == os.stat(
    os.path.join(base, "secret.txt")).st_ino
emit({"results": results, "outside": outside, "secret": secret, "linked": linked})
"""

# (call, allowed) where allowed: "ok" (an Ok result), "err" (an Err result), or a value.
ESCAPE_CASES: list[tuple[tuple[str, tuple[str, ...]], Any]] = [
    (("read_file", ("/data/../secret.txt",)), "err"),
    (("read_file", ("/data/sub/../../secret.txt",)), "err"),
    (("read_file", ("/data/secret_link",)), "err"),
    (("read_file", ("/data/abs",)), "err"),
    (("read_file", ("/data/dirlink/secret.txt",)), "err"),
    (("read_file", ("/data/sub/up_link",)), Ok("inside")),  # a symlink that stays inside
    (("file_size", ("/data/abs",)), "err"),
    (("list_dir", ("/data/..",)), "err"),
    (("list_dir", ("/data/dirlink",)), "err"),
    (("write_file", ("/data/dirlink/evil.txt", "x")), "err"),
    (("write_file", ("/data/secret_link", "x")), "err"),
    (("append_file", ("/data/abs", "x")), "err"),
    (("make_dir", ("/data/../evil",)), "err"),
    (("make_dir", ("/data/dirlink/evil",)), "err"),
    (("rename_path", ("/data/inside.txt", "/data/../moved.txt")), "err"),
    (("rename_path", ("/data/../secret.txt", "/data/stolen.txt")), "err"),
    (("rename_path", ("/data/dirlink/secret.txt", "/data/stolen.txt")), "err"),
    (("hard_link", ("/data/../secret.txt", "/data/hl")), "err"),
    (("hard_link", ("/data/dirlink/secret.txt", "/data/hl")), "err"),
    (("hard_link", ("/data/secret_link", "/data/hl")), "ok"),  # links the symlink itself
    (("read_file", ("/data/hl",)), "err"),
    (("soft_link", ("/etc/passwd", "/data/sl")), "err"),
    (("read_file", ("/data/sl",)), "err"),
    (("remove_file", ("/data/dirlink/secret.txt",)), "err"),
    (("remove_dir", ("/data/..",)), "err"),
    (("remove_file", ("/data/secret_link",)), Ok(None)),  # the link, not its target
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_path_escapes_a_preopen(backend, wasi_cli, tmp_path):
    calls = [[name, list(args)] for (name, args), _ in ESCAPE_CASES]
    result = run_child(
        ESCAPES, path=str(wasi_cli), backend=backend, base=str(tmp_path), calls=calls
    )
    assert result["outside"] == ["box", "secret.txt"], f"[{backend}] {result['outside']}"
    assert result["secret"] == "SECRET"
    assert not result["linked"], f"[{backend}] a hard link to the secret was made inside"
    for ((name, args), allowed), out in zip(ESCAPE_CASES, result["results"], strict=True):
        what = f"[{backend}] {name}{args}: {show(out)}"
        assert "value" in out, what
        if allowed in ("ok", "err"):
            assert out["value"][0] == allowed.capitalize(), what
        else:
            assert out == {"value": encode(allowed)}, what


def test_symlinks_the_guest_makes_only_point_down(wasi_cli, tmp_path):
    """Stricter than wasmtime, on purpose: a symlink target with `..` is refused (other
    programs reading the directory might follow it out). A `..` that stays inside is too:
    through a link to `.`, or once the link is moved, it could point out after all."""
    box = tree(tmp_path)
    k = sandlink.load_component(wasi_cli, wasi=sandlink.Wasi(preopens={"/data": (box, "rw")}))
    refused = Err("Operation not permitted (os error 63)")
    assert k.soft_link("../secret.txt", "/data/out") == refused
    assert k.soft_link("sub/../hello.txt", "/data/in") == refused
    assert k.soft_link(".", "/data/dot") == Ok(None)
    assert k.soft_link("dot/../secret.txt", "/data/out") == refused  # (dot -> . -> box)
    assert k.soft_link("hello.txt", "/data/sub/down") == Ok(None)
    assert k.rename_path("/data/sub/down", "/data/moved") == Ok(None)  # still inside
    assert k.read_file("/data/moved") == Ok("hi there")
    for link in ("dot", "moved"):
        assert os.path.realpath(box / link).startswith(str(box.resolve()))
    assert sorted(os.listdir(box)) == ["dot", "hello.txt", "moved", "sub"]


FIFO = """
import os
box = os.path.join(ARGS["base"], "box")
os.makedirs(box)
os.mkfifo(os.path.join(box, "pipe"))  # nobody ever writes to it
wasi = sandlink.Wasi(preopens={"/data": (box, "rw")})
k = sandlink.load_component(ARGS["path"], wasi=wasi, cache_dir=False)
emit({"read": call(k, "read_file", "/data/pipe"), "size": call(k, "file_size", "/data/pipe"),
      "append": call(k, "append_file", "/data/pipe", "x")})
"""


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_a_preopen_hangs_nothing(wasi_cli, tmp_path):
    """Opening or reading a FIFO nobody writes would block the host inside a host call,
    where no timeout reaches: sandlink's descriptors never block (the child must not hang)."""
    result = run_child(FIFO, path=str(wasi_cli), base=str(tmp_path), hang_after=20)
    assert result["read"]["value"][0] == "Err", show(result["read"])
    assert result["size"] == {"value": encode(Ok(0))}
    assert "value" in result["append"], show(result["append"])
