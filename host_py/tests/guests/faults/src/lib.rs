//! Test-only guest: misbehaves on request (see `wit/faults.wit`).

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

wit_bindgen::generate!({ world: "faults", path: "wit" });

use exports::sandlink::faults::misbehave::Guest;
use sandlink::faults::host;

static CALLS: AtomicU32 = AtomicU32::new(0);
static KEPT: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

struct Faults;

impl Guest for Faults {
    fn spin() {
        let mut n = 0u64;
        loop {
            n = black_box(n.wrapping_add(1));
        }
    }

    fn hoard(step: u32) {
        loop {
            Self::keep(step);
        }
    }

    fn keep(bytes: u32) -> u64 {
        let mut kept = KEPT.lock().unwrap();
        // Touch every page so the memory is really used, not just reserved.
        kept.push(vec![1u8; bytes as usize]);
        kept.iter().map(|v| v.len() as u64).sum()
    }

    fn crash() {
        core::arch::wasm32::unreachable()
    }

    fn recurse(depth: u32, big_frames: bool) -> u32 {
        if big_frames {
            recurse_big(depth)
        } else {
            recurse_small(depth)
        }
    }

    fn call_host(times: u32) -> u32 {
        (0..times).fold(0, |n, _| host::tick(n))
    }

    fn counter() -> u32 {
        CALLS.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn double(x: u32) -> u32 {
        x.wrapping_mul(2)
    }
}

fn recurse_big(depth: u32) -> u32 {
    let frame = black_box([depth as u8; 1024]);
    if depth == 0 {
        return frame[0] as u32;
    }
    recurse_big(depth - 1).wrapping_add(frame[(depth % 1024) as usize] as u32)
}

fn recurse_small(depth: u32) -> u32 {
    if black_box(depth) == 0 {
        return 1;
    }
    black_box(recurse_small(black_box(depth - 1))).wrapping_add(1)
}

export!(Faults);
