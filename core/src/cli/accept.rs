//! `tenor accept`: a quote's documents and vendors' own formats (through plugins), written
//! as one export with its manifest.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::errors::Problem;
use crate::documents::accept::{self, Accepted, WriteError};
use crate::engine::money::money;
use crate::engine::quote::QuoteFile;
use crate::files::export::ExportError;
use std::path::{Path, PathBuf};

/// The arguments of `tenor accept`.
pub struct AcceptArgs<'a> {
    /// The quote file.
    pub quote: &'a Path,
    /// Where to write the documents.
    pub dir: &'a Path,
    /// The rule set.
    pub rules: &'a [PathBuf],
    /// Replace documents made from a different quote or rules.
    pub force: bool,
    /// Where the plugins are; `None` loads none.
    pub plugins: Option<&'a Path>,
}

/// `tenor accept`: exit 0 when every document was written, 1 when the quote is refused or a
/// plugin failed.
pub fn accept_cmd(args: &AcceptArgs<'_>, ctx: &mut Ctx<'_>) -> CliResult {
    let rules = load::rules(args.rules)?;
    let file = load::quote(args.quote)?;
    let priced = load::price(&rules.catalogue, &file, false, ctx)?;
    let fp = accept::fingerprint(&file.quote, &rules.texts);
    let accepted = accept::accept(&rules.catalogue, &file.quote, &priced, &fp)
        .map_err(|errors| refused(&file, &errors))?;
    accept::check_writable(args.dir, &accepted, args.force)
        .map_err(|e| write_refused(e, &file, args.dir))?;
    let (mut plugins, failures) = match args.plugins {
        Some(pd) => {
            let matcher = crate::matching::Matcher::new(&rules.catalogue);
            let check = crate::matching::ReadBack {
                matcher: &matcher,
                quote: &file.quote,
                priced: &priced,
            };
            with_plugins(pd, &accepted, &check)
        }
        None => Default::default(),
    };
    let plugin_files = std::mem::take(&mut plugins.files);
    let report = accept::write(args.dir, &accepted, plugin_files, args.force)
        .map_err(|e| write_refused(e, &file, args.dir))?;
    for p in &report.written {
        ctx.status(format_args!("wrote {}", p.display()));
    }
    for p in &report.removed {
        ctx.status(format_args!("removed {}", p.display()));
    }
    let plugin_failed = report_plugins(&plugins, &failures, ctx);
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

/// Vendors' own formats, through the plugins, in memory, each purchase order's rendering
/// checked by reading it back: what they made, and the plugins that failed to load.
fn with_plugins(
    dir: &Path,
    accepted: &Accepted,
    check: &dyn accept::OrderCheck,
) -> (accept::PluginOutput, Vec<String>) {
    let host = crate::host::Host::load_dir(dir);
    let failures = host
        .failures
        .iter()
        .map(|f| format!("plugin {}: {}", f.path.display(), f.message))
        .collect();
    (
        accept::render_with_plugins(&host, accepted, check),
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

/// Why the documents could not be written.
fn write_refused(e: WriteError, file: &QuoteFile, dir: &Path) -> CliError {
    let (message, help) = match e {
        WriteError::Exists(path) => (
            format!(
                "{} already holds documents for quote `{}` made from a different quote or rules",
                path.display(),
                file.quote.quote
            ),
            "accept it into another directory, or pass --force to replace them",
        ),
        WriteError::Changed(paths) => {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            (
                format!(
                    "quote `{}` has seat changes applied in {} ({}); accepting it again would undo them",
                    file.quote.quote,
                    dir.display(),
                    names.join(", ")
                ),
                "pass --force to start over from the quote",
            )
        }
        WriteError::Export(e) => return export_refused(e),
        WriteError::Io(e) => return CliError::Run(e),
    };
    CliError::Refused {
        problems: vec![Problem::new("accept", message).with_help(Some(help.to_string()))],
        summary: None,
    }
}

/// The export's refusal: the directory or the files are not safe to write (exit 1), or a file
/// could not be written (exit 2).
fn export_refused(e: ExportError) -> CliError {
    let help = match &e {
        ExportError::Io(m) => return CliError::Run(m.clone()),
        ExportError::OtherQuote { .. } => "accept each quote into its own directory",
        ExportError::Exists(_) => {
            "accept it into another directory, or pass --force to replace the file"
        }
        ExportError::NotADirectory(_) => "remove it, or accept into another directory",
        ExportError::Path(_) => "a name in the rules is too long to name a file: shorten it",
        ExportError::Collision { .. } | ExportError::Reserved { .. } => {
            "this is a fault in a plugin or in Tenor: please report it"
        }
        ExportError::BadManifest { .. } => {
            "remove the file if it is not Tenor's, or accept into another directory"
        }
    };
    CliError::Refused {
        problems: vec![Problem::new("accept", e.to_string()).with_help(Some(help.to_string()))],
        summary: None,
    }
}
