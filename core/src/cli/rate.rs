//! `tenor rate`: a month of usage rated, shown as a table or JSON.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::progress::ProgressReader;
use crate::cli::render::count;
use crate::documents::rate::{Period, RateError, RateOptions, UsageRating, rate_usage};
use comfy_table::{CellAlignment, ContentArrangement, Table, presets};
use std::io::Write;
use std::path::PathBuf;
use tenor_dsl::diagnostic::termcolor::NoColor;

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

/// `tenor rate` with human errors: rates a usage file for a month and writes the table or
/// JSON to `out`.
///
/// Messages (bad rows, records outside the month) go to `err`. `Err` means the command could
/// not run (exit 2); bad input is `Ok(Exit::Failure)`, with nothing written to `out`.
pub fn rate_cmd(args: RateArgs, out: &mut dyn Write, err: &mut dyn Write) -> CliResult {
    let mut err = NoColor::new(err);
    let mut ctx = Ctx::new(out, &mut err, crate::cli::args::ErrorFormat::Human, false);
    crate::cli::reported(rate(args, &mut ctx), &mut ctx)
}

/// `tenor rate`: rates the file and writes the report.
pub fn rate(args: RateArgs, ctx: &mut Ctx<'_>) -> CliResult {
    let period =
        Period::parse(&args.period).map_err(|e| CliError::Run(format!("--period: {e}")))?;
    let cat = load::rules(&args.rules)?.catalogue;
    let source = args.usage.display().to_string();
    let file = std::fs::File::open(&args.usage)
        .map_err(|e| CliError::Run(format!("cannot read the usage file {source}: {e}")))?;
    let total = file.metadata().ok().map(|m| m.len());
    let name = args
        .usage
        .file_name()
        .map_or_else(|| source.clone(), |n| n.to_string_lossy().into_owned());
    let mut reader = ProgressReader::new(file, total, format!("rating {name}"));
    if !ctx.progress() {
        reader = reader.quiet();
    }
    let opts = RateOptions {
        source: source.clone(),
        skip_bad: args.skip_bad,
    };
    let result = rate_usage(&cat, &mut reader, period, &opts);
    reader.finish();
    let rating = result.map_err(|e| rate_error(e, &source))?;
    report_skipped(&rating, &source, period, ctx)?;
    let mut w = std::io::BufWriter::new(&mut *ctx.out);
    if args.json {
        serde_json::to_writer_pretty(&mut w, &rating)?;
        w.write_all(b"\n")?;
    } else {
        w.write_all(usage_table(&rating).as_bytes())?;
    }
    w.flush()?;
    Ok(Exit::Success)
}

/// Why a usage file was not rated.
fn rate_error(e: RateError, source: &str) -> CliError {
    match e {
        RateError::Io(m) => CliError::Run(m),
        RateError::Header(m) | RateError::Overflow(m) => CliError::Failed(m),
        RateError::BadRows(errors, stats) => CliError::Rows {
            file: source.to_string(),
            errors,
            total: stats.bad,
            summary: format!(
                "{} in {source}; nothing was rated (pass --skip-bad to rate the good rows)",
                count(stats.bad, "bad row")
            ),
            fatal: true,
        },
    }
}

/// Reports the rows skipped and the records outside the month; an error when nothing good
/// was left to rate.
fn report_skipped(
    rating: &UsageRating,
    source: &str,
    period: Period,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let stats = rating.stats;
    if stats.bad > 0 {
        ctx.report(&CliError::Rows {
            file: source.to_string(),
            errors: rating.skipped.clone(),
            total: stats.bad,
            summary: format!("{} skipped", count(stats.bad, "bad row")),
            fatal: false,
        });
    }
    if stats.outside > 0 {
        ctx.info(format!(
            "{} outside {period} ignored",
            count(stats.outside, "record")
        ));
    }
    if stats.bad > 0 && rating.charges.is_empty() {
        return Err(CliError::Failed(format!(
            "no good records in {period} to rate"
        )));
    }
    Ok(())
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
