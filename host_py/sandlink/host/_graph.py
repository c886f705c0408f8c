"""Reading a component's instantiation graph: its definitions replayed, symbolically.

`read_structure` replays a component's definitions (`_binary`) the way instantiation
would: index spaces fill in order, nested components are instantiated with their
arguments, aliases and exports resolve to what they name. Nothing is guessed from names:
a component that does something sandlink cannot run is an `UnsupportedTypeError` naming
it, and one that breaks the rules a `SandlinkError`. The result is a `_structure.Structure`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from . import _binary as b
from ._errors import SandlinkError, UnsupportedTypeError
from ._structure import (
    CoreRef,
    CoreType,
    Function,
    FuncType,
    Lowered,
    ModuleInfo,
    Options,
    Param,
    Step,
    Structure,
    check_supported,
    host_resources,
    owner_of,
    python_name,
)
from ._types import (
    PRIMITIVE_TYPES,
    Borrow,
    Enum,
    Flags,
    List,
    Option,
    Own,
    Record,
    ResourceType,
    Result,
    Tuple,
    Unsupported,
    ValType,
    Variant,
)

# -- symbolic values of the index spaces


class _Module(NamedTuple):
    index: int  # type: ignore[assignment]  # (shadows tuple.index, which is never used)


class _CoreInstance(NamedTuple):
    step: int


class _Lifted(NamedTuple):
    core: CoreRef
    options: Options
    type: FuncType


class _ImportedFunc(NamedTuple):
    interface: str | None
    name: str
    type: FuncType


class _Instance(NamedTuple):
    exports: dict[str, Any]


class _ImportedInstance(NamedTuple):
    name: str
    type: _InstanceType


class _InstanceType(NamedTuple):
    exports: dict[str, Any]  # name -> FuncType | type object | _InstanceType


class _Closure(NamedTuple):
    component: b.Component
    scope: _Scope


class _Opaque(NamedTuple):
    what: str


class _Scope:
    """The index spaces of one component, component type or instance type."""

    __slots__ = ("parent", "spaces")

    def __init__(self, parent: _Scope | None) -> None:
        self.parent = parent
        self.spaces: dict[str, list[Any]] = {}

    def space(self, sort: str) -> list[Any]:
        return self.spaces.setdefault(sort, [])

    def get(self, sort: str, index: int) -> Any:
        space = self.spaces.get(sort, [])
        if not 0 <= index < len(space):
            raise SandlinkError(f"invalid component: {sort} index {index} is out of range")
        return space[index]

    def outer(self, count: int) -> _Scope:
        scope: _Scope | None = self
        for _ in range(count):
            scope = scope.parent if scope is not None else None
        if scope is None:
            raise SandlinkError(f"invalid component: outer alias {count} levels up")
        return scope


class _Evaluator:
    def __init__(self, modules: Sequence[ModuleInfo]) -> None:
        self.modules = modules
        self.steps: list[Step] = []
        self.lowered: list[Lowered] = []
        self.resources: list[ResourceType] = []
        self.imports: list[Function] = []
        self.ref_types: dict[CoreRef, CoreType] = {}

    # -- components

    def component(
        self, component: b.Component, scope: _Scope, args: dict[str, Any] | None
    ) -> dict[str, Any]:
        exports: dict[str, Any] = {}
        for definition in component.definitions:
            value = self.definition(definition, scope, args, exports)
            scope.space(definition.space).append(value)
        return exports

    def definition(
        self, d: Any, scope: _Scope, args: dict[str, Any] | None, exports: dict[str, Any]
    ) -> Any:
        if isinstance(d, b.CoreModule):
            return _Module(d.module)
        if isinstance(d, b.CoreInstantiate):
            module = scope.get("core module", d.module)
            if not isinstance(module, _Module):
                raise UnsupportedTypeError("instantiating an imported core module")
            instances = {name: scope.get("core instance", i) for name, i in d.args}
            return self.instantiate(module.index, instances)
        if isinstance(d, b.CoreInlineInstance):
            return {name: scope.get(sort, i) for name, sort, i in d.exports}
        if isinstance(d, b.CoreTypeDef):
            return d.type
        if isinstance(d, b.ComponentDef):
            return _Closure(d.component, scope)
        if isinstance(d, b.Instantiate):
            closure = scope.get("component", d.component)
            if not isinstance(closure, _Closure):
                raise UnsupportedTypeError("instantiating an imported component")
            given = {name: scope.get(sort, i) for name, sort, i in d.args}
            return _Instance(self.component(closure.component, _Scope(closure.scope), given))
        if isinstance(d, b.InlineInstance):
            return _Instance({name: scope.get(sort, i) for name, sort, i in d.exports})
        if isinstance(d, b.Alias):
            return self.alias(d, scope)
        if isinstance(d, b.TypeDef):
            return self.deftype(d.type, scope)
        if isinstance(d, b.CanonLift):
            return self.lift(d, scope)
        if isinstance(d, b.CanonLower):
            return self.lower(d, scope)
        if isinstance(d, b.CanonResource):
            resource = scope.get("type", d.type)
            if not isinstance(resource, ResourceType):
                raise SandlinkError(f"invalid component: resource.{d.kind} of a non-resource")
            if not resource.defined and d.kind != "drop":
                raise SandlinkError(
                    f"invalid component: resource.{d.kind} of {resource.describe()}, "
                    "which the host implements"
                )
            ref = CoreRef("intrinsic", self.resource_index(resource), d.kind)
            self.ref_types[ref] = CoreType("func", ("i32",), () if d.kind == "drop" else ("i32",))
            return ref
        if isinstance(d, b.Import):
            if args is not None:
                if d.name not in args:
                    raise SandlinkError(f"invalid component: no argument for import {d.name!r}")
                return args[d.name]
            return self.external_import(d, scope)
        if isinstance(d, b.Export):
            value = scope.get(d.sort, d.index)
            if d.extern is not None and d.sort == "func":
                ascribed = self.extern(d.extern, scope, d.name)
                value = value._replace(type=ascribed)
            exports[d.name] = value
            return value
        raise AssertionError(d)

    def instantiate(self, module: int, instances: dict[str, Any]) -> _CoreInstance:
        info = self.modules[module]
        refs = []
        for module_name, field, expected in info.imports:
            where = f"core module {module} import {module_name}::{field}"
            instance = instances.get(module_name)
            if instance is None:
                raise SandlinkError(f"invalid component: {where} is not provided")
            if isinstance(instance, _CoreInstance):
                ref = self.core_export(instance, field, where)
            elif isinstance(instance, dict) and field in instance:
                ref = instance[field]
            else:
                raise SandlinkError(f"invalid component: {where} is not provided")
            if not isinstance(ref, CoreRef):
                raise UnsupportedTypeError(f"{where}: {type(ref).__name__} is not supported")
            actual = self.ref_types[ref]
            if actual.kind != expected.kind or (
                actual.kind == "func" and actual[1:3] != expected[1:3]
            ):
                raise SandlinkError(
                    f"{where} expects {expected.describe()} but is given {actual.describe()}"
                )
            refs.append(ref)
        self.steps.append(Step(module, tuple(refs)))
        return _CoreInstance(len(self.steps) - 1)

    def core_export(self, instance: _CoreInstance, name: str, where: str) -> CoreRef:
        exports = self.modules[self.steps[instance.step].module].exports
        if name not in exports:
            raise SandlinkError(f"invalid component: {where}: core instance has no export {name!r}")
        ref = CoreRef("export", instance.step, name)
        self.ref_types[ref] = exports[name]
        return ref

    def alias(self, a: b.Alias, scope: _Scope) -> Any:
        if a.kind == "outer":
            return scope.outer(a.target).get(a.sort, a.name)  # type: ignore[arg-type]
        if a.kind == "core export":
            instance = scope.get("core instance", a.target)
            if isinstance(instance, _CoreInstance):
                return self.core_export(instance, str(a.name), f"alias of {a.name!r}")
            if not isinstance(instance, dict) or a.name not in instance:
                raise SandlinkError(f"invalid component: no core export {a.name!r} to alias")
            return instance[a.name]
        instance = scope.get("instance", a.target)
        if isinstance(instance, _Instance):
            if a.name not in instance.exports:
                raise SandlinkError(f"invalid component: instance has no export {a.name!r}")
            return instance.exports[a.name]
        if isinstance(instance, _ImportedInstance):
            item = instance.type.exports.get(str(a.name))
            if item is None:
                raise SandlinkError(f"invalid component: {instance.name} has no export {a.name!r}")
            if isinstance(item, FuncType):
                return self.imported_function(instance.name, str(a.name), item)
            if isinstance(item, _InstanceType):
                return _ImportedInstance(f"{instance.name}/{a.name}", item)
            return item
        if isinstance(instance, _InstanceType):  # inside an instance type
            return instance.exports[str(a.name)]
        raise SandlinkError(f"invalid component: alias of {a.name!r} from a non-instance")

    # -- imports and exports

    def external_import(self, d: b.Import, scope: _Scope) -> Any:
        kind = d.extern[0]
        if kind == "func":
            return self.imported_function(None, d.name, self.extern(d.extern, scope, d.name))
        if kind == "instance":
            instance_type = self.extern(d.extern, scope, d.name)
            for item in instance_type.exports.values():
                if isinstance(item, ResourceType) and not item.defined:
                    item.interface = item.interface or d.name
            return _ImportedInstance(d.name, instance_type)
        if kind == "type":
            value = self.extern(d.extern, scope, d.name)
            if isinstance(value, ResourceType) and value.name is None:
                value.name = d.name
            return value
        raise UnsupportedTypeError(f"import {d.name!r}: importing a {kind} is not supported")

    def imported_function(self, interface: str | None, name: str, ty: FuncType) -> _ImportedFunc:
        for fn in self.imports:
            if (fn.interface, fn.wit_name) == (interface, name):
                break
        else:
            self.imports.append(Function(name, interface, ty))
        return _ImportedFunc(interface, name, ty)

    def extern(self, extern: tuple[Any, ...], scope: _Scope, name: str) -> Any:
        kind, bound = extern
        if kind == "func":
            ty = scope.get("type", bound)
            if not isinstance(ty, FuncType):
                raise SandlinkError(f"invalid component: {name!r} is not given a function type")
            return ty
        if kind == "instance":
            ty = scope.get("type", bound)
            if not isinstance(ty, _InstanceType):
                raise SandlinkError(f"invalid component: {name!r} is not given an instance type")
            return ty
        if kind == "type":
            if bound[0] == "eq":
                return scope.get("type", bound[1])
            resource = ResourceType(defined=False)
            resource.name = name
            return resource
        return _Opaque(kind)

    # -- canonical definitions

    def options(self, options: b.CanonOptions, scope: _Scope, where: str) -> Options:
        memory = realloc = post_return = None
        if options.memory is not None:
            memory = scope.get("core memory", options.memory)
            if not isinstance(memory, CoreRef) or self.ref_types[memory].kind != "memory":
                raise SandlinkError(f"invalid component: {where}: memory option is no memory")
            if self.ref_types[memory].memory64:
                raise UnsupportedTypeError(f"{where}: 64-bit memories are not supported")
        if options.realloc is not None:
            realloc = self.core_func(scope, options.realloc, where + " realloc")
        if options.post_return is not None:
            post_return = self.core_func(scope, options.post_return, where + " post-return")
        return Options(options.encoding, memory, realloc, post_return)

    def core_func(self, scope: _Scope, index: int, where: str) -> CoreRef:
        ref = scope.get("core func", index)
        if not isinstance(ref, CoreRef) or self.ref_types[ref].kind != "func":
            raise SandlinkError(f"invalid component: {where} is not a core function")
        return ref

    def lift(self, d: b.CanonLift, scope: _Scope) -> _Lifted:
        ty = scope.get("type", d.type)
        if not isinstance(ty, FuncType):
            raise SandlinkError("invalid component: canon lift of a non-function type")
        core = self.core_func(scope, d.core_func, "canon lift")
        return _Lifted(core, self.options(d.options, scope, "canon lift"), ty)

    def lower(self, d: b.CanonLower, scope: _Scope) -> CoreRef:
        func = scope.get("func", d.func)
        if isinstance(func, _Lifted):
            # One part of a composed component calls another: the host lifts from the
            # caller's side and lowers into the callee's (a fused adapter, in Python).
            name = f"[internal {len(self.lowered)}]"
            lowered = Function(name, None, func.type, func.core, func.options)
        elif isinstance(func, _ImportedFunc):
            lowered = Function(func.name, func.interface, func.type)
        else:
            raise SandlinkError("invalid component: canon lower of a non-function")
        options = self.options(d.options, scope, f"canon lower of {lowered.where}")
        self.lowered.append(Lowered(lowered, options))
        ref = CoreRef("lower", len(self.lowered) - 1, "")
        self.ref_types[ref] = func.type.lowered_core_type()
        return ref

    def resource_index(self, resource: ResourceType) -> int:
        if resource.index < 0:
            resource.index = len(self.resources)
            self.resources.append(resource)
        return resource.index

    # -- types

    def deftype(self, t: Any, scope: _Scope) -> Any:
        if isinstance(t, str):
            return self.valtype(t, scope)
        kind = t[0]
        if kind == "func":
            _, params, result, is_async = t
            if is_async:
                return _Opaque("async function type")
            names = [python_name(n) for n, _ in params]
            return FuncType(
                tuple(
                    Param(python, n, self.valtype(v, scope))
                    for python, (n, v) in zip(names, params, strict=True)
                ),
                None if result is None else self.valtype(result, scope),
            )
        if kind == "resource":
            _, rep, dtor = t
            if rep != "i32":
                raise UnsupportedTypeError(f"resources represented as {rep} are not supported")
            dtor_ref = None if dtor is None else self.core_func(scope, dtor, "resource dtor")
            return ResourceType(defined=True, dtor=dtor_ref)
        if kind == "instance":
            return self.instance_type(t[1], _Scope(scope))
        if kind == "component":
            return _Opaque("component type")
        return self.defvaltype(t, scope)

    def instance_type(self, decls: tuple[Any, ...], scope: _Scope) -> _InstanceType:
        exports: dict[str, Any] = {}
        for decl in decls:
            kind = decl[0]
            if kind == "core type":
                scope.space("core type").append(decl[1])
            elif kind == "type":
                scope.space("type").append(self.deftype(decl[1], scope))
            elif kind == "alias":
                alias = decl[1]
                scope.space(alias.space).append(self.alias(alias, scope))
            elif kind == "export":
                _, name, extern = decl
                value = self.extern(extern, scope, name)
                if isinstance(value, (Record, Variant, Enum, Flags)) and value.name is None:
                    value.name = name
                exports[name] = value
                if extern[0] in ("type", "instance", "func", "component"):
                    scope.space(extern[0]).append(value)
        return _InstanceType(exports)

    def valtype(self, t: str | int, scope: _Scope) -> ValType:
        if isinstance(t, str):
            primitive = PRIMITIVE_TYPES.get(t)
            return primitive if primitive is not None else Unsupported(t)
        value = scope.get("type", t)
        if not isinstance(value, ValType):
            raise SandlinkError(f"invalid component: type {t} is not a value type")
        return value

    def defvaltype(self, t: tuple[Any, ...], scope: _Scope) -> ValType:
        kind = t[0]

        def val(x: str | int) -> ValType:
            return self.valtype(x, scope)

        def maybe(x: str | int | None) -> ValType | None:
            return None if x is None else val(x)

        if kind == "record":
            return Record(tuple((python_name(n), n, val(v)) for n, v in t[1]))
        if kind == "variant":
            return Variant(tuple((n, maybe(v)) for n, v in t[1]))
        if kind == "list":
            return List(val(t[1]))
        if kind == "tuple":
            return Tuple(tuple(val(v) for v in t[1]))
        if kind == "flags":
            return Flags(tuple(t[1]))
        if kind == "enum":
            return Enum(tuple(t[1]))
        if kind == "option":
            return Option(val(t[1]))
        if kind == "result":
            return Result(maybe(t[1]), maybe(t[2]))
        if kind in ("own", "borrow"):
            resource = scope.get("type", t[1])
            if not isinstance(resource, ResourceType):
                raise SandlinkError(f"invalid component: {kind} of a non-resource type")
            return Own(resource) if kind == "own" else Borrow(resource)
        if kind == "fixed-list":
            return Unsupported(f"list<{val(t[1]).describe()}, {t[2]}>")
        return Unsupported(kind)


def read_structure(
    wasm: bytes, module_info: Callable[[list[bytes]], Sequence[ModuleInfo]]
) -> Structure:
    """The structure of a component; `module_info` compiles its core modules (in order)."""
    component = b.read_component(wasm)
    evaluator = _Evaluator(module_info(component.modules))
    top = evaluator.component(component, _Scope(None), None)
    exports: list[Function] = []
    types: dict[str | None, dict[str, Any]] = {}
    interfaces: list[str] = []
    for name, value in top.items():
        if isinstance(value, _Instance):
            interfaces.append(name)
            _collect(evaluator, value.exports, name, exports, types)
        elif not isinstance(value, (_Module, _Closure)):
            _collect(evaluator, {name: value}, None, exports, types)
    _name_types(types)
    for fn in exports:
        check_supported(fn, exported=True)
    for lowered in evaluator.lowered:
        check_supported(lowered.function, exported=False)
    for resource in host_resources([lowered.function for lowered in evaluator.lowered]):
        evaluator.resource_index(resource)  # its handles get a table too
    checks = _raw_calls(evaluator, exports)
    return Structure(
        evaluator.steps,
        exports,
        evaluator.imports,
        evaluator.lowered,
        evaluator.resources,
        interfaces,
        types,
        checks,
        evaluator.ref_types,
    )


def _collect(
    evaluator: _Evaluator,
    items: dict[str, Any],
    interface: str | None,
    exports: list[Function],
    types: dict[str | None, dict[str, Any]],
) -> None:
    scope_types = types.setdefault(interface, {})
    for name, value in items.items():
        if isinstance(value, (ValType, ResourceType)):
            scope_types[name] = value
    for name, value in items.items():
        where = f"{interface}#{name}" if interface else name
        if isinstance(value, _Lifted):
            resource = None
            resource_name = owner_of(name)
            if resource_name is not None:
                resource = scope_types.get(resource_name)
                if not isinstance(resource, ResourceType):
                    raise SandlinkError(f"invalid component: {where}: no resource {resource_name}")
                evaluator.resource_index(resource)
            exports.append(
                Function(name, interface, value.type, value.core, value.options, resource)
            )
        elif isinstance(value, _ImportedFunc):
            raise UnsupportedTypeError(f"export {where} re-exports an imported function")
        elif isinstance(value, (_Instance, _ImportedInstance)):
            raise UnsupportedTypeError(f"export {where}: instances nested in instances")


def _name_types(types: dict[str | None, dict[str, Any]]) -> None:
    """Give exported types their WIT names (first export wins), resources their interface."""
    for interface, named in types.items():
        for name, ty in named.items():
            if isinstance(ty, ResourceType):
                if ty.defined and ty.interface is None:
                    ty.name, ty.interface = name, interface
            elif isinstance(ty, (Record, Variant, Enum, Flags)) and ty.name is None:
                ty.name = name


def _raw_calls(
    evaluator: _Evaluator, exports: list[Function]
) -> list[tuple[CoreRef, CoreType, str]]:
    """Every core function the host will call raw, with the type it must have."""
    checks: list[tuple[CoreRef, CoreType, str]] = []
    realloc = CoreType("func", ("i32", "i32", "i32", "i32"), ("i32",))
    lifted_functions = [*exports, *(lw.function for lw in evaluator.lowered if lw.function.core)]
    for fn in lifted_functions:
        assert fn.core is not None and fn.options is not None
        lifted = fn.type.lifted_core_type()
        checks.append((fn.core, lifted, f"export {fn.where}"))
        if fn.options.post_return is not None:
            checks.append(
                (
                    fn.options.post_return,
                    CoreType("func", lifted.results, ()),
                    f"post-return of {fn.where}",
                )
            )
        if fn.options.realloc is not None:
            checks.append((fn.options.realloc, realloc, f"realloc of {fn.where}"))
    for lowered in evaluator.lowered:
        if lowered.options.realloc is not None:
            checks.append(
                (lowered.options.realloc, realloc, f"realloc of import {lowered.function.where}")
            )

    for resource in evaluator.resources:
        if resource.dtor is not None:
            checks.append(
                (
                    resource.dtor,
                    CoreType("func", ("i32",), ()),
                    f"destructor of {resource.describe()}",
                )
            )
    for ref, expected, what in checks:
        actual = evaluator.ref_types[ref]
        if actual != expected:
            raise SandlinkError(
                f"{what}: the core function has type {actual.describe()}, "
                f"but the canonical ABI needs {expected.describe()}"
            )
    return checks
