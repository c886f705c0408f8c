"""WASI 0.2 for the fast host, implemented here, granting nothing unless asked.

`Wasi` says what a component gets: its arguments, environment, stdin, where its stdout
and stderr go, and which host directories it sees (read-only or read-write). Clocks and
random numbers are always there. `load_component(path, wasi=Wasi(...))` (or `wasi=True`:
nothing granted) implements every `wasi:*` 0.2 interface the component imports from the
modules here, as host functions and host resource classes; an interface sandlink does not
implement (`wasi:sockets`, `wasi:http`) is a load error naming it unless `imports` has it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Output = Callable[[bytes], Any] | str | None


class Wasi:
    """What a component may use of the host through WASI 0.2 (nothing by default).

    - `args`: its arguments (`std::env::args()`); `env`: its environment variables.
    - `stdin`: the bytes it reads from standard input (default: none).
    - `stdout`, `stderr`: a callable given each write's bytes, `"inherit"` (this process's
      own `sys.stdout`/`sys.stderr`), or None (default: the `sandlink.wasi` logger, one
      record per line, INFO for stdout and WARNING for stderr).
    - `preopens`: {guest path: host directory, or (host directory, "ro" | "rw")}: the only
      files it can reach ("ro" unless said). Nothing outside them is reachable: not with
      `..`, absolute paths, symlinks or hard links.
    """

    __slots__ = ("args", "env", "preopens", "stderr", "stdin", "stdout")

    def __init__(
        self,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        stdin: bytes | bytearray | memoryview | None = None,
        stdout: Output = None,
        stderr: Output = None,
        preopens: Mapping[str, str | os.PathLike[str] | tuple[str | os.PathLike[str], str]]
        | None = None,
    ) -> None:
        if isinstance(args, (str, bytes)) or not all(isinstance(a, str) for a in args):
            raise TypeError("Wasi(args=...) must be a sequence of str")
        self.args = list(args)
        env = dict(env or {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise TypeError("Wasi(env=...) must map str to str")
        self.env = env
        if stdin is not None and not isinstance(stdin, (bytes, bytearray, memoryview)):
            raise TypeError(f"Wasi(stdin=...) must be bytes or None, not {type(stdin).__name__}")
        self.stdin = bytes(stdin or b"")
        for name, target in (("stdout", stdout), ("stderr", stderr)):
            if not (target is None or target == "inherit" or callable(target)):
                raise TypeError(f'Wasi({name}=...) must be a callable, "inherit" or None')
        self.stdout, self.stderr = stdout, stderr
        self.preopens: dict[str, tuple[str, bool]] = {}
        for guest, given in (preopens or {}).items():
            host, mode = given if isinstance(given, tuple) else (given, "ro")
            if mode not in ("ro", "rw"):
                raise ValueError(f'Wasi(preopens=...): mode of {guest!r} must be "ro" or "rw"')
            if not isinstance(guest, str) or not guest:
                raise TypeError("Wasi(preopens=...): guest paths must be non-empty str")
            host = os.fspath(host)
            if not os.path.isdir(host):
                raise ValueError(f"Wasi(preopens=...): {host!r} is not a directory")
            self.preopens[guest] = (host, mode == "rw")

    def __repr__(self) -> str:
        granted = [
            f"{name}={getattr(self, name)!r}"
            for name in ("args", "env", "preopens")
            if getattr(self, name)
        ]
        return f"Wasi({', '.join(granted)})"
