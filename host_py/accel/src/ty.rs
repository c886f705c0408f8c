//! WIT value types as the compiled path sees them, read from the specs the Python types
//! give (`ValType.accel_spec()` in `sandlink/host/_types.py`): the layout comes from Python
//! (one source of truth), the behaviour per kind is here.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple, PyWeakrefMethods, PyWeakrefReference};

/// One WIT type: its canonical-ABI size, alignment and flat length, and its kind.
pub struct Ty {
    pub size: u32,
    pub align: u32,
    pub nflat: usize,
    pub kind: Kind,
}

pub enum Kind {
    Bool,
    Int {
        bits: u32,
        signed: bool,
        name: Py<PyString>,
    },
    Float {
        single: bool,
        name: Py<PyString>,
    },
    Char,
    String,
    List {
        element: Box<Ty>,
        /// The struct code of elements Python packs whole (numbers), with their WIT name.
        packed: Option<(Py<PyString>, Py<PyString>)>,
    },
    Record {
        class: Py<PyAny>,
        attrs: Vec<Py<PyString>>,
        fields: Vec<Ty>,
        offsets: Vec<u32>,
        /// Make a value by setting the fields on a bare instance (a plain dataclass).
        fill: bool,
    },
    Tuple {
        elements: Vec<Ty>,
        offsets: Vec<u32>,
    },
    Flags {
        names: Py<PyAny>,
        bits: Py<PyAny>,
    },
    /// `own<R>`: handle table `table` of the session, objects of `class`.
    Own {
        table: usize,
        class: ResourceClass,
    },
    /// `borrow<R>` (lowered as the resource's rep; never lifted).
    Borrow {
        class: ResourceClass,
    },
    /// `own<R>` of a resource the host implements: the guest's handle stands for an
    /// object of the user's `class` in the session's handle table `table`.
    HostOwn {
        table: usize,
        class: Py<PyAny>,
    },
    /// `borrow<R>` of a resource the host implements (only ever lent to the host).
    HostBorrow {
        table: usize,
    },
    Cases {
        flavor: Flavor,
        cases: Vec<Option<Ty>>,
        disc: u32,
        payload_offset: u32,
        describe: Py<PyString>,
    },
}

/// A resource's Python class, held weakly: its methods are compiled exports that hold
/// this, and a strong reference would make a cycle the collector cannot see through.
pub struct ResourceClass(Py<PyWeakrefReference>);

impl ResourceClass {
    fn new(class: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(ResourceClass(PyWeakrefReference::new(class)?.unbind()))
    }

    pub fn get<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.0
            .bind(py)
            .upgrade()
            .ok_or_else(|| PyValueError::new_err("the component this function belongs to is gone"))
    }
}

/// What a variant-like type's Python values look like.
pub enum Flavor {
    /// `sandlink.Variant(case, value)`; `index` maps case names to indices.
    Variant {
        names: Vec<Py<PyString>>,
        index: Py<PyAny>,
    },
    /// The case name.
    Enum {
        names: Vec<Py<PyString>>,
        index: Py<PyAny>,
    },
    /// None, or the value.
    Option,
    /// `sandlink.Ok(v)` / `sandlink.Err(e)`.
    Result,
}

impl Ty {
    /// Reads a spec: `(kind, size, alignment, flat length, *details)`.
    pub fn from_spec(spec: &Bound<'_, PyAny>) -> PyResult<Ty> {
        let spec = spec.cast::<PyTuple>()?;
        let kind_name: String = spec.get_item(0)?.extract()?;
        let size: u32 = spec.get_item(1)?.extract()?;
        let align: u32 = spec.get_item(2)?.extract()?;
        let nflat: usize = spec.get_item(3)?.extract()?;
        let at = |i: usize| spec.get_item(i);
        let kind = match kind_name.as_str() {
            "bool" => Kind::Bool,
            "char" => Kind::Char,
            "string" => Kind::String,
            "int" => {
                let name = at(4)?.cast_into::<PyString>()?;
                let text = name.to_str()?.to_owned();
                Kind::Int {
                    bits: text[1..].parse().map_err(|_| bad_spec(&kind_name))?,
                    signed: text.starts_with('s'),
                    name: name.unbind(),
                }
            }
            "float" => {
                let name = at(4)?.cast_into::<PyString>()?;
                Kind::Float {
                    single: name.to_str()? == "f32",
                    name: name.unbind(),
                }
            }
            "list" => Kind::List {
                element: Box::new(Ty::from_spec(&at(4)?)?),
                packed: {
                    let code = at(5)?;
                    if code.is_none() {
                        None
                    } else {
                        Some((
                            code.cast_into::<PyString>()?.unbind(),
                            at(6)?.cast_into::<PyString>()?.unbind(),
                        ))
                    }
                },
            },
            "record" => {
                let attrs = at(5)?
                    .cast_into::<PyTuple>()?
                    .iter()
                    .map(|a| Ok(a.cast_into::<PyString>()?.unbind()))
                    .collect::<PyResult<Vec<_>>>()?;
                let fields = specs(&at(6)?)?;
                Kind::Record {
                    class: at(4)?.unbind(),
                    attrs,
                    offsets: offsets(&fields),
                    fields,
                    fill: at(7)?.extract()?,
                }
            }
            "tuple" => {
                let elements = specs(&at(4)?)?;
                Kind::Tuple {
                    offsets: offsets(&elements),
                    elements,
                }
            }
            "own" => Kind::Own {
                table: at(4)?.extract()?,
                class: ResourceClass::new(&at(5)?)?,
            },
            "borrow" => Kind::Borrow {
                class: ResourceClass::new(&at(5)?)?,
            },
            "hosted-own" => Kind::HostOwn {
                table: at(4)?.extract()?,
                class: at(5)?.unbind(),
            },
            "hosted-borrow" => Kind::HostBorrow {
                table: at(4)?.extract()?,
            },
            "flags" => Kind::Flags {
                names: at(4)?.unbind(),
                bits: at(5)?.unbind(),
            },
            "variant" | "enum" | "option" | "result" => {
                let disc: u32 = at(4)?.extract()?;
                let payload_offset: u32 = at(5)?.extract()?;
                let cases_spec = at(6)?.cast_into::<PyTuple>()?;
                let mut names = Vec::new();
                let mut cases = Vec::new();
                for case in cases_spec.iter() {
                    let case = case.cast_into::<PyTuple>()?;
                    names.push(case.get_item(0)?.cast_into::<PyString>()?.unbind());
                    let payload = case.get_item(1)?;
                    cases.push(if payload.is_none() {
                        None
                    } else {
                        Some(Ty::from_spec(&payload)?)
                    });
                }
                let flavor = match kind_name.as_str() {
                    "variant" => Flavor::Variant {
                        names,
                        index: at(7)?.unbind(),
                    },
                    "enum" => Flavor::Enum {
                        names,
                        index: at(7)?.unbind(),
                    },
                    "option" => Flavor::Option,
                    _ => Flavor::Result,
                };
                Kind::Cases {
                    flavor,
                    cases,
                    disc,
                    payload_offset,
                    describe: at(8)?.cast_into::<PyString>()?.unbind(),
                }
            }
            _ => return Err(bad_spec(&kind_name)),
        };
        if !(align.is_power_of_two() && align <= 8) {
            return Err(bad_spec(&kind_name));
        }
        Ok(Ty {
            size,
            align,
            nflat,
            kind,
        })
    }

    pub fn children(&self) -> Vec<&Ty> {
        match &self.kind {
            Kind::List { element, .. } => vec![element],
            Kind::Record { fields, .. } => fields.iter().collect(),
            Kind::Tuple { elements, .. } => elements.iter().collect(),
            Kind::Cases { cases, .. } => cases.iter().flatten().collect(),
            _ => vec![],
        }
    }

    /// Does lifting it read lists or strings from memory?
    pub fn reads_memory(&self) -> bool {
        matches!(self.kind, Kind::String | Kind::List { .. })
            || self.children().iter().any(|c| c.reads_memory())
    }

    /// Can a lifted value be much bigger than the memory it reads (a list whose elements
    /// point elsewhere)? Then lifting it charges a budget.
    pub fn amplifies(&self) -> bool {
        match &self.kind {
            Kind::List { element, .. } => element.reads_memory() || element.amplifies(),
            _ => self.children().iter().any(|c| c.amplifies()),
        }
    }

    /// Does lowering a value allocate guest memory?
    pub fn allocates(&self) -> bool {
        matches!(self.kind, Kind::String | Kind::List { .. })
            || self.children().iter().any(|c| c.allocates())
    }
}

pub fn specs(tuple: &Bound<'_, PyAny>) -> PyResult<Vec<Ty>> {
    tuple
        .cast::<PyTuple>()?
        .iter()
        .map(|s| Ty::from_spec(&s))
        .collect()
}

pub fn align_to(offset: u32, align: u32) -> u32 {
    offset.div_ceil(align) * align
}

/// The offsets of a struct's fields (records, tuples, spilled parameters).
pub fn offsets(fields: &[Ty]) -> Vec<u32> {
    let mut offset = 0;
    fields
        .iter()
        .map(|f| {
            let at = align_to(offset, f.align);
            offset = at + f.size;
            at
        })
        .collect()
}

fn bad_spec(kind: &str) -> PyErr {
    PyValueError::new_err(format!("bad compiled-path type spec ({kind})"))
}

/// A spec that may be None (a function without a result).
fn optional_spec(spec: &Bound<'_, PyAny>) -> PyResult<Option<Ty>> {
    if spec.is_none() {
        Ok(None)
    } else {
        Ty::from_spec(spec).map(Some)
    }
}

/// (size, alignment, field offsets) of parameters laid out as one tuple (when they spill).
fn tuple_layout(params: &[Ty]) -> (u32, u32, Vec<u32>) {
    let align = params.iter().map(|p| p.align).max().unwrap_or(1);
    let offs = offsets(params);
    let end = params.last().map_or(0, |p| offs[offs.len() - 1] + p.size);
    (align_to(end, align), align, offs)
}

/// A function's types as a call crosses them: parameters and result (from
/// `ValType.accel_spec`: only the parsed types are kept, which hold resource classes
/// weakly), and whether each goes through memory (`FuncType.spills`).
#[derive(FromPyObject)]
pub struct Signature {
    #[pyo3(from_py_with = specs)]
    pub params: Vec<Ty>,
    #[pyo3(from_py_with = optional_spec)]
    pub result: Option<Ty>,
    pub spilled: bool,
    pub by_pointer: bool,
    /// The function's `string-encoding` option.
    pub encoding: Encoding,
}

/// How strings look in guest memory (a function's `string-encoding` canonical option).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    /// Latin-1 when every character fits, else UTF-16 with [`UTF16_TAG`] in the length.
    Latin1Utf16,
}

/// The bit of a `latin1+utf16` string's length that says it is UTF-16.
pub const UTF16_TAG: u64 = 1 << 31;

impl<'py> FromPyObject<'_, 'py> for Encoding {
    type Error = PyErr;

    fn extract(name: Borrowed<'_, 'py, PyAny>) -> PyResult<Self> {
        match name.extract::<String>()?.as_str() {
            "utf8" => Ok(Encoding::Utf8),
            "utf16" => Ok(Encoding::Utf16),
            "latin1+utf16" => Ok(Encoding::Latin1Utf16),
            other => Err(PyValueError::new_err(format!(
                "no string encoding {other:?}"
            ))),
        }
    }
}

impl Signature {
    /// (size, alignment, offsets) of the parameters as one tuple, when they spill.
    pub fn spilled_layout(&self) -> Option<(u32, u32, Vec<u32>)> {
        self.spilled.then(|| tuple_layout(&self.params))
    }
}
