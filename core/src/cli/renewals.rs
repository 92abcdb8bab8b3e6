//! `tenor renewals [--month YYYY-MM]`: the record's subscriptions renewing in a month, with
//! their next-term prices under today's rules.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load::review_error;
use crate::review::{renewals, rules};
use std::path::{Path, PathBuf};

/// `tenor renewals`: exit 0; no record, or a bad month, is an error.
pub fn renewals_cmd(
    month: Option<&str>,
    rule_paths: &[PathBuf],
    json: bool,
    db_flag: Option<&Path>,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let month = match month {
        Some(m) => m.to_string(),
        None => renewals::month_of(crate::cli::diff::today()?),
    };
    if renewals::month_bounds(&month).is_none() {
        return Err(CliError::Run(format!(
            "`--month {month}` is not a month: write YYYY-MM (2027-07)"
        )));
    }
    let path = db::path(db_flag, rule_paths);
    if !path.is_file() {
        return Err(CliError::Run(format!(
            "there is no record at {}: accept a quote first, or pass --db",
            path.display()
        )));
    }
    let book = rules::from_paths(rule_paths).map_err(review_error)?;
    let record = db::open(db_flag, rule_paths)?;
    let r = renewals::renewals(&record, &book, &month).map_err(review_error)?;
    if json {
        writeln!(ctx.out, "{}", serde_json::to_string_pretty(&r)?)?;
    } else {
        let text = crate::cli::render::review::renewals_table(&r);
        ctx.out.write_all(text.as_bytes())?;
    }
    Ok(Exit::Success)
}
