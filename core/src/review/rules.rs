//! The inputs of a review: rule sets read from a directory or from a git revision, and quote
//! files read from files or directories.

use super::ReviewError;
use crate::engine::catalogue::Catalogue;
use crate::engine::quote::QuoteFile;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tenor_dsl::SourceSet;

/// A checked, compiled rule set and where it was read from.
pub struct RuleBook {
    /// The compiled rules.
    pub catalogue: Catalogue,
    /// Where they came from (`rules/`, `HEAD~1:rules/`), for headings.
    pub label: String,
}

/// Checks and compiles rule files already read.
pub fn compile(sources: SourceSet, label: String) -> Result<RuleBook, ReviewError> {
    if sources.is_empty() {
        return Err(ReviewError::Io(format!("no .tenor files found in {label}")));
    }
    match tenor_dsl::check(&sources) {
        Ok(rules) => Ok(RuleBook {
            catalogue: Catalogue::compile(&rules, &sources),
            label,
        }),
        Err(diags) => {
            let summary = format!(
                "the rules in {label} have {} problem(s); run `tenor check` for details",
                diags.len()
            );
            Err(ReviewError::Rules {
                sources,
                diags,
                summary,
            })
        }
    }
}

/// The rule set in files or directories.
pub fn from_paths(paths: &[PathBuf]) -> Result<RuleBook, ReviewError> {
    let sources = tenor_dsl::load(paths).map_err(|e| ReviewError::Io(e.to_string()))?;
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    compile(sources, shown.join(", "))
}

/// The rule set of directory `dir` as it was at git revision `rev`: every `.tenor` file under
/// it in that commit, named `REV:path` in diagnostics.
pub fn from_git(dir: &Path, rev: &str) -> Result<RuleBook, ReviewError> {
    let listing = git(dir, &["ls-tree", "-r", "--name-only", rev, "--", "."])?;
    let mut names: Vec<&str> = listing.lines().filter(|n| n.ends_with(".tenor")).collect();
    names.sort_unstable();
    let mut sources = SourceSet::new();
    for name in names {
        let text = git(dir, &["show", &format!("{rev}:./{name}")])?;
        sources.add(format!("{rev}:{}", dir.join(name).display()), text);
    }
    compile(sources, format!("{rev}:{}", dir.display()))
}

/// Whether `from` names a directory (else it is taken as a git revision).
pub fn is_dir(from: &str) -> bool {
    Path::new(from).is_dir()
}

/// Standard output of `git -C dir args…`; its standard error is the message when it fails.
fn git(dir: &Path, args: &[&str]) -> Result<String, ReviewError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| ReviewError::Io(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(ReviewError::Io(format!(
            "git {} in {} failed: {}",
            args.join(" "),
            dir.display(),
            why.trim()
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        ReviewError::Io(format!(
            "git {} gave text that is not UTF-8",
            args.join(" ")
        ))
    })
}

/// The quote files (`.yaml`, `.yml`, `.json`) named by `paths`, directories read one level
/// deep, sorted by path within each directory.
pub fn quote_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ReviewError> {
    let mut found = Vec::new();
    for p in paths {
        if !p.is_dir() {
            found.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p)
            .map_err(|e| ReviewError::Io(format!("cannot read {}: {e}", p.display())))?;
        let mut here: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|f| {
                f.is_file()
                    && matches!(
                        f.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "json")
                    )
            })
            .collect();
        here.sort();
        found.extend(here);
    }
    Ok(found)
}

/// Reads and parses a quote file.
pub fn read_quote(path: &Path) -> Result<QuoteFile, ReviewError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReviewError::Io(format!("cannot read the quote {name}: {e}")))?;
    QuoteFile::parse(&name, &text).map_err(|e| ReviewError::File {
        file: name,
        text,
        errors: vec![*e],
    })
}
