//! Native glue: `extern "C"` exports for ctypes (`host_py/sandlink/_native.py`).
//!
//! Conversion only: each export checks its pointers, turns C values into Rust values,
//! calls one kernel and turns the result back into C values. The WIT types map to
//! `#[repr(C)]` structs: `string` is [`SandlinkStr`], `list<T>` a (pointer, length) pair,
//! `result<person, json-error>` the tagged union [`SandlinkParseResult`].
//!
//! Ownership: the caller owns every buffer it passes in; Rust only borrows it for the
//! call and keeps no pointer to it afterwards. The only memory Rust hands out is the
//! graph behind the pointer `sandlink_parse_person` returns: the caller reads it and
//! frees all of it, exactly once, with `sandlink_parse_result_free`.
//!
//! Status codes (`i32`): [`SANDLINK_OK`], [`SANDLINK_NULL_POINTER`] (a null pointer with
//! a non-zero length), [`SANDLINK_INVALID_UTF8`] (text that is not UTF-8).
#![warn(unsafe_op_in_unsafe_fn)]
extern crate std;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::mem::ManuallyDrop;
use core::{ptr, slice, str};

use crate::{greet, mask, person};

/// The call did what it says.
pub const SANDLINK_OK: i32 = 0;
/// A pointer argument was null although its length was not zero; nothing was done.
pub const SANDLINK_NULL_POINTER: i32 = 1;
/// A text argument was not UTF-8; nothing was done.
pub const SANDLINK_INVALID_UTF8: i32 = 2;

/// [`SandlinkParseResult::tag`]: `payload.ok` holds the person.
pub const SANDLINK_PARSE_OK: u32 = 0;
/// [`SandlinkParseResult::tag`]: `payload.err` holds the error.
pub const SANDLINK_PARSE_ERR: u32 = 1;

/// A WIT `string`: `len` bytes of UTF-8 at `ptr`, not NUL-terminated. `ptr` is never
/// null (it is dangling, but non-null and aligned, when `len` is 0).
#[repr(C)]
pub struct SandlinkStr {
    pub ptr: *const u8,
    pub len: usize,
}

/// A WIT `friend`.
#[repr(C)]
pub struct SandlinkFriend {
    pub name: SandlinkStr,
    pub age: u32,
}

/// A WIT `person`; `cars` and `friends` point to `cars_len` / `friends_len` elements.
#[repr(C)]
pub struct SandlinkPerson {
    pub name: SandlinkStr,
    pub age: u32,
    pub cars: *const SandlinkStr,
    pub cars_len: usize,
    pub friends: *const SandlinkFriend,
    pub friends_len: usize,
}

/// A WIT `json-error`.
#[repr(C)]
pub struct SandlinkJsonError {
    pub message: SandlinkStr,
    pub line: u32,
    pub column: u32,
}

/// The payload of a [`SandlinkParseResult`]: which field is live is given by its `tag`.
#[repr(C)]
pub union SandlinkParsePayload {
    pub ok: ManuallyDrop<SandlinkPerson>,
    pub err: ManuallyDrop<SandlinkJsonError>,
}

/// A WIT `result<person, json-error>`: [`SANDLINK_PARSE_OK`] or [`SANDLINK_PARSE_ERR`].
#[repr(C)]
pub struct SandlinkParseResult {
    pub tag: u32,
    pub payload: SandlinkParsePayload,
}

/// `host.print` as the caller provides it: called with the caller's `ctx` and one line
/// (`len` UTF-8 bytes at `line`, not NUL-terminated, valid only during the call).
pub type SandlinkPrint = unsafe extern "C" fn(ctx: *mut c_void, line: *const u8, len: usize);

/// `add`: `a + b` modulo 2^32.
#[no_mangle]
pub extern "C" fn sandlink_add(a: u32, b: u32) -> u32 {
    a.wrapping_add(b)
}

/// `hello`: calls `print(ctx, ..)` once with `Hello, <name>!`. Returns a status code;
/// nothing is printed unless it is [`SANDLINK_OK`].
///
/// # Safety
/// `name_ptr` must be valid for reading `name_len` bytes (or null if `name_len` is 0),
/// and `print`, if not null, must be safe to call with `ctx`.
#[no_mangle]
pub unsafe extern "C" fn sandlink_hello(
    name_ptr: *const u8,
    name_len: usize,
    print: Option<SandlinkPrint>,
    ctx: *mut c_void,
) -> i32 {
    // SAFETY: the caller guarantees `name_ptr` is readable for `name_len` bytes.
    let (Some(name), Some(print)) = (unsafe { borrow(name_ptr, name_len) }, print) else {
        return SANDLINK_NULL_POINTER;
    };
    let Ok(name) = str::from_utf8(name) else {
        return SANDLINK_INVALID_UTF8;
    };
    let line = greet::greeting(name);
    // SAFETY: the caller guarantees `print` may be called with `ctx`; `line` outlives the call.
    unsafe { print(ctx, line.as_ptr(), line.len()) };
    SANDLINK_OK
}

/// `ws-mask`: writes `len` masked bytes of `payload` to `out` (which may be `payload`
/// itself). Returns a status code.
///
/// # Safety
/// `payload` must be readable and `out` writable for `len` bytes (either may be null if
/// `len` is 0); the two ranges are either the same or do not overlap.
#[no_mangle]
pub unsafe extern "C" fn sandlink_ws_mask(
    payload: *const u8,
    out: *mut u8,
    len: usize,
    key: u32,
    offset: u32,
) -> i32 {
    if len == 0 {
        return SANDLINK_OK;
    }
    if payload.is_null() || out.is_null() {
        return SANDLINK_NULL_POINTER;
    }
    // SAFETY: both ranges are valid for `len` bytes; `ptr::copy` allows them to overlap.
    unsafe { ptr::copy(payload, out, len) };
    // SAFETY: `out` is writable for `len` bytes (the caller's contract, checked non-null above).
    unsafe { sandlink_ws_mask_in_place(out, len, key, offset) }
}

/// `ws-mask` in place: masks the `len` bytes at `buf`. Returns a status code.
///
/// # Safety
/// `buf` must be writable for `len` bytes (or null if `len` is 0).
#[no_mangle]
pub unsafe extern "C" fn sandlink_ws_mask_in_place(
    buf: *mut u8,
    len: usize,
    key: u32,
    offset: u32,
) -> i32 {
    if len == 0 {
        return SANDLINK_OK;
    }
    if buf.is_null() {
        return SANDLINK_NULL_POINTER;
    }
    // SAFETY: `buf` is non-null and writable for `len` bytes, and nothing else borrows it.
    mask::mask_in_place(unsafe { slice::from_raw_parts_mut(buf, len) }, key, offset);
    SANDLINK_OK
}

/// `parse-person`: parses the `json_len` bytes at `json_ptr`. Returns a result the caller
/// must free with [`sandlink_parse_result_free`], or null (nothing to free) if `json_ptr`
/// is null with a non-zero length. Text that is not UTF-8 is a [`SANDLINK_PARSE_ERR`]
/// with the message `invalid UTF-8` at the first bad byte.
///
/// # Safety
/// `json_ptr` must be valid for reading `json_len` bytes (or null if `json_len` is 0).
#[no_mangle]
pub unsafe extern "C" fn sandlink_parse_person(
    json_ptr: *const u8,
    json_len: usize,
) -> *mut SandlinkParseResult {
    // SAFETY: the caller guarantees `json_ptr` is readable for `json_len` bytes.
    let Some(json) = (unsafe { borrow(json_ptr, json_len) }) else {
        return ptr::null_mut();
    };
    let result = match str::from_utf8(json) {
        Ok(text) => person::parse_person(text),
        Err(e) => Err(invalid_utf8(json, e.valid_up_to())),
    };
    Box::into_raw(Box::new(result_into_c(result)))
}

/// Frees a result of [`sandlink_parse_person`] and everything it points to. Null is a no-op.
///
/// # Safety
/// `result` must be null or a pointer returned by `sandlink_parse_person`, not yet freed
/// and not modified by the caller.
#[no_mangle]
pub unsafe extern "C" fn sandlink_parse_result_free(result: *mut SandlinkParseResult) {
    if result.is_null() {
        return;
    }
    // SAFETY: `result` came from `Box::into_raw` in `sandlink_parse_person` and is freed once.
    let SandlinkParseResult { tag, payload } = *unsafe { Box::from_raw(result) };
    if tag == SANDLINK_PARSE_OK {
        // SAFETY: the tag says `ok` is the live field.
        let p = ManuallyDrop::into_inner(unsafe { payload.ok });
        // SAFETY: built by `str_into_c` and not freed yet.
        unsafe { free_str(p.name) };
        // SAFETY: built by `slice_into_c` and not freed yet.
        for car in unsafe { free_slice(p.cars, p.cars_len) } {
            // SAFETY: each car was built by `str_into_c`.
            unsafe { free_str(car) };
        }
        // SAFETY: built by `slice_into_c` and not freed yet.
        for friend in unsafe { free_slice(p.friends, p.friends_len) } {
            // SAFETY: each friend's name was built by `str_into_c`.
            unsafe { free_str(friend.name) };
        }
    } else {
        // SAFETY: `result_into_c` writes only these two tags, so `err` is the live field.
        let e = ManuallyDrop::into_inner(unsafe { payload.err });
        // SAFETY: built by `str_into_c` and not freed yet.
        unsafe { free_str(e.message) };
    }
}

/// `len` bytes at `ptr`, or `None` if `ptr` is null and `len` is not 0.
///
/// # Safety
/// A non-null `ptr` must be valid for reading `len` bytes for the lifetime `'a`.
unsafe fn borrow<'a>(ptr: *const u8, len: usize) -> Option<&'a [u8]> {
    if len == 0 {
        Some(&[])
    } else if ptr.is_null() {
        None
    } else {
        // SAFETY: non-null and, by the caller's guarantee, readable for `len` bytes.
        Some(unsafe { slice::from_raw_parts(ptr, len) })
    }
}

/// The WIT `json-error` for text whose first `valid_up_to` bytes are UTF-8 and the next is not.
fn invalid_utf8(json: &[u8], valid_up_to: usize) -> person::JsonError {
    let before = str::from_utf8(&json[..valid_up_to]).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    person::JsonError {
        message: String::from("invalid UTF-8"),
        line: to_u32(before.matches('\n').count()).saturating_add(1),
        column: to_u32(before[line_start..].chars().count()).saturating_add(1),
    }
}

fn result_into_c(result: Result<person::Person, person::JsonError>) -> SandlinkParseResult {
    match result {
        Ok(p) => SandlinkParseResult {
            tag: SANDLINK_PARSE_OK,
            payload: SandlinkParsePayload {
                ok: ManuallyDrop::new(person_into_c(p)),
            },
        },
        Err(e) => SandlinkParseResult {
            tag: SANDLINK_PARSE_ERR,
            payload: SandlinkParsePayload {
                err: ManuallyDrop::new(SandlinkJsonError {
                    message: str_into_c(e.message),
                    line: e.line,
                    column: e.column,
                }),
            },
        },
    }
}

fn person_into_c(p: person::Person) -> SandlinkPerson {
    let cars: Vec<SandlinkStr> = p.cars.into_iter().map(str_into_c).collect();
    let friends: Vec<SandlinkFriend> = p
        .friends
        .into_iter()
        .map(|f| SandlinkFriend {
            name: str_into_c(f.name),
            age: f.age,
        })
        .collect();
    let (cars, cars_len) = slice_into_c(cars);
    let (friends, friends_len) = slice_into_c(friends);
    SandlinkPerson {
        name: str_into_c(p.name),
        age: p.age,
        cars,
        cars_len,
        friends,
        friends_len,
    }
}

/// Hands `s` out as a `Box<str>`; [`free_str`] takes it back.
fn str_into_c(s: String) -> SandlinkStr {
    let len = s.len();
    let ptr = Box::into_raw(s.into_boxed_str()).cast::<u8>();
    SandlinkStr { ptr, len }
}

/// Hands `v` out as a `Box<[T]>`; [`free_slice`] takes it back.
fn slice_into_c<T>(v: Vec<T>) -> (*const T, usize) {
    let len = v.len();
    (Box::into_raw(v.into_boxed_slice()).cast::<T>(), len)
}

/// # Safety
/// `s` must come from [`str_into_c`] and not have been freed.
unsafe fn free_str(s: SandlinkStr) {
    // SAFETY: `s` is the pointer and length of a `Box<str>`, which has the layout of a `Box<[u8]>`.
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(s.ptr.cast_mut(), s.len)) });
}

/// The elements of a slice from [`slice_into_c`], by value; the slice is freed after them.
///
/// # Safety
/// `(ptr, len)` must come from [`slice_into_c`] and not have been freed.
unsafe fn free_slice<T>(ptr: *const T, len: usize) -> alloc::vec::IntoIter<T> {
    // SAFETY: `(ptr, len)` is exactly the `Box<[T]>` that `slice_into_c` leaked.
    let boxed = unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(ptr.cast_mut(), len)) };
    boxed.into_vec().into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use std::string::ToString;

    fn text(s: &SandlinkStr) -> &str {
        // SAFETY: every `SandlinkStr` under test comes from `str_into_c`.
        str::from_utf8(unsafe { slice::from_raw_parts(s.ptr, s.len) }).unwrap()
    }

    #[test]
    fn add_wraps() {
        assert_eq!(sandlink_add(2, 3), 5);
        assert_eq!(sandlink_add(u32::MAX, 1), 0);
    }

    unsafe extern "C" fn collect(ctx: *mut c_void, line: *const u8, len: usize) {
        // SAFETY: `ctx` is the `Vec<String>` the test passed; `line` is readable for `len`.
        let lines = unsafe { &mut *ctx.cast::<Vec<String>>() };
        let bytes = unsafe { slice::from_raw_parts(line, len) };
        lines.push(str::from_utf8(bytes).unwrap().to_string());
    }

    #[test]
    fn hello_prints_once_and_checks_its_input() {
        let mut lines: Vec<String> = Vec::new();
        let ctx = (&mut lines as *mut Vec<String>).cast::<c_void>();
        let name = "Zoë";
        // SAFETY (all): valid pointers and lengths, `collect` matches `ctx`.
        let status = unsafe { sandlink_hello(name.as_ptr(), name.len(), Some(collect), ctx) };
        assert_eq!(status, SANDLINK_OK);
        let bad = [0x66, 0xff];
        let status = unsafe { sandlink_hello(bad.as_ptr(), 2, Some(collect), ctx) };
        assert_eq!(status, SANDLINK_INVALID_UTF8);
        let status = unsafe { sandlink_hello(ptr::null(), 1, Some(collect), ctx) };
        assert_eq!(status, SANDLINK_NULL_POINTER);
        let status = unsafe { sandlink_hello(name.as_ptr(), name.len(), None, ctx) };
        assert_eq!(status, SANDLINK_NULL_POINTER);
        let status = unsafe { sandlink_hello(ptr::null(), 0, Some(collect), ctx) };
        assert_eq!(status, SANDLINK_OK);
        assert_eq!(lines, ["Hello, Zoë!", "Hello, !"]);
    }

    #[test]
    fn ws_mask_copies_or_masks_in_place() {
        let payload = *b"Hello";
        let mut out = [0u8; 5];
        // SAFETY (all): valid, non-overlapping or identical ranges.
        let status =
            unsafe { sandlink_ws_mask(payload.as_ptr(), out.as_mut_ptr(), 5, 0x37fa_213d, 0) };
        assert_eq!(status, SANDLINK_OK);
        assert_eq!(out, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        let p = out.as_mut_ptr();
        assert_eq!(
            unsafe { sandlink_ws_mask(p, p, 5, 0x37fa_213d, 0) },
            SANDLINK_OK
        );
        assert_eq!(out, payload);
        let status = unsafe { sandlink_ws_mask_in_place(out[1..].as_mut_ptr(), 4, 0x37fa_213d, 1) };
        assert_eq!(status, SANDLINK_OK);
        assert_eq!(out, [b'H', 0x9f, 0x4d, 0x51, 0x58]);
        let null = ptr::null_mut();
        assert_eq!(
            unsafe { sandlink_ws_mask(null, null, 0, 1, 0) },
            SANDLINK_OK
        );
        assert_eq!(
            unsafe { sandlink_ws_mask(null, p, 1, 1, 0) },
            SANDLINK_NULL_POINTER
        );
        assert_eq!(
            unsafe { sandlink_ws_mask_in_place(null, 0, 1, 0) },
            SANDLINK_OK
        );
        assert_eq!(
            unsafe { sandlink_ws_mask_in_place(null, 1, 1, 0) },
            SANDLINK_NULL_POINTER
        );
    }

    #[test]
    fn person_round_trips_through_the_c_structs() {
        let person = person::Person {
            name: "Zoë".to_string(),
            age: 25,
            cars: vec!["Audi".to_string(), String::new()],
            friends: vec![person::Friend {
                name: "Bob".to_string(),
                age: 27,
            }],
        };
        let result = Box::into_raw(Box::new(result_into_c(Ok(person))));
        {
            // SAFETY: `result` is live until freed below, and its tag says `ok`.
            let r = unsafe { &*result };
            assert_eq!(r.tag, SANDLINK_PARSE_OK);
            let p = unsafe { &r.payload.ok };
            assert_eq!((text(&p.name), p.age), ("Zoë", 25));
            let cars = unsafe { slice::from_raw_parts(p.cars, p.cars_len) };
            assert_eq!(cars.iter().map(text).collect::<Vec<_>>(), ["Audi", ""]);
            let friends = unsafe { slice::from_raw_parts(p.friends, p.friends_len) };
            assert_eq!(friends.len(), 1);
            assert_eq!((text(&friends[0].name), friends[0].age), ("Bob", 27));
        }
        // SAFETY: built above, freed once.
        unsafe { sandlink_parse_result_free(result) };
        unsafe { sandlink_parse_result_free(ptr::null_mut()) };
    }

    #[test]
    fn parse_person_rejects_invalid_utf8_with_its_position() {
        let json = b"{\n  \"name\": \"Zo\xc3\xab\xff\"}";
        // SAFETY: valid pointer and length; the result is freed once.
        let result = unsafe { sandlink_parse_person(json.as_ptr(), json.len()) };
        assert!(!result.is_null());
        {
            // SAFETY: live until freed below; the tag says `err`.
            let r = unsafe { &*result };
            assert_eq!(r.tag, SANDLINK_PARSE_ERR);
            let e = unsafe { &r.payload.err };
            assert_eq!(
                (text(&e.message), e.line, e.column),
                ("invalid UTF-8", 2, 15)
            );
        }
        unsafe { sandlink_parse_result_free(result) };
        assert!(unsafe { sandlink_parse_person(ptr::null(), 1) }.is_null());
    }
}
