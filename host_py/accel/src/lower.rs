//! Host values going into the guest, in the two phases of `sandlink/host/_types.py`:
//! `check` validates a Python value into a [`Prep`] before the guest is touched (common
//! cases natively; anything else through the very Python helper the pure path calls, so
//! every error is the same exception with the same message), then `lower` (flat slots) or
//! `store` (linear memory) writes it, allocating in the guest.
use pyo3::exceptions::PyValueError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::guest::Memory;
use crate::helpers::Helpers;
use crate::ty::{Encoding, Flavor, Kind, Ty};

/// Where a value sits in the arguments, for messages (built only when one is needed).
#[derive(Clone, Copy)]
pub enum Where<'a> {
    Param(&'a str),
    Item(&'a Where<'a>),
    Attr(&'a Where<'a>, &'a Bound<'a, PyString>),
    Index(&'a Where<'a>, usize),
    Case(&'a Where<'a>, &'a Bound<'a, PyString>),
}

impl Where<'_> {
    pub fn render(&self) -> String {
        match self {
            Where::Param(name) => (*name).to_owned(),
            Where::Item(w) => format!("{}[*]", w.render()),
            Where::Attr(w, a) => format!("{}.{}", w.render(), a),
            Where::Index(w, i) => format!("{}[{i}]", w.render()),
            Where::Case(w, c) => format!("{}.{}", w.render(), c),
        }
    }
}

/// A checked value, ready to lower.
pub enum Prep<'py> {
    /// A scalar's flat bits (ints two's-complement, floats as their bits).
    Bits(u64),
    /// Bytes to copy in, kept alive by their object (bytes, or a str's UTF-8).
    Bytes(#[allow(dead_code)] Bound<'py, PyAny>, *const u8, usize),
    /// A bytearray: its bytes are read when copied (the guest may run between).
    ByteArray(Bound<'py, PyByteArray>, usize),
    /// A string encoded as UTF-16 or Latin-1 (the bytes object), and the length the guest
    /// gets (code units, tagged for UTF-16 in `latin1+utf16`).
    Text(#[allow(dead_code)] Bound<'py, PyAny>, *const u8, usize, u64),
    Items(Vec<Prep<'py>>),
    Case(u32, Option<Box<Prep<'py>>>),
    Words(Vec<u32>),
    /// A checked `own<R>` object, given to the guest when lowered.
    Owned(Bound<'py, PyAny>, usize),
    /// An object of a resource the host implements, put in handle table `.1` when lowered.
    Hosted(Bound<'py, PyAny>, usize),
}

pub struct Checker<'h, 'py> {
    pub py: Python<'py>,
    pub h: &'h Helpers,
    pub session: &'h Bound<'py, PyAny>,
    /// The `own<R>` objects given in this call (one object cannot be given twice).
    pub moved: Option<Bound<'py, pyo3::types::PySet>>,
    /// Bytes the call will allocate in the guest (checked against the memory cap).
    pub need: u64,
    /// The function's string encoding.
    pub encoding: Encoding,
}

impl<'py> Checker<'_, 'py> {
    pub fn check(&mut self, ty: &Ty, v: &Bound<'py, PyAny>, w: Where<'_>) -> PyResult<Prep<'py>> {
        let py = self.py;
        let h = self.h;
        Ok(match &ty.kind {
            Kind::Bool => {
                if v.is(&*pyo3::types::PyBool::new(py, true)) {
                    Prep::Bits(1)
                } else if v.is(&*pyo3::types::PyBool::new(py, false)) {
                    Prep::Bits(0)
                } else {
                    h.bad_bool.call1(py, (w.render(), v))?;
                    return Err(PyValueError::new_err("bad_bool returned"));
                }
            }
            Kind::Int { bits, signed, name } => {
                let fast = if v.is_exact_instance_of::<PyInt>() {
                    int_bits(v, *bits, *signed)
                } else {
                    None
                };
                match fast {
                    Some(b) => Prep::Bits(b),
                    None => {
                        let checked = h.check_int.call1(py, (w.render(), name, v))?;
                        int_bits(checked.bind(py), *bits, *signed)
                            .ok_or_else(|| PyValueError::new_err("check_int let a bad int by"))
                            .map(Prep::Bits)?
                    }
                }
            }
            Kind::Float { single, name } => {
                let fast = if v.is_exact_instance_of::<PyFloat>() {
                    let x = v.cast::<PyFloat>()?.value();
                    if *single {
                        let y = x as f32;
                        (!y.is_infinite() || x.is_infinite()).then(|| u64::from(y.to_bits()))
                    } else {
                        Some(x.to_bits())
                    }
                } else {
                    None
                };
                match fast {
                    Some(b) => Prep::Bits(b),
                    None => Prep::Bits(h.float_bits.call1(py, (w.render(), v, name))?.extract(py)?),
                }
            }
            Kind::Char => {
                let fast = if v.is_exact_instance_of::<PyString>() {
                    let s = v.cast::<PyString>()?.to_cow().ok();
                    s.and_then(|s| {
                        let mut chars = s.chars();
                        match (chars.next(), chars.next()) {
                            (Some(c), None) => Some(u64::from(u32::from(c))),
                            _ => None,
                        }
                    })
                } else {
                    None
                };
                match fast {
                    Some(b) => Prep::Bits(b),
                    None => Prep::Bits(h.char_code.call1(py, (w.render(), v))?.extract(py)?),
                }
            }
            Kind::String if self.encoding != Encoding::Utf8 => {
                let prep = self.encoded(v, w)?;
                self.need += prep_len(&prep) as u64;
                prep
            }
            Kind::String => {
                let prep = if v.is_exact_instance_of::<PyString>() {
                    utf8_of(v)
                } else {
                    None
                };
                let prep = match prep {
                    Some(p) => p,
                    None => {
                        let raw = h.encode_utf8.call1(py, (w.render(), v))?.into_bound(py);
                        bytes_prep(raw)?
                    }
                };
                self.need += prep_len(&prep) as u64;
                prep
            }
            Kind::List { element, packed } => {
                if let Kind::Int {
                    bits: 8,
                    signed: false,
                    ..
                } = element.kind
                {
                    let prep = if v.is_exact_instance_of::<PyBytes>() {
                        bytes_prep(v.clone())?
                    } else if v.is_exact_instance_of::<PyByteArray>() {
                        let array = v.cast::<PyByteArray>()?.clone();
                        let n = array.len();
                        if n as u64 > crate::guest::MAX_BYTE_LENGTH {
                            h.buffer_of.call1(py, (w.render(), v))?; // raises: too long
                        }
                        Prep::ByteArray(array, n)
                    } else {
                        let view = h.buffer_of.call1(py, (w.render(), v))?;
                        bytes_prep(view.bind(py).call_method0(pyo3::intern!(py, "tobytes"))?)?
                    };
                    self.need += prep_len(&prep) as u64;
                    return Ok(prep);
                }
                if let Some((code, kind)) = packed {
                    let raw = h.pack_numbers.call1(py, (w.render(), v, code, kind))?;
                    let prep = bytes_prep(raw.into_bound(py))?;
                    self.need += prep_len(&prep) as u64;
                    return Ok(prep);
                }
                let seq = if v.is_instance_of::<PyList>() || v.is_instance_of::<PyTuple>() {
                    v.clone()
                } else {
                    h.sequence.call1(py, (w.render(), v))?.into_bound(py)
                };
                let n = seq.len()?;
                self.need += n as u64 * u64::from(element.size);
                let item_w = Where::Item(&w);
                let mut items = Vec::with_capacity(n);
                for item in seq.try_iter()? {
                    items.push(self.check(element, &item?, item_w)?);
                }
                Prep::Items(items)
            }
            Kind::Record {
                class,
                attrs,
                fields,
                ..
            } => {
                let mut values = Vec::with_capacity(attrs.len());
                for attr in attrs {
                    match v.getattr(attr.bind(py)) {
                        Ok(x) => values.push(x),
                        Err(_) => {
                            let names = PyTuple::new(py, attrs.iter().map(|a| a.bind(py)))?;
                            h.fields_of.call1(py, (w.render(), v, class, names))?;
                            return Err(PyValueError::new_err("fields_of let a bad record by"));
                        }
                    }
                }
                let mut items = Vec::with_capacity(fields.len());
                for ((f, attr), x) in fields.iter().zip(attrs).zip(&values) {
                    let attr = attr.bind(py);
                    items.push(self.check(f, x, Where::Attr(&w, attr))?);
                }
                Prep::Items(items)
            }
            Kind::Tuple { elements, .. } => {
                let ok = (v.is_instance_of::<PyTuple>() || v.is_instance_of::<PyList>())
                    && v.len()? == elements.len();
                let seq = if ok {
                    v.clone()
                } else {
                    h.tuple_of
                        .call1(py, (w.render(), v, elements.len()))?
                        .into_bound(py)
                };
                let mut items = Vec::with_capacity(elements.len());
                for (i, e) in elements.iter().enumerate() {
                    items.push(self.check(e, &seq.get_item(i)?, Where::Index(&w, i))?);
                }
                Prep::Items(items)
            }
            Kind::Borrow { class } => {
                let class = class.get(py)?;
                let rep = match self.live_rep(v, &class)? {
                    Some(rep) => rep,
                    // Not this session's live object: the helper raises the right error.
                    None => h
                        .borrow_check
                        .call1(py, (self.session, w.render(), v, class))?
                        .extract(py)?,
                };
                Prep::Bits(rep & 0xFFFF_FFFF)
            }
            Kind::HostOwn { table, class } => {
                let class = class.bind(py);
                if !v.is_instance(class)? {
                    h.hosted_check.call1(py, (w.render(), v, class))?; // raises
                }
                Prep::Hosted(v.clone(), *table)
            }
            Kind::HostBorrow { .. } => {
                return Err(PyValueError::new_err(
                    "the host never lends its objects here",
                ));
            }
            Kind::Own { table, class } => {
                let class = class.get(py)?;
                let moved = match &self.moved {
                    Some(m) => m.clone(),
                    None => {
                        let m = pyo3::types::PySet::empty(py)?;
                        self.moved = Some(m.clone());
                        m
                    }
                };
                let obj = h
                    .own_check
                    .call1(py, (self.session, w.render(), v, class, moved))?;
                Prep::Owned(obj.into_bound(py), *table)
            }
            Kind::Flags { bits, .. } => {
                let word = h.flag_bits.call1(py, (w.render(), v, bits))?.into_bound(py);
                let n = ty.nflat.max(1);
                let raw = word.call_method1(
                    pyo3::intern!(py, "to_bytes"),
                    (4 * n, pyo3::intern!(py, "little")),
                )?;
                let raw = raw.cast::<PyBytes>()?.as_bytes();
                Prep::Words(
                    raw.chunks_exact(4)
                        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                )
            }
            Kind::Cases {
                flavor,
                cases,
                describe,
                ..
            } => {
                let (index, payload): (u32, Bound<'py, PyAny>) = match flavor {
                    Flavor::Option => {
                        if v.is_none() {
                            (0, v.clone())
                        } else {
                            (1, v.clone())
                        }
                    }
                    Flavor::Result => {
                        let kind = v.get_type();
                        if kind.is(h.ok.bind(py)) {
                            (0, v.getattr(pyo3::intern!(py, "value"))?)
                        } else if kind.is(h.err.bind(py)) {
                            (1, v.getattr(pyo3::intern!(py, "value"))?)
                        } else {
                            let pair = h.result_case.call1(py, (w.render(), v))?;
                            pair.extract(py)?
                        }
                    }
                    Flavor::Variant { index, .. } => {
                        let pair = h.variant_case.call1(py, (w.render(), v, index, describe))?;
                        pair.extract(py)?
                    }
                    Flavor::Enum { index, .. } => {
                        let i = h.enum_case.call1(py, (w.render(), v, index, describe))?;
                        (i.extract(py)?, py.None().into_bound(py))
                    }
                };
                let case_ty = cases
                    .get(index as usize)
                    .ok_or_else(|| PyValueError::new_err("case index out of range"))?;
                match case_ty {
                    None => {
                        if !payload.is_none()
                            && matches!(flavor, Flavor::Variant { .. } | Flavor::Result)
                        {
                            let name = case_name(py, flavor, index);
                            let exc = h.no_payload.call1(py, (w.render(), name, &payload))?;
                            return Err(PyErr::from_value(exc.into_bound(py)));
                        }
                        Prep::Case(index, None)
                    }
                    Some(t) => {
                        let name = case_name(py, flavor, index);
                        let name = name.bind(py);
                        let inner = self.check(t, &payload, Where::Case(&w, name))?;
                        Prep::Case(index, Some(Box::new(inner)))
                    }
                }
            }
        })
    }
}

impl<'py> Checker<'_, 'py> {
    /// A string in UTF-16 or `latin1+utf16`, encoded by the pure path's own helper.
    fn encoded(&self, v: &Bound<'py, PyAny>, w: Where<'_>) -> PyResult<Prep<'py>> {
        let (py, h) = (self.py, self.h);
        let (raw, units) = if self.encoding == Encoding::Utf16 {
            let raw = h.encode_utf16.call1(py, (w.render(), v))?.into_bound(py);
            let units = raw.len()? as u64 >> 1;
            (raw, units)
        } else {
            let pair = h
                .encode_latin1_utf16
                .call1(py, (w.render(), v))?
                .into_bound(py);
            (pair.get_item(0)?, pair.get_item(1)?.extract()?)
        };
        let (ptr, n) = bytes_of(&raw)?;
        Ok(Prep::Text(raw, ptr, n, units))
    }

    /// The rep of `v` if it is an open object of exactly `class` made by this session
    /// (what `_resources.borrow_check` accepts), else None.
    fn live_rep(&self, v: &Bound<'py, PyAny>, class: &Bound<'py, PyAny>) -> PyResult<Option<u64>> {
        let py = self.py;
        if !v.get_type().is(class) {
            return Ok(None);
        }
        let session = v.getattr(pyo3::intern!(py, "_session"))?;
        let closed = v.getattr(pyo3::intern!(py, "_closed"))?;
        if !session.is(self.session) || !closed.is(&*pyo3::types::PyBool::new(py, false)) {
            return Ok(None);
        }
        Ok(Some(v.getattr(pyo3::intern!(py, "_rep"))?.extract()?))
    }
}

fn case_name(py: Python<'_>, flavor: &Flavor, index: u32) -> Py<PyString> {
    let fixed = |s: &str| PyString::new(py, s).unbind();
    match flavor {
        Flavor::Variant { names, .. } | Flavor::Enum { names, .. } => {
            names[index as usize].clone_ref(py)
        }
        Flavor::Option => fixed(if index == 0 { "none" } else { "some" }),
        Flavor::Result => fixed(if index == 0 { "ok" } else { "err" }),
    }
}

/// An exact int's flat bits, if it is in range for the type.
fn int_bits(v: &Bound<'_, PyAny>, bits: u32, signed: bool) -> Option<u64> {
    if signed {
        let x: i64 = v.extract().ok()?;
        let (lo, hi) = if bits == 64 {
            (i64::MIN, i64::MAX)
        } else {
            (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1)
        };
        let mask = if bits == 64 { u64::MAX } else { 0xFFFF_FFFF };
        (lo..=hi).contains(&x).then_some(x as u64 & mask)
    } else {
        let x: u64 = v.extract().ok()?;
        (bits == 64 || x < (1u64 << bits)).then_some(x)
    }
}

/// An exact str's UTF-8 (None if it has lone surrogates or is too long for the ABI: the
/// Python helper then raises the error).
fn utf8_of<'py>(v: &Bound<'py, PyAny>) -> Option<Prep<'py>> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `v` is an exact str; the buffer lives as long as the str (held by the Prep).
    let data = unsafe { ffi::PyUnicode_AsUTF8AndSize(v.as_ptr(), &mut size) };
    if data.is_null() {
        // SAFETY: clears the UnicodeEncodeError just raised (the helper raises its own).
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let n = size as usize;
    (n as u64 <= crate::guest::MAX_BYTE_LENGTH).then(|| Prep::Bytes(v.clone(), data.cast(), n))
}

fn bytes_prep(raw: Bound<'_, PyAny>) -> PyResult<Prep<'_>> {
    let (ptr, n) = bytes_of(&raw)?;
    Ok(Prep::Bytes(raw, ptr, n))
}

/// Where a bytes object's bytes are, and how many (valid while it lives: they never change).
fn bytes_of(raw: &Bound<'_, PyAny>) -> PyResult<(*const u8, usize)> {
    let slice = raw.cast::<PyBytes>()?.as_bytes();
    Ok((slice.as_ptr(), slice.len()))
}

fn prep_len(p: &Prep<'_>) -> usize {
    match p {
        Prep::Bytes(_, _, n) | Prep::ByteArray(_, n) | Prep::Text(_, _, n, _) => *n,
        _ => 0,
    }
}

/// Copies a UTF-16 or Latin-1 string's `n` bytes at `ptr` into a 2-aligned guest block.
fn copy_text(m: &mut Memory<'_, '_>, ptr: *const u8, n: usize) -> PyResult<u32> {
    let addr = m.alloc(n as u64, 2)?;
    // SAFETY: the bytes object owning them is held by the Prep; bytes are immutable.
    m.write(u64::from(addr), unsafe {
        std::slice::from_raw_parts(ptr, n)
    })?;
    Ok(addr)
}

/// Copies a bytes-like prep into a fresh guest block; returns its address.
fn copy_in(m: &mut Memory<'_, '_>, p: &Prep<'_>, align: u32) -> PyResult<(u32, usize)> {
    match p {
        Prep::Bytes(_, ptr, n) => {
            let addr = m.alloc(*n as u64, align)?;
            // SAFETY: the object owning the bytes is held by the Prep, and bytes and str
            // contents are immutable.
            m.write(u64::from(addr), unsafe {
                std::slice::from_raw_parts(*ptr, *n)
            })?;
            Ok((addr, *n))
        }
        Prep::ByteArray(array, n) => {
            let addr = m.alloc(*n as u64, align)?;
            // SAFETY: read now, with the GIL held: no Python code runs until the copy is done.
            let now = unsafe { array.as_bytes() };
            if now.len() != *n {
                return Err(PyValueError::new_err(
                    "a bytearray argument changed size during the call",
                ));
            }
            m.write(u64::from(addr), now)?;
            Ok((addr, *n))
        }
        _ => Err(PyValueError::new_err("not a bytes-like prep")),
    }
}

/// The flat values of `p` (appended to `out`), allocating in the guest as needed.
pub fn lower(ty: &Ty, p: &Prep<'_>, m: &mut Memory<'_, '_>, out: &mut Vec<u64>) -> PyResult<()> {
    match (&ty.kind, p) {
        (_, Prep::Bits(b)) => out.push(*b),
        (_, Prep::Owned(..)) => out.push(give(p, m)?),
        (_, Prep::Hosted(..)) => out.push(hold(p, m)?),
        (Kind::String, Prep::Text(_, ptr, n, units)) => {
            let addr = copy_text(m, *ptr, *n)?;
            out.extend([u64::from(addr), *units]);
        }
        (Kind::String, _) => {
            let (addr, n) = copy_in(m, p, 1)?;
            out.extend([u64::from(addr), n as u64]);
        }
        (Kind::List { element, .. }, Prep::Items(items)) => {
            let addr = store_items(element, items, m)?;
            out.extend([u64::from(addr), items.len() as u64]);
        }
        (Kind::List { element, .. }, _) => {
            let (addr, n) = copy_in(m, p, element.align)?;
            out.extend([u64::from(addr), (n / element.size.max(1) as usize) as u64]);
        }
        (Kind::Record { fields, .. }, Prep::Items(items)) => {
            for (f, item) in fields.iter().zip(items) {
                lower(f, item, m, out)?;
            }
        }
        (Kind::Tuple { elements, .. }, Prep::Items(items)) => {
            for (e, item) in elements.iter().zip(items) {
                lower(e, item, m, out)?;
            }
        }
        (Kind::Flags { .. }, Prep::Words(words)) => out.extend(words.iter().map(|&w| u64::from(w))),
        (Kind::Cases { cases, .. }, Prep::Case(index, payload)) => {
            out.push(u64::from(*index));
            let start = out.len();
            if let (Some(t), Some(inner)) = (&cases[*index as usize], payload) {
                lower(t, inner, m, out)?;
            }
            out.resize(start + ty.nflat - 1, 0);
        }
        _ => return Err(PyValueError::new_err("a prep does not match its type")),
    }
    Ok(())
}

fn store_items(element: &Ty, items: &[Prep<'_>], m: &mut Memory<'_, '_>) -> PyResult<u32> {
    let width = u64::from(element.size);
    let addr = m.alloc(items.len() as u64 * width, element.align)?;
    for (i, item) in items.iter().enumerate() {
        store(element, item, m, u64::from(addr) + i as u64 * width)?;
    }
    Ok(addr)
}

/// Writes `p` at `addr` (inside a block the guest allocated).
pub fn store(ty: &Ty, p: &Prep<'_>, m: &mut Memory<'_, '_>, addr: u64) -> PyResult<()> {
    match (&ty.kind, p) {
        (_, Prep::Bits(b)) => {
            let bytes = b.to_le_bytes();
            m.write(addr, &bytes[..ty.size as usize])
        }
        (_, Prep::Owned(..)) => {
            let handle = give(p, m)? as u32;
            m.write(addr, &handle.to_le_bytes())
        }
        (_, Prep::Hosted(..)) => {
            let handle = hold(p, m)? as u32;
            m.write(addr, &handle.to_le_bytes())
        }
        (Kind::String, Prep::Text(_, ptr, n, units)) => {
            let ptr = copy_text(m, *ptr, *n)?;
            m.write(addr, &pair(ptr, *units as u32))
        }
        (Kind::String, _) => {
            let (ptr, n) = copy_in(m, p, 1)?;
            m.write(addr, &pair(ptr, n as u32))
        }
        (Kind::List { element, .. }, Prep::Items(items)) => {
            let ptr = store_items(element, items, m)?;
            m.write(addr, &pair(ptr, items.len() as u32))
        }
        (Kind::List { element, .. }, _) => {
            let (ptr, n) = copy_in(m, p, element.align)?;
            m.write(addr, &pair(ptr, (n / element.size.max(1) as usize) as u32))
        }
        (
            Kind::Record {
                fields, offsets, ..
            },
            Prep::Items(items),
        ) => {
            for ((f, item), off) in fields.iter().zip(items).zip(offsets) {
                store(f, item, m, addr + u64::from(*off))?;
            }
            Ok(())
        }
        (Kind::Tuple { elements, offsets }, Prep::Items(items)) => {
            for ((e, item), off) in elements.iter().zip(items).zip(offsets) {
                store(e, item, m, addr + u64::from(*off))?;
            }
            Ok(())
        }
        (Kind::Flags { .. }, Prep::Words(words)) => {
            let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
            bytes.truncate(ty.size as usize);
            m.write(addr, &bytes)
        }
        (
            Kind::Cases {
                cases,
                disc,
                payload_offset,
                ..
            },
            Prep::Case(index, payload),
        ) => {
            m.write(addr, &index.to_le_bytes()[..*disc as usize])?;
            if let (Some(t), Some(inner)) = (&cases[*index as usize], payload) {
                store(t, inner, m, addr + u64::from(*payload_offset))?;
            }
            Ok(())
        }
        _ => Err(PyValueError::new_err("a prep does not match its type")),
    }
}

/// Gives an `own<R>` object to the guest: a new handle in the session's table.
fn give(p: &Prep<'_>, m: &Memory<'_, '_>) -> PyResult<u64> {
    let Prep::Owned(obj, table) = p else {
        return Err(PyValueError::new_err("not an owned resource"));
    };
    let py = m.py;
    let tables = m.session.getattr(pyo3::intern!(py, "tables"))?;
    let table = tables.get_item(*table)?;
    let h = m.helpers;
    h.give.call1(py, (m.session, table, obj))?.extract(py)
}

/// Hands the host's object to the guest: a new handle in the session's table for it.
fn hold(p: &Prep<'_>, m: &Memory<'_, '_>) -> PyResult<u64> {
    let Prep::Hosted(obj, table) = p else {
        return Err(PyValueError::new_err("not a host object"));
    };
    let py = m.py;
    let tables = m.session.getattr(pyo3::intern!(py, "tables"))?;
    tables
        .get_item(*table)?
        .call_method1(pyo3::intern!(py, "add"), (obj,))?
        .extract()
}

fn pair(a: u32, b: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&a.to_le_bytes());
    out[4..].copy_from_slice(&b.to_le_bytes());
    out
}
