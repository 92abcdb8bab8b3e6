//! `tenor export`: a revision's current documents written from the record into a directory
//! (the amended sales order and schedule after seat changes, the change orders, the plugins'
//! files), with its `tenor.export/1` manifest, and the export logged.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::render::errors::Problem;
use crate::files::export::{self, ExportError, ExportFile, ExportHead, ExportPath};
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
    /// Replace files in `out` that no earlier export listed.
    pub force: bool,
}

/// `tenor export`: exit 0 when every document was written, 1 when the directory is refused.
pub fn export_cmd(args: &ExportArgs, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let mut record = db::open(db_flag, &[])?;
    let rev = record
        .revision(&args.quote, args.revision)
        .map_err(db::error)?;
    export(
        &mut record,
        &args.quote,
        rev.revision,
        &args.out,
        args.force,
        ctx,
    )?;
    Ok(Exit::Success)
}

/// Writes revision `revision` of `quote` into `dir` through the export writer and logs the
/// export with every file's SHA-256.
pub fn export(
    record: &mut Record,
    quote: &str,
    revision: u32,
    dir: &Path,
    force: bool,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let docs = record.documents(quote, revision).map_err(db::error)?;
    let mut files = Vec::with_capacity(docs.len());
    for d in docs {
        let parts: Vec<&str> = d.path.split('/').collect();
        let path = ExportPath::new(&parts).map_err(|e| {
            CliError::Run(format!(
                "the record holds a document named {e}; nothing was written"
            ))
        })?;
        files.push(ExportFile {
            path,
            bytes: d.body,
            owner: d.owner,
        });
    }
    let head = ExportHead {
        quote: quote.to_string(),
        revision: Some(u64::from(revision)),
    };
    let report = export::write_export(dir, &head, &files, force).map_err(refused)?;
    for p in &report.written {
        ctx.status(format_args!("wrote {}", p.display()));
    }
    for p in &report.removed {
        ctx.status(format_args!("removed {}", p.display()));
    }
    let hashes: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.path.to_string(), sha256_hex(&f.bytes)))
        .collect();
    record
        .record_export(quote, revision, &dir.display().to_string(), &hashes)
        .map_err(db::error)
}

/// The export's refusal: the directory or the files are not safe to write (exit 1), or a file
/// could not be written (exit 2).
fn refused(e: ExportError) -> CliError {
    let help = match &e {
        ExportError::Io(m) => return CliError::Run(m.clone()),
        ExportError::OtherQuote { .. } => "export each quote into its own directory",
        ExportError::Exists(_) => {
            "export into another directory, or pass --force to replace the file"
        }
        ExportError::NotADirectory(_) => "remove it, or export into another directory",
        ExportError::Path(_) => "a name in the rules is too long to name a file: shorten it",
        ExportError::Collision { .. } | ExportError::Reserved { .. } => {
            "this is a fault in a plugin or in Tenor: please report it"
        }
        ExportError::BadManifest { .. } => {
            "remove the file if it is not Tenor's, or export into another directory"
        }
    };
    CliError::Refused {
        problems: vec![Problem::new("export", e.to_string()).with_help(Some(help.to_string()))],
        summary: Some(
            "nothing was exported; the record holds the documents (`tenor export` writes them elsewhere)"
                .into(),
        ),
    }
}
