//! `tenor check`: every problem of a rule set, or a one-line summary.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load;
use crate::cli::render::count;
use std::path::PathBuf;
use tenor_dsl::diagnostic;

/// `tenor check`: exit 0 when the rules are clean, 1 with their diagnostics. Warnings (an offer
/// below its cost) are shown on standard error, located like errors, and leave the exit code
/// at 0. With `json`, the `tenor.check/1` document goes to standard output whatever the
/// outcome, its warnings among the diagnostics with `"severity": "warning"`.
pub fn check(paths: &[PathBuf], json: bool, ctx: &mut Ctx<'_>) -> CliResult {
    let sources = load::sources(paths)?;
    let files = sources.len();
    match (tenor_dsl::check(&sources), json) {
        (Ok(rules), false) => {
            warnings(&sources, &rules.warnings, ctx)?;
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
                "diagnostics": diagnostic::to_json(&sources, &rules.warnings),
            });
            writeln!(ctx.out, "{}", serde_json::to_string_pretty(&doc)?)?;
            Ok(Exit::Success)
        }
        (Err(diags), false) => {
            let in_files: std::collections::BTreeSet<_> =
                diags.iter().map(|d| d.span.file).collect();
            let summary = in_files_summary(diags.len(), "problem", in_files.len());
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

/// `2 problems in 1 file`.
fn in_files_summary(n: usize, noun: &str, files: usize) -> String {
    format!(
        "{} in {}",
        count(n as u64, noun),
        count(files as u64, "file")
    )
}

/// Writes a clean rule set's warnings for people, with a closing `warning:` line; nothing when
/// there are none. Not silenced by `--quiet`: a warning is not a status line.
fn warnings(
    sources: &tenor_dsl::SourceSet,
    warnings: &[tenor_dsl::Diagnostic],
    ctx: &mut Ctx<'_>,
) -> std::io::Result<()> {
    if warnings.is_empty() {
        return Ok(());
    }
    let in_files: std::collections::BTreeSet<_> = warnings.iter().map(|d| d.span.file).collect();
    let err = ctx.err();
    diagnostic::render_human(sources, warnings, err)?;
    writeln!(
        err,
        "warning: {}",
        in_files_summary(warnings.len(), "warning", in_files.len())
    )
}
