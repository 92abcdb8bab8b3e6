//! `tenor accept`: a quote's documents written, then vendors' own formats through plugins.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::errors::Problem;
use crate::cli::{db, export};
use crate::documents::accept::{self, Accepted};
use crate::documents::change::document_bytes;
use crate::engine::money::money;
use crate::engine::quote::QuoteFile;
use crate::record::{Accepted as RecordAccepted, Document, NewRevision, git};
use std::path::{Path, PathBuf};

/// The arguments of `tenor accept`.
pub struct AcceptArgs<'a> {
    /// The quote file.
    pub quote: &'a Path,
    /// Where to export the recorded documents, if anywhere.
    pub out: Option<&'a Path>,
    /// The rule set.
    pub rules: &'a [PathBuf],
    /// Record a changed quote (or rules) under an accepted quote id as its next revision.
    pub revise: bool,
    /// Where the plugins are; `None` loads none.
    pub plugins: Option<&'a Path>,
    /// The database (`--db`), when given.
    pub db: Option<&'a Path>,
}

/// `tenor accept`: exit 0 when the quote is recorded (or was, from the same quote and rules)
/// and exported, 1 when the quote is refused or a plugin failed.
pub fn accept_cmd(args: &AcceptArgs<'_>, ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(args.rules)?;
    let file = load::quote(args.quote)?;
    let priced = load::price(&rules.catalogue, &file, false, ctx)?;
    let fp = accept::fingerprint(&file.quote, &rules.texts);
    let accepted = accept::accept(&rules.catalogue, &file.quote, &priced, &fp)
        .map_err(|errors| refused(&file, &errors))?;
    let documents = tenor_documents(&accepted)?;
    let priced_json = serde_json::to_string_pretty(&priced)?;
    let mut record = db::open(args.db, args.rules)?;
    let quote = &file.quote.quote;
    let done = record
        .accept(
            &NewRevision {
                quote,
                quote_file: &file.name,
                quote_text: &file.text,
                rules: &rules.texts,
                rules_git: rules_dir(args.rules).and_then(|d| git::rules_revision(&d)),
                fingerprint: &fp,
                priced: &priced_json,
                documents: &documents,
            },
            args.revise,
        )
        .map_err(db::error)?;
    recorded(&done, quote, ctx);
    let mut plugin_failed = false;
    if let Some(out) = args.out {
        export::export(&mut record, quote, done.revision, out, ctx)?;
        if let Some(pd) = args.plugins {
            let matcher = crate::matching::Matcher::new(&rules.catalogue);
            let check = crate::matching::ReadBack {
                matcher: &matcher,
                quote: &file.quote,
                priced: &priced,
            };
            plugin_failed = with_plugins(pd, &accepted, out, &check, ctx);
        }
    }
    let t = &accepted.sales_order.totals;
    ctx.status(format_args!(
        "accepted {}: first invoice {}, MRR {}, contract value {} {}",
        file.quote.quote,
        money(t.first_invoice),
        money(t.mrr),
        money(t.contract_value),
        rules.catalogue.currency
    ));
    Ok(if plugin_failed {
        Exit::Failure
    } else {
        Exit::Success
    })
}

/// Says what the record now holds.
fn recorded(done: &RecordAccepted, quote: &str, ctx: &mut Ctx<'_>) {
    if done.new {
        ctx.status(format_args!(
            "recorded {quote} revision {} at {}",
            done.revision, done.accepted_at
        ));
    } else {
        ctx.status(format_args!(
            "{quote} revision {} was recorded at {} from the same quote and rules; nothing changed",
            done.revision, done.accepted_at
        ));
    }
}

/// The directory of the rule set, for its git revision.
fn rules_dir(rules: &[PathBuf]) -> Option<PathBuf> {
    let first = rules
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("rules"));
    if first.is_dir() {
        Some(first)
    } else {
        first.parent().map(Path::to_path_buf)
    }
}

/// Tenor's own documents, as their files' names and bytes.
fn tenor_documents(a: &Accepted) -> Result<Vec<Document>, CliError> {
    let mut out = Vec::new();
    let mut put = |id: &str, kind: &str, body: Result<Vec<u8>, serde_json::Error>| {
        body.map(|body| {
            out.push(Document {
                path: format!("{id}.json"),
                owner: "tenor".into(),
                kind: kind.into(),
                body,
            })
        })
    };
    for po in &a.purchase_orders {
        put(&po.id, "purchase-order", document_bytes(po))?;
    }
    put(
        &a.schedule.id,
        "invoice-schedule",
        document_bytes(&a.schedule),
    )?;
    put(
        &a.template.id,
        "recurring-template",
        document_bytes(&a.template),
    )?;
    put(&a.summary.id, "accept-summary", document_bytes(&a.summary))?;
    put(
        &a.sales_order.id,
        "sales-order",
        document_bytes(&a.sales_order),
    )?;
    Ok(out)
}

/// Vendors' own formats, through the plugins, each purchase order's rendering checked by
/// reading it back; a failing plugin is reported and the others still run. True when one
/// failed.
fn with_plugins(
    dir: &Path,
    accepted: &Accepted,
    out: &Path,
    check: &dyn accept::OrderCheck,
    ctx: &mut Ctx<'_>,
) -> bool {
    let host = crate::host::Host::load_dir(dir);
    let mut failed = false;
    for f in &host.failures {
        failed = true;
        ctx.report(&CliError::Run(format!(
            "plugin {}: {}",
            f.path.display(),
            f.message
        )));
    }
    let rendered = accept::render_with_plugins(&host, accepted, out, check);
    for p in &rendered.written {
        ctx.status(format_args!("wrote {}", p.display()));
    }
    for note in &rendered.notes {
        ctx.notice("note", note.clone());
    }
    for e in &rendered.errors {
        failed = true;
        ctx.report(&CliError::Run(e.to_string()));
    }
    failed
}

/// The engine's refusal of a quote, one problem per reason.
fn refused(file: &QuoteFile, errors: &[accept::AcceptError]) -> CliError {
    CliError::Refused {
        problems: errors
            .iter()
            .map(|e| Problem {
                line: e.line.map(|l| l as u64),
                ..Problem::new("accept", e.message.clone())
                    .in_file(file.name.clone())
                    .with_help(e.help.clone())
            })
            .collect(),
        summary: Some("the quote was not accepted; nothing was recorded".into()),
    }
}
