//! Generates the glue between the WIT contract and the kernels, so that adding a kernel is
//! its WIT line, its Rust function and one line in `src/registry.rs`:
//!
//! - `wasm_glue.rs` (wasm32, included by `src/wasm.rs`): the wit-bindgen `Guest` impl and
//!   one impl per exported resource, each method calling `crate::registry::<name>` and
//!   converting records between the kernels' structs and wit-bindgen's;
//! - `native_glue.rs` (everything else, included by `src/native.rs`): one `extern "C"`
//!   function per export, with a C ABI derived from its WIT types (below), and the
//!   `#[repr(C)]` structs of the records it returns;
//! - `host_glue.rs` (both, included by `src/host.rs`): the functions the component imports,
//!   as `crate::host::<name>`, which the kernels call to reach the host.
//!
//! The native C ABI of export `f` (`host_py/sandlink/_native.py` derives the same from the
//! WIT): `sandlink_<f>(host: *const SandlinkHost, params...)`, where a `string` or
//! `list<u8>` parameter is two arguments (`*const u8`, `usize`) and any other is its C
//! scalar (`bool`, the ints, floats; `char` as `u32`). A function with such a slice
//! parameter can fail (null pointer, bad UTF-8) and returns an `i32` status; one without
//! returns nothing, or its scalar result directly. Any other result, or any result of a
//! fallible function, is written through a last `out: *mut <C type>` argument; when it owns
//! memory (strings, lists), `sandlink_<f>_free(out)` releases it. C types: `string` and
//! `list<T>` are `SandlinkList<T>` (pointer, length), records `#[repr(C)]` structs of their
//! fields, `result<T, E>` `{ is_err: u8, ok, err }`, `option<T>` `{ is_some: u8, value }`.
use std::fmt::Write as _;
use std::path::Path;

use wit_parser::{
    Function, FunctionKind, Handle, InterfaceId, Resolve, Type, TypeDefKind, TypeId, WorldItem,
};

fn main() {
    println!("cargo:rerun-if-changed=wit");
    let mut resolve = Resolve::new();
    let (package, _) = resolve.push_dir("wit").expect("wit/ parses");
    let world = resolve
        .select_world(&[package], Some("sandlink"))
        .expect("wit/ has the world `sandlink`");
    let mut exports = Vec::new();
    let mut imports = Vec::new();
    for (items, out) in [
        (&resolve.worlds[world].exports, &mut exports),
        (&resolve.worlds[world].imports, &mut imports),
    ] {
        for item in items.values() {
            if let WorldItem::Interface { id, .. } = item {
                out.push(*id);
            }
        }
    }
    let g = Glue { resolve: &resolve };
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    let out = Path::new(&out_dir);
    write(out, "wasm_glue.rs", &g.wasm(&exports, &imports));
    write(out, "native_glue.rs", &g.native(&exports));
    write(out, "host_glue.rs", &g.host(&imports));
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).expect("OUT_DIR is writable");
}

struct Glue<'a> {
    resolve: &'a Resolve,
}

/// `parse-person` -> `parse_person` (Rust keywords get a raw identifier).
fn snake(name: &str) -> String {
    let name = name.replace('-', "_");
    match name.as_str() {
        "type" | "match" | "move" | "ref" | "self" | "use" | "fn" | "impl" | "mod" | "struct" => {
            format!("r#{name}")
        }
        _ => name,
    }
}

/// The closure applying `body` (an expression of `x`) to each element: just the function
/// when `body` is one call of `x`.
fn closure(body: &str) -> String {
    match body.strip_suffix("(x)") {
        Some(function) if function.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            function.to_string()
        }
        _ => format!("|x| {body}"),
    }
}

/// `json-error` -> `JsonError`.
fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn scalar(ty: &Type) -> Option<&'static str> {
    Some(match ty {
        Type::Bool => "bool",
        Type::U8 => "u8",
        Type::U16 => "u16",
        Type::U32 => "u32",
        Type::U64 => "u64",
        Type::S8 => "i8",
        Type::S16 => "i16",
        Type::S32 => "i32",
        Type::S64 => "i64",
        Type::F32 => "f32",
        Type::F64 => "f64",
        Type::Char => "char",
        _ => return None,
    })
}

/// How one side of the glue spells WIT types (scalars are Rust's own on both).
struct Spelling {
    side: &'static str,
    wit_bindgen: bool, // tuples and resource handles exist only on the wit-bindgen side
    char: &'static str,
    string: &'static str,
    record: &'static str, // prefix of a record's CamelCase name
    list: &'static str,
    option: &'static str,
    result: &'static str,
    unit: &'static str, // the type of a missing result case
}

const WIT_BINDGEN: Spelling = Spelling {
    side: "wasm",
    wit_bindgen: true,
    char: "char",
    string: "alloc::string::String",
    record: "wit::",
    list: "alloc::vec::Vec",
    option: "Option",
    result: "Result",
    unit: "()",
};

const C_ABI: Spelling = Spelling {
    side: "native",
    wit_bindgen: false,
    char: "u32",
    string: "SandlinkList<u8>",
    record: "Sandlink",
    list: "SandlinkList",
    option: "SandlinkOption",
    result: "SandlinkResult",
    unit: "u8",
};

impl Glue<'_> {
    fn def(&self, ty: &Type) -> Option<(TypeId, &TypeDefKind)> {
        match ty {
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Type(inner) => self.def(inner),
                kind => Some((*id, kind)),
            },
            _ => None,
        }
    }

    fn name_of(&self, id: TypeId) -> String {
        camel(
            self.resolve.types[id]
                .name
                .as_deref()
                .expect("a named type"),
        )
    }

    fn functions(&self, interface: InterfaceId) -> impl Iterator<Item = &Function> {
        self.resolve.interfaces[interface].functions.values()
    }

    /// Is `ty` a string or a list of bytes (a slice across the C ABI)?
    fn slice(&self, ty: &Type) -> bool {
        matches!(ty, Type::String) || matches!(self.def(ty), Some((_, TypeDefKind::List(Type::U8))))
    }

    fn owns_memory(&self, ty: &Type) -> bool {
        match (ty, self.def(ty)) {
            (Type::String, _) => true,
            (_, Some((_, TypeDefKind::List(_)))) => true,
            (_, Some((_, TypeDefKind::Record(r)))) => {
                r.fields.iter().any(|f| self.owns_memory(&f.ty))
            }
            (_, Some((_, TypeDefKind::Tuple(t)))) => t.types.iter().any(|t| self.owns_memory(t)),
            (_, Some((_, TypeDefKind::Option(t)))) => self.owns_memory(t),
            (_, Some((_, TypeDefKind::Result(r)))) => {
                [r.ok, r.err].iter().flatten().any(|t| self.owns_memory(t))
            }
            _ => false,
        }
    }

    // -- wasm32: the wit-bindgen Guest impl

    fn wasm(&self, exports: &[InterfaceId], imports: &[InterfaceId]) -> String {
        let mut out = String::from("// Generated by build.rs from wit/: do not edit.\n");
        let _ = imports;
        for &interface in exports {
            let path = self.wit_path(interface, "exports::");
            writeln!(out, "use {path} as wit;").unwrap();
            writeln!(out, "pub struct Kernels;\nimpl wit::Guest for Kernels {{").unwrap();
            let resources: Vec<TypeId> = self.resolve.interfaces[interface]
                .types
                .values()
                .copied()
                .filter(|id| matches!(self.resolve.types[*id].kind, TypeDefKind::Resource))
                .collect();
            for &id in &resources {
                let name = self.name_of(id);
                writeln!(out, "    type {name} = crate::registry::{name};").unwrap();
            }
            for f in self.functions(interface) {
                if matches!(f.kind, FunctionKind::Freestanding) {
                    out.push_str(&self.wasm_function(f, "crate::registry::", &snake(&f.name)));
                }
            }
            out.push_str("}\n");
            for &id in &resources {
                let name = self.name_of(id);
                writeln!(out, "impl wit::Guest{name} for crate::registry::{name} {{").unwrap();
                for f in self.functions(interface) {
                    let owner = match f.kind {
                        FunctionKind::Method(r)
                        | FunctionKind::Static(r)
                        | FunctionKind::Constructor(r) => r,
                        _ => continue,
                    };
                    if owner != id {
                        continue;
                    }
                    let method = snake(f.item_name());
                    let target = format!("crate::registry::{name}::");
                    let method = if matches!(f.kind, FunctionKind::Constructor(_)) {
                        "new".to_string()
                    } else {
                        method
                    };
                    out.push_str(&self.wasm_function(f, &target, &method));
                }
                out.push_str("}\n");
            }
            for id in self.records(interface) {
                out.push_str(&self.wasm_record(id));
            }
        }
        out
    }

    fn wit_path(&self, interface: InterfaceId, prefix: &str) -> String {
        let iface = &self.resolve.interfaces[interface];
        let package = &self.resolve.packages[iface.package.expect("a package interface")].name;
        format!(
            "{prefix}{}::{}::{}",
            snake(&package.namespace),
            snake(&package.name),
            snake(iface.name.as_deref().expect("a named interface"))
        )
    }

    fn records(&self, interface: InterfaceId) -> Vec<TypeId> {
        self.resolve.interfaces[interface]
            .types
            .values()
            .copied()
            .filter(|id| matches!(self.resolve.types[*id].kind, TypeDefKind::Record(_)))
            .collect()
    }

    /// One `fn` of a Guest trait: call the kernel, converting records both ways.
    fn wasm_function(&self, f: &Function, target: &str, method: &str) -> String {
        let mut params = Vec::new();
        let mut args = Vec::new();
        for p in &f.params {
            let name = snake(&p.name);
            if p.name == "self" {
                params.push("&self".to_string());
                args.push("self".to_string());
                continue;
            }
            params.push(format!("{name}: {}", self.wit_type(&p.ty)));
            args.push(match &p.ty {
                Type::String => format!("&{name}"),
                ty => self.wit_in(ty, &name),
            });
        }
        let result = match &f.result {
            Some(ty) if matches!(f.kind, FunctionKind::Constructor(_)) => {
                let _ = ty;
                " -> Self".to_string()
            }
            Some(ty) => format!(" -> {}", self.wit_type(ty)),
            None => String::new(),
        };
        let call = format!("{target}{method}({})", args.join(", "));
        let body = match &f.result {
            Some(ty) if !matches!(f.kind, FunctionKind::Constructor(_)) => self.wit_out(ty, &call),
            _ => call,
        };
        let name = if matches!(f.kind, FunctionKind::Constructor(_)) {
            "new".to_string()
        } else {
            method.to_string()
        };
        format!(
            "    fn {name}({}){result} {{\n        {body}\n    }}\n",
            params.join(", ")
        )
    }

    /// The Rust type wit-bindgen uses for `ty`.
    fn wit_type(&self, ty: &Type) -> String {
        self.type_name(ty, &WIT_BINDGEN)
    }

    /// `ty` as `spelling` names it.
    fn type_name(&self, ty: &Type, spelling: &Spelling) -> String {
        if let Some(s) = scalar(ty) {
            return if s == "char" { spelling.char } else { s }.to_string();
        }
        if matches!(ty, Type::String) {
            return spelling.string.to_string();
        }
        let (id, kind) = self.def(ty).expect("a defined type");
        let or_unit = |t: &Option<Type>| {
            t.as_ref()
                .map_or(spelling.unit.to_string(), |t| self.type_name(t, spelling))
        };
        match (kind, spelling.wit_bindgen) {
            (TypeDefKind::Record(_), _) => format!("{}{}", spelling.record, self.name_of(id)),
            (TypeDefKind::List(t), _) => {
                format!("{}<{}>", spelling.list, self.type_name(t, spelling))
            }
            (TypeDefKind::Option(t), _) => {
                format!("{}<{}>", spelling.option, self.type_name(t, spelling))
            }
            (TypeDefKind::Result(r), _) => {
                format!(
                    "{}<{}, {}>",
                    spelling.result,
                    or_unit(&r.ok),
                    or_unit(&r.err)
                )
            }
            (TypeDefKind::Tuple(t), true) => format!(
                "({},)",
                t.types
                    .iter()
                    .map(|t| self.type_name(t, spelling))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (TypeDefKind::Handle(Handle::Own(r)), true) => format!("wit::{}", self.name_of(*r)),
            (TypeDefKind::Handle(Handle::Borrow(r)), true) => {
                format!("wit::{}Borrow<'_>", self.name_of(*r))
            }
            (other, _) => panic!(
                "build.rs: WIT {} is not supported by the {} glue yet",
                other.as_str(),
                spelling.side
            ),
        }
    }

    /// An expression converting `expr` (a kernel value) into wit-bindgen's type.
    fn wit_out(&self, ty: &Type, expr: &str) -> String {
        self.convert(ty, expr, "into_wit")
    }

    /// An expression converting `expr` (a wit-bindgen value) into the kernel's type.
    fn wit_in(&self, ty: &Type, expr: &str) -> String {
        self.convert(ty, expr, "from_wit")
    }

    fn convert(&self, ty: &Type, expr: &str, way: &str) -> String {
        let Some((id, kind)) = self.def(ty) else {
            return expr.to_string();
        };
        match kind {
            TypeDefKind::Record(_) => format!(
                "{}_{way}({expr})",
                snake(&self.resolve.types[id].name.clone().unwrap())
            ),
            TypeDefKind::List(t) if self.def(t).is_some() => {
                format!(
                    "{expr}.into_iter().map({}).collect()",
                    closure(&self.convert(t, "x", way))
                )
            }
            TypeDefKind::Option(t) if self.def(t).is_some() => {
                format!("{expr}.map(|x| {})", self.convert(t, "x", way))
            }
            TypeDefKind::Result(r) => {
                let ok =
                    r.ok.as_ref()
                        .map_or("x".to_string(), |t| self.convert(t, "x", way));
                let err = r
                    .err
                    .as_ref()
                    .map_or("x".to_string(), |t| self.convert(t, "x", way));
                format!("match {expr} {{ Ok(x) => Ok({ok}), Err(x) => Err({err}) }}")
            }
            TypeDefKind::Handle(Handle::Own(_)) if way == "into_wit" => {
                format!("wit::{}::new({expr})", self.name_of_handle(kind))
            }
            _ => expr.to_string(),
        }
    }

    fn name_of_handle(&self, kind: &TypeDefKind) -> String {
        match kind {
            TypeDefKind::Handle(Handle::Own(r) | Handle::Borrow(r)) => self.name_of(*r),
            _ => unreachable!(),
        }
    }

    fn wasm_record(&self, id: TypeId) -> String {
        let name = self.name_of(id);
        let snake_name = snake(self.resolve.types[id].name.as_deref().unwrap());
        let into = self.each_field(id, ", ", |f, ty| {
            format!("{f}: {}", self.wit_out(ty, &format!("v.{f}")))
        });
        let from = self.each_field(id, ", ", |f, ty| {
            format!("{f}: {}", self.wit_in(ty, &format!("v.{f}")))
        });
        format!(
            "#[allow(dead_code)]\nfn {snake_name}_into_wit(v: crate::registry::{name}) -> wit::{name} {{\n    wit::{name} {{ {into} }}\n}}\n\
             #[allow(dead_code)]\nfn {snake_name}_from_wit(v: wit::{name}) -> crate::registry::{name} {{\n    crate::registry::{name} {{ {from} }}\n}}\n",
        )
    }

    /// `each(field, type)` of every field of record `id` (field names in snake_case), joined.
    fn each_field(
        &self,
        id: TypeId,
        separator: &str,
        each: impl Fn(&str, &Type) -> String,
    ) -> String {
        let TypeDefKind::Record(record) = &self.resolve.types[id].kind else {
            unreachable!()
        };
        record
            .fields
            .iter()
            .map(|f| each(&snake(&f.name), &f.ty))
            .collect::<Vec<_>>()
            .join(separator)
    }

    // -- native: extern "C" functions

    fn native(&self, exports: &[InterfaceId]) -> String {
        let mut out = String::from("// Generated by build.rs from wit/: do not edit.\n");
        for &interface in exports {
            for id in self.records(interface) {
                out.push_str(&self.c_record(id));
            }
            for f in self.functions(interface) {
                if matches!(f.kind, FunctionKind::Freestanding) {
                    out.push_str(&self.c_function(f));
                }
            }
        }
        out
    }

    /// The C type of `ty` in results and records.
    fn c_type(&self, ty: &Type) -> String {
        self.type_name(ty, &C_ABI)
    }

    /// An expression turning the kernel value `expr` into its C form (handing out memory).
    fn c_out(&self, ty: &Type, expr: &str) -> String {
        if let Some(s) = scalar(ty) {
            return if s == "char" {
                format!("u32::from({expr})")
            } else {
                expr.to_string()
            };
        }
        if matches!(ty, Type::String) {
            return format!("SandlinkList::from_vec(alloc::string::String::into_bytes({expr}))");
        }
        let (id, kind) = self.def(ty).expect("a defined type");
        match kind {
            TypeDefKind::Record(_) => format!("{}_into_c({expr})", snake(self.resolve.types[id].name.as_deref().unwrap())),
            TypeDefKind::List(t) if scalar(t).is_some() && scalar(t) != Some("char") => {
                format!("SandlinkList::from_vec({expr})")
            }
            TypeDefKind::List(t) => format!(
                "SandlinkList::from_vec({expr}.into_iter().map({}).collect())",
                closure(&self.c_out(t, "x"))
            ),
            TypeDefKind::Option(t) => format!(
                "match {expr} {{ Some(x) => SandlinkOption {{ is_some: 1, value: {} }}, None => SandlinkOption::none() }}",
                self.c_out(t, "x")
            ),
            TypeDefKind::Result(r) => {
                let ok = r.ok.as_ref().map_or("0".to_string(), |t| self.c_out(t, "x"));
                let err = r.err.as_ref().map_or("0".to_string(), |t| self.c_out(t, "x"));
                format!(
                    "match {expr} {{ Ok(x) => SandlinkResult::ok({ok}), Err(x) => SandlinkResult::err({err}) }}"
                )
            }
            other => panic!("build.rs: WIT {} has no C form in the native ABI yet", other.as_str()),
        }
    }

    /// Statements freeing the memory the C value `expr` owns.
    fn free_c(&self, ty: &Type, expr: &str) -> String {
        if !self.owns_memory(ty) {
            return String::new();
        }
        if matches!(ty, Type::String) {
            return format!("{expr}.free();");
        }
        let (id, kind) = self.def(ty).expect("a defined type");
        match kind {
            TypeDefKind::Record(_) => {
                let reference = if expr == "(*x)" {
                    "x".to_string()
                } else {
                    format!("&{expr}")
                };
                format!(
                    "{}_free({reference});",
                    snake(self.resolve.types[id].name.as_deref().unwrap())
                )
            }
            TypeDefKind::List(t) => {
                let inner = self.free_c(t, "(*x)");
                if inner.is_empty() {
                    format!("{expr}.free();")
                } else {
                    format!("for x in {expr}.as_slice() {{ {inner} }} {expr}.free();")
                }
            }
            TypeDefKind::Option(t) => format!(
                "if {expr}.is_some != 0 {{ {} }}",
                self.free_c(t, &format!("{expr}.value"))
            ),
            TypeDefKind::Result(r) => format!(
                "if {expr}.is_err == 0 {{ {} }} else {{ {} }}",
                r.ok.as_ref()
                    .map_or(String::new(), |t| self.free_c(t, &format!("{expr}.ok"))),
                r.err
                    .as_ref()
                    .map_or(String::new(), |t| self.free_c(t, &format!("{expr}.err")))
            ),
            _ => String::new(),
        }
    }

    fn c_record(&self, id: TypeId) -> String {
        let name = self.name_of(id);
        let snake_name = snake(self.resolve.types[id].name.as_deref().unwrap());
        let docs = self.resolve.types[id]
            .docs
            .contents
            .as_deref()
            .unwrap_or("")
            .replace('\n', " ");
        let fields = self.each_field(id, "\n", |f, ty| {
            format!("    pub {f}: {},", self.c_type(ty))
        });
        let into = self.each_field(id, ", ", |f, ty| {
            format!("{f}: {}", self.c_out(ty, &format!("v.{f}")))
        });
        let frees = self.each_field(id, " ", |f, ty| self.free_c(ty, &format!("v.{f}")));
        format!(
            "/// WIT `{}`: {docs}\n#[repr(C)]\npub struct Sandlink{name} {{\n{fields}\n}}\n\
             #[allow(dead_code)]\nfn {snake_name}_into_c(v: crate::registry::{name}) -> Sandlink{name} {{ Sandlink{name} {{ {into} }} }}\n\
             #[allow(dead_code, unused_variables)]\nunsafe fn {snake_name}_free(v: &Sandlink{name}) {{ unsafe {{ {frees} }} }}\n",
            self.resolve.types[id].name.as_deref().unwrap(),
        )
    }

    fn c_function(&self, f: &Function) -> String {
        let name = snake(&f.name);
        let fallible = f.params.iter().any(|p| self.slice(&p.ty));
        let mut params = vec!["host: *const crate::host::SandlinkHost".to_string()];
        let mut prelude = Vec::new();
        let mut args = Vec::new();
        for p in &f.params {
            let pname = snake(&p.name);
            match &p.ty {
                Type::String => {
                    params.push(format!("{pname}_ptr: *const u8, {pname}_len: usize"));
                    prelude.push(format!(
                        "let {pname} = match unsafe {{ text({pname}_ptr, {pname}_len) }} {{ Ok(v) => v, Err(status) => return status }};"
                    ));
                    args.push(pname);
                }
                ty if self.slice(ty) => {
                    params.push(format!("{pname}_ptr: *const u8, {pname}_len: usize"));
                    prelude.push(format!(
                        "let Some({pname}) = (unsafe {{ bytes({pname}_ptr, {pname}_len) }}) else {{ return SANDLINK_NULL_POINTER }};"
                    ));
                    args.push(format!("{pname}.to_vec()"));
                }
                ty => {
                    let Some(s) = scalar(ty) else {
                        panic!(
                            "build.rs: a {} parameter has no C form in the native ABI yet",
                            f.name
                        )
                    };
                    if s == "char" {
                        params.push(format!("{pname}: u32"));
                        prelude.push(format!(
                            "let Some({pname}) = char::from_u32({pname}) else {{ return SANDLINK_INVALID_UTF8 }};"
                        ));
                    } else {
                        params.push(format!("{pname}: {s}"));
                    }
                    args.push(pname);
                }
            }
        }
        let call = format!("crate::registry::{name}({})", args.join(", "));
        let direct = !fallible && f.result.as_ref().is_none_or(|t| scalar(t).is_some());
        let mut body = String::new();
        let ret;
        if direct {
            ret = f
                .result
                .as_ref()
                .map_or(String::new(), |t| format!(" -> {}", self.c_type(t)));
            let value = f
                .result
                .as_ref()
                .map_or(call.clone(), |t| self.c_out(t, &call));
            body.push_str(&format!(
                "let _host = crate::host::enter(host);\n    {value}"
            ));
        } else {
            ret = " -> i32".to_string();
            if let Some(t) = &f.result {
                params.push(format!("out: *mut {}", self.c_type(t)));
            }
            for line in &prelude {
                body.push_str(line);
                body.push_str("\n    ");
            }
            body.push_str("let _host = crate::host::enter(host);\n    ");
            match &f.result {
                Some(t) => {
                    body.push_str("if out.is_null() { return SANDLINK_NULL_POINTER; }\n    ");
                    body.push_str(&format!(
                        "// SAFETY: the caller passes a writable `out`.\n    unsafe {{ out.write({}) }};\n    ",
                        self.c_out(t, &call)
                    ));
                }
                None => body.push_str(&format!("{call};\n    ")),
            }
            body.push_str("SANDLINK_OK");
        }
        let mut text = format!(
            "/// `{}` (see `wit/`); the C ABI is described in build.rs.\n///\n/// # Safety\n/// Pointer arguments must be valid for their lengths (null only with length 0); `host` null or valid.\n\
             #[no_mangle]\npub unsafe extern \"C\" fn sandlink_{name}({}){ret} {{\n    {body}\n}}\n",
            f.name,
            params.join(", ")
        );
        if let Some(t) = &f.result {
            if !direct && self.owns_memory(t) {
                let free = self.free_c(t, "(*out)");
                text.push_str(&format!(
                    "/// Frees what [`sandlink_{name}`] wrote to `out` (once). Null is a no-op.\n///\n/// # Safety\n/// `out` must hold a result of `sandlink_{name}`, not yet freed.\n\
                     #[no_mangle]\npub unsafe extern \"C\" fn sandlink_{name}_free(out: *mut {}) {{\n    if out.is_null() {{ return; }}\n    unsafe {{ {free} }}\n}}\n",
                    self.c_type(t)
                ));
            }
        }
        text
    }

    // -- the host: what the kernels may call

    fn host(&self, imports: &[InterfaceId]) -> String {
        let mut out = String::from("// Generated by build.rs from wit/: do not edit.\n");
        let mut fields = Vec::new();
        let mut functions = Vec::new();
        for &interface in imports {
            let wit_path = self.wit_path(interface, "crate::wasm::");
            for f in self.functions(interface) {
                let name = snake(&f.name);
                let mut params = Vec::new();
                let mut c_params = vec!["*mut core::ffi::c_void".to_string()];
                let mut c_args = vec!["host.ctx".to_string()];
                let mut wasm_args = Vec::new();
                for p in &f.params {
                    let pname = snake(&p.name);
                    match &p.ty {
                        Type::String => {
                            params.push(format!("{pname}: &str"));
                            c_params.push("*const u8, usize".to_string());
                            c_args.push(format!("{pname}.as_ptr(), {pname}.len()"));
                        }
                        ty => {
                            let s = scalar(ty).unwrap_or_else(|| {
                                panic!(
                                    "build.rs: import {} takes a type the host ABI lacks",
                                    f.name
                                )
                            });
                            params.push(format!("{pname}: {s}"));
                            c_params.push(s.to_string());
                            c_args.push(pname.clone());
                        }
                    }
                    wasm_args.push(pname);
                }
                let result = f.result.as_ref().map(|t| {
                    scalar(t).unwrap_or_else(|| {
                        panic!(
                            "build.rs: import {} returns a type the host ABI lacks",
                            f.name
                        )
                    })
                });
                let ret = result.map_or(String::new(), |r| format!(" -> {r}"));
                let call = format!(
                    "// SAFETY: the caller of the export gave a host whose functions take its ctx.\n        unsafe {{ f({}) }}",
                    c_args.join(", ")
                );
                let lookup = format!("current().and_then(|host| host.{name}.map(|f| (host, f)))");
                let native_body = match result {
                    None => format!("if let Some((host, f)) = {lookup} {{\n        {call}\n    }}"),
                    Some(_) => format!(
                        "match {lookup} {{\n        Some((host, f)) => {{\n        {call}\n        }}\n        None => Default::default(),\n    }}"
                    ),
                };
                fields.push(format!(
                    "    pub {name}: Option<unsafe extern \"C\" fn({}){ret}>,",
                    c_params.join(", ")
                ));
                let doc = f.docs.contents.as_deref().unwrap_or("").replace('\n', " ");
                functions.push(format!(
                    "/// {doc}\n#[cfg(target_arch = \"wasm32\")]\npub fn {name}({}){ret} {{\n    {wit_path}::{name}({})\n}}\n\
                     /// {doc}\n#[cfg(not(target_arch = \"wasm32\"))]\npub fn {name}({}){ret} {{\n    {native_body}\n}}\n",
                    params.join(", "),
                    wasm_args.join(", "),
                    params.join(", "),
                ));
            }
        }
        out.push_str(
            "/// What a native caller gives the kernels to reach it: its context and one function\n\
             /// per WIT import (null: ignored).\n#[cfg(not(target_arch = \"wasm32\"))]\n#[repr(C)]\npub struct SandlinkHost {\n    pub ctx: *mut core::ffi::c_void,\n",
        );
        for field in &fields {
            out.push_str(field);
            out.push('\n');
        }
        out.push_str("}\n");
        for f in functions {
            out.push_str(&f);
        }
        out
    }
}
