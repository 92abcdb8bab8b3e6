//! `tenor check`: every problem of a rule set, or a one-line summary.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load::{self, count};
use std::path::PathBuf;
use tenor_dsl::diagnostic;

/// `tenor check`: exit 0 when the rules are clean, 1 with their diagnostics. With `json`, the
/// `tenor.check/1` document goes to standard output whatever the outcome.
pub fn check(paths: &[PathBuf], json: bool, ctx: &mut Ctx<'_>) -> CliResult {
    let sources = load::sources(paths)?;
    let files = sources.len();
    match (tenor_dsl::check(&sources), json) {
        (Ok(rules), false) => {
            let s = tenor_dsl::summary(&rules);
            writeln!(
                ctx.out,
                "ok: {}, {}, {}, {}, {}",
                count(files as u64, "file"),
                count(s.products as u64, "product"),
                count(s.bundles as u64, "bundle"),
                count(s.offers as u64, "offer"),
                count(s.rules() as u64, "rule")
            )?;
            Ok(Exit::Success)
        }
        (Ok(rules), true) => {
            let doc = serde_json::json!({
                "schema": "tenor.check/1",
                "ok": true,
                "files": files,
                "summary": tenor_dsl::summary(&rules),
                "diagnostics": [],
            });
            writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
            Ok(Exit::Success)
        }
        (Err(diags), false) => {
            let in_files: std::collections::BTreeSet<_> =
                diags.iter().map(|d| d.span.file).collect();
            let summary = format!(
                "{} problem{} in {} file{}",
                diags.len(),
                if diags.len() == 1 { "" } else { "s" },
                in_files.len(),
                if in_files.len() == 1 { "" } else { "s" }
            );
            Err(CliError::Rules {
                sources,
                diags,
                summary,
            })
        }
        (Err(diags), true) => {
            let doc = serde_json::json!({
                "schema": "tenor.check/1",
                "ok": false,
                "files": files,
                "diagnostics": diagnostic::to_json(&sources, &diags),
            });
            writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
            Ok(Exit::Failure)
        }
    }
}
