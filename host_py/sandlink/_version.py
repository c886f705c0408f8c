"""sandlink's one version: the package's (pyproject.toml reads it from here) and its Rust
crates' (a test checks their Cargo.toml files say the same)."""

__version__ = "0.1.0"
