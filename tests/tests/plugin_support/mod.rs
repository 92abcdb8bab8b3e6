//! What the plugin tests share, now in the tests crate's library (`tenor_tests::scratch`):
//! the plugin libraries cargo built, plugin directories made of them, and scratch directories
//! that are removed when the test ends.
#![allow(
    dead_code,
    unused_imports,
    reason = "tests; each test file uses a part"
)]

pub use tenor_tests::scratch::{FIRST_PARTY, Scratch, built, lib_file};

/// A fresh plugin directory holding the given libraries under plugin names.
pub fn plugin_dir(name: &str, libs: &[(&str, &str)]) -> Scratch {
    tenor_tests::scratch::plugin_dir(name, libs)
}
