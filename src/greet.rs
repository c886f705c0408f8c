//! `hello`: the greeting, printed through the host.
use alloc::format;
use alloc::string::String;

/// Prints `Hello, <name>!` through `host.print`.
pub fn hello(name: &str) {
    crate::host::print(&greeting(name));
}

/// `Hello, <name>!`
pub fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_any_name() {
        assert_eq!(greeting("world"), "Hello, world!");
        assert_eq!(greeting(""), "Hello, !");
        assert_eq!(greeting("Zoë 🦀"), "Hello, Zoë 🦀!");
    }
}
