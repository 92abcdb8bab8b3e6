//! Writing an export: a set of files for one quote into a directory, each atomically, then a
//! `tenor.export/1` manifest listing every file with its SHA-256, written last, so an export
//! stopped part-way is detectable (the directory holds the previous export's manifest, or none).
//!
//! This knows nothing of quotes' documents or of where they come from: callers hand it the
//! files. It refuses, before writing anything, two files under one path, a directory that holds
//! another quote's export, and (unless forced) a file it did not write before that it would
//! replace with different bytes. Files of the previous export of the same quote that the new
//! one does not hold are removed.

use super::names::{self, NameError};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// The manifest's file name in the export directory.
pub const MANIFEST: &str = "export.json";

/// The manifest's schema.
pub const SCHEMA: &str = "tenor.export/1";

/// A relative path of plain components (each checked by [`names::validate_file_name`]).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ExportPath(Vec<String>);

impl ExportPath {
    /// A path from its components, each a plain file name; the manifest's name is reserved.
    pub fn new<S: AsRef<str>>(components: &[S]) -> Result<Self, PathError> {
        let parts: Vec<String> = components.iter().map(|c| c.as_ref().to_string()).collect();
        if parts.is_empty() {
            return Err(PathError {
                path: String::new(),
                reason: NameError::Empty,
            });
        }
        for p in &parts {
            names::validate_file_name(p).map_err(|reason| PathError {
                path: parts.join("/"),
                reason,
            })?;
        }
        Ok(ExportPath(parts))
    }

    /// The components.
    pub fn components(&self) -> &[String] {
        &self.0
    }

    /// Where the file goes under `dir`.
    pub fn under(&self, dir: &Path) -> PathBuf {
        let mut p = dir.to_path_buf();
        p.extend(&self.0);
        p
    }
}

impl fmt::Display for ExportPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("/"))
    }
}

/// A path that is not made of plain names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{path}` is not a plain relative path: {reason}")]
pub struct PathError {
    /// The path as given, components joined by `/`.
    pub path: String,
    /// The rule a component breaks.
    pub reason: NameError,
}

/// One file of an export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportFile {
    /// Where it goes, relative to the export directory.
    pub path: ExportPath,
    /// Its exact bytes.
    pub bytes: Vec<u8>,
    /// Who made it, for errors: `tenor`, `plugin pax8`.
    pub owner: String,
}

/// A file of an export written from where it is kept rather than held (a document of
/// gigabytes): its bytes come from `write`, which must give the bytes whose SHA-256 is
/// `sha256` (the write fails otherwise, and the file is not replaced).
pub struct StreamedFile<'a> {
    /// Where it goes, relative to the export directory.
    pub path: ExportPath,
    /// Its SHA-256, in hex, as recorded.
    pub sha256: String,
    /// Who made it, for errors.
    pub owner: String,
    /// Writes its exact bytes.
    pub write: &'a dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>,
}

/// One file of an export, held or streamed.
#[derive(Clone, Copy)]
enum Content<'a> {
    Held(&'a ExportFile),
    Streamed(&'a StreamedFile<'a>),
}

impl<'a> Content<'a> {
    fn path(self) -> &'a ExportPath {
        match self {
            Content::Held(f) => &f.path,
            Content::Streamed(f) => &f.path,
        }
    }

    fn owner(self) -> &'a str {
        match self {
            Content::Held(f) => &f.owner,
            Content::Streamed(f) => &f.owner,
        }
    }

    /// Whether the file at `path` holds these bytes.
    fn same_as(self, path: &Path) -> bool {
        match self {
            Content::Held(f) => std::fs::read(path).is_ok_and(|b| b == f.bytes),
            Content::Streamed(f) => file_sha256(path).is_ok_and(|h| h == f.sha256),
        }
    }

    /// Writes it atomically at `path`: its manifest entry.
    fn write(self, path: &Path) -> std::io::Result<ManifestEntry> {
        match self {
            Content::Held(f) => {
                super::atomic::write(path, &f.bytes)?;
                Ok(entry(f))
            }
            Content::Streamed(f) => {
                let mut made = (Sha256::new(), 0u64);
                super::atomic::write_with(path, &mut |file| {
                    let mut out = Hashing {
                        inner: file,
                        hash: &mut made.0,
                        len: &mut made.1,
                    };
                    (f.write)(&mut out)?;
                    let sha = hex_digest(&std::mem::take(&mut made.0).finalize());
                    if sha == f.sha256 {
                        Ok(())
                    } else {
                        Err(std::io::Error::other(format!(
                            "its bytes do not match the sha256 recorded with them ({sha}, recorded {})",
                            f.sha256
                        )))
                    }
                })?;
                Ok(ManifestEntry {
                    path: f.path.to_string(),
                    sha256: f.sha256.clone(),
                    bytes: made.1,
                })
            }
        }
    }
}

/// Passes writes on, hashing and counting them.
struct Hashing<'a> {
    inner: &'a mut dyn std::io::Write,
    hash: &'a mut Sha256,
    len: &'a mut u64,
}

impl std::io::Write for Hashing<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let done = buf.get(..n).unwrap_or_default();
        self.hash.update(done);
        *self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// SHA-256 of a file's bytes, read in pieces.
fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut h)?;
    Ok(hex_digest(&h.finalize()))
}

/// A digest in lowercase hex.
pub fn hex_digest(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A held file's manifest entry.
fn entry(f: &ExportFile) -> ManifestEntry {
    ManifestEntry {
        path: f.path.to_string(),
        sha256: sha256_hex(&f.bytes),
        bytes: f.bytes.len() as u64,
    }
}

/// What the export is of: the manifest's head.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportHead {
    /// The quote id.
    pub quote: String,
    /// The record's revision, when there is one.
    pub revision: Option<u64>,
}

/// The `tenor.export/1` manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The quote id.
    pub quote: String,
    /// The record's revision, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// Every file, sorted by path.
    pub files: Vec<ManifestEntry>,
}

/// One file of a manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestEntry {
    /// Relative path, components joined by `/`.
    pub path: String,
    /// SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// Its length.
    pub bytes: u64,
}

/// What an export did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// The files written, in the order given, then the manifest.
    pub written: Vec<PathBuf>,
    /// Files of the previous export that the new one no longer holds, and stale temporary
    /// files of runs that were killed.
    pub removed: Vec<PathBuf>,
}

/// Why nothing (or, for [`ExportError::Io`], not everything) was written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// Two files would be written under one path (or one under the other's directory).
    #[error("{owner_a} and {owner_b} both write `{path}`; nothing was written")]
    Collision {
        /// The path.
        path: String,
        /// Who made the first.
        owner_a: String,
        /// Who made the second.
        owner_b: String,
    },
    /// A file would be written under the manifest's reserved name.
    #[error("{owner} writes `{path}`, the export manifest's name; nothing was written")]
    Reserved {
        /// The path.
        path: String,
        /// Who made it.
        owner: String,
    },
    /// The directory holds the export of another quote.
    #[error("{} holds the export of quote `{other}`, not `{quote}`; nothing was written", .dir.display())]
    OtherQuote {
        /// The directory.
        dir: PathBuf,
        /// The quote it holds.
        other: String,
        /// The quote being exported.
        quote: String,
    },
    /// A file Tenor did not write before is in the way, with other contents.
    #[error("{} already exists with other contents and no export manifest lists it; nothing was written", .0.display())]
    Exists(PathBuf),
    /// Something that is not a directory (a symlink, a file) is where a directory must be.
    #[error("{} is not a directory (a symlink or a file is in its place); nothing was written", .0.display())]
    NotADirectory(PathBuf),
    /// A file's path is not made of plain names.
    #[error("{0}")]
    Path(#[from] PathError),
    /// The manifest in the directory cannot be read.
    #[error("{} is not a tenor.export/1 manifest: {why}", .path.display())]
    BadManifest {
        /// Its path.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A file could not be read, written or removed.
    #[error("{0}")]
    Io(String),
}

/// SHA-256 in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex_digest(&Sha256::digest(bytes))
}

/// The manifest of `dir`, if it has one.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, ExportError> {
    let path = dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ExportError::Io(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let m: Manifest = serde_json::from_str(&text).map_err(|e| ExportError::BadManifest {
        path: path.clone(),
        why: e.to_string(),
    })?;
    if m.schema != SCHEMA {
        return Err(ExportError::BadManifest {
            path,
            why: format!("its schema is `{}`", m.schema),
        });
    }
    Ok(Some(m))
}

/// The manifest of an export, as its bytes: sorted by path, pretty JSON and a newline, no
/// timestamps (the same files give the same manifest).
pub fn manifest_bytes(head: &ExportHead, files: &[ExportFile]) -> Result<Vec<u8>, ExportError> {
    manifest_of(head, files.iter().map(entry).collect())
}

/// The manifest of `entries`, as [`manifest_bytes`].
fn manifest_of(head: &ExportHead, mut entries: Vec<ManifestEntry>) -> Result<Vec<u8>, ExportError> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    let m = Manifest {
        schema: SCHEMA.to_string(),
        quote: head.quote.clone(),
        revision: head.revision,
        files: entries,
    };
    let mut text = serde_json::to_string_pretty(&m).map_err(|e| ExportError::Io(e.to_string()))?;
    text.push('\n');
    Ok(text.into_bytes())
}

/// Writes `files` into `dir` (created if missing), each atomically in the order given, then
/// the manifest. Everything that would refuse the export is checked before the first write.
/// `force` lets files that no manifest lists be replaced.
pub fn write_export(
    dir: &Path,
    head: &ExportHead,
    files: &[ExportFile],
    force: bool,
) -> Result<ExportReport, ExportError> {
    write_export_streamed(dir, head, files, &[], force).map(|(report, _)| report)
}

/// [`write_export`] with `streamed` files after the held ones; also gives every file's
/// manifest entry, in the order written.
pub fn write_export_streamed(
    dir: &Path,
    head: &ExportHead,
    files: &[ExportFile],
    streamed: &[StreamedFile<'_>],
    force: bool,
) -> Result<(ExportReport, Vec<ManifestEntry>), ExportError> {
    let all: Vec<Content<'_>> = files
        .iter()
        .map(Content::Held)
        .chain(streamed.iter().map(Content::Streamed))
        .collect();
    check_paths(&all)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| ExportError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let mut report = ExportReport {
        removed: remove_stale_in(dir, &all)?,
        ..ExportReport::default()
    };
    let previous = read_manifest(dir)?;
    if let Some(m) = &previous {
        if m.quote != head.quote {
            return Err(ExportError::OtherQuote {
                dir: dir.to_path_buf(),
                other: m.quote.clone(),
                quote: head.quote.clone(),
            });
        }
    }
    let listed: BTreeSet<&str> = previous
        .iter()
        .flat_map(|m| m.files.iter().map(|f| f.path.as_str()))
        .collect();
    for f in &all {
        check_target(dir, *f, &listed, force)?;
    }
    let mut entries = Vec::with_capacity(all.len());
    for f in &all {
        let path = f.path().under(dir);
        make_parents(dir, f.path())?;
        let e = f
            .write(&path)
            .map_err(|e| ExportError::Io(format!("cannot write {}: {e}", path.display())))?;
        entries.push(e);
        report.written.push(path);
    }
    let new: BTreeSet<String> = all.iter().map(|f| f.path().to_string()).collect();
    for old in listed.iter().filter(|p| !new.contains(**p)) {
        if let Some(p) = remove_listed(dir, old)? {
            report.removed.push(p);
        }
    }
    let manifest = manifest_of(head, entries.clone())?;
    let mpath = dir.join(MANIFEST);
    super::atomic::write(&mpath, &manifest)
        .map_err(|e| ExportError::Io(format!("cannot write {}: {e}", mpath.display())))?;
    report.written.push(mpath);
    Ok((report, entries))
}

/// Refuses two files under one path, one file under another's directory, and the manifest's
/// name.
fn check_paths(files: &[Content<'_>]) -> Result<(), ExportError> {
    let mut seen: BTreeMap<&[String], &str> = BTreeMap::new();
    for f in files {
        let parts = f.path().components();
        if parts.first().is_some_and(|c| c == MANIFEST) {
            return Err(ExportError::Reserved {
                path: f.path().to_string(),
                owner: f.owner().to_string(),
            });
        }
        if let Some(first) = seen.insert(parts, f.owner()) {
            return Err(ExportError::Collision {
                path: f.path().to_string(),
                owner_a: first.to_string(),
                owner_b: f.owner().to_string(),
            });
        }
    }
    // A file whose path is a directory of another's: sorted, a prefix comes right before
    // the paths under it.
    let sorted: Vec<(&&[String], &&str)> = seen.iter().collect();
    for pair in sorted.windows(2) {
        if let [(a, owner_a), (b, owner_b)] = pair {
            if b.starts_with(a) {
                return Err(ExportError::Collision {
                    path: a.join("/"),
                    owner_a: owner_a.to_string(),
                    owner_b: owner_b.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Removes the stale temporary files of earlier runs in `dir` and in every subdirectory the
/// export writes into.
fn remove_stale_in(dir: &Path, files: &[Content<'_>]) -> Result<Vec<PathBuf>, ExportError> {
    let mut dirs: BTreeSet<PathBuf> = BTreeSet::new();
    dirs.insert(dir.to_path_buf());
    for f in files {
        if let Some(parent) = f.path().under(dir).parent() {
            // Only real directories: never look through a symlink planted in the export.
            if std::fs::symlink_metadata(parent).is_ok_and(|m| m.is_dir()) {
                dirs.insert(parent.to_path_buf());
            }
        }
    }
    let mut removed = Vec::new();
    for d in dirs {
        removed
            .extend(super::atomic::remove_stale(&d).map_err(|e| {
                ExportError::Io(format!("cannot clean up in {}: {e}", d.display()))
            })?);
    }
    Ok(removed)
}

/// Whether a file may be written where it goes: its directories must be real directories,
/// and a file already there must be one the previous export listed, hold the same bytes, or
/// be replaced by force.
fn check_target(
    dir: &Path,
    f: Content<'_>,
    listed: &BTreeSet<&str>,
    force: bool,
) -> Result<(), ExportError> {
    for at in parent_dirs(dir, f.path().components()) {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(ExportError::NotADirectory(at)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => {
                return Err(ExportError::Io(format!(
                    "cannot read {}: {e}",
                    at.display()
                )));
            }
        }
    }
    let path = f.path().under(dir);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(ExportError::Io(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    if meta.is_dir() {
        return Err(ExportError::Exists(path));
    }
    if force || listed.contains(f.path().to_string().as_str()) {
        return Ok(());
    }
    // A symlink is never read through: it counts as different.
    let same = meta.is_file() && f.same_as(&path);
    if same {
        Ok(())
    } else {
        Err(ExportError::Exists(path))
    }
}

/// The directories a file of `parts` goes through under `dir`, outermost first.
fn parent_dirs(dir: &Path, parts: &[String]) -> Vec<PathBuf> {
    let mut at = dir.to_path_buf();
    parts
        .iter()
        .take(parts.len().saturating_sub(1))
        .map(|c| {
            at.push(c);
            at.clone()
        })
        .collect()
}

/// Creates the directories a file goes in (checked to be real directories where they exist).
fn make_parents(dir: &Path, path: &ExportPath) -> Result<(), ExportError> {
    for at in parent_dirs(dir, path.components()) {
        match std::fs::create_dir(&at) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir()) {
                    return Err(ExportError::NotADirectory(at));
                }
            }
            Err(e) => {
                return Err(ExportError::Io(format!(
                    "cannot create {}: {e}",
                    at.display()
                )));
            }
        }
    }
    Ok(())
}

/// Removes a file the previous export listed, if its path is still a plain one under `dir`
/// (a manifest is input: a tampered one must not name `../x`) and it is there.
fn remove_listed(dir: &Path, listed: &str) -> Result<Option<PathBuf>, ExportError> {
    let parts: Vec<&str> = listed.split('/').collect();
    let Ok(path) = ExportPath::new(&parts) else {
        return Ok(None);
    };
    if !parent_dirs(dir, path.components())
        .iter()
        .all(|at| std::fs::symlink_metadata(at).is_ok_and(|m| m.is_dir()))
    {
        return Ok(None);
    }
    let p = path.under(dir);
    match std::fs::remove_file(&p) {
        Ok(()) => {
            // An emptied namespace directory goes too; a non-empty one stays.
            if let Some(parent) = p.parent().filter(|d| *d != dir) {
                let _ = std::fs::remove_dir(parent);
            }
            Ok(Some(p))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ExportError::Io(format!(
            "cannot remove {}: {e}",
            p.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tenor-export-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn file(path: &[&str], bytes: &str, owner: &str) -> ExportFile {
        ExportFile {
            path: ExportPath::new(path).unwrap(),
            bytes: bytes.as_bytes().to_vec(),
            owner: owner.into(),
        }
    }

    fn head(q: &str) -> ExportHead {
        ExportHead {
            quote: q.into(),
            revision: None,
        }
    }

    #[test]
    fn paths_are_plain() {
        assert!(ExportPath::new(&["a", "b.json"]).is_ok());
        for bad in [&["..", "x"][..], &["a/b"], &[".x"], &[""], &[]] {
            assert!(ExportPath::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn writes_files_then_a_sorted_manifest_and_removes_what_is_gone() {
        let dir = scratch("basic");
        let files = vec![
            file(&["b.json"], "B\n", "tenor"),
            file(&["p", "x.csv"], "X", "plugin p"),
            file(&["a.json"], "A\n", "tenor"),
        ];
        let r = write_export(&dir, &head("Q-1"), &files, false).unwrap();
        assert_eq!(r.written.len(), 4);
        assert_eq!(r.written.last(), Some(&dir.join(MANIFEST)));
        let m = read_manifest(&dir).unwrap().unwrap();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["a.json", "b.json", "p/x.csv"]);
        assert_eq!(
            m.files[0].sha256,
            "06f961b802bc46ee168555f066d28f4f0e9afdf3f88174c1ee6f9de004fc30a0"
        );
        // Again without `b.json` and the plugin's file: both removed, the empty folder too.
        let r = write_export(&dir, &head("Q-1"), &files[2..], false).unwrap();
        assert_eq!(r.removed, vec![dir.join("b.json"), dir.join("p/x.csv")]);
        assert!(!dir.join("p").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refusals_write_nothing() {
        let dir = scratch("refuse");
        let same = [
            file(&["a.json"], "1", "tenor"),
            file(&["a.json"], "2", "plugin x"),
        ];
        let e = write_export(&dir, &head("Q-1"), &same, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "tenor and plugin x both write `a.json`; nothing was written"
        );
        let nested = [
            file(&["a"], "1", "tenor"),
            file(&["a", "b"], "2", "plugin a"),
        ];
        assert!(matches!(
            write_export(&dir, &head("Q-1"), &nested, false),
            Err(ExportError::Collision { .. })
        ));
        let reserved = [file(&[MANIFEST, "x"], "1", "plugin export.json")];
        assert!(matches!(
            write_export(&dir, &head("Q-1"), &reserved, false),
            Err(ExportError::Reserved { .. })
        ));
        assert!(!dir.join("a.json").exists());
        write_export(
            &dir,
            &head("Q-1"),
            &[file(&["a.json"], "1", "tenor")],
            false,
        )
        .unwrap();
        let e = write_export(
            &dir,
            &head("Q-2"),
            &[file(&["b.json"], "1", "tenor")],
            false,
        )
        .unwrap_err();
        assert!(matches!(e, ExportError::OtherQuote { .. }), "{e}");
        assert!(!dir.join("b.json").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_in_the_way_is_replaced_only_when_the_same_or_forced() {
        let dir = scratch("in-the-way");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.json"), "mine").unwrap();
        let f = [file(&["a.json"], "new", "tenor")];
        let e = write_export(&dir, &head("Q-1"), &f, false).unwrap_err();
        assert_eq!(e, ExportError::Exists(dir.join("a.json")));
        assert_eq!(std::fs::read_to_string(dir.join("a.json")).unwrap(), "mine");
        write_export(&dir, &head("Q-1"), &f, true).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.json")).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_tampered_manifest_cannot_make_the_export_remove_files_outside() {
        let dir = scratch("tampered");
        let outside = scratch("tampered-outside");
        std::fs::create_dir_all(&outside).unwrap();
        let victim = outside.join("victim.json");
        std::fs::write(&victim, "keep").unwrap();
        write_export(
            &dir,
            &head("Q-1"),
            &[file(&["a.json"], "1", "tenor")],
            false,
        )
        .unwrap();
        let rel = format!(
            "../{}/victim.json",
            outside.file_name().unwrap().to_str().unwrap()
        );
        let text = std::fs::read_to_string(dir.join(MANIFEST))
            .unwrap()
            .replace("\"a.json\"", &format!("\"{rel}\""));
        std::fs::write(dir.join(MANIFEST), text).unwrap();
        let r = write_export(
            &dir,
            &head("Q-1"),
            &[file(&["a.json"], "1", "tenor")],
            false,
        )
        .unwrap();
        assert!(r.removed.is_empty(), "{:?}", r.removed);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_namespace_directory_is_refused() {
        let dir = scratch("ns-link");
        let outside = scratch("ns-outside");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("p")).unwrap();
        let e = write_export(
            &dir,
            &head("Q-1"),
            &[file(&["p", "x"], "1", "plugin p")],
            true,
        )
        .unwrap_err();
        assert_eq!(e, ExportError::NotADirectory(dir.join("p")));
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }
}
