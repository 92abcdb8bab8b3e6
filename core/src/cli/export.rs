//! `tenor export`: a revision's current documents written from the record into a directory
//! (the amended sales order and schedule after seat changes, and the change orders), and the
//! export logged.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::record::{Record, sha256_hex};
use std::path::{Path, PathBuf};

/// The arguments of `tenor export`.
pub struct ExportArgs {
    /// The quote id.
    pub quote: String,
    /// The revision; the latest when `None`.
    pub revision: Option<u32>,
    /// Where to write.
    pub out: PathBuf,
}

/// `tenor export`: exit 0 when every document was written.
pub fn export_cmd(args: &ExportArgs, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let mut record = db::open(db_flag, &[])?;
    let rev = record
        .revision(&args.quote, args.revision)
        .map_err(db::error)?;
    export(&mut record, &args.quote, rev.revision, &args.out, ctx)?;
    Ok(Exit::Success)
}

/// Writes revision `revision` of `quote` into `dir` and logs the export.
pub fn export(
    record: &mut Record,
    quote: &str,
    revision: u32,
    dir: &Path,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let docs = record.documents(quote, revision).map_err(db::error)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| CliError::Run(format!("cannot create {}: {e}", dir.display())))?;
    let mut files = Vec::with_capacity(docs.len());
    for d in &docs {
        if !plain_name(&d.path) {
            return Err(CliError::Run(format!(
                "the record holds a document named `{}`, which is not a plain file name; nothing more written",
                d.path
            )));
        }
        let path = dir.join(&d.path);
        crate::files::atomic::write(&path, &d.body)
            .map_err(|e| CliError::Run(format!("cannot write {}: {e}", path.display())))?;
        ctx.status(format_args!("wrote {}", path.display()));
        files.push((d.path.clone(), sha256_hex(&d.body)));
    }
    record
        .record_export(quote, revision, &dir.display().to_string(), &files)
        .map_err(db::error)
}

/// A file name without directories, not hidden.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}
