//! `tenor accept`: a quote's documents written, then vendors' own formats through plugins.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::errors::Problem;
use crate::documents::accept::{self, Accepted, WriteError};
use crate::engine::money::money;
use crate::engine::quote::QuoteFile;
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
    let paths = accept::write(args.dir, &accepted, args.force)
        .map_err(|e| write_refused(e, &file, args.dir))?;
    for p in &paths {
        ctx.status(format_args!("wrote {}", p.display()));
    }
    let plugin_failed = match args.plugins {
        Some(pd) => {
            let matcher = crate::matching::Matcher::new(&rules.catalogue);
            let check = crate::matching::ReadBack {
                matcher: &matcher,
                quote: &file.quote,
                priced: &priced,
            };
            with_plugins(pd, &accepted, args.dir, &check, ctx)
        }
        None => false,
    };
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
        WriteError::Io(e) => return CliError::Run(e),
    };
    CliError::Refused {
        problems: vec![Problem::new("accept", message).with_help(Some(help.to_string()))],
        summary: None,
    }
}
