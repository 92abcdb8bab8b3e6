//! `tenor accept`: a quote's documents and vendors' own formats (through plugins) recorded as
//! one revision in the record, then, with `--out`, exported with their manifest.

use crate::accepting::{self, Acceptance, AcceptingError, Recorded};
use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::errors::Problem;
use crate::cli::{db, export};
use crate::documents::accept;
use crate::engine::money::money;
use crate::engine::quote::QuoteFile;
use crate::record::{Accepted as RecordAccepted, git};
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
    let priced = load::summarize(&rules.catalogue, &file, ctx)?;
    let mut record = db::open(args.db, args.rules)?;
    let outcome = accepting::accept(
        &mut record,
        &Acceptance {
            catalogue: &rules.catalogue,
            rules: &rules.texts,
            rules_git: rules_dir(args.rules).and_then(|d| git::rules_revision(&d)),
            file: &file,
            priced: accepting::Priced::Summary(&priced),
            revise: args.revise,
            plugins: args.plugins,
            decision: None,
        },
    )
    .map_err(|e| match e {
        AcceptingError::Refused(errors) => refused(&file, &errors),
        AcceptingError::Write(m) => CliError::Run(m),
        AcceptingError::Record(e) => db::error(e),
    })?;
    let quote = &file.quote.quote;
    let Recorded::Revision(done) = &outcome.recorded else {
        return Err(CliError::Run(format!(
            "{quote}: the record answered with a link's decision to a plain acceptance"
        )));
    };
    recorded(done, quote, ctx);
    ctx.quote_warnings(&file, &outcome.accepted.warnings);
    let plugin_failed = report_plugins(&outcome.plugins, &outcome.failures, ctx);
    if let Some(out) = args.out {
        export::export(&mut record, quote, done.revision, out, args.force, ctx)?;
    }
    let t = &outcome.accepted.sales_order.totals;
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
