//! Guest values coming out: `lift` from flat raw slots, `load` from linear memory. Every
//! pointer, length, discriminant, `char` and string the guest hands over is checked (the
//! same checks and messages as `sandlink/host/_types.py`), and what a lift builds from
//! inside lists (where many values may point at the same bytes) is charged to a budget.
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::guest::{trap, Memory};
use crate::helpers::Helpers;
use crate::ty::{Encoding, Flavor, Kind, ResourceClass, Ty, UTF16_TAG};

/// What one span inside a list costs the budget besides its bytes (`_codegen.SPAN_COST`).
const SPAN_COST: i64 = 16;

pub struct Lifter<'a, 'm, 'py> {
    pub py: Python<'py>,
    pub h: &'a Helpers,
    pub m: &'a mut Memory<'m, 'py>,
    /// The lifting budget (`_b`) and where next to look at the deadline (`_t`), if the
    /// result can amplify.
    pub budget: Option<(i64, i64)>,
    in_lists: u32,
    /// The function's string encoding.
    encoding: Encoding,
}

impl<'a, 'm, 'py> Lifter<'a, 'm, 'py> {
    /// `amplifies`: can the value lifted be much bigger than what it reads (`Ty::amplifies`)?
    pub fn new(
        py: Python<'py>,
        h: &'a Helpers,
        m: &'a mut Memory<'m, 'py>,
        amplifies: bool,
        encoding: Encoding,
    ) -> PyResult<Self> {
        let budget = if amplifies {
            m.sync()?; // the budget is a multiple of the memory's size now
            let b = (h.lift_budget_factor * m.size).min(h.budget) as i64;
            Some((b, b - h.clock_every))
        } else {
            None
        };
        Ok(Lifter {
            py,
            h,
            m,
            budget,
            in_lists: 0,
            encoding,
        })
    }

    /// The bytes of a guest range (a list or string): aligned, inside memory, and within
    /// the budget when inside a list.
    fn span(&mut self, ptr: u64, n: u64, align: u32) -> PyResult<&[u8]> {
        if self.in_lists > 0 {
            if let Some((b, t)) = self.budget.as_mut() {
                *b -= n as i64 + SPAN_COST;
                if *b < *t {
                    let next = self
                        .h
                        .spend
                        .call1(self.py, (self.m.session, *b, self.m.size))?;
                    *t = next.extract(self.py)?;
                }
            }
        }
        self.m.span(ptr, n, align)
    }

    fn trap(&self, why: &str) -> PyErr {
        trap(self.py, self.h, why)
    }

    /// The value of `ty` from its flat slots.
    pub fn lift(
        &mut self,
        ty: &Ty,
        slots: &mut dyn Iterator<Item = u64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let mut next = || {
            slots
                .next()
                .ok_or_else(|| PyValueError::new_err("too few flat slots"))
        };
        match &ty.kind {
            Kind::Bool => Ok(PyBool::new(py, next()? & 0xFFFF_FFFF != 0)
                .to_owned()
                .into_any()),
            Kind::Int { bits, signed, .. } => Ok(int(py, next()?, *bits, *signed)),
            Kind::Float { single, .. } => Ok(float(py, next()?, *single)),
            Kind::Char => self.char(next()? & 0xFFFF_FFFF),
            Kind::String => {
                let (ptr, n) = (next()? & 0xFFFF_FFFF, next()? & 0xFFFF_FFFF);
                self.text(ptr, n)
            }
            Kind::List { element, .. } => {
                let (ptr, n) = (next()? & 0xFFFF_FFFF, next()? & 0xFFFF_FFFF);
                self.elements(element, ptr, n)
            }
            Kind::Record { fields, .. } => {
                let mut values = Vec::with_capacity(fields.len());
                for f in fields {
                    values.push(self.lift(f, slots)?);
                }
                self.record(ty, values)
            }
            Kind::Tuple { elements, .. } => {
                let mut values = Vec::with_capacity(elements.len());
                for e in elements {
                    values.push(self.lift(e, slots)?);
                }
                Ok(PyTuple::new(py, values)?.into_any())
            }
            Kind::Own { table, class } => {
                let handle = next()? & 0xFFFF_FFFF;
                self.take(*table, class, handle)
            }
            Kind::Borrow { .. } => Err(PyValueError::new_err("a borrow is never lifted")),
            Kind::HostOwn { table, .. } => self.hosted(*table, "remove", next()? & 0xFFFF_FFFF),
            Kind::HostBorrow { table } => self.hosted(*table, "get", next()? & 0xFFFF_FFFF),
            Kind::Flags { names, .. } => {
                let words: Vec<u64> = (0..ty.nflat).map(|_| next()).collect::<PyResult<_>>()?;
                self.flag_set(names, &words)
            }
            Kind::Cases { cases, .. } => {
                let tag = next()? & 0xFFFF_FFFF;
                let payload: Vec<u64> = (1..ty.nflat).map(|_| next()).collect::<PyResult<_>>()?;
                let case = self.case(ty, tag)?;
                let value = match &cases[case] {
                    None => py.None().into_bound(py),
                    Some(t) => self.lift(t, &mut payload.into_iter())?,
                };
                self.wrap(ty, case, value)
            }
        }
    }

    /// The value of `ty` stored at `addr` (already checked to be inside memory).
    pub fn load(&mut self, ty: &Ty, addr: u64) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        match &ty.kind {
            Kind::Bool => Ok(PyBool::new(py, self.read(addr, 1)? != 0)
                .to_owned()
                .into_any()),
            Kind::Int { bits, signed, .. } => {
                Ok(int(py, self.read(addr, ty.size)?, *bits, *signed))
            }
            Kind::Float { single, .. } => Ok(float(py, self.read(addr, ty.size)?, *single)),
            Kind::Char => {
                let code = self.read(addr, 4)?;
                self.char(code)
            }
            Kind::String => {
                let (ptr, n) = (self.read(addr, 4)?, self.read(addr + 4, 4)?);
                self.text(ptr, n)
            }
            Kind::List { element, .. } => {
                let (ptr, n) = (self.read(addr, 4)?, self.read(addr + 4, 4)?);
                self.elements(element, ptr, n)
            }
            Kind::Record {
                fields, offsets, ..
            } => {
                let mut values = Vec::with_capacity(fields.len());
                for (f, off) in fields.iter().zip(offsets) {
                    values.push(self.load(f, addr + u64::from(*off))?);
                }
                self.record(ty, values)
            }
            Kind::Tuple { elements, offsets } => {
                let mut values = Vec::with_capacity(elements.len());
                for (e, off) in elements.iter().zip(offsets) {
                    values.push(self.load(e, addr + u64::from(*off))?);
                }
                Ok(PyTuple::new(py, values)?.into_any())
            }
            Kind::Own { table, class } => {
                let handle = self.read(addr, 4)?;
                self.take(*table, class, handle)
            }
            Kind::Borrow { .. } => Err(PyValueError::new_err("a borrow is never lifted")),
            Kind::HostOwn { table, .. } => {
                let handle = self.read(addr, 4)?;
                self.hosted(*table, "remove", handle)
            }
            Kind::HostBorrow { table } => {
                let handle = self.read(addr, 4)?;
                self.hosted(*table, "get", handle)
            }
            Kind::Flags { names, .. } => {
                let words: Vec<u64> = if ty.size < 4 {
                    vec![self.read(addr, ty.size)?]
                } else {
                    (0..u64::from(ty.size / 4))
                        .map(|i| self.read(addr + 4 * i, 4))
                        .collect::<PyResult<_>>()?
                };
                self.flag_set(names, &words)
            }
            Kind::Cases {
                cases,
                disc,
                payload_offset,
                ..
            } => {
                let tag = self.read(addr, *disc)?;
                let case = self.case(ty, tag)?;
                let value = match &cases[case] {
                    None => py.None().into_bound(py),
                    Some(t) => self.load(t, addr + u64::from(*payload_offset))?,
                };
                self.wrap(ty, case, value)
            }
        }
    }

    /// A record value: its class called with the fields, or a bare instance with the
    /// fields set, when that is the same thing (`Kind::Record::fill`), which is faster.
    fn record(&self, ty: &Ty, values: Vec<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let Kind::Record {
            class,
            attrs,
            fill: fillable,
            ..
        } = &ty.kind
        else {
            return Err(PyValueError::new_err("not a record type"));
        };
        let class = class.bind(py);
        if !*fillable {
            return class.call1(PyTuple::new(py, values)?);
        }
        fill(class, attrs.iter().map(|a| a.bind(py).clone()).zip(values))
    }

    /// An `own<R>` the guest hands out: taken out of the session's handle table.
    fn take(
        &self,
        table: usize,
        class: &ResourceClass,
        handle: u64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let class = class.get(py)?;
        let session = self.m.session;
        let table = session
            .getattr(pyo3::intern!(py, "tables"))?
            .get_item(table)?;
        self.h
            .take
            .call1(py, (session, table, handle, class))
            .map(|v| v.into_bound(py))
    }

    /// The host's object behind a handle the guest passes: `remove`d from the session's
    /// handle table (`own`) or `get` (`borrow`); an unknown handle raises GuestTrap.
    fn hosted(&self, table: usize, how: &str, handle: u64) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        if let (true, Some(reps)) = (how == "get", self.m.reps.get(table)) {
            // The common case read straight from the table's list (`HandleTable.reps`);
            // the method itself raises the right error for a bad handle.
            let reps = reps.bind(py);
            if handle > 0 && (handle as usize) < reps.len() {
                let obj = reps.get_item(handle as usize)?;
                if !obj.is_none() {
                    return Ok(obj);
                }
            }
        }
        let tables = self.m.session.getattr(pyo3::intern!(py, "tables"))?;
        tables.get_item(table)?.call_method1(how, (handle,))
    }

    /// A little-endian unsigned value of `size` bytes at `addr`.
    fn read(&mut self, addr: u64, size: u32) -> PyResult<u64> {
        let bytes = self.m.span(addr, u64::from(size), 1)?;
        let mut raw = [0u8; 8];
        raw[..bytes.len()].copy_from_slice(bytes);
        Ok(u64::from_le_bytes(raw))
    }

    fn char(&self, code: u64) -> PyResult<Bound<'py, PyAny>> {
        match char::from_u32(code as u32).filter(|_| code <= 0x10_FFFF) {
            Some(c) => Ok(PyString::new(self.py, c.encode_utf8(&mut [0; 4])).into_any()),
            None => self
                .h
                .guest_char
                .call1(self.py, (code,))
                .map(|v| v.into_bound(self.py)),
        }
    }

    /// The string at `ptr`, `n` its length as the function's encoding counts it.
    fn text(&mut self, ptr: u64, n: u64) -> PyResult<Bound<'py, PyAny>> {
        let (utf16, units) = match self.encoding {
            Encoding::Utf8 => {
                let bytes = self.span(ptr, n, 1)?;
                // SAFETY: a checked range of guest memory; the decoder copies it.
                let text = unsafe {
                    ffi::PyUnicode_DecodeUTF8(
                        bytes.as_ptr().cast(),
                        bytes.len() as ffi::Py_ssize_t,
                        c"strict".as_ptr(),
                    )
                };
                return self.decoded(text, "utf-8");
            }
            Encoding::Utf16 => (true, n),
            Encoding::Latin1Utf16 => (n & UTF16_TAG != 0, n & !UTF16_TAG),
        };
        if utf16 {
            let bytes = self.span(ptr, units << 1, 2)?;
            let mut little_endian: std::ffi::c_int = -1;
            // SAFETY: as above.
            let text = unsafe {
                ffi::PyUnicode_DecodeUTF16(
                    bytes.as_ptr().cast(),
                    bytes.len() as ffi::Py_ssize_t,
                    c"strict".as_ptr(),
                    &mut little_endian,
                )
            };
            self.decoded(text, "utf-16-le")
        } else {
            let bytes = self.span(ptr, units, 2)?;
            // SAFETY: as above (every byte is a Latin-1 character).
            let text = unsafe {
                ffi::PyUnicode_DecodeLatin1(
                    bytes.as_ptr().cast(),
                    bytes.len() as ffi::Py_ssize_t,
                    c"strict".as_ptr(),
                )
            };
            self.decoded(text, "latin-1")
        }
    }

    /// A decoder's new str, or the GuestTrap for bytes not valid in `encoding`.
    fn decoded(&self, text: *mut ffi::PyObject, encoding: &str) -> PyResult<Bound<'py, PyAny>> {
        if text.is_null() {
            // SAFETY: drops the UnicodeDecodeError just raised, for the GuestTrap below.
            unsafe { ffi::PyErr_Clear() };
            return Err(self.trap(&format!("guest string is not valid {encoding}")));
        }
        // SAFETY: a new reference, just made.
        Ok(unsafe { Bound::from_owned_ptr(self.py, text) })
    }

    fn elements(&mut self, element: &Ty, ptr: u64, n: u64) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let width = u64::from(element.size);
        let bytes = self.span(ptr, n * width, element.align)?;
        if let Kind::Int {
            bits: 8,
            signed: false,
            ..
        } = element.kind
        {
            return Ok(PyBytes::new(py, bytes).into_any());
        }
        let list = PyList::empty(py);
        self.in_lists += 1;
        let result = (|| {
            for i in 0..n {
                list.append(self.load(element, ptr + i * width)?)?;
            }
            Ok(())
        })();
        self.in_lists -= 1;
        result.map(|()| list.into_any())
    }

    fn flag_set(&self, names: &Py<PyAny>, words: &[u64]) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let raw: Vec<u8> = words
            .iter()
            .flat_map(|w| (*w as u32).to_le_bytes())
            .collect();
        let bits = py.get_type::<PyInt>().call_method1(
            pyo3::intern!(py, "from_bytes"),
            (PyBytes::new(py, &raw), pyo3::intern!(py, "little")),
        )?;
        self.h
            .flag_set
            .call1(py, (names, bits))
            .map(|v| v.into_bound(py))
    }

    fn case(&self, ty: &Ty, tag: u64) -> PyResult<usize> {
        let Kind::Cases {
            cases, describe, ..
        } = &ty.kind
        else {
            return Err(PyValueError::new_err("not a variant-like type"));
        };
        if (tag as usize) < cases.len() {
            return Ok(tag as usize);
        }
        let exc = self.h.bad_case.call1(self.py, (tag, describe))?;
        Err(PyErr::from_value(exc.into_bound(self.py)))
    }

    fn wrap(&self, ty: &Ty, case: usize, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let Kind::Cases { flavor, .. } = &ty.kind else {
            return Err(PyValueError::new_err("not a variant-like type"));
        };
        match flavor {
            Flavor::Option => Ok(value),
            Flavor::Result => {
                let class = if case == 0 { &self.h.ok } else { &self.h.err };
                fill(
                    class.bind(py),
                    [(pyo3::intern!(py, "value").clone(), value)],
                )
            }
            Flavor::Variant { names, .. } => fill(
                self.h.variant.bind(py),
                [
                    (
                        pyo3::intern!(py, "case").clone(),
                        names[case].bind(py).clone().into_any(),
                    ),
                    (pyo3::intern!(py, "value").clone(), value),
                ],
            ),
            Flavor::Enum { names, .. } => Ok(names[case].bind(py).clone().into_any()),
        }
    }
}

/// A bare instance of `class` (a plain dataclass: see `_types._fillable`) with `fields` set,
/// which is what calling it with them would make, without running Python.
fn fill<'py>(
    class: &Bound<'py, PyAny>,
    fields: impl IntoIterator<Item = (Bound<'py, PyString>, Bound<'py, PyAny>)>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = class.py();
    let class = class.cast::<pyo3::types::PyType>()?;
    // SAFETY: a type object; its tp_alloc makes a zeroed instance (what object.__new__ does
    // for a class without abstract methods), a new reference, or NULL with an exception.
    let object = unsafe {
        let alloc = ffi::PyType_GetSlot(class.as_type_ptr(), ffi::Py_tp_alloc);
        if alloc.is_null() {
            return Err(PyValueError::new_err("a record class without tp_alloc"));
        }
        let alloc: ffi::allocfunc = std::mem::transmute(alloc);
        let raw = alloc(class.as_type_ptr(), 0);
        if raw.is_null() {
            return Err(PyErr::fetch(py));
        }
        Bound::from_owned_ptr(py, raw)
    };
    for (name, value) in fields {
        // SAFETY: valid objects; the generic setattr is what the dataclass __init__ runs
        // (frozen ones through object.__setattr__).
        if unsafe { ffi::PyObject_GenericSetAttr(object.as_ptr(), name.as_ptr(), value.as_ptr()) }
            != 0
        {
            return Err(PyErr::fetch(py));
        }
    }
    Ok(object)
}

fn int(py: Python<'_>, raw: u64, bits: u32, signed: bool) -> Bound<'_, PyAny> {
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let value = raw & mask;
    let made = if signed {
        let shift = 64 - bits;
        (((value << shift) as i64) >> shift).into_pyobject(py)
    } else {
        value.into_pyobject(py)
    };
    match made {
        Ok(v) => v.into_any(),
        Err(never) => match never {},
    }
}

fn float(py: Python<'_>, raw: u64, single: bool) -> Bound<'_, PyAny> {
    let x = if single {
        f64::from(f32::from_bits(raw as u32))
    } else {
        f64::from_bits(raw)
    };
    PyFloat::new(py, x).into_any()
}
