//! `tenor rate`: a month of usage rated, shown as a table or JSON.

use crate::cli::Exit;
use crate::cli::progress::ProgressReader;
use crate::documents::rate::{Period, RateError, RateOptions, RowError, UsageRating, rate_usage};
use crate::engine::catalogue::Catalogue;
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use std::io::Write;
use std::path::PathBuf;

/// The arguments of `tenor rate`.
#[derive(Clone, Debug)]
pub struct RateArgs {
    /// The usage file (CSV).
    pub usage: PathBuf,
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The rule set (directories or files).
    pub rules: Vec<PathBuf>,
    /// JSON instead of the table.
    pub json: bool,
    /// Report bad rows and rate the rest.
    pub skip_bad: bool,
}

/// `tenor rate`: rates a usage file for a month and writes the table or JSON to `out`.
///
/// Messages (bad rows, records outside the month) go to `err`. `Err` means the command could
/// not run (exit 2); bad input is `Ok(Exit::Failure)`, with nothing written to `out`.
pub fn rate_cmd(args: RateArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, String> {
    let io = |e: std::io::Error| e.to_string();
    let period = Period::parse(&args.period).map_err(|e| format!("--period: {e}"))?;
    let cat = match load_catalogue(&args.rules, err)? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let source = args.usage.display().to_string();
    let file = std::fs::File::open(&args.usage)
        .map_err(|e| format!("cannot read the usage file {source}: {e}"))?;
    let total = file.metadata().ok().map(|m| m.len());
    let name = args
        .usage
        .file_name()
        .map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned());
    let mut reader = ProgressReader::new(file, total, format!("rating {name}"));
    let opts = RateOptions {
        source: source.clone(),
        skip_bad: args.skip_bad,
    };
    let result = rate_usage(&cat, &mut reader, period, &opts);
    reader.finish();
    let rating = match result {
        Ok(r) => r,
        Err(RateError::Io(m)) => return Err(m),
        Err(RateError::Header(m) | RateError::Overflow(m)) => {
            writeln!(err, "error: {m}").map_err(io)?;
            return Ok(Exit::Failure);
        }
        Err(RateError::BadRows(errors, stats)) => {
            write_row_errors(err, &source, &errors, stats.bad)?;
            writeln!(
                err,
                "error: {} in {source}; nothing was rated (pass --skip-bad to rate the good rows)",
                count(stats.bad, "bad row")
            )
            .map_err(io)?;
            return Ok(Exit::Failure);
        }
    };
    let stats = rating.stats;
    if stats.bad > 0 {
        write_row_errors(err, &source, &rating.skipped, stats.bad)?;
        writeln!(err, "warning: {} skipped", count(stats.bad, "bad row")).map_err(io)?;
    }
    if stats.outside > 0 {
        writeln!(
            err,
            "{} outside {period} ignored",
            count(stats.outside, "record")
        )
        .map_err(io)?;
    }
    if stats.bad > 0 && rating.charges.is_empty() {
        writeln!(err, "error: no good records in {period} to rate").map_err(io)?;
        return Ok(Exit::Failure);
    }
    let mut w = std::io::BufWriter::new(out);
    if args.json {
        serde_json::to_writer_pretty(&mut w, &rating).map_err(|e| e.to_string())?;
        w.write_all(b"\n").map_err(io)?;
    } else {
        w.write_all(usage_table(&rating).as_bytes()).map_err(io)?;
    }
    w.flush().map_err(io)?;
    Ok(Exit::Success)
}

fn write_row_errors(
    err: &mut dyn Write,
    source: &str,
    errors: &[RowError],
    total: u64,
) -> Result<(), String> {
    let io = |e: std::io::Error| e.to_string();
    for e in errors {
        writeln!(err, "{source}:{e}").map_err(io)?;
    }
    let more = total.saturating_sub(errors.len() as u64);
    if more > 0 {
        writeln!(err, "… and {} not shown", count(more, "more bad row")).map_err(io)?;
    }
    Ok(())
}

/// `1 record`, `2 records`.
fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Loads, checks and compiles a rule set; diagnostics go to `err` (`Err(Exit)` then).
fn load_catalogue(
    paths: &[PathBuf],
    err: &mut dyn Write,
) -> Result<Result<Catalogue, Exit>, String> {
    let sources = tenor_dsl::load(paths).map_err(|e| e.to_string())?;
    if sources.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("no .tenor files found in {}", shown.join(", ")));
    }
    match tenor_dsl::check(&sources) {
        Ok(rules) => Ok(Ok(Catalogue::compile(&rules, &sources))),
        Err(diags) => {
            let io = |e: std::io::Error| e.to_string();
            err.write_all(tenor_dsl::diagnostic::render_plain(&sources, &diags).as_bytes())
                .map_err(io)?;
            writeln!(
                err,
                "error: the rules have {} problem(s); run `tenor check` for details",
                diags.len()
            )
            .map_err(io)?;
            Ok(Err(Exit::Failure))
        }
    }
}

fn table() -> Table {
    let mut t = Table::new();
    // A fixed layout whatever the terminal: output must be the same for the same input.
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Disabled);
    t
}

/// The `tenor rate` table: one row per charge, then the totals.
pub fn usage_table(r: &UsageRating) -> String {
    use crate::engine::money::money;
    let mut t = table();
    t.set_header(vec![
        "Customer", "Product", "Metric", "By", "Records", "Quantity", "Charge", "Amount", "Cost",
    ]);
    for c in &r.charges {
        t.add_row(vec![
            c.customer.clone(),
            c.product.clone(),
            c.metric.clone(),
            c.aggregation.to_string(),
            c.records.to_string(),
            c.quantity.to_string(),
            c.kind.as_str().replace('_', " "),
            money(c.amount),
            money(c.cost),
        ]);
    }
    for i in [4, 5, 7, 8] {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let mut totals = table();
    for (name, v) in [("Amount", r.totals.amount), ("Cost", r.totals.cost)] {
        totals.add_row(vec![
            name.to_string(),
            format!("{} {}", money(v), r.currency),
        ]);
    }
    if let Some(c) = totals.column_mut(1) {
        c.set_cell_alignment(CellAlignment::Right);
    }
    let (start, end) = r
        .charges
        .first()
        .map(|c| (c.period_start.to_string(), c.period_end.to_string()))
        .unwrap_or_default();
    let head = if r.charges.is_empty() {
        format!("Usage for {}: no records to rate\n", r.period)
    } else {
        format!(
            "Usage for {} [{start}, {end}), billed in arrears on {end}, {}\n",
            r.period, r.currency
        )
    };
    format!("{head}{t}\n{totals}\n")
}
