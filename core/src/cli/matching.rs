//! `tenor match`: the three-way match of the files named on the command line.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::documents::accept::Accepted;
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions, PricedQuote};
use crate::engine::quote::QuoteFile;
use crate::matching::{Matcher, parse_invoices, parse_orders};
use std::io::Write;
use std::path::PathBuf;
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

/// What was sold: the quote, priced and accepted as `tenor accept` would.
struct Sold {
    /// The rules.
    cat: Catalogue,
    /// The quote file.
    file: QuoteFile,
    /// The quote priced.
    priced: PricedQuote,
    /// Its documents.
    accepted: Accepted,
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
    if args.json {
        let mut text = serde_json::to_string_pretty(&report.to_json())?;
        text.push('\n');
        ctx.out.write_all(text.as_bytes())?;
    } else {
        ctx.out
            .write_all(crate::cli::render::matching::table(&report).as_bytes())?;
    }
    Ok(if report.is_clean() {
        Exit::Success
    } else {
        Exit::Failure
    })
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
    let cat = rules.catalogue;
    let qname = args.quote.display().to_string();
    let qtext = std::fs::read_to_string(&args.quote)
        .map_err(|e| format!("cannot read the quote {qname}: {e}"))?;
    let file = QuoteFile::parse(&qname, &qtext).map_err(|e| e.to_string())?;
    let quote = &file.quote;
    let priced = pricing::price(&cat, quote, &PriceOptions::default()).map_err(|errors| {
        let lines: Vec<String> = errors
            .into_iter()
            .map(|e| file.error(&e.field, e.message, e.help).to_string())
            .collect();
        format!("the quote cannot be priced:\n{}", lines.join("\n"))
    })?;
    let fp = crate::documents::accept::fingerprint(quote, &rules.texts);
    let accepted =
        crate::documents::accept::accept(&cat, quote, &priced, &fp).map_err(|errors| {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| match e.line {
                    Some(l) => format!("line {l}: {}", e.message),
                    None => e.message.clone(),
                })
                .collect();
            format!("the quote cannot be accepted:\n{}", lines.join("\n"))
        })?;
    Ok(Sold {
        cat,
        file,
        priced,
        accepted,
    })
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
