//! [`Export`]: the whole call of one exported function, compiled: this thread's session,
//! the re-entry guard, every argument checked before the guest is touched, the memory cap,
//! the call's clock and fuel, lowering, the raw call with the GIL released, every failure
//! as the pure path raises it, lifting, post-return. What `_codegen.export_source` writes
//! in Python for the pure path, for the functions the compiled path takes (see
//! `FastHost._compiled_export`).
use std::sync::atomic::Ordering;
use std::sync::Arc;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::guest::{self, CoreState, Memory};
use crate::helpers::Helpers;
use crate::lift::Lifter;
use crate::lower::{lower, store, Checker, Prep, Where};
use crate::ty::{align_to, offsets, specs, Ty};
use crate::wasmtime::{self, api};

/// How to call one export, as `FastHost._compiled_export` plans it (read by attribute).
#[derive(FromPyObject)]
struct Plan {
    name: String,
    #[pyo3(attribute("where"))]
    where_: Py<PyString>,
    /// The host's serial: which session of this thread is its own.
    serial: u64,
    /// A `WeakMethod` of `FastHost.session`, which makes this thread's session (and so
    /// registers its core).
    make_session: Py<PyAny>,
    helpers: Py<Helpers>,
    names: Vec<Py<PyString>>,
    /// The parameters' types, and the result's (from `ValType.accel_spec`: only the parsed
    /// types are kept, which hold resource classes weakly).
    #[pyo3(from_py_with = specs)]
    params: Vec<Ty>,
    #[pyo3(from_py_with = optional_spec)]
    result: Option<Ty>,
    spilled: bool,
    by_pointer: bool,
    /// Indices of the session's raw functions and ABI contexts.
    func: usize,
    abi: Option<usize>,
    post_return: Option<usize>,
    /// Raw slots the call and the post-return use.
    call_len: usize,
    post_len: usize,
    /// `Limits.memory` and `Limits.fuel`; `timed`: `Limits.timeout` is set.
    cap: Option<u64>,
    fuel: Option<u64>,
    timed: bool,
}

fn optional_spec(spec: &Bound<'_, PyAny>) -> PyResult<Option<Ty>> {
    if spec.is_none() {
        Ok(None)
    } else {
        Ty::from_spec(spec).map(Some)
    }
}

#[pyclass(frozen, dict, module = "sandlink.host._accel")]
pub struct Export {
    plan: Plan,
    /// The parameter names again, for messages.
    texts: Vec<String>,
    /// Does lifting the result charge a budget (see `Ty::amplifies`)?
    amplifies: bool,
    /// (size, alignment, offsets) of the parameters as one tuple, when they spill.
    spilled: Option<(u32, u32, Vec<u32>)>,
    allocates: bool,
}

#[pymethods]
impl Export {
    #[new]
    fn new(py: Python<'_>, plan: Plan) -> PyResult<Self> {
        api()?;
        let params = &plan.params;
        if params.len() != plan.names.len() {
            return Err(PyValueError::new_err("one name per parameter"));
        }
        let spilled = plan.spilled.then(|| {
            let align = params.iter().map(|p| p.align).max().unwrap_or(1);
            let offs = offsets(params);
            let end = params.last().map_or(0, |p| offs[offs.len() - 1] + p.size);
            (align_to(end, align), align, offs)
        });
        let texts = plan
            .names
            .iter()
            .map(|n| Ok(n.bind(py).to_str()?.to_owned()))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(Export {
            allocates: spilled.is_some() || params.iter().any(Ty::allocates),
            amplifies: plan.result.as_ref().is_some_and(Ty::amplifies),
            plan,
            texts,
            spilled,
        })
    }

    /// A resource method: bound to its object, as a Python function would be.
    fn __get__<'py>(
        slf: Bound<'py, Self>,
        obj: Option<Bound<'py, PyAny>>,
        _owner: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match obj {
            Some(obj) if !obj.is_none() => {
                let method_type = slf
                    .get()
                    .plan
                    .helpers
                    .get()
                    .method_type
                    .bind(slf.py())
                    .clone();
                method_type.call1((slf, obj))
            }
            _ => Ok(slf.into_any()),
        }
    }

    #[pyo3(signature = (*args, **kwargs))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let values = self.bind_arguments(py, args, kwargs)?;
        let state = self.session(py)?;
        let session = state.session(py);
        self.call(py, &state, &session, &values)
    }
}

impl Export {
    /// The arguments in parameter order, as Python binds them to `def f(a, b)`.
    fn bind_arguments<'py>(
        &self,
        py: Python<'py>,
        args: &Bound<'py, PyTuple>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let n = self.plan.names.len();
        if kwargs.is_none_or(|k| k.is_empty()) && args.len() == n {
            return Ok(args.iter().collect());
        }
        if args.len() > n {
            return Err(PyTypeError::new_err(format!(
                "{}() takes {n} positional argument{} but {} were given",
                self.plan.name,
                if n == 1 { "" } else { "s" },
                args.len()
            )));
        }
        let mut values: Vec<Option<Bound<'py, PyAny>>> = args.iter().map(Some).collect();
        values.resize(n, None);
        if let Some(kwargs) = kwargs {
            for (key, value) in kwargs.iter() {
                let key = key.cast_into::<PyString>()?;
                let Some(i) = self
                    .plan
                    .names
                    .iter()
                    .position(|name| name.bind(py).as_any().eq(&key).unwrap_or(false))
                else {
                    return Err(PyTypeError::new_err(format!(
                        "{}() got an unexpected keyword argument '{}'",
                        self.plan.name, key
                    )));
                };
                if values[i].is_some() {
                    return Err(PyTypeError::new_err(format!(
                        "{}() got multiple values for argument '{}'",
                        self.plan.name, key
                    )));
                }
                values[i] = Some(value);
            }
        }
        let missing: Vec<String> = values
            .iter()
            .zip(&self.plan.names)
            .filter(|(v, _)| v.is_none())
            .map(|(_, name)| format!("'{}'", name.bind(py)))
            .collect();
        if !missing.is_empty() {
            return Err(PyTypeError::new_err(format!(
                "{}() missing {} required argument{}: {}",
                self.plan.name,
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", ")
            )));
        }
        Ok(values.into_iter().flatten().collect())
    }

    /// This thread's session, made (by the host) if it has none or its last one trapped.
    fn session(&self, py: Python<'_>) -> PyResult<Arc<CoreState>> {
        if let Some(state) = guest::current(self.plan.serial) {
            return Ok(state);
        }
        // A weak method (no reference cycle through this object): the host, or None.
        let make = self.plan.make_session.call0(py)?;
        if make.is_none(py) {
            return Err(PyValueError::new_err(
                "the component this function belongs to is gone",
            ));
        }
        make.call0(py)?;
        guest::current(self.plan.serial)
            .ok_or_else(|| PyValueError::new_err("the host made no compiled session"))
    }

    fn call<'py>(
        &self,
        py: Python<'py>,
        state: &CoreState,
        session: &Bound<'py, PyAny>,
        values: &[Bound<'py, PyAny>],
    ) -> PyResult<Bound<'py, PyAny>> {
        let h = self.plan.helpers.get();
        if state.in_host.load(Ordering::Relaxed) != 0 {
            let exc = h.reentered.call1(py, (&self.plan.where_,))?;
            return Err(PyErr::from_value(exc.into_bound(py)));
        }

        // Check every argument before the guest is touched.
        let mut checker = Checker {
            py,
            h,
            session,
            moved: None,
            need: 0,
        };
        let mut preps: Vec<Prep<'py>> = Vec::with_capacity(values.len());
        for ((ty, name), value) in self.plan.params.iter().zip(&self.texts).zip(values) {
            preps.push(checker.check(ty, value, Where::Param(name))?);
        }
        if let Some(cap) = self.plan.cap {
            if self.allocates && checker.need > cap {
                let exc = h.too_big.call1(py, (checker.need, cap))?;
                return Err(PyErr::from_value(exc.into_bound(py)));
            }
        }

        if self.plan.timed {
            // The call's clock starts at the next epoch tick (see `_engine.Clock`).
            state.calls.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(fuel) = self.plan.fuel {
            // SAFETY: the session's live context.
            unsafe { (api()?.context_set_fuel)(state.addresses().context as *mut _, fuel) };
        }

        let mut memory = Memory::new(py, state, session, h, self.plan.abi)?;
        let lowered = self.lower_arguments(&preps, &mut memory, state);
        if let Err(e) = lowered {
            if self.allocates {
                session.call_method0(pyo3::intern!(py, "retire"))?; // half-lowered memory
            }
            return Err(e);
        }
        drop(preps);

        self.raw_call(py, state, session, self.plan.func, self.plan.call_len)?;

        let value = match &self.plan.result {
            None => py.None().into_bound(py),
            Some(ty) => match self.lift_result(py, h, ty, &mut memory, state) {
                Ok(v) => v,
                Err(e) => {
                    session.call_method0(pyo3::intern!(py, "retire"))?;
                    return Err(e);
                }
            },
        };
        if let Some(post) = self.plan.post_return {
            self.raw_call(py, state, session, post, self.plan.post_len)?;
        }
        Ok(value)
    }

    fn lower_arguments(
        &self,
        preps: &[Prep<'_>],
        memory: &mut Memory<'_, '_>,
        state: &CoreState,
    ) -> PyResult<()> {
        let mut flat = Vec::with_capacity(self.plan.call_len);
        if let Some((size, align, offs)) = &self.spilled {
            let base = memory.alloc(u64::from(*size), *align)?;
            for ((ty, p), off) in self.plan.params.iter().zip(preps).zip(offs) {
                store(ty, p, memory, u64::from(base) + u64::from(*off))?;
            }
            flat.push(u64::from(base));
        } else {
            for (ty, p) in self.plan.params.iter().zip(preps) {
                lower(ty, p, memory, &mut flat)?;
            }
        }
        let addresses = state.addresses();
        for (i, v) in flat.into_iter().enumerate() {
            // SAFETY: the session's slot buffer holds `2 * slot_count` values, at least twice
            // every raw function's flat length (`FastHost.slot_count`).
            unsafe { *addresses.slot(2 * i) = v };
        }
        Ok(())
    }

    fn raw_call(
        &self,
        py: Python<'_>,
        state: &CoreState,
        session: &Bound<'_, PyAny>,
        func: usize,
        len: usize,
    ) -> PyResult<()> {
        let a = state.addresses();
        let address = *a
            .funcs
            .get(func)
            .ok_or_else(|| PyValueError::new_err("no such raw function"))?;
        let trap_slot = a.slot(a.trap_slot);
        // SAFETY: a checked function of this session, its slot buffer and trap slot.
        let error =
            unsafe { wasmtime::call(py, a.context, address, a.slots, len, trap_slot as usize)? };
        // SAFETY: the trap slot of the session's buffer.
        let trap = unsafe { std::mem::replace(&mut *trap_slot, 0) };
        if error != 0 || trap != 0 {
            return Err(guest::fail(session, error, trap as usize, ""));
        }
        Ok(())
    }

    fn lift_result<'py>(
        &self,
        py: Python<'py>,
        h: &Helpers,
        ty: &Ty,
        memory: &mut Memory<'_, 'py>,
        state: &CoreState,
    ) -> PyResult<Bound<'py, PyAny>> {
        // SAFETY: slot 0 of the session's buffer holds the (first) result.
        let first = unsafe { *state.addresses().slot(0) };
        let mut lifter = Lifter::new(py, h, memory, self.amplifies)?;
        if self.plan.by_pointer {
            let rp = first & 0xFFFF_FFFF;
            lifter.m.span(rp, u64::from(ty.size), ty.align)?;
            lifter.load(ty, rp)
        } else {
            lifter.lift(ty, &mut std::iter::once(first))
        }
    }
}
