//! `tenor show`: one revision of a recorded quote (`tenor.show/1`), or one of its current
//! documents as it was recorded.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::render::errors::Problem;
use crate::record::{ChangeInfo, Record, RecordedSerial, RevisionInfo, StoredDocument};
use std::path::Path;

/// Schema of the JSON view of a revision.
pub const SHOW: &str = "tenor.show/1";

/// The arguments of `tenor show`.
pub struct ShowArgs<'a> {
    /// The quote id.
    pub quote: &'a str,
    /// The revision; the latest when `None`.
    pub revision: Option<u32>,
    /// A document kind (`sales-order`) or file name (`PO-Q-1-pax8.json`) to print alone.
    pub document: Option<&'a str>,
    /// Table or JSON.
    pub format: Format,
}

/// `tenor show`: exit 0; an unknown quote, revision or document is refused.
pub fn show_cmd(args: &ShowArgs<'_>, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    let record = db::open(db_flag, &[])?;
    let rev = record
        .revision(args.quote, args.revision)
        .map_err(db::error)?;
    // First pieces only: a document of gigabytes is written out piece by piece.
    let docs = record
        .documents_first(args.quote, rev.revision)
        .map_err(db::error)?;
    if let Some(which) = args.document {
        let heads: Vec<StoredDocument> = docs.into_iter().map(|(d, _)| d).collect();
        let d = one(&heads, which)?;
        ctx.out.write_all(&d.body)?;
        record
            .write_document_rest(
                args.quote,
                rev.revision,
                d.change_seq,
                &d.path,
                &mut *ctx.out,
            )
            .map_err(db::error)?;
        return Ok(Exit::Success);
    }
    let shown = Shown {
        changes: record
            .changes(args.quote, rev.revision)
            .map_err(db::error)?,
        serials: record
            .serials(args.quote, rev.revision)
            .map_err(db::error)?,
        rev,
        docs,
    };
    match args.format {
        Format::Json => json(&record, &shown, ctx)?,
        Format::Table => table(&shown, ctx)?,
    }
    Ok(Exit::Success)
}

/// What `tenor show` shows of a revision.
struct Shown {
    rev: RevisionInfo,
    /// Each document with its first piece, and whether that is all of it.
    docs: Vec<(StoredDocument, bool)>,
    changes: Vec<ChangeInfo>,
    serials: Vec<RecordedSerial>,
}

/// The `tenor.show/1` document; a long document's size is read from its last piece alone.
fn json(record: &Record, s: &Shown, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let (quote, n) = (s.rev.quote.as_str(), s.rev.revision);
    let rules = record.rule_files(quote, n).map_err(db::error)?;
    let mut documents = Vec::with_capacity(s.docs.len());
    for (d, whole) in &s.docs {
        let bytes = match whole {
            true => d.body.len() as u64,
            false => record.document_len(quote, n, d).map_err(db::error)?,
        };
        documents.push(serde_json::json!({
            "path": d.path, "owner": d.owner, "kind": d.kind, "sha256": d.sha256,
            "change": d.change_seq, "bytes": bytes,
        }));
    }
    let mut doc = serde_json::json!({
        "schema": SHOW,
        "revision": s.rev,
        "rule_files": rules.iter().map(|(p, h)| serde_json::json!({"path": p, "sha256": h})).collect::<Vec<_>>(),
        "documents": documents,
        "changes": s.changes,
    });
    // Only when there are some: a revision without hardware reads as it always did.
    if !s.serials.is_empty()
        && let Some(o) = doc.as_object_mut()
    {
        o.insert("serials".into(), serde_json::to_value(&s.serials)?);
    }
    writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
    Ok(())
}

/// The revision, its documents, changes and serials as lines of text.
fn table(s: &Shown, ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    let rev = &s.rev;
    writeln!(
        ctx.out,
        "{} revision {} accepted {} from {}\nrules sha256 {}{}\nfingerprint {}",
        rev.quote,
        rev.revision,
        rev.accepted_at,
        rev.quote_file,
        rev.rules_sha256,
        rev.rules_git
            .as_ref()
            .map_or(String::new(), |g| format!(" (git {g})")),
        rev.fingerprint
    )?;
    for (d, _) in &s.docs {
        writeln!(
            ctx.out,
            "  {:<40} {:<20} {:<12} {}",
            d.path, d.kind, d.owner, d.sha256
        )?;
    }
    for c in &s.changes {
        writeln!(
            ctx.out,
            "  change {}: {} at {}",
            c.seq, c.change_order, c.recorded_at
        )?;
    }
    serials_table(&s.serials, ctx)
}

/// The document named by kind or file name; refused when none or several match.
fn one<'d>(docs: &'d [StoredDocument], which: &str) -> Result<&'d StoredDocument, CliError> {
    let by_name: Vec<&StoredDocument> = docs
        .iter()
        .filter(|d| d.path == which || d.path.strip_suffix(".json") == Some(which))
        .collect();
    let found: Vec<&StoredDocument> = if by_name.is_empty() {
        docs.iter().filter(|d| d.kind == which).collect()
    } else {
        by_name
    };
    match found.as_slice() {
        [d] => Ok(d),
        [] => Err(refused(
            format!("no document `{which}` in this revision"),
            docs,
        )),
        _ => Err(refused(
            format!("`{which}` names {} documents", found.len()),
            docs,
        )),
    }
}

fn refused(message: String, docs: &[StoredDocument]) -> CliError {
    let names: Vec<&str> = docs.iter().map(|d| d.path.as_str()).collect();
    CliError::Refused {
        problems: vec![Problem::new("show", message).with_help(Some(format!(
            "name a kind (sales-order, invoice-schedule, …) or one of: {}",
            names.join(", ")
        )))],
        summary: None,
    }
}

/// The revision's serial numbers, a row each: its line, where it was bought, where it went.
fn serials_table(serials: &[RecordedSerial], ctx: &mut Ctx<'_>) -> Result<(), CliError> {
    for r in serials {
        let s = &r.serial;
        let pushed = if r.pushed_to.is_empty() {
            "not pushed yet".to_string()
        } else {
            format!("pushed to {}", r.pushed_to.join(", "))
        };
        writeln!(
            ctx.out,
            "  serial {} ({}) line {}: from {} {} line {}, {pushed}",
            s.key.serial, s.key.part_number, s.line, s.key.plugin, s.purchase_order, s.po_line
        )?;
    }
    Ok(())
}
