//! `tenor match`: the three-way match of the files named on the command line.

use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions};
use crate::matching::{Matcher, parse_invoices, parse_orders};
use std::path::PathBuf;
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
    fn host(&mut self, err: &mut dyn std::io::Write) -> Result<&crate::host::Host, String> {
        if self.host.is_none() {
            let dir = self.dir.clone().ok_or_else(|| {
                "cannot tell where the plugins are; pass --plugins DIR".to_string()
            })?;
            let host = crate::host::Host::load_dir(&dir);
            for f in &host.failures {
                let _ = writeln!(err, "warning: plugin {}: {}", f.path.display(), f.message);
            }
            self.host = Some(host);
        }
        self.host
            .as_ref()
            .ok_or_else(|| "no plugins loaded".to_string())
    }

    fn read<T: serde::de::DeserializeOwned>(
        &mut self,
        name: &str,
        text: String,
        op: &str,
        err: &mut dyn std::io::Write,
    ) -> Result<Vec<T>, String> {
        use tenor_plugin_sdk::{Capability, TextInput, ops};
        let wanted = self.as_plugin.clone();
        let host = self.host(err)?;
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

/// `tenor match`: prints the findings as a table or `tenor.match/1` JSON. Exit 0 when what
/// was sold, bought and billed agree, 1 when there are findings; `Err` when the match could
/// not run (the command line turns it into exit 2).
pub fn match_cmd(
    args: MatchArgs,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<crate::cli::Exit, String> {
    use crate::cli::Exit;
    if args.orders.is_empty() && args.invoices.is_empty() {
        return Err(
            "nothing to match the quote against: give at least one --order or --invoice file"
                .into(),
        );
    }
    let io = |e: std::io::Error| e.to_string();
    let rule_paths = if args.rules.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        args.rules.clone()
    };
    let sources = tenor_dsl::load(&rule_paths).map_err(|e| e.to_string())?;
    if sources.is_empty() {
        let shown: Vec<String> = rule_paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no .tenor files found in {}", shown.join(", ")));
    }
    let rules = match tenor_dsl::check(&sources) {
        Ok(r) => r,
        Err(diags) => {
            err.write_all(tenor_dsl::diagnostic::render_plain(&sources, &diags).as_bytes())
                .map_err(io)?;
            return Err(format!(
                "the rules have {} problem(s); run `tenor check` for details",
                diags.len()
            ));
        }
    };
    let cat = Catalogue::compile(&rules, &sources);
    let texts: Vec<(String, String)> = sources
        .ids()
        .map(|id| (sources.name(id).to_string(), sources.text(id).to_string()))
        .collect();

    let qname = args.quote.display().to_string();
    let qtext = std::fs::read_to_string(&args.quote)
        .map_err(|e| format!("cannot read the quote {qname}: {e}"))?;
    let file = crate::engine::quote::QuoteFile::parse(&qname, &qtext).map_err(|e| e.to_string())?;
    let quote = &file.quote;
    let priced = pricing::price(&cat, quote, &PriceOptions::default()).map_err(|errors| {
        let lines: Vec<String> = errors
            .into_iter()
            .map(|e| file.error(&e.field, e.message, e.help).to_string())
            .collect();
        format!("the quote cannot be priced:\n{}", lines.join("\n"))
    })?;
    let fp = crate::documents::accept::fingerprint(quote, &texts);
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

    let mut readers = Readers {
        dir: crate::host::plugin_dir(args.plugins.as_deref()),
        as_plugin: args.as_plugin.clone(),
        host: None,
    };
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
                err,
            )?),
        }
    }
    let mut invoices = Vec::new();
    for p in &args.invoices {
        let name = p.display().to_string();
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read the invoice {name}: {e}"))?;
        match parse_invoices(&name, &text, quote)? {
            Some(lines) => invoices.extend(lines),
            None => invoices.extend(readers.read::<InvoiceLine>(
                &name,
                text,
                tenor_plugin_sdk::ops::PARSE_INVOICE,
                err,
            )?),
        }
    }
    if !args.orders.is_empty() && orders.is_empty() {
        let _ = writeln!(
            err,
            "warning: the order files hold no lines: every purchase-order line is reported missing"
        );
    }
    let report = Matcher::new(&cat).run_sides(
        quote,
        &priced,
        &accepted.purchase_orders,
        (!args.orders.is_empty()).then_some(orders.as_slice()),
        (!args.invoices.is_empty()).then_some(invoices.as_slice()),
    );
    if args.json {
        let mut text =
            serde_json::to_string_pretty(&report.to_json()).map_err(|e| e.to_string())?;
        text.push('\n');
        out.write_all(text.as_bytes()).map_err(io)?;
    } else {
        out.write_all(crate::cli::render::matching::table(&report).as_bytes())
            .map_err(io)?;
    }
    Ok(if report.is_clean() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
