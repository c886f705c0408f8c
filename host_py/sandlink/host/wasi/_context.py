"""One load's WASI: the implementations `Wasi` grants, bound to their state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from . import Wasi, _cli, _clocks, _filesystem, _io, _random, _sockets

MAX_FILES = 256  # host fds the guest may hold at once (descriptors, file streams, listings)
MAX_RANDOM = 1 << 26  # bytes of randomness one call may ask for


class Context:
    """One load's WASI state: its preopened directories' fds, stdin's position, the
    output sinks. Shared by the load's threads (each still has its own handle tables)."""

    def __init__(self, wasi: Wasi, timeout: float | None, memory: int | None) -> None:
        self.wasi = wasi
        files = _io.FdBudget(MAX_FILES)  # shared by every preopen of this load
        self.roots = [
            _filesystem.Root(host, guest, writable, files)
            for guest, (host, writable) in wasi.preopens.items()
        ]
        self.stdin = _io.BytesSource(wasi.stdin)
        self.stdout = _cli.sink(wasi.stdout, "stdout")
        self.stderr = _cli.sink(wasi.stderr, "stderr")
        self.interfaces = self._interfaces(timeout, min(memory or MAX_RANDOM, MAX_RANDOM))

    def _interfaces(self, timeout: float | None, cap: int) -> dict[str, dict[str, Any]]:
        wasi = self.wasi
        subscribe_instant, subscribe_duration = _clocks.subscriptions(timeout)
        return {
            "wasi:cli/environment": {
                "get-environment": lambda: list(wasi.env.items()),
                "get-arguments": lambda: list(wasi.args),
                "initial-cwd": lambda: None,
            },
            "wasi:cli/exit": {"exit": _cli.exit, "exit-with-code": _cli.exit_with_code},
            "wasi:cli/stdin": {"get-stdin": lambda: _io.InputStream(self.stdin)},
            "wasi:cli/stdout": {"get-stdout": lambda: _io.OutputStream(self.stdout)},
            "wasi:cli/stderr": {"get-stderr": lambda: _io.OutputStream(self.stderr)},
            "wasi:cli/terminal-input": {"terminal-input": _cli.TerminalInput},
            "wasi:cli/terminal-output": {"terminal-output": _cli.TerminalOutput},
            "wasi:cli/terminal-stdin": {"get-terminal-stdin": _cli.no_terminal},
            "wasi:cli/terminal-stdout": {"get-terminal-stdout": _cli.no_terminal},
            "wasi:cli/terminal-stderr": {"get-terminal-stderr": _cli.no_terminal},
            "wasi:io/error": {"error": _io.Error},
            "wasi:io/poll": {"pollable": _io.Pollable, "poll": _io.poll},
            "wasi:io/streams": {
                "input-stream": _io.InputStream,
                "output-stream": _io.OutputStream,
            },
            "wasi:clocks/monotonic-clock": {
                "now": _clocks.monotonic_now,
                "resolution": _clocks.monotonic_resolution,
                "subscribe-instant": subscribe_instant,
                "subscribe-duration": subscribe_duration,
            },
            "wasi:clocks/wall-clock": {
                "now": _clocks.wall_now,
                "resolution": _clocks.wall_resolution,
            },
            "wasi:random/random": _random.secure(cap),
            "wasi:random/insecure": _random.insecure(cap),
            "wasi:random/insecure-seed": _random.insecure_seed(),
            "wasi:filesystem/types": {
                "descriptor": _filesystem.Descriptor,
                "directory-entry-stream": _filesystem.DirectoryEntryStream,
                "filesystem-error-code": _filesystem.filesystem_error_code,
            },
            "wasi:filesystem/preopens": {
                "get-directories": lambda: _filesystem.preopened(self.roots)
            },
            **_sockets.INTERFACES,
        }

    def with_imports(
        self,
        functions: Sequence[Any],
        resources: Sequence[Any],
        imports: Mapping[str, Mapping[str, Any]],
    ) -> dict[str, Mapping[str, Any]]:
        """The implementations of the `wasi:*` 0.2 functions and resources a component
        imports (`_structure.Function`s, host `ResourceType`s), with the user's `imports`
        over them (the user's win). What neither has stays a missing import."""
        merged: dict[str, Mapping[str, Any]] = {}
        for item in [*functions, *resources]:
            interface = item.interface or ""
            unversioned, _, version = interface.partition("@")
            implemented = self.interfaces.get(unversioned)
            name = getattr(item, "wit_name", item.name)
            if implemented is not None and version.startswith("0.2.") and name in implemented:
                merged.setdefault(interface, {})[name] = implemented[name]  # type: ignore[index]
        for key, items in imports.items():
            merged[key] = {**merged[key], **items} if key in merged else items
        return merged
