//! `tenor diff --from REV|DIR [--to DIR] [QUOTES…|--accepted]`: every quote priced under the
//! old and the new rules, as a table or the `tenor.diff/1` document.

use crate::cli::Ctx;
use crate::cli::db;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load::review_error;
use crate::review::diff::{self, Input};
use crate::review::rules;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The arguments of `tenor diff`.
pub struct DiffArgs<'a> {
    /// The old rules: a directory, else a git revision of `to`.
    pub from: String,
    /// The new rules' directory.
    pub to: PathBuf,
    /// Quote files or directories.
    pub quotes: Vec<PathBuf>,
    /// Every accepted quote of the record instead.
    pub accepted: bool,
    /// The `tenor.diff/1` document instead of the table.
    pub json: bool,
    /// The `--db` flag.
    pub db: Option<&'a Path>,
}

/// `tenor diff`: exit 0 (a diff is a report, whatever it finds).
pub fn diff_cmd(args: &DiffArgs<'_>, ctx: &mut Ctx<'_>) -> CliResult {
    let new = rules::from_paths(std::slice::from_ref(&args.to)).map_err(review_error)?;
    let old = if rules::is_dir(&args.from) {
        rules::from_paths(&[PathBuf::from(&args.from)])
    } else {
        rules::from_git(&args.to, &args.from)
    }
    .map_err(review_error)?;
    let inputs = inputs(args)?;
    let today = today()?;
    let d = diff::diff(&old, &new, &inputs, today);
    if args.json {
        let mut w = std::io::BufWriter::new(&mut *ctx.out);
        serde_json::to_writer_pretty(&mut w, &d)?;
        w.write_all(b"\n")?;
        w.flush()?;
    } else {
        let text = crate::cli::render::review::diff_table(&d);
        ctx.out.write_all(text.as_bytes())?;
    }
    Ok(Exit::Success)
}

/// Today, from the record's clock (`TENOR_NOW` fixes it).
pub fn today() -> Result<chrono::NaiveDate, CliError> {
    let now = crate::record::clock::now().map_err(db::error)?;
    chrono::NaiveDate::parse_from_str(now.get(..10).unwrap_or(""), "%Y-%m-%d")
        .map_err(|e| CliError::Run(format!("the clock says `{now}`: {e}")))
}

/// The quotes to price: the record's accepted ones, or the files (default `rules/quotes/`),
/// each marked accepted when the record (if there is one) holds its id.
fn inputs(args: &DiffArgs<'_>) -> Result<Vec<Input>, CliError> {
    let rules_dirs = std::slice::from_ref(&args.to);
    let db_path = db::path(args.db, rules_dirs);
    if args.accepted {
        let record = db::open(args.db, rules_dirs)?;
        return crate::review::diff::accepted(&record).map_err(review_error);
    }
    let recorded: Vec<String> = if db_path.is_file() {
        db::open(args.db, rules_dirs)?.quotes().map_err(db::error)?
    } else {
        Vec::new()
    };
    let paths = if args.quotes.is_empty() {
        vec![PathBuf::from("rules/quotes")]
    } else {
        args.quotes.clone()
    };
    let mut inputs = Vec::new();
    for p in rules::quote_paths(&paths).map_err(review_error)? {
        let file = rules::read_quote(&p).map_err(review_error)?;
        inputs.push(Input {
            source: file.name.clone(),
            accepted: recorded.contains(&file.quote.quote),
            quote: file.quote,
        });
    }
    Ok(inputs)
}
