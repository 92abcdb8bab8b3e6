//! `tenor accept`: a quote's documents and vendors' own formats (through plugins) recorded as
//! one revision in the record, then, with `--out`, exported with their manifest.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::errors::Problem;
use crate::cli::{db, export};
use crate::documents::accept::{self, Accepted};
use crate::engine::money::money;
use crate::engine::quote::QuoteFile;
use crate::files::export::ExportFile;
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
    /// Let the export replace files in `out` that no earlier export listed.
    pub force: bool,
    /// Where the plugins are; `None` loads none.
    pub plugins: Option<&'a Path>,
    /// The database (`--db`), when given.
    pub db: Option<&'a Path>,
}

/// `tenor accept`: exit 0 when the quote is recorded (or was, from the same quote and rules)
/// and exported, 1 when the quote or the export is refused or a plugin failed.
pub fn accept_cmd(args: &AcceptArgs<'_>, ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(args.rules)?;
    let file = load::quote(args.quote)?;
    let priced = load::price(&rules.catalogue, &file, false, ctx)?;
    let fp = accept::fingerprint(&file.quote, &rules.texts);
    let accepted = accept::accept(&rules.catalogue, &file.quote, &priced, &fp)
        .map_err(|errors| refused(&file, &errors))?;
    let mut record = db::open(args.db, args.rules)?;
    let (mut plugins, failures) = match args.plugins {
        Some(pd) => {
            let links = record
                .customer_links(&file.quote.customer.id)
                .map_err(db::error)?;
            let matcher = crate::matching::Matcher::new(&rules.catalogue);
            let check = crate::matching::ReadBack {
                matcher: &matcher,
                quote: &file.quote,
                priced: &priced,
            };
            with_plugins(pd, &accepted, &check, &links)
        }
        None => Default::default(),
    };
    let mut files = accept::files(&accepted).map_err(|e| CliError::Run(e.to_string()))?;
    files.append(&mut plugins.files);
    let documents: Vec<Document> = files.into_iter().map(document).collect();
    let priced_json = serde_json::to_string_pretty(&priced)?;
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
    let plugin_failed = report_plugins(&plugins, &failures, ctx);
    if let Some(out) = args.out {
        export::export(&mut record, quote, done.revision, out, args.force, ctx)?;
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

/// An export file as the record keeps it: its path, `tenor` or the plugin's name, its kind.
fn document(f: ExportFile) -> Document {
    let owner = f
        .owner
        .strip_prefix("plugin ")
        .unwrap_or(&f.owner)
        .to_string();
    let name = f.path.components().last().cloned().unwrap_or_default();
    let kind = if owner == "tenor" {
        tenor_kind(&name)
    } else {
        // A plugin's `PO-Q-1-pax8.pax8-order.json` is of kind `pax8-order.json`.
        name.split_once('.')
            .map_or(name.clone(), |(_, k)| k.to_string())
    };
    Document {
        path: f.path.to_string(),
        owner,
        kind,
        body: f.bytes,
    }
}

/// The kind of one of Tenor's files, from its fixed name pattern.
fn tenor_kind(name: &str) -> String {
    let kinds = [
        ("SO-", "sales-order"),
        ("PO-", "purchase-order"),
        ("SCHED-", "invoice-schedule"),
        ("RT-", "recurring-template"),
        ("SUM-", "accept-summary"),
        ("CO-", "change-order"),
    ];
    kinds
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("document", |(_, k)| k)
        .to_string()
}

/// Says what the record now holds.
fn recorded(done: &RecordAccepted, quote: &str, ctx: &mut Ctx<'_>) {
    if done.new {
        ctx.status(format_args!(
            "recorded {quote} revision {} at {}",
            done.revision, done.accepted_at
        ));
    } else if done.completed.is_empty() {
        ctx.status(format_args!(
            "{quote} revision {} was recorded at {} from the same quote and rules; nothing changed",
            done.revision, done.accepted_at
        ));
    } else {
        ctx.status(format_args!(
            "{quote} revision {} was recorded at {} from the same quote and rules; added the plugin files it lacked: {}",
            done.revision,
            done.accepted_at,
            done.completed.join(", ")
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

/// Vendors' own formats, through the plugins, in memory, each purchase order's rendering
/// checked by reading it back: what they made, and the plugins that failed to load.
fn with_plugins(
    dir: &Path,
    accepted: &Accepted,
    check: &dyn accept::OrderCheck,
    links: &[crate::record::Link],
) -> (accept::PluginOutput, Vec<String>) {
    let host = crate::host::Host::load_dir(dir);
    let failures = host
        .failures
        .iter()
        .map(|f| format!("plugin {}: {}", f.path.display(), f.message))
        .collect();
    (
        accept::render_with_accounts(&host, accepted, check, &|plugin| {
            crate::record::links::accounts_of(links, plugin)
        }),
        failures,
    )
}

/// Reports what the plugins could not do (a failing plugin does not stop the others) and
/// their notes. True when one failed.
fn report_plugins(out: &accept::PluginOutput, failures: &[String], ctx: &mut Ctx<'_>) -> bool {
    for f in failures {
        ctx.report(&CliError::Run(f.clone()));
    }
    for note in &out.notes {
        ctx.notice("note", note.clone());
    }
    for e in &out.errors {
        ctx.report(&CliError::Run(e.clone()));
    }
    !failures.is_empty() || !out.errors.is_empty()
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
        summary: Some("the quote was not accepted; nothing was written".into()),
    }
}
