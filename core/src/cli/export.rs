//! `tenor export`: a revision's current documents written from the record into a directory
//! (the amended sales order and schedule after seat changes, the change orders, the plugins'
//! files), with its `tenor.export/1` manifest, and the export logged.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::render::errors::Problem;
use crate::files::export::{self, ExportError, ExportFile, ExportHead, ExportPath, StreamedFile};
use crate::record::Record;
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
    let docs = record.documents_first(quote, revision).map_err(db::error)?;
    let mut files = Vec::with_capacity(docs.len());
    let mut long = Vec::new();
    for (d, whole) in docs {
        let parts: Vec<&str> = d.path.split('/').collect();
        let path = ExportPath::new(&parts).map_err(|e| {
            CliError::Run(format!(
                "the record holds a document named {e}; nothing was written"
            ))
        })?;
        if whole {
            files.push(ExportFile {
                path,
                bytes: d.body,
                owner: d.owner,
            });
        } else {
            long.push((path, d));
        }
    }
    // A document of more than one piece is written from the record piece by piece.
    let reader = &*record;
    let writers: Vec<_> = long
        .iter()
        .map(|(_, d)| {
            move |o: &mut dyn std::io::Write| {
                o.write_all(&d.body)?;
                reader
                    .write_document_rest(quote, revision, d.change_seq, &d.path, o)
                    .map_err(std::io::Error::other)
            }
        })
        .collect();
    let streamed: Vec<StreamedFile<'_>> = long
        .iter()
        .zip(&writers)
        .map(|((path, d), write)| StreamedFile {
            path: path.clone(),
            sha256: d.sha256.clone(),
            owner: d.owner.clone(),
            write,
        })
        .collect();
    let head = ExportHead {
        quote: quote.to_string(),
        revision: Some(u64::from(revision)),
    };
    let (report, entries) =
        export::write_export_streamed(dir, &head, &files, &streamed, force).map_err(refused)?;
    drop(streamed);
    for p in &report.written {
        ctx.status(format_args!("wrote {}", p.display()));
    }
    for p in &report.removed {
        ctx.status(format_args!("removed {}", p.display()));
    }
    let hashes: Vec<(String, String)> = entries.into_iter().map(|e| (e.path, e.sha256)).collect();
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
