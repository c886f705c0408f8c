"""What `load_component` returns: a component's exports as attributes, and nothing else.

Functions and resource classes of the top level keep their names; each exported
interface is also a namespace of its own (`c.kernels.add` for
`pkg:ns/kernels@1.0.0#add`), and its members are reachable directly on the component
(`c.add`) unless that name is taken or ambiguous (two interfaces exporting `get`). The
host's own state lives behind `__sandlink__`, a name no WIT export can take, so no
export can shadow it.
"""

from __future__ import annotations

import threading
from typing import Any

from ._engine import EngineHandle, engine_for
from ._limits import Limits
from ._structure import Function, python_name


def document(function: Any, doc: str) -> None:
    """Give a loaded function `doc` as its `__doc__`: a compiled export (a builtin function)
    through the `Export` it is made from, a Python function (or method) directly."""
    from ._ffi import accel

    export = getattr(function, "__self__", None)
    if accel is not None and export is not None and isinstance(export, accel.Export):
        export.doc = doc
        return
    inner = getattr(function, "__func__", function)  # a method: its function
    if hasattr(inner, "__dict__"):  # not some other builtin
        inner.__doc__ = doc


class Namespace:
    """Exports as attributes (a component, or one interface of it)."""

    __label: str

    def __init__(self, label: str) -> None:
        object.__setattr__(self, "_Namespace__label", label)

    def __repr__(self) -> str:
        names = ", ".join(sorted(self.__dict__.keys() - {"_Namespace__label", "__sandlink__"}))
        return f"<{self.__label}: {names}>"

    def __dir__(self) -> list[str]:
        return sorted(k for k in self.__dict__ if not k.startswith("_"))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{self.__label} is read-only")

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)

    def __reduce__(self) -> Any:
        raise TypeError(f"{self.__label} cannot be pickled (load the component again instead)")


class Host:
    """What both backends keep behind a loaded component (its `__sandlink__`)."""

    backend = ""
    exports: list[Function]  # every exported function, described
    imports: list[Function]  # every imported function, described
    record_classes: dict[str, type]  # the class of each record, by WIT name
    component: Component  # the loaded object
    interfaces: dict[str, Namespace]  # each exported interface's namespace, by full name

    def __init__(self, label: str, limits: Limits) -> None:
        self.label = label
        self.limits = limits
        self.engine_handle: EngineHandle = engine_for(limits.fuel is not None)
        self.engine = self.engine_handle.engine
        self.local = threading.local()  # each thread's own instance

    def __repr__(self) -> str:
        return f"<sandlink {self.backend} host of {self.label}>"


class Component(Namespace):
    """A loaded component; `__sandlink__` is the host that runs it."""

    def __init__(self, host: Any, label: str) -> None:
        super().__init__(label)
        object.__setattr__(self, "__sandlink__", host)


def bare_name(interface: str) -> str:
    """`pkg:ns/kernels@1.0.0` -> `kernels`."""
    return interface.rsplit("/", 1)[-1].split("@", 1)[0]


def exposure(items: dict[str | None, dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    """The component's own attributes for `items` (interface or None -> {Python name:
    member}), as (attribute, interface, member name): the top level's members (interface
    None), each interface's namespace (member None) unless its name is taken, and each
    interface member no other interface exports and nothing else took."""
    attributes: list[tuple[str, str | None, str | None]] = [
        (name, None, name) for name in items.get(None, {})
    ]
    taken = set(items.get(None, {}))
    counts: dict[str, int] = {}
    for interface, members in items.items():
        if interface is None:
            continue
        for name in members:
            counts[name] = counts.get(name, 0) + 1
        short = python_name(bare_name(interface))
        if short not in taken:
            attributes.append((short, interface, None))
            taken.add(short)
    for interface, members in items.items():
        if interface is not None:
            attributes += [
                (name, interface, name)
                for name in members
                if counts[name] == 1 and name not in taken
            ]
    return attributes


def expose(component: Component, items: dict[str | None, dict[str, Any]]) -> dict[str, Namespace]:
    """Attach `items` (interface or None -> {Python name: function or class}); return the
    interface namespaces by full interface name."""
    namespaces: dict[str, Namespace] = {}
    for interface, members in items.items():
        if interface is not None:
            namespace = namespaces[interface] = Namespace(f"interface {interface}")
            for name, value in members.items():
                namespace._set(name, value)
    for attribute, interface, member in exposure(items):
        if member is None:
            component._set(attribute, namespaces[interface])  # type: ignore[index]
        else:
            component._set(attribute, items[interface][member])
    return namespaces
