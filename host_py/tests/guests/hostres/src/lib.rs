//! Test-only guest: uses a resource the host implements (see `wit/hostres.wit`).

use std::sync::Mutex;

wit_bindgen::generate!({ world: "hostres", path: "wit" });

use sandlink::hostres::tally::{fresh, maybe, peek, take};

struct HostRes;

// The guest is single-threaded: the handles are plain integers kept across calls.
struct Kept(Vec<Counter>);
unsafe impl Send for Kept {}
static KEPT: Mutex<Kept> = Mutex::new(Kept(Vec::new()));

impl Guest for HostRes {
    fn count(start: u32, steps: u32) -> u32 {
        let c = Counter::new(start);
        for _ in 0..steps {
            c.add(1);
        }
        c.get()
    }

    fn merged(a: u32, b: u32) -> u32 {
        Counter::merge(Counter::new(a), Counter::new(b)).get()
    }

    fn taken(start: u32) -> u32 {
        take(Counter::new(start))
    }

    fn peeked(start: u32) -> (u32, u32) {
        let c = Counter::new(start);
        let seen = peek(&c);
        c.add(1);
        (seen, c.get())
    }

    fn many(n: u32) -> u32 {
        fresh(n).iter().map(Counter::get).sum()
    }

    fn maybe_value(start: u32) -> Option<u32> {
        maybe(start).map(|c| c.get())
    }

    fn label_of(start: u32) -> String {
        Counter::new(start).label()
    }

    fn hoard(n: u32) {
        let mut kept = KEPT.lock().unwrap();
        for i in 0..n {
            kept.0.push(Counter::new(i));
        }
    }

    fn stash(c: Counter, n: u32) {
        c.add(n);
        KEPT.lock().unwrap().0.push(c);
    }

    fn unstash() -> Option<Counter> {
        KEPT.lock().unwrap().0.pop()
    }

    fn release() -> u32 {
        let mut kept = KEPT.lock().unwrap();
        let n = kept.0.len() as u32;
        kept.0.clear();
        n
    }
}

export!(HostRes);
