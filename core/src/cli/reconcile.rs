//! `tenor reconcile --month YYYY-MM [--customer C] [--format table|json]`: the month's
//! reconciliation (see [`crate::reconcile`]) as the match's table or `tenor.reconcile/1`.

use crate::cli::Ctx;
use crate::cli::args::Format;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::matching::rebuild_error;
use crate::reconcile::{self, Ask, RECONCILE};
use std::path::Path;

/// `tenor reconcile`: exit 0 when everything agrees, 1 with findings; no record or a bad
/// month is an error (exit 2).
pub fn reconcile_cmd(
    month: &str,
    customer: Option<&str>,
    format: Format,
    db_flag: Option<&Path>,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let valid = month.len() == 7
        && chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").is_ok();
    if !valid {
        return Err(CliError::Run(format!(
            "`--month {month}` is not a month: write YYYY-MM (2027-01)"
        )));
    }
    let path = db::path(db_flag, &[]);
    if !path.is_file() {
        return Err(CliError::Run(format!(
            "there is no record at {}: accept, push and pull first, or pass --db",
            path.display()
        )));
    }
    let record = db::open(db_flag, &[])?;
    let done = reconcile::month(&record, &Ask { month, customer }).map_err(rebuild_error)?;
    let report = &done.report;
    match format {
        Format::Json => {
            let mut doc = report.to_json();
            if let Some(o) = doc.as_object_mut() {
                o.insert("schema".into(), RECONCILE.into());
                o.insert("month".into(), done.month.clone().into());
                let quotes: Vec<serde_json::Value> = done
                    .quotes
                    .iter()
                    .map(|(c, q, r)| serde_json::json!({"customer": c, "quote": q, "revision": r}))
                    .collect();
                o.insert("quotes".into(), quotes.into());
            }
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            ctx.out.write_all(text.as_bytes())?;
        }
        Format::Table => {
            writeln!(
                ctx.out,
                "{}: {} quotes reconciled",
                done.month,
                done.quotes.len()
            )?;
            ctx.out
                .write_all(crate::cli::render::matching::table(report).as_bytes())?;
        }
    }
    Ok(if report.is_clean() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
