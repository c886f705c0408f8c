//! `hello`: the greeting text; printing it is the host's business.
use alloc::format;
use alloc::string::String;

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
