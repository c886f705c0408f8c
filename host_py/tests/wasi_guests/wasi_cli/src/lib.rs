//! Test-only std guest for a WASI 0.2 host (see `wit/world.wit`): each export uses Rust's std,
//! which the `wasm32-wasip2` target implements with WASI 0.2 imports.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// wit-bindgen leaves `wasi:` interfaces to the `wasi` crate unless told to generate them.
wit_bindgen::generate!({
    world: "wasi-cli",
    path: "wit",
    with: { "wasi:random/random@0.2.0": generate },
});

use wasi::random::random;

struct WasiCli;

/// An I/O result with the error as text, as the WIT's `result<_, string>` wants.
fn text<T>(r: std::io::Result<T>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

impl Guest for WasiCli {
    fn add(a: u32, b: u32) -> u32 {
        a.wrapping_add(b)
    }

    fn greet(name: String) -> String {
        let line = format!("hello, {name}");
        println!("{line}");
        line
    }

    fn shout(text: String) {
        eprintln!("{text}");
    }

    fn args() -> Vec<String> {
        std::env::args().collect()
    }

    fn env() -> Vec<(String, String)> {
        let mut vars: Vec<_> = std::env::vars().collect();
        vars.sort();
        vars
    }

    fn read_stdin() -> Vec<u8> {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).unwrap();
        buf
    }

    fn read_file(path: String) -> Result<String, String> {
        text(fs::read_to_string(path))
    }

    fn write_file(path: String, data: String) -> Result<(), String> {
        text(fs::write(path, data))
    }

    fn append_file(path: String, data: String) -> Result<(), String> {
        let open = OpenOptions::new().append(true).create(true).open(path);
        text(open.and_then(|mut f| f.write_all(data.as_bytes())))
    }

    fn list_dir(path: String) -> Result<Vec<String>, String> {
        let entries = text(fs::read_dir(path))?;
        let mut names = Vec::new();
        for entry in entries {
            names.push(text(entry)?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    fn make_dir(path: String) -> Result<(), String> {
        text(fs::create_dir(path))
    }

    fn remove_file(path: String) -> Result<(), String> {
        text(fs::remove_file(path))
    }

    fn rename_path(src: String, dst: String) -> Result<(), String> {
        text(fs::rename(src, dst))
    }

    fn hard_link(src: String, dst: String) -> Result<(), String> {
        text(fs::hard_link(src, dst))
    }

    #[allow(deprecated)] // the only stable way to make a symlink on wasm32-wasip2
    fn soft_link(target: String, link: String) -> Result<(), String> {
        text(fs::soft_link(target, link))
    }

    fn read_link(path: String) -> Result<String, String> {
        text(fs::read_link(path)).map(|p| p.to_string_lossy().into_owned())
    }

    fn remove_dir(path: String) -> Result<(), String> {
        text(fs::remove_dir(path))
    }

    fn file_size(path: String) -> Result<u64, String> {
        text(fs::metadata(path)).map(|m| m.len())
    }

    fn wall_seconds() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
    }

    fn elapsed_nanos() -> u64 {
        let start = Instant::now();
        let end = Instant::now();
        end.duration_since(start).as_nanos() as u64
    }

    fn random_bytes(n: u32) -> Vec<u8> {
        random::get_random_bytes(n.into())
    }

    fn exit_with(code: u8) {
        std::process::exit(code.into())
    }

    fn sleep_ms(ms: u32) {
        std::thread::sleep(Duration::from_millis(ms.into()))
    }
}

export!(WasiCli);
