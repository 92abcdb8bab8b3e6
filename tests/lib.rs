//! Shared helpers for the cross-crate tests: where the fixtures and example rules are, how a
//! fixture becomes a [`SourceSet`] named relative to the fixture tree, and small checks that
//! several test files use.
//!
//! Fixtures live in `tests/fixtures/dsl/{valid,invalid}/`. A `.tenor` file is one case; a folder
//! is one case too, its `.tenor` files read (sorted by name) as one rule set.

#![allow(
    clippy::panic,
    clippy::expect_used,
    reason = "test support: a missing or unreadable fixture must fail the run loudly"
)]

pub mod scratch;
pub mod serving;
pub mod sims;

pub use scratch::{Scratch, arg};
use std::path::{Path, PathBuf};
use tenor_dsl::SourceSet;
use tenor_dsl::format::FormatError;

/// `tests/fixtures/dsl`.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join("dsl")
}

/// The example rule set, `rules/` at the workspace root.
pub fn rules_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../rules")).to_path_buf()
}

/// The example rule set compiled, once per test binary.
pub fn example_catalogue() -> &'static tenor_core::engine::catalogue::Catalogue {
    static CAT: std::sync::OnceLock<tenor_core::engine::catalogue::Catalogue> =
        std::sync::OnceLock::new();
    CAT.get_or_init(|| {
        let sources = tenor_dsl::load(&[rules_dir()]).expect("the example rules read");
        let rules = tenor_dsl::check(&sources).expect("the example rules check");
        tenor_core::engine::catalogue::Catalogue::compile(&rules, &sources)
    })
}

/// One fixture: a file, or a folder read as one rule set.
#[derive(Debug, Clone)]
pub struct Case {
    /// The name relative to its group folder: `tier-order.tenor`, `duplicate-across-files`.
    pub name: String,
    /// Its files as (name relative to `tests/fixtures/dsl`, text), sorted by name.
    pub files: Vec<(String, String)>,
}

impl Case {
    /// A snapshot name: the group and case name without `.tenor`, `/` spelt `__`.
    pub fn snapshot_name(&self, group: &str) -> String {
        let stem = self.name.strip_suffix(".tenor").unwrap_or(&self.name);
        format!("{group}__{stem}")
    }

    /// The files as one source set, each named relative to `tests/fixtures/dsl`.
    pub fn sources(&self) -> SourceSet {
        let mut sources = SourceSet::new();
        for (name, text) in &self.files {
            sources.add(name.clone(), text.clone());
        }
        sources
    }
}

/// Every case of a fixture group (`valid` or `invalid`), sorted by name.
pub fn cases(group: &str) -> Vec<Case> {
    let dir = fixtures_dir().join(group);
    let mut out = Vec::new();
    for path in sorted_entries(&dir) {
        let name = file_name(&path);
        if path.is_dir() {
            let files: Vec<(String, String)> = sorted_entries(&path)
                .into_iter()
                .filter(|p| is_tenor(p))
                .map(|p| (format!("{group}/{name}/{}", file_name(&p)), read(&p)))
                .collect();
            assert!(
                !files.is_empty(),
                "fixture folder {group}/{name} has no .tenor files"
            );
            out.push(Case { name, files });
        } else if is_tenor(&path) {
            let text = read(&path);
            out.push(Case {
                files: vec![(format!("{group}/{name}"), text)],
                name,
            });
        }
    }
    assert!(!out.is_empty(), "no fixtures in {}", dir.display());
    out
}

/// The `.tenor` files of `rules/` as (name such as `rules/backup.tenor`, text), sorted.
pub fn rule_files() -> Vec<(String, String)> {
    let files: Vec<(String, String)> = sorted_entries(&rules_dir())
        .into_iter()
        .filter(|p| is_tenor(p))
        .map(|p| (format!("rules/{}", file_name(&p)), read(&p)))
        .collect();
    assert!(!files.is_empty(), "no .tenor files in rules/");
    files
}

/// Every single file a valid rule set is made of: each file of `rules/` and of the valid fixtures.
pub fn all_valid_files() -> Vec<(String, String)> {
    let mut files = rule_files();
    for case in cases("valid") {
        files.extend(case.files);
    }
    files
}

/// Formats `text`, failing the test with the diagnostics or the formatter's refusal.
pub fn format_ok(name: &str, text: &str) -> String {
    match tenor_dsl::format::format_source(name, text) {
        Ok(out) => out,
        Err(FormatError::Syntax(sources, diags)) => {
            panic!(
                "{name} does not parse:\n{}",
                tenor_dsl::diagnostic::render_plain(&sources, &diags)
            )
        }
        Err(FormatError::Changed(why)) => panic!("the formatter refused {name}: {why}"),
    }
}

/// The text with every line numbered (`  7 │ …`), for showing a fixture inside a snapshot.
pub fn numbered(text: &str) -> String {
    let width = text.lines().count().to_string().len();
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(format!("{:>width$} │ {line}", i + 1).trim_end());
        out.push('\n');
    }
    if !text.is_empty() && !text.ends_with('\n') {
        out.push_str(&format!("{:>width$} │ (no newline at end of file)\n", ""));
    }
    out
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    entries
}

fn is_tenor(p: &Path) -> bool {
    p.is_file() && p.extension().is_some_and(|e| e == "tenor")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("cannot read {}: {e}", p.display()))
}

/// A JSON value as pretty text with sorted keys, for snapshots. (insta's own JSON writer does not
/// know serde_json's exact-number representation, which the workspace enables so that money in
/// vendors' JSON is read exactly.)
pub fn pretty_json(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A charge as (kind, period_start, period_end, bill_date, amount), the fields a test checks.
pub type ChargeRow = (String, String, String, String, String);

/// The [`ChargeRow`] of every charge in a JSON array of charges (a schedule's, a line's).
pub fn charge_rows(charges: &serde_json::Value) -> Vec<ChargeRow> {
    let text = |c: &serde_json::Value, key: &str| {
        c.get(key)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_else(|| panic!("charge field `{key}` is not text: {c}"))
            .to_string()
    };
    charges
        .as_array()
        .expect("an array of charges")
        .iter()
        .map(|c| {
            (
                text(c, "kind"),
                text(c, "period_start"),
                text(c, "period_end"),
                text(c, "bill_date"),
                text(c, "amount"),
            )
        })
        .collect()
}

/// One expected [`ChargeRow`].
pub fn charge_row(kind: &str, start: &str, end: &str, bill: &str, amount: &str) -> ChargeRow {
    (
        kind.into(),
        start.into(),
        end.into(),
        bill.into(),
        amount.into(),
    )
}

/// What one in-process run of `tenor` printed.
pub struct Output {
    /// Its exit code.
    pub exit: tenor_core::cli::Exit,
    /// Standard output.
    pub stdout: String,
    /// Standard error, without colour.
    pub stderr: String,
}

/// Runs `tenor` in-process with `args` (the program name is added).
pub fn tenor(args: &[&str]) -> Output {
    let argv: Vec<std::ffi::OsString> = std::iter::once("tenor")
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from)
        .collect();
    let mut out = Vec::new();
    let mut err = tenor_dsl::diagnostic::termcolor::NoColor::new(Vec::new());
    let exit = tenor_core::cli::run(argv, &mut out, &mut err);
    Output {
        exit,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err.into_inner()).into_owned(),
    }
}

/// The `tenor` binary cargo built beside the running test (`target/<profile>/tenor`), built
/// now if it is missing: `CARGO_BIN_EXE_tenor` is only set for tenor-core's own tests.
pub fn tenor_binary() -> PathBuf {
    let deps = std::env::current_exe().expect("the test binary's path");
    let profile_dir = deps
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    let bin = profile_dir.join(format!("tenor{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = std::process::Command::new(cargo);
    build.args(["build", "--quiet", "-p", "tenor-core", "--bin", "tenor"]);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        build.arg("--release");
    }
    let target_dir = profile_dir.parent().expect("the target directory");
    let status = build
        .env("CARGO_TARGET_DIR", target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the tenor binary failed");
    assert!(bin.exists(), "{} was not built", bin.display());
    bin
}
