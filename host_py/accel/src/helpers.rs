//! The Python callables and constants the compiled path shares with the pure one: the
//! checks of host values (so errors are the same exceptions with the same messages), the
//! value classes, and the host's limits.
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

#[pyclass(frozen, module = "sandlink.host._accel")]
pub struct Helpers {
    pub check_int: Py<PyAny>,
    pub bad_bool: Py<PyAny>,
    pub float_bits: Py<PyAny>,
    pub char_code: Py<PyAny>,
    pub guest_char: Py<PyAny>,
    pub encode_utf8: Py<PyAny>,
    pub encode_utf16: Py<PyAny>,
    pub encode_latin1_utf16: Py<PyAny>,
    pub buffer_of: Py<PyAny>,
    pub pack_numbers: Py<PyAny>,
    pub sequence: Py<PyAny>,
    pub tuple_of: Py<PyAny>,
    pub fields_of: Py<PyAny>,
    pub flag_bits: Py<PyAny>,
    pub flag_set: Py<PyAny>,
    pub variant_case: Py<PyAny>,
    pub enum_case: Py<PyAny>,
    pub result_case: Py<PyAny>,
    pub no_payload: Py<PyAny>,
    pub bad_case: Py<PyAny>,
    pub ok: Py<PyAny>,
    pub err: Py<PyAny>,
    pub variant: Py<PyAny>,
    /// `GuestTrap`: what a guest that broke the canonical ABI raises.
    pub guest_trap: Py<PyAny>,
    pub borrow_check: Py<PyAny>,
    pub own_check: Py<PyAny>,
    pub hosted_check: Py<PyAny>,
    pub give: Py<PyAny>,
    pub take: Py<PyAny>,
    /// `types.MethodType`: binds a compiled resource method to its object.
    pub method_type: Py<PyAny>,
    pub reentered: Py<PyAny>,
    pub too_big: Py<PyAny>,
    /// `FastHost._spend(session, budget, view_length)`: a lift spent more of its budget.
    pub spend: Py<PyAny>,
    /// `_fast._trap_from(session, exc, what)`: the trap a host function returns for `exc`.
    pub trap_from: Py<PyAny>,
    /// `_interrupts.DEFERRED` and `raise_deferred`: signals noted while no Python could run.
    pub deferred: Py<PyList>,
    pub raise_deferred: Py<PyAny>,
    pub lift_budget_factor: u64,
    pub budget: u64,
    pub clock_every: i64,
}

#[pymethods]
impl Helpers {
    /// From `{name: callable or number}`, names as generated Python code spells them.
    #[new]
    fn new(given: &Bound<'_, PyDict>) -> PyResult<Self> {
        let get = |name: &str| -> PyResult<Py<PyAny>> {
            Ok(given
                .get_item(name)?
                .ok_or_else(|| PyKeyError::new_err(name.to_owned()))?
                .unbind())
        };
        let number = |name: &str| -> PyResult<u64> { get(name)?.extract(given.py()) };
        Ok(Helpers {
            check_int: get("_check_int")?,
            bad_bool: get("_bad_bool")?,
            float_bits: get("_float_bits")?,
            char_code: get("_char_code")?,
            guest_char: get("_char")?,
            encode_utf8: get("_encode_utf8")?,
            encode_utf16: get("_encode_utf16")?,
            encode_latin1_utf16: get("_encode_latin1_utf16")?,
            buffer_of: get("_check_buffer")?,
            pack_numbers: get("_pack_numbers")?,
            sequence: get("_sequence")?,
            tuple_of: get("_tuple")?,
            fields_of: get("_fields_of")?,
            flag_bits: get("_flag_bits")?,
            flag_set: get("_flag_set")?,
            variant_case: get("_variant_case")?,
            enum_case: get("_enum_case")?,
            result_case: get("_result_case")?,
            no_payload: get("_no_payload")?,
            bad_case: get("_bad_case")?,
            ok: get("_Ok")?,
            err: get("_Err")?,
            variant: get("_Variant")?,
            guest_trap: get("_GuestTrap")?,
            borrow_check: get("_borrow_check")?,
            own_check: get("_own_check")?,
            hosted_check: get("_hosted_check")?,
            give: get("_give")?,
            take: get("_take")?,
            method_type: get("_MethodType")?,
            reentered: get("_reentered")?,
            too_big: get("_too_big")?,
            spend: get("_spend")?,
            trap_from: get("_trap_from")?,
            deferred: get("_DEFERRED")?
                .into_bound(given.py())
                .cast_into::<PyList>()?
                .unbind(),
            raise_deferred: get("_raise_deferred")?,
            lift_budget_factor: number("LIFT_BUDGET_FACTOR")?,
            budget: number("_BUDGET")?,
            clock_every: number("CLOCK_EVERY")? as i64,
        })
    }
}
