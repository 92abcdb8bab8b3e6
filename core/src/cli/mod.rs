//! The `tenor` command line: argument parsing and the subcommands.
//!
//! Exit codes (also in README.md):
//! - 0: success (`check`: no problems; `fmt --check`: nothing would change)
//! - 1: the input has problems (`check`: diagnostics; `fmt --check`: files would change)
//! - 2: the command could not run (bad arguments, unreadable files, internal error)

pub mod change;
pub mod matching;
pub mod progress;
pub mod rate;
pub mod render;

use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, PriceOptions};
use crate::engine::quote::{QuoteError, QuoteFile};
use clap::{Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use tenor_dsl::diagnostic::termcolor::{ColorChoice, StandardStream, WriteColor};
use tenor_dsl::{SourceSet, diagnostic};

/// Process exit codes of `tenor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything is in order.
    Success = 0,
    /// The input has problems, reported on standard error.
    Failure = 1,
    /// The command could not run.
    Error = 2,
}

/// A standard-error stream coloured only when it is a terminal.
pub fn stderr() -> StandardStream {
    let choice = if std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    StandardStream::stderr(choice)
}

#[derive(Parser)]
#[command(
    name = "tenor",
    version,
    about = "Quote-to-cash rules engine for managed service providers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check rule files and report every problem with its file:line:col
    Check {
        /// Rule files or directories (every `.tenor` file below them)
        #[arg(default_value = "rules")]
        paths: Vec<PathBuf>,
        /// How to report problems
        #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
        error_format: ErrorFormat,
    },
    /// Price a quote: every charge of the commitment, and the totals
    Price {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
        /// Show, for every charge, the rules that made it
        #[arg(long)]
        explain: bool,
    },
    /// Explain every charge of a quote: offer, tiers, proration, discounts, with rule locations
    Explain {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// Only this quote line (1-based)
        #[arg(long)]
        line: Option<usize>,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
    },
    /// Accept a quote: write the sales order, purchase orders, invoice schedule, recurring
    /// template and summary as JSON
    Accept {
        /// The quote file (YAML or JSON)
        quote: PathBuf,
        /// Where to write the documents
        #[arg(long)]
        out: PathBuf,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Replace documents made from a different quote or rules with the same quote id
        #[arg(long)]
        force: bool,
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Write only Tenor's own documents, loading no plugins
        #[arg(long, conflicts_with = "plugins")]
        no_plugins: bool,
    },
    /// Change the quantity of an accepted subscription line from a date: write a change order
    /// and amend the invoice schedule and the sales order
    Change {
        /// The sales order (`SO-<quote>.json`); its schedule is read from beside it
        #[arg(long)]
        order: PathBuf,
        /// The sales order line (1-based)
        #[arg(long)]
        line: u32,
        /// The new quantity
        #[arg(long)]
        quantity: rust_decimal::Decimal,
        /// When the change takes effect (YYYY-MM-DD)
        #[arg(long)]
        date: chrono::NaiveDate,
        /// Where to write the change order and the amended documents
        #[arg(long)]
        out: PathBuf,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
    },
    /// Rate a month of usage records (CSV) through the metered products' tiers
    Rate {
        /// The usage file: CSV with the header customer,product,metric,quantity,timestamp
        usage: PathBuf,
        /// The month to rate, YYYY-MM
        #[arg(long)]
        period: String,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = RateFormat::Table)]
        format: RateFormat,
        /// Report bad rows on standard error and rate the rest
        #[arg(long)]
        skip_bad: bool,
    },
    /// Prove that what was sold, bought and billed agree, and price every disagreement
    Match {
        /// The quote (what was sold)
        #[arg(long)]
        quote: PathBuf,
        /// Purchase orders (Tenor's or a distributor's own, read through its plugin)
        #[arg(long = "order")]
        orders: Vec<PathBuf>,
        /// Invoices (Tenor's schedule, a distributor's or the PSA's, through its plugin)
        #[arg(long = "invoice")]
        invoices: Vec<PathBuf>,
        /// Read vendor documents with this plugin instead of detecting it
        #[arg(long = "as")]
        as_plugin: Option<String>,
        /// The rule set (a directory or files)
        #[arg(long, default_value = "rules")]
        rules: Vec<PathBuf>,
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = RateFormat::Table)]
        format: RateFormat,
    },
    /// List or pin the plugins Tenor loads
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Rewrite rule files in the canonical layout, keeping comments
    Fmt {
        /// Write nothing; exit 1 naming the files that would change
        #[arg(long)]
        check: bool,
        /// Rule files or directories (every `.tenor` file below them)
        #[arg(default_value = "rules")]
        paths: Vec<PathBuf>,
    },
}

#[derive(Subcommand)]
enum PluginsCommand {
    /// Show each plugin's name, version, kind, capabilities and file
    List {
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
    /// Pin every plugin file by its SHA-256 in `plugins.lock`; changed or unknown files are
    /// then refused
    Lock {
        /// Plugin directory (default: `TENOR_PLUGIN_PATH`, else next to the tenor binary)
        #[arg(long)]
        plugins: Option<PathBuf>,
    },
}

/// Formats of `rate` and `match` reports.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RateFormat {
    /// A readable table
    Table,
    /// JSON (`tenor.usage-rating/1`, `tenor.match/1`)
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    /// A readable table
    Table,
    /// JSON (`tenor.priced-quote/1`), amounts as decimal strings
    Json,
    /// The same document as YAML
    Yaml,
}

#[derive(Clone, Copy, ValueEnum)]
enum ErrorFormat {
    /// Source line and caret, for people
    Human,
    /// One JSON document, for editors and CI
    Json,
}

/// Runs `tenor` with the given arguments (the first is the program name).
pub fn run(args: Vec<OsString>, out: &mut dyn Write, err: &mut dyn WriteColor) -> Exit {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                Exit::Error
            } else {
                Exit::Success
            };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return code;
        }
    };
    let result = match cli.command {
        Command::Check {
            paths,
            error_format,
        } => check(&paths, error_format, out, err),
        Command::Fmt { check, paths } => fmt(&paths, check, out, err),
        Command::Price {
            quote,
            rules,
            format,
            explain,
        } => price_cmd(
            &quote,
            &rules,
            if explain { None } else { Some(format) },
            None,
            out,
            err,
        ),
        Command::Explain { quote, line, rules } => {
            price_cmd(&quote, &rules, None, Some(line), out, err)
        }
        Command::Accept {
            quote,
            out: dir,
            rules,
            force,
            plugins,
            no_plugins,
        } => {
            let plugins = if no_plugins {
                None
            } else {
                crate::host::plugin_dir(plugins.as_deref())
            };
            accept_cmd(&quote, &dir, &rules, force, plugins.as_deref(), out, err)
        }
        Command::Plugins { command } => plugins_cmd(command, out, err),
        Command::Match {
            quote,
            orders,
            invoices,
            as_plugin,
            rules,
            plugins,
            format,
        } => {
            let mut err_w: &mut dyn WriteColor = err;
            matching::match_cmd(
                matching::MatchArgs {
                    quote,
                    orders,
                    invoices,
                    as_plugin,
                    rules,
                    plugins,
                    json: format == RateFormat::Json,
                },
                out,
                &mut err_w,
            )
        }
        Command::Rate {
            usage,
            period,
            rules,
            format,
            skip_bad,
        } => {
            let mut err_w: &mut dyn WriteColor = err;
            rate::rate_cmd(
                rate::RateArgs {
                    usage,
                    period,
                    rules,
                    json: format == RateFormat::Json,
                    skip_bad,
                },
                out,
                &mut err_w,
            )
        }
        Command::Change {
            order,
            line,
            quantity,
            date,
            out: dir,
            rules,
        } => {
            let mut err_w: &mut dyn WriteColor = err;
            change::change_cmd(
                change::ChangeArgs {
                    order,
                    line,
                    quantity,
                    date,
                    out: dir,
                    rules,
                },
                out,
                &mut err_w,
            )
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            Exit::Error
        }
    }
}

fn load(paths: &[PathBuf]) -> Result<SourceSet, String> {
    let sources = tenor_dsl::load(paths).map_err(|e| e.to_string())?;
    if sources.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no .tenor files found in {}", shown.join(", ")));
    }
    Ok(sources)
}

fn check(
    paths: &[PathBuf],
    format: ErrorFormat,
    out: &mut dyn Write,
    err: &mut dyn WriteColor,
) -> Result<Exit, String> {
    let sources = load(paths)?;
    let io = |e: std::io::Error| e.to_string();
    match tenor_dsl::check(&sources) {
        Ok(rules) => {
            let s = tenor_dsl::summary(&rules);
            match format {
                ErrorFormat::Human => writeln!(
                    out,
                    "ok: {}, {}, {}, {}, {}",
                    count(sources.len(), "file"),
                    count(s.products, "product"),
                    count(s.bundles, "bundle"),
                    count(s.offers, "offer"),
                    count(s.rules(), "rule")
                )
                .map_err(io)?,
                ErrorFormat::Json => {
                    let doc = serde_json::json!({
                        "schema": "tenor.check/1",
                        "ok": true,
                        "files": sources.len(),
                        "summary": s,
                        "diagnostics": [],
                    });
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
                    )
                    .map_err(io)?;
                }
            }
            Ok(Exit::Success)
        }
        Err(diags) => {
            match format {
                ErrorFormat::Human => {
                    diagnostic::render_human(&sources, &diags, err).map_err(io)?;
                    let files: std::collections::BTreeSet<_> =
                        diags.iter().map(|d| d.span.file).collect();
                    writeln!(
                        err,
                        "error: {} problem{} in {} file{}",
                        diags.len(),
                        if diags.len() == 1 { "" } else { "s" },
                        files.len(),
                        if files.len() == 1 { "" } else { "s" }
                    )
                    .map_err(io)?;
                }
                ErrorFormat::Json => {
                    let doc = serde_json::json!({
                        "schema": "tenor.check/1",
                        "ok": false,
                        "files": sources.len(),
                        "diagnostics": diagnostic::to_json(&sources, &diags),
                    });
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?
                    )
                    .map_err(io)?;
                }
            }
            Ok(Exit::Failure)
        }
    }
}

fn fmt(
    paths: &[PathBuf],
    check_only: bool,
    out: &mut dyn Write,
    err: &mut dyn WriteColor,
) -> Result<Exit, String> {
    let io = |e: std::io::Error| e.to_string();
    let files = tenor_dsl::collect_rule_files(paths).map_err(io)?;
    let mut changed = Vec::new();
    // A file that does not parse is a problem in the input (1); a formatter that would change
    // the meaning is the tool's own failure (2).
    let mut unparsable = false;
    let mut failed = false;
    for path in &files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let name = path.display().to_string();
        match tenor_dsl::format::format_source(&name, &text) {
            Ok(formatted) => {
                if formatted != text {
                    changed.push(name.clone());
                    if !check_only {
                        crate::files::atomic::write(path, formatted.as_bytes())
                            .map_err(|e| format!("cannot write {name}: {e}"))?;
                    }
                }
            }
            Err(tenor_dsl::format::FormatError::Syntax(sources, diags)) => {
                unparsable = true;
                diagnostic::render_human(&sources, &diags, err).map_err(io)?;
                writeln!(
                    err,
                    "error: {name} was not formatted because it does not parse"
                )
                .map_err(io)?;
            }
            Err(tenor_dsl::format::FormatError::Changed(why)) => {
                failed = true;
                writeln!(
                    err,
                    "error: refusing to format {name}: the formatted text would mean something else ({why})"
                )
                .map_err(io)?;
            }
        }
    }
    if check_only {
        for name in &changed {
            writeln!(out, "would reformat {name}").map_err(io)?;
        }
    } else {
        for name in &changed {
            writeln!(out, "formatted {name}").map_err(io)?;
        }
    }
    if failed {
        return Ok(Exit::Error);
    }
    if unparsable {
        return Ok(Exit::Failure);
    }
    if check_only && !changed.is_empty() {
        writeln!(
            err,
            "{} of {} files would change; run `tenor fmt` to fix",
            changed.len(),
            files.len()
        )
        .map_err(io)?;
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}

/// `1 file`, `2 files`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Loads and checks a rule set and compiles it; diagnostics are written to `err`.
fn load_catalogue(
    paths: &[PathBuf],
    err: &mut dyn WriteColor,
) -> Result<Result<Catalogue, Exit>, String> {
    Ok(load_rules(paths, err)?.map(|(c, _)| c))
}

/// A compiled rule set with each file's name and text (for fingerprints).
type LoadedRules = (Catalogue, Vec<(String, String)>);

/// Loads, checks and compiles a rule set; diagnostics are written to `err`.
fn load_rules(
    paths: &[PathBuf],
    err: &mut dyn WriteColor,
) -> Result<Result<LoadedRules, Exit>, String> {
    let sources = load(paths)?;
    let texts = sources
        .ids()
        .map(|id| (sources.name(id).to_string(), sources.text(id).to_string()))
        .collect();
    match tenor_dsl::check(&sources) {
        Ok(rules) => Ok(Ok((Catalogue::compile(&rules, &sources), texts))),
        Err(diags) => {
            diagnostic::render_human(&sources, &diags, err).map_err(|e| e.to_string())?;
            writeln!(
                err,
                "error: the rules have {} problem(s); run `tenor check` for details",
                diags.len()
            )
            .map_err(|e| e.to_string())?;
            Ok(Err(Exit::Failure))
        }
    }
}

/// Renders quote errors with the quote's own line and a caret, like rule diagnostics.
fn render_quote_errors(
    file: Option<(&str, &str)>,
    errors: &[QuoteError],
    err: &mut dyn WriteColor,
) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    let mut sources = SourceSet::new();
    let id = file.map(|(name, text)| sources.add(name, text));
    let mut diags = Vec::new();
    for e in errors {
        let located = match (id, file, e.line) {
            (Some(id), Some((_, text)), Some(line)) => {
                let start = byte_offset(text, line, e.column.unwrap_or(1));
                let width = text
                    .get(start..)
                    .map(|rest| rest.find(['\n', '\r']).unwrap_or(rest.len()))
                    .unwrap_or(0);
                let label = if e.field.is_empty() {
                    "here".to_string()
                } else {
                    format!("field `{}`", display_path(&e.field))
                };
                let mut d = tenor_dsl::Diagnostic::new(
                    "quote",
                    e.message.clone(),
                    tenor_dsl::Span::new(id, start, start + width),
                    label,
                );
                if let Some(h) = &e.help {
                    d = d.with_help(h.clone());
                }
                Some(d)
            }
            _ => None,
        };
        match located {
            Some(d) => diags.push(d),
            None => writeln!(err, "{e}").map_err(io)?,
        }
    }
    diagnostic::render_human(&sources, &diags, err).map_err(io)?;
    writeln!(
        err,
        "error: the quote has {} problem{}; nothing was priced",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )
    .map_err(io)?;
    Ok(())
}

/// `lines[2].product` as people count: `lines[3].product` is line 3.
fn display_path(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("lines[") {
        if let Some((n, tail)) = rest.split_once(']') {
            if let Ok(i) = n.parse::<usize>() {
                return format!(
                    "line {}{}",
                    i + 1,
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", tail.trim_start_matches('.'))
                    }
                );
            }
        }
    }
    path.to_string()
}

fn byte_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col: usize = l
                .chars()
                .take(column.saturating_sub(1))
                .map(char::len_utf8)
                .sum();
            return offset + col;
        }
        offset += l.len();
    }
    offset.min(text.len())
}

fn price_cmd(
    quote_path: &std::path::Path,
    rules: &[PathBuf],
    format: Option<OutputFormat>,
    explain_line: Option<Option<usize>>,
    out: &mut dyn Write,
    err: &mut dyn WriteColor,
) -> Result<Exit, String> {
    let io = |e: std::io::Error| e.to_string();
    let cat = match load_catalogue(rules, err)? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let name = quote_path.display().to_string();
    let text = std::fs::read_to_string(quote_path)
        .map_err(|e| format!("cannot read the quote {name}: {e}"))?;
    let file = match QuoteFile::parse(&name, &text) {
        Ok(f) => f,
        Err(e) => {
            render_quote_errors(Some((&name, &text)), &[*e], err)?;
            return Ok(Exit::Failure);
        }
    };
    let explain = format.is_none();
    let priced = match pricing::price_with_progress(
        &cat,
        &file.quote,
        &PriceOptions { explain },
        &mut progress::Counter::new(file.quote.lines.len() as u64, "pricing", true),
    ) {
        Ok(p) => p,
        Err(errors) => {
            let errors: Vec<QuoteError> = errors
                .into_iter()
                .map(|e| file.error(&e.field, e.message, e.help))
                .collect();
            render_quote_errors(Some((&file.name, &file.text)), &errors, err)?;
            return Ok(Exit::Failure);
        }
    };
    if format == Some(OutputFormat::Json) {
        // Streamed: a large quote's schedule runs to hundreds of megabytes.
        let mut w = std::io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut w, &priced).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(io)?;
        w.flush().map_err(io)?;
        return Ok(Exit::Success);
    }
    let text = match format {
        Some(OutputFormat::Json) => String::new(),
        Some(OutputFormat::Yaml) => crate::files::yaml::to_string(&priced)?,
        Some(OutputFormat::Table) => crate::cli::render::price::price_table(&priced),
        None => {
            let only = explain_line.flatten();
            if let Some(n) = only {
                if n == 0 || n > priced.lines.len() {
                    writeln!(
                        err,
                        "error: the quote has lines 1 to {}; there is no line {n}",
                        priced.lines.len()
                    )
                    .map_err(io)?;
                    return Ok(Exit::Error);
                }
            }
            crate::cli::render::price::explain(&priced, only)
        }
    };
    out.write_all(text.as_bytes()).map_err(io)?;
    Ok(Exit::Success)
}

/// Reads and prices a quote, rendering its problems; `Err(code)` when it cannot be priced.
fn read_and_price(
    cat: &Catalogue,
    quote_path: &std::path::Path,
    err: &mut dyn WriteColor,
) -> Result<Result<(QuoteFile, pricing::PricedQuote), Exit>, String> {
    let name = quote_path.display().to_string();
    let text = std::fs::read_to_string(quote_path)
        .map_err(|e| format!("cannot read the quote {name}: {e}"))?;
    let file = match QuoteFile::parse(&name, &text) {
        Ok(f) => f,
        Err(e) => {
            render_quote_errors(Some((&name, &text)), &[*e], err)?;
            return Ok(Err(Exit::Failure));
        }
    };
    match pricing::price_with_progress(
        cat,
        &file.quote,
        &PriceOptions { explain: false },
        &mut progress::Counter::new(file.quote.lines.len() as u64, "pricing", true),
    ) {
        Ok(p) => Ok(Ok((file, p))),
        Err(errors) => {
            let errors: Vec<QuoteError> = errors
                .into_iter()
                .map(|e| file.error(&e.field, e.message, e.help))
                .collect();
            render_quote_errors(Some((&file.name, &file.text)), &errors, err)?;
            Ok(Err(Exit::Failure))
        }
    }
}

fn accept_cmd(
    quote_path: &std::path::Path,
    dir: &std::path::Path,
    rules: &[PathBuf],
    force: bool,
    plugin_dir: Option<&std::path::Path>,
    out: &mut dyn Write,
    err: &mut dyn WriteColor,
) -> Result<Exit, String> {
    let io = |e: std::io::Error| e.to_string();
    let (cat, texts) = match load_rules(rules, err)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let (file, priced) = match read_and_price(&cat, quote_path, err)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let fp = crate::documents::accept::fingerprint(&file.quote, &texts);
    let accepted = match crate::documents::accept::accept(&cat, &file.quote, &priced, &fp) {
        Ok(a) => a,
        Err(errors) => {
            for e in &errors {
                match e.line {
                    Some(l) => writeln!(err, "error: {}: line {l}: {}", file.name, e.message)
                        .map_err(io)?,
                    None => writeln!(err, "error: {}: {}", file.name, e.message).map_err(io)?,
                }
                if let Some(h) = &e.help {
                    writeln!(err, "  help: {h}").map_err(io)?;
                }
            }
            writeln!(
                err,
                "error: the quote was not accepted; nothing was written"
            )
            .map_err(io)?;
            return Ok(Exit::Failure);
        }
    };
    match crate::documents::accept::write(dir, &accepted, force) {
        Ok(paths) => {
            for p in &paths {
                writeln!(out, "wrote {}", p.display()).map_err(io)?;
            }
            // Vendors' own formats, through the plugins; a failing plugin is reported and the
            // others still run.
            let mut plugin_failed = false;
            if let Some(pd) = plugin_dir {
                let host = crate::host::Host::load_dir(pd);
                for f in &host.failures {
                    plugin_failed = true;
                    writeln!(err, "error: plugin {}: {}", f.path.display(), f.message)
                        .map_err(io)?;
                }
                let rendered = crate::documents::accept::render_with_plugins(&host, &accepted, dir);
                for p in &rendered.written {
                    writeln!(out, "wrote {}", p.display()).map_err(io)?;
                }
                for note in &rendered.notes {
                    writeln!(out, "note: {note}").map_err(io)?;
                }
                for e in &rendered.errors {
                    plugin_failed = true;
                    writeln!(err, "error: {e}").map_err(io)?;
                }
            }
            let t = &accepted.sales_order.totals;
            writeln!(
                out,
                "accepted {}: first invoice {}, MRR {}, contract value {} {}",
                file.quote.quote,
                crate::engine::money::money(t.first_invoice),
                crate::engine::money::money(t.mrr),
                crate::engine::money::money(t.contract_value),
                cat.currency
            )
            .map_err(io)?;
            Ok(if plugin_failed {
                Exit::Failure
            } else {
                Exit::Success
            })
        }
        Err(crate::documents::accept::WriteError::Exists(path)) => {
            writeln!(
                err,
                "error: {} already holds documents for quote `{}` made from a different quote or rules\n  help: accept it into another directory, or pass --force to replace them",
                path.display(),
                file.quote.quote
            )
            .map_err(io)?;
            Ok(Exit::Failure)
        }
        Err(crate::documents::accept::WriteError::Changed(paths)) => {
            let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            writeln!(
                err,
                "error: quote `{}` has seat changes applied in {} ({}); accepting it again would undo them\n  help: pass --force to start over from the quote",
                file.quote.quote,
                dir.display(),
                names.join(", ")
            )
            .map_err(io)?;
            Ok(Exit::Failure)
        }
        Err(crate::documents::accept::WriteError::Io(e)) => Err(e),
    }
}

fn plugins_cmd(
    cmd: PluginsCommand,
    out: &mut dyn Write,
    err: &mut dyn WriteColor,
) -> Result<Exit, String> {
    let io = |e: std::io::Error| e.to_string();
    let dir_of = |flag: Option<PathBuf>| {
        crate::host::plugin_dir(flag.as_deref())
            .ok_or_else(|| "cannot tell where the tenor binary is; pass --plugins DIR".to_string())
    };
    match cmd {
        PluginsCommand::List { plugins } => {
            let dir = dir_of(plugins)?;
            let host = crate::host::Host::load_dir(&dir);
            let mut t = comfy_table::Table::new();
            t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
                .set_header(vec!["Name", "Version", "Kind", "Capabilities", "File"]);
            for p in host.plugins() {
                let caps: Vec<String> = p
                    .info
                    .capabilities
                    .iter()
                    .map(|c| {
                        serde_json::to_value(c)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    })
                    .collect();
                t.add_row(vec![
                    p.info.name.clone(),
                    p.info.version.clone(),
                    match p.info.kind {
                        tenor_plugin_sdk::Kind::Distributor => "distributor".to_string(),
                        tenor_plugin_sdk::Kind::Psa => "psa".to_string(),
                    },
                    caps.join(", "),
                    p.path.display().to_string(),
                ]);
            }
            writeln!(out, "plugins in {}", dir.display()).map_err(io)?;
            writeln!(out, "{t}").map_err(io)?;
            for f in &host.failures {
                writeln!(err, "error: plugin {}: {}", f.path.display(), f.message).map_err(io)?;
            }
            Ok(if host.failures.is_empty() {
                Exit::Success
            } else {
                Exit::Failure
            })
        }
        PluginsCommand::Lock { plugins } => {
            let dir = dir_of(plugins)?;
            let lock = crate::host::write_lock(&dir)?;
            for e in &lock.plugins {
                writeln!(out, "{}  {}", e.sha256, e.file).map_err(io)?;
            }
            writeln!(out, "wrote {}", dir.join(crate::host::LOCK_FILE).display()).map_err(io)?;
            Ok(Exit::Success)
        }
    }
}
