//! Scratch directories and plugin directories for the tests: every scratch directory lives in
//! cargo's `target/tmp`, is fresh when made and is removed (with a record database beside it)
//! when the test ends, so test runs do not pile up files.

use std::path::{Path, PathBuf};

/// The first-party connectors, by library and plugin name.
pub const FIRST_PARTY: &[(&str, &str)] = &[
    ("tenor_plugin_pax8", "pax8"),
    ("tenor_plugin_ingram", "ingram"),
    ("tenor_plugin_tdsynnex", "tdsynnex"),
    ("tenor_plugin_connectwise", "connectwise"),
];

/// `target/tmp`, found from the running test binary (`target/<profile>/deps/<test>`):
/// `CARGO_TARGET_TMPDIR` is only given to test targets, not to this library.
pub fn target_tmp() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("the test binary is in target/<profile>/deps");
    target.join("tmp")
}

/// A directory under `target/tmp`, removed with everything in it (and `<dir>.db` with its WAL
/// files) when dropped.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    /// A fresh, empty directory `<name>-<pid>`.
    pub fn dir(name: &str) -> Scratch {
        let s = Scratch::new(name);
        std::fs::create_dir_all(&s.0).expect("a scratch directory");
        s
    }

    /// A fresh path `<name>-<pid>` with nothing there yet (for commands that create it).
    pub fn new(name: &str) -> Scratch {
        let dir = target_tmp().join(format!("{name}-{}", std::process::id()));
        let s = Scratch(dir);
        s.clean();
        s
    }

    /// The path.
    pub fn path(&self) -> &Path {
        &self.0
    }

    /// The path as text, for command lines.
    pub fn arg(&self) -> &str {
        arg(&self.0)
    }

    /// The record database that belongs to this directory: `<dir>.db`, beside it.
    pub fn db(&self) -> PathBuf {
        self.0.with_extension("db")
    }

    fn clean(&self) {
        let _ = std::fs::remove_dir_all(&self.0);
        for ext in ["db", "db-wal", "db-shm"] {
            let _ = std::fs::remove_file(self.0.with_extension(ext));
        }
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

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.0.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.clean();
    }
}

/// A path as text, for command lines.
pub fn arg(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

/// Every file below `dir` (symlinks included, not followed), relative with `/`, sorted.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, at: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(at)
            .expect("a readable directory")
            .flatten()
        {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            if is_dir {
                walk(base, &e.path(), out);
            } else if let Ok(rel) = e.path().strip_prefix(base) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Where cargo put a plugin library it built as the running test's dependency.
pub fn built(lib: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("target/<profile>/deps");
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

/// Fills `dir` with the given libraries under plugin names: hard links to what cargo built
/// where it can (no copies of ~10 MB libraries), copies otherwise. Tests replace files by
/// rename, never write into them, so the built libraries stay intact.
pub fn link_plugins(dir: &Path, libs: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).expect("a plugin directory");
    for (lib, as_name) in libs {
        let to = dir.join(lib_file(as_name));
        let from = built(lib);
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).expect("a copy of a plugin library");
        }
    }
}

/// A fresh plugin directory `plugins-<name>-<pid>` holding the given libraries.
pub fn plugin_dir(name: &str, libs: &[(&str, &str)]) -> Scratch {
    let dir = Scratch::dir(&format!("plugins-{name}"));
    link_plugins(&dir, libs);
    dir
}

/// Links the example customers (`rules/links.yaml`) and the scenario customers
/// (`fixtures/links-scenarios.yaml`) in the record `db`, as an MSP does before accepting: the
/// connectors refuse a customer without its vendor ids.
pub fn link_customers(db: &Path) {
    for file in [
        crate::rules_dir().join("links.yaml"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/links-scenarios.yaml"),
    ] {
        let out = crate::tenor(&["--db", arg(db), "link", "--import", arg(&file)]);
        assert_eq!(
            out.exit,
            tenor_core::cli::Exit::Success,
            "{}: {}",
            file.display(),
            out.stderr
        );
    }
}

/// `customer`'s links at `plugin` in `rules/links.yaml` (its `*` links first, overridden by
/// its own), as the host gives them a plugin: for tests that call a plugin directly.
pub fn example_accounts(
    customer: &str,
    plugin: &str,
) -> std::collections::BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(crate::rules_dir().join("links.yaml")).expect("rules/links.yaml");
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("rules/links.yaml is YAML");
    let field = |l: &serde_yaml::Value, k: &str| {
        l.get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let links = doc
        .get("links")
        .and_then(|l| l.as_sequence())
        .cloned()
        .unwrap_or_default();
    let mut out = std::collections::BTreeMap::new();
    for who in ["*", customer] {
        for l in links.iter().filter(|l| field(l, "customer") == who) {
            if field(l, "plugin") == plugin {
                out.insert(field(l, "key"), field(l, "value"));
            }
        }
    }
    out
}
