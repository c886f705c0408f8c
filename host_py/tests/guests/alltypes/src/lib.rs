//! Test-only guest: every WIT type the sandlink hosts support, in parameters and results.
//!
//! The behaviour of each function is documented in `wit/alltypes.wit`; this file only
//! implements it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

wit_bindgen::generate!({ world: "alltypes", path: "wit" });

use exports::sandlink::alltypes::echo::{
    Color, Flags32, Guest as EchoGuest, MidFlags, Mixed, Nested, SmallFlags, V,
};
use sandlink::alltypes::host_fns;
use sandlink::alltypes::types::Point;

struct AllTypes;

static COUNTER: AtomicU32 = AtomicU32::new(0);
static HELD: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

impl Guest for AllTypes {
    fn ping(x: u32) -> u32 {
        x.wrapping_add(1)
    }
}

impl EchoGuest for AllTypes {
    fn echo_bool(x: bool) -> bool {
        x
    }
    fn echo_u8(x: u8) -> u8 {
        x
    }
    fn echo_s8(x: i8) -> i8 {
        x
    }
    fn echo_u16(x: u16) -> u16 {
        x
    }
    fn echo_s16(x: i16) -> i16 {
        x
    }
    fn echo_u32(x: u32) -> u32 {
        x
    }
    fn echo_s32(x: i32) -> i32 {
        x
    }
    fn echo_u64(x: u64) -> u64 {
        x
    }
    fn echo_s64(x: i64) -> i64 {
        x
    }
    fn echo_f32(x: f32) -> f32 {
        x
    }
    fn echo_f64(x: f64) -> f64 {
        x
    }
    fn echo_char(x: char) -> char {
        x
    }
    fn echo_string(x: String) -> String {
        x
    }
    fn echo_bytes(x: Vec<u8>) -> Vec<u8> {
        x
    }
    fn echo_list_u32(x: Vec<u32>) -> Vec<u32> {
        x
    }
    fn echo_list_string(x: Vec<String>) -> Vec<String> {
        x
    }
    fn echo_list_list_u16(x: Vec<Vec<u16>>) -> Vec<Vec<u16>> {
        x
    }
    fn echo_list_bool(x: Vec<bool>) -> Vec<bool> {
        x
    }
    fn echo_list_tuple(x: Vec<(String, u32)>) -> Vec<(String, u32)> {
        x
    }
    fn echo_record(x: Mixed) -> Mixed {
        x
    }
    fn echo_point(x: Point) -> Point {
        x
    }
    fn echo_nested_record(x: Nested) -> Nested {
        x
    }
    fn echo_tuple(x: (u8, String, f64)) -> (u8, String, f64) {
        x
    }
    fn echo_option_u8(x: Option<u8>) -> Option<u8> {
        x
    }
    fn echo_option_string(x: Option<String>) -> Option<String> {
        x
    }
    fn echo_option_record(x: Option<Mixed>) -> Option<Mixed> {
        x
    }
    fn echo_result(x: Result<u32, String>) -> Result<u32, String> {
        x
    }
    fn echo_result_empty(x: Result<(), ()>) -> Result<(), ()> {
        x
    }
    fn echo_result_ok_only(x: Result<String, ()>) -> Result<String, ()> {
        x
    }
    fn echo_result_err_only(x: Result<(), u8>) -> Result<(), u8> {
        x
    }
    fn echo_result_same(x: Result<String, String>) -> Result<String, String> {
        x
    }
    fn echo_variant(x: V) -> V {
        x
    }
    fn echo_enum(x: Color) -> Color {
        x
    }
    fn echo_flags_small(x: SmallFlags) -> SmallFlags {
        x
    }
    fn echo_flags_mid(x: MidFlags) -> MidFlags {
        x
    }
    fn echo_flags_32(x: Flags32) -> Flags32 {
        x
    }
    fn echo_list_variant(x: Vec<V>) -> Vec<V> {
        x
    }
    fn echo_list_option_string(x: Vec<Option<String>>) -> Vec<Option<String>> {
        x
    }
    fn echo_list_result(x: Vec<Result<u8, String>>) -> Vec<Result<u8, String>> {
        x
    }

    fn transform_record(x: Mixed) -> Mixed {
        Mixed {
            a: x.a.wrapping_add(1),
            b: x.b.wrapping_add(1),
            c: x.c.chars().rev().collect(),
            d: x.d * 2.0,
            e: !x.e,
            f: x.f.into_iter().rev().collect(),
        }
    }

    fn transform_variant(x: V) -> V {
        match x {
            V::NoneCase => V::NoneCase,
            V::Small(n) => V::Small(n.wrapping_add(1)),
            V::Real(r) => V::Real(-r),
            V::Big(n) => V::Big(n.wrapping_add(1)),
            V::Text(s) => V::Text(s + "!"),
            V::Pt(p) => V::Pt(Point { x: p.y, y: p.x }),
        }
    }

    fn next_color(x: Color) -> Color {
        match x {
            Color::Red => Color::Green,
            Color::Green => Color::Blue,
            Color::Blue => Color::DarkCyan,
            Color::DarkCyan => Color::Red,
        }
    }

    fn invert_flags_32(x: Flags32) -> Flags32 {
        Flags32::all().difference(x)
    }

    fn transform_result(x: Result<u32, String>) -> Result<u32, String> {
        x.map(|n| n.wrapping_mul(2))
            .map_err(|s| s.to_ascii_uppercase())
    }

    #[allow(clippy::too_many_arguments)]
    fn many_params(
        a0: u32,
        a1: u32,
        a2: u32,
        a3: u32,
        a4: u32,
        a5: u32,
        a6: u32,
        a7: u32,
        a8: u32,
        a9: u32,
        s0: String,
        s1: String,
        s2: String,
        s3: String,
    ) -> String {
        let numbers = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9].map(|n| n.to_string());
        let mut out = numbers.join(",");
        for s in [s0, s1, s2, s3] {
            out.push('|');
            out.push_str(&s);
        }
        out
    }

    fn big_result() -> (u64, u64, String, Vec<u8>) {
        (u64::MAX, 1 << 40, "big".to_string(), vec![1, 2, 3])
    }

    fn no_params_no_result() {}

    fn sum_list_f64(x: Vec<f64>) -> f64 {
        x.iter().fold(0.0, |acc, v| acc + v)
    }

    fn count_bytes(x: Vec<u8>) -> u64 {
        x.len() as u64
    }

    fn make_bytes(n: u32, fill: u8) -> Vec<u8> {
        vec![fill; n as usize]
    }

    fn call_host(
        msg: String,
        a: i64,
        b: f64,
        xs: Vec<u32>,
        p: Point,
    ) -> (String, Option<u32>, Point) {
        host_fns::log(&msg);
        let combined = host_fns::combine(a, b, &msg);
        let picked = host_fns::pick(&xs);
        let shouted = host_fns::shout(p);
        (combined, picked, shouted)
    }

    fn hold(n: u32) -> u32 {
        let block = vec![1u8; n as usize];
        HELD.lock().unwrap().push(block);
        core::arch::wasm32::memory_size(0) as u32
    }

    fn counter() -> u32 {
        COUNTER.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    fn fail(msg: String) {
        panic!("{msg}");
    }
}

export!(AllTypes);
