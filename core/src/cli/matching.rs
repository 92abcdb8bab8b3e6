//! `tenor match`: the three-way match of the files named on the command line.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::engine::quote::QuoteFile;
use crate::matching::{MatchReport, Matcher, parse_invoices, parse_orders};
use crate::reconcile::recorded::{RebuildError, Sold, price_and_accept, pulled_inputs, rebuild};
use std::io::Write;
use std::path::{Path, PathBuf};
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

// ---------------------------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------------------------

/// The arguments of `tenor match`.
#[derive(Clone, Debug, Default)]
pub struct MatchArgs {
    /// The quote file (YAML or JSON).
    pub quote: PathBuf,
    /// Orders read back: Tenor purchase orders, order-line files, or vendors' documents.
    pub orders: Vec<PathBuf>,
    /// Invoices: Tenor invoice schedules, invoice-line files, or vendors' documents.
    pub invoices: Vec<PathBuf>,
    /// The plugin that reads vendors' documents (else each plugin is asked whether it can).
    pub as_plugin: Option<String>,
    /// The rule set (directories or files); `rules` when empty.
    pub rules: Vec<PathBuf>,
    /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary).
    pub plugins: Option<PathBuf>,
    /// Write `tenor.match/1` JSON instead of the table.
    pub json: bool,
}

/// Reads vendors' documents through plugins, loading them only when one is needed.
struct Readers {
    dir: Option<PathBuf>,
    as_plugin: Option<String>,
    host: Option<crate::host::Host>,
}

impl Readers {
    /// The plugin host, loaded the first time it is needed.
    fn host(&mut self, ctx: &mut Ctx<'_>) -> Result<&crate::host::Host, String> {
        if self.host.is_none() {
            let dir = self.dir.clone().ok_or_else(|| {
                "cannot tell where the plugins are; pass --plugins DIR".to_string()
            })?;
            let host = crate::host::Host::load_dir(&dir);
            for f in &host.failures {
                ctx.notice(
                    "warning",
                    format!("plugin {}: {}", f.path.display(), f.message),
                );
            }
            self.host = Some(host);
        }
        self.host
            .as_ref()
            .ok_or_else(|| "no plugins loaded".to_string())
    }

    /// A vendor document's lines, read by the plugin named with `--as` or the one that
    /// recognises it.
    fn read<T: serde::de::DeserializeOwned>(
        &mut self,
        name: &str,
        text: String,
        op: &str,
        ctx: &mut Ctx<'_>,
    ) -> Result<Vec<T>, String> {
        use tenor_plugin_sdk::{Capability, TextInput, ops};
        let wanted = self.as_plugin.clone();
        let host = self.host(ctx)?;
        let input = TextInput { text };
        let plugin = match &wanted {
            Some(n) => host.get(n).ok_or_else(|| {
                let names: Vec<&str> = host.plugins().iter().map(|p| p.info.name.as_str()).collect();
                format!(
                    "no plugin named `{n}` is loaded (loaded: {})",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                )
            })?,
            None => host
                .plugins()
                .iter()
                .filter(|p| p.can(Capability::Detect))
                .find(|p| p.call::<_, bool>(ops::DETECT, &input).unwrap_or(false))
                .ok_or_else(|| {
                    format!(
                        "{name} is not a Tenor document and no loaded plugin recognises it; name its reader with --as NAME"
                    )
                })?,
        };
        plugin
            .call::<_, Vec<T>>(op, &input)
            .map_err(|e| format!("{name}: {e}"))
    }
}

/// `tenor match` with human errors: prints the findings as a table or `tenor.match/1` JSON.
/// Exit 0 when what was sold, bought and billed agree, 1 when there are findings; `Err` when
/// the match could not run (the command line turns it into exit 2).
pub fn match_cmd(args: MatchArgs, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let mut err = NoColor::new(err);
    let mut ctx = Ctx::new(out, &mut err, crate::cli::args::ErrorFormat::Human, false);
    crate::cli::reported(run_match(args, &mut ctx), &mut ctx)
}

/// `tenor match`: the findings, and exit 1 when there are any.
pub fn run_match(args: MatchArgs, ctx: &mut Ctx<'_>) -> CliResult {
    if args.orders.is_empty() && args.invoices.is_empty() {
        return Err(CliError::Run(
            "nothing to match the quote against: give at least one --order or --invoice file"
                .into(),
        ));
    }
    let sold = sold(&args, ctx)?;
    let mut readers = Readers {
        dir: crate::host::plugin_dir(args.plugins.as_deref()),
        as_plugin: args.as_plugin.clone(),
        host: None,
    };
    let orders = read_orders(&args, &mut readers, ctx)?;
    let invoices = read_invoices(&args, &sold, &mut readers, ctx)?;
    if !args.orders.is_empty() && orders.is_empty() {
        ctx.notice(
            "warning",
            "the order files hold no lines: every purchase-order line is reported missing".into(),
        );
    }
    let report = Matcher::new(&sold.cat).run_sides(
        &sold.file.quote,
        &sold.priced,
        &sold.accepted.purchase_orders,
        (!args.orders.is_empty()).then_some(orders.as_slice()),
        (!args.invoices.is_empty()).then_some(invoices.as_slice()),
    );
    write_report(&report, args.json, ctx)
}

/// Writes a report as a table or `tenor.match/1` JSON: exit 0 when clean, 1 with findings.
fn write_report(report: &MatchReport, json: bool, ctx: &mut Ctx<'_>) -> CliResult {
    if json {
        let mut text = serde_json::to_string_pretty(&report.to_json())?;
        text.push('\n');
        ctx.out.write_all(text.as_bytes())?;
    } else {
        ctx.out
            .write_all(crate::cli::render::matching::table(report).as_bytes())?;
    }
    Ok(verdict(report))
}

/// A match's exit: 0 when sold, bought and billed agree, 1 with findings.
pub fn verdict(report: &MatchReport) -> Exit {
    if report.is_clean() {
        Exit::Success
    } else {
        Exit::Failure
    }
}

/// Loads the rules and the quote, prices and accepts it; any problem stops the match (exit 2).
fn sold(args: &MatchArgs, ctx: &mut Ctx<'_>) -> Result<Sold, CliError> {
    let rules = match load::rules(&args.rules) {
        Ok(r) => r,
        // The match cannot run on rules that do not check: reported, then exit 2.
        Err(e @ CliError::Rules { .. }) => {
            let summary = e.to_string();
            match &e {
                CliError::Rules { sources, diags, .. } if !ctx.json_errors() => {
                    let plain = tenor_dsl::diagnostic::render_plain(sources, diags);
                    let _ = ctx.err().write_all(plain.as_bytes());
                }
                _ => ctx.report(&e),
            }
            return Err(CliError::Run(summary));
        }
        Err(e) => return Err(e),
    };
    let qname = args.quote.display().to_string();
    let qtext = std::fs::read_to_string(&args.quote)
        .map_err(|e| format!("cannot read the quote {qname}: {e}"))?;
    let file = QuoteFile::parse(&qname, &qtext).map_err(|e| e.to_string())?;
    let fp = crate::documents::accept::fingerprint(&file.quote, &rules.texts);
    Ok(price_and_accept(rules.catalogue, file, &fp)?)
}

/// Every order line of the `--order` files.
fn read_orders(
    args: &MatchArgs,
    readers: &mut Readers,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<OrderLine>, CliError> {
    let mut orders = Vec::new();
    for p in &args.orders {
        let name = p.display().to_string();
        let text =
            std::fs::read_to_string(p).map_err(|e| format!("cannot read the order {name}: {e}"))?;
        match parse_orders(&name, &text)? {
            Some(lines) => orders.extend(lines),
            None => orders.extend(readers.read::<OrderLine>(
                &name,
                text,
                tenor_plugin_sdk::ops::PARSE_ORDER,
                ctx,
            )?),
        }
    }
    Ok(orders)
}

/// Every invoice line of the `--invoice` files.
fn read_invoices(
    args: &MatchArgs,
    sold: &Sold,
    readers: &mut Readers,
    ctx: &mut Ctx<'_>,
) -> Result<Vec<InvoiceLine>, CliError> {
    let mut invoices = Vec::new();
    for p in &args.invoices {
        let name = p.display().to_string();
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read the invoice {name}: {e}"))?;
        match parse_invoices(&name, &text, &sold.file.quote)? {
            Some(lines) => invoices.extend(lines),
            None => invoices.extend(readers.read::<InvoiceLine>(
                &name,
                text,
                tenor_plugin_sdk::ops::PARSE_INVOICE,
                ctx,
            )?),
        }
    }
    Ok(invoices)
}

// ---------------------------------------------------------------------------------------------
// `tenor match QUOTE --pulled`
// ---------------------------------------------------------------------------------------------

/// The arguments of `tenor match QUOTE --pulled`.
#[derive(Clone, Debug, Default)]
pub struct PulledArgs {
    /// The quote id, as accepted in the record.
    pub quote: String,
    /// Only the invoices of this month (`YYYY-MM`); subscriptions as last pulled.
    pub month: Option<String>,
    /// Write `tenor.match/1` JSON instead of the table.
    pub json: bool,
}

/// `tenor match QUOTE --pulled`: the quote's latest revision, rebuilt from the rule files and
/// quote it was accepted with, matched against what `tenor pull` stored for its customer.
/// Exit 0 when clean, 1 with findings; `Err` (exit 2) when there is no record, the quote was
/// not accepted or nothing was pulled.
pub fn run_pulled(args: &PulledArgs, db_flag: Option<&Path>, ctx: &mut Ctx<'_>) -> CliResult {
    if let Some(m) = &args.month
        && chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_err()
    {
        return Err(CliError::Run(format!("--month `{m}` is not YYYY-MM")));
    }
    let path = db::path(db_flag, &[]);
    if !path.exists() {
        return Err(CliError::Run(format!(
            "no record at {}: accept the quote (`tenor accept`), push it and run `tenor pull` first",
            path.display()
        )));
    }
    let record = db::open(db_flag, &[])?;
    let rev = record.revision(&args.quote, None).map_err(|e| match e {
        crate::record::RecordError::NoQuote(q) => CliError::Run(format!(
            "quote `{q}` is not accepted in the record {}: accept it first (`tenor accept`)",
            path.display()
        )),
        other => db::error(other),
    })?;
    let sold = rebuild(&record, &rev).map_err(rebuild_error)?;
    let matcher = Matcher::new(&sold.cat);
    let sides = pulled_sides(&record, &rev, &sold, &matcher, args.month.as_deref())?;
    let mut report = matcher.run_pulled(
        &sold.file.quote,
        &sold.priced,
        &sold.accepted.purchase_orders,
        Some(&sold.accepted.template),
        &sides,
    );
    let changes = record
        .changes(&args.quote, rev.revision)
        .map_err(db::error)?;
    if !changes.is_empty() {
        let ids: Vec<&str> = changes.iter().map(|c| c.change_order.as_str()).collect();
        report.notes.push(format!(
            "revision {} has {} recorded change {} ({}): the match compares the revision as accepted, since the matcher prices quotes, not seat changes; the changed lines may show as quantity findings",
            rev.revision,
            ids.len(),
            if ids.len() == 1 { "order" } else { "orders" },
            ids.join(", ")
        ));
    }
    write_report(&report, args.json, ctx)
}

/// What `tenor pull` stored for the quote's customer, sorted into the quote's sides; nothing
/// pulled (or nothing of this quote's) is an error naming `tenor pull`.
fn pulled_sides(
    record: &crate::record::Record,
    rev: &crate::record::RevisionInfo,
    sold: &Sold,
    matcher: &Matcher<'_>,
    month: Option<&str>,
) -> Result<crate::matching::PulledSides, CliError> {
    let customer = &sold.file.quote.customer.id;
    let rows = record.pulled(customer, month).map_err(db::error)?;
    let done = record.pulls_done(customer, month).map_err(db::error)?;
    let month_words = month.map(|m| format!(" for {m}")).unwrap_or_default();
    if rows.is_empty() && done.is_empty() {
        return Err(CliError::Run(format!(
            "nothing pulled for {customer}{month_words}: run `tenor pull{}` first",
            month.map(|m| format!(" --month {m}")).unwrap_or_default()
        )));
    }
    let inputs = pulled_inputs(rows).map_err(CliError::Run)?;
    let refs = record
        .pushed_refs(&rev.quote, rev.revision)
        .map_err(db::error)?;
    let accepted = crate::matching::Accepted {
        quote: &sold.file.quote,
        purchase_orders: &sold.accepted.purchase_orders,
        template: Some(&sold.accepted.template),
        refs: &refs,
    };
    let sides = crate::matching::sides(matcher, &accepted, &inputs, &done);
    if sides.is_empty() {
        return Err(CliError::Run(format!(
            "nothing pulled for {customer}{month_words} is {}'s: {}",
            rev.quote,
            sides.notes.join("; ")
        )));
    }
    Ok(sides)
}

/// A rebuild's error as the command line reports it.
pub fn rebuild_error(e: RebuildError) -> CliError {
    match e {
        RebuildError::Record(e) => db::error(e),
        RebuildError::Review(e) => load::review_error(e),
        RebuildError::Other(m) => CliError::Run(m),
    }
}
