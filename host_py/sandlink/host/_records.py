"""Record classes: frozen, slotted and dataclass-compatible, made without `dataclasses`.

Importing `dataclasses` pulls in `inspect` (with `ast`, `dis`, `tokenize`): ~8 ms of every
fresh process, more than the rest of sandlink. These classes behave as the frozen
dataclasses they stand for (`__init__` with defaults, `__repr__`, `__eq__`, `__hash__`,
`__match_args__`, pickling, `FrozenInstanceError` on assignment), and `dataclasses`
recognizes them: `__dataclass_fields__` and `__dataclass_params__` are made on first use
from the equivalent dataclass, so `dataclasses.fields`, `asdict`, `replace` and
`is_dataclass` work on them.
"""

from __future__ import annotations

import _thread
from collections.abc import Callable
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:  # type checkers know it from their own stubs; nothing imports it at run time
    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorator: decorator


T = TypeVar("T", bound=type)

FIELDS = "__sandlink_fields__"
"""On each record class (in its own `__dict__`): its field names, in order."""


if TYPE_CHECKING:  # to a type checker, the default is what the factory makes
    V = TypeVar("V")

    def factory(default_factory: Callable[[], V]) -> V: ...

else:

    class factory:  # lower case: it reads as a default, `cars: list[str] = factory(list)`
        """A field default made fresh per instance (`dataclasses.field(default_factory=)`)."""

        __slots__ = ("make",)

        def __init__(self, default_factory: Callable[[], Any]) -> None:
            self.make = default_factory


@overload
def record(cls: T, /) -> T: ...


@overload
def record(*, slots: bool = True) -> Callable[[T], T]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(factory,))
def record(cls: Any = None, /, *, slots: bool = True) -> Any:
    """Class decorator: the class as a frozen record of its annotated fields (in order; a
    class-level value is the field's default, `factory(f)` a fresh `f()` per instance).
    Methods, class methods and `__post_init__` (run by `__init__`) are kept."""

    def wrap(cls: T) -> T:
        body = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
        names = tuple(body.get("__annotations__", {}))
        defaults = {name: body.pop(name) for name in names if name in body}
        made = _make(cls.__name__, names, defaults, body, slots, cls.__bases__)
        made.__qualname__ = cls.__qualname__
        return made  # type: ignore[return-value]

    return wrap if cls is None else wrap(cls)


def record_class(name: str, fields: tuple[str, ...], module: str) -> type:
    """A frozen, slotted record class `name` with these fields (all required)."""
    body = {
        "__module__": module,
        "__doc__": f"{name}({', '.join(fields)})",
        "__annotations__": dict.fromkeys(fields, "Any"),
    }
    return _make(name, fields, {}, body, True, (object,))


def _make(
    name: str,
    names: tuple[str, ...],
    defaults: dict[str, Any],
    body: dict[str, Any],
    slots: bool,
    bases: tuple[type, ...],
) -> type:
    for field in names:
        if not field.isidentifier() or field.startswith("__"):
            raise ValueError(f"record {name}: {field!r} cannot be a field name")
    methods = {"__init__": _init(names, defaults, "__post_init__" in body), **_methods(names)}
    for method, function in methods.items():
        function.__qualname__ = f"{name}.{method}"
    body.update(methods)
    if slots:
        body["__slots__"] = names
    else:  # the default pickling sets __dict__, not the (frozen) attributes
        del body["__getstate__"], body["__setstate__"]
    body["__match_args__"] = names
    body[FIELDS] = names
    body["__dataclass_fields__"] = _DataclassInfo("__dataclass_fields__")
    body["__dataclass_params__"] = _DataclassInfo("__dataclass_params__")
    return type(name, bases, body)


def _init(names: tuple[str, ...], defaults: dict[str, Any], post_init: bool) -> Any:
    """`__init__`, compiled: what building every lifted record runs."""
    params = ["self"]
    sets = []
    for field in names:
        default = defaults.get(field, _required)
        if default is _required:
            params.append(field)
            sets.append(f" _set(self, {field!r}, {field})")
        elif isinstance(default, factory):  # type: ignore[arg-type]  # a class at run time
            params.append(f"{field}=_factory")
            sets.append(
                f" _set(self, {field!r}, _defaults[{field!r}].make() "
                f"if {field} is _factory else {field})"
            )
        else:
            params.append(f"{field}=_defaults[{field!r}]")
            sets.append(f" _set(self, {field!r}, {field})")
    lines = [f"def __init__({', '.join(params)}):", *sets]
    if post_init:
        lines.append(" self.__post_init__()")
    namespace = {"_set": object.__setattr__, "_defaults": defaults, "_factory": factory}
    exec("\n".join(lines) + "\n pass\n", namespace)
    return namespace["__init__"]


def _methods(names: tuple[str, ...]) -> dict[str, Any]:
    """The other methods, closures over the fields (no compiling: records are made at load)."""
    get = attrgetter(*names) if names else (lambda record: ())
    values = (lambda record: (get(record),)) if len(names) == 1 else get

    def __repr__(self: Any) -> str:
        with _ReprGuard(self) as again:
            if again:
                return "..."
            shown = ", ".join(f"{n}={v!r}" for n, v in zip(names, values(self), strict=True))
            return f"{type(self).__qualname__}({shown})"

    def __eq__(self: Any, other: object) -> Any:
        if other.__class__ is self.__class__:
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(values(self))

    def __setattr__(self: Any, name: str, value: object) -> None:
        _frozen(name)

    def __delattr__(self: Any, name: str) -> None:
        _frozen(name)

    def __getstate__(self: Any) -> list[Any]:
        return list(values(self))

    def __setstate__(self: Any, state: list[Any]) -> None:
        for name, value in zip(names, state, strict=True):
            object.__setattr__(self, name, value)

    return {
        "__repr__": __repr__,
        "__eq__": __eq__,
        "__hash__": __hash__,
        "__setattr__": __setattr__,
        "__delattr__": __delattr__,
        "__getstate__": __getstate__,
        "__setstate__": __setstate__,
    }


class _Required:
    """No default: the field is a required argument."""


_required = _Required()


def _frozen(name: str) -> None:
    import dataclasses  # only on this mistake

    raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")


_SHOWING: set[tuple[int, int]] = set()  # (record id, thread) of the reprs being made


class _ReprGuard:
    """Marks a record as being shown on this thread: a record inside itself shows as `...`."""

    __slots__ = ("again", "key")

    def __init__(self, record: object) -> None:
        self.key = (id(record), _thread.get_ident())

    def __enter__(self) -> bool:
        self.again = self.key in _SHOWING
        _SHOWING.add(self.key)
        return self.again

    def __exit__(self, *exc: object) -> None:
        if not self.again:
            _SHOWING.discard(self.key)


class _DataclassInfo:
    """`__dataclass_fields__` / `__dataclass_params__` of a record class, made on first use
    from the dataclass it stands for (then stored on the class in this object's place)."""

    def __init__(self, attribute: str) -> None:
        self.attribute = attribute

    def __get__(self, obj: object, owner: type) -> Any:
        import dataclasses
        import inspect  # dataclasses imports it anyway

        names = owner.__dict__[FIELDS]
        types = inspect.get_annotations(owner)
        init = owner.__dict__["__init__"]
        defaults = init.__defaults__ or ()
        required = len(names) - len(defaults)
        spec: list[Any] = []
        for i, field in enumerate(names):
            kind = types.get(field, Any)
            if i < required:
                spec.append((field, kind))
            elif defaults[i - required] is factory:
                made = init.__globals__["_defaults"][field].make
                spec.append((field, kind, dataclasses.field(default_factory=made)))
            else:
                spec.append((field, kind, dataclasses.field(default=defaults[i - required])))
        twin = dataclasses.make_dataclass(owner.__name__, spec, frozen=True)
        for attribute in ("__dataclass_fields__", "__dataclass_params__"):
            type.__setattr__(owner, attribute, getattr(twin, attribute))
        return owner.__dict__[self.attribute]
