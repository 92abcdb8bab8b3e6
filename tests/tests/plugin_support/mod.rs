//! What the plugin tests share: the plugin libraries cargo built, plugin directories made of
//! them, and scratch directories that are removed when the test ends.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests; each test file uses a part"
)]

use std::path::{Path, PathBuf};

/// The first-party connectors, by library and plugin name.
pub const FIRST_PARTY: &[(&str, &str)] = &[
    ("tenor_plugin_pax8", "pax8"),
    ("tenor_plugin_ingram", "ingram"),
    ("tenor_plugin_tdsynnex", "tdsynnex"),
    ("tenor_plugin_connectwise", "connectwise"),
];

/// A directory under cargo's target/tmp, removed (with everything in it) when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh path for this test (nothing there yet).
    pub fn new(name: &str) -> Scratch {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("plugins-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Scratch(dir)
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as text, for command lines.
    pub fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where cargo put the plugin libraries it built as this test's dependencies.
pub fn built(lib: &str) -> PathBuf {
    let deps = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let path = deps.join(format!(
        "{}{lib}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// The file name of the plugin `name` on this platform.
pub fn lib_file(name: &str) -> String {
    format!(
        "{}tenor_plugin_{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// A fresh plugin directory holding the given libraries under plugin names: hard links to
/// what cargo built where it can (no copies of ~10 MB libraries), copies otherwise. Tests
/// replace files by rename, never write into them, so the built libraries stay intact.
pub fn plugin_dir(name: &str, libs: &[(&str, &str)]) -> Scratch {
    let dir = Scratch::new(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (lib, as_name) in libs {
        let to = dir.join(lib_file(as_name));
        let from = built(lib);
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).unwrap();
        }
    }
    dir
}
