//! `tenor test [DIR]`: runs the expectation files against the rules; `--update` shows the
//! values the rules now give and writes them after review.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::load::review_error;
use crate::cli::render::errors::{file_errors, problems};
use crate::review::expect::{self, FileRun, Run, Update};
use crate::review::rules;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

/// `tenor test`: exit 0 when every test passes, 1 when one fails (or a file has problems).
pub fn test_cmd(
    dir: &Path,
    rule_paths: &[PathBuf],
    update: bool,
    yes: bool,
    ctx: &mut Ctx<'_>,
) -> CliResult {
    let book = rules::from_paths(rule_paths).map_err(review_error)?;
    let files = expect::test_files(dir).map_err(review_error)?;
    let run = expect::run(&files, &book).map_err(review_error)?;
    for f in run.files.iter().filter(|f| !f.errors.is_empty()) {
        report_file(f, ctx);
    }
    let text = crate::cli::render::review::test_report(&run);
    ctx.out.write_all(text.as_bytes())?;
    if update {
        return update_files(&run, yes, ctx);
    }
    Ok(if run.failed() == 0 {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// A file's own problems, each under its line with a caret (or in the error document).
fn report_file(f: &FileRun, ctx: &mut Ctx<'_>) {
    if ctx.json_errors() {
        let e = CliError::Quote {
            file: Some((f.file.clone(), f.text.clone())),
            errors: f.errors.clone(),
        };
        for p in problems(&e) {
            ctx.warning(crate::cli::problem::Problem {
                severity: None,
                ..p
            });
        }
        return;
    }
    let _ = file_errors((&f.file, &f.text), &f.errors, ctx.err());
}

/// `--update`: shows every value to rewrite, then writes them (after a yes on a terminal, or
/// with `--yes`). Exit 0 when every failure was rewritten, 1 otherwise.
fn update_files(run: &Run, yes: bool, ctx: &mut Ctx<'_>) -> CliResult {
    let pending: Vec<(&FileRun, Vec<&Update>)> = run
        .files
        .iter()
        .map(|f| {
            (
                f,
                f.outcomes.iter().flat_map(|o| o.updates.iter()).collect(),
            )
        })
        .filter(|(_, u): &(_, Vec<&Update>)| !u.is_empty())
        .collect();
    let stuck: usize = run
        .files
        .iter()
        .flat_map(|f| f.outcomes.iter())
        .map(|o| o.not_updatable)
        .sum::<usize>()
        + run.files.iter().filter(|f| !f.errors.is_empty()).count();
    if pending.is_empty() {
        writeln!(ctx.out, "nothing to update")?;
        return Ok(if stuck == 0 {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    writeln!(ctx.out, "\nvalues to update:")?;
    for (f, updates) in &pending {
        for u in updates {
            writeln!(ctx.out, "  {}:{}: {} -> {}", f.file, u.line, u.old, u.new)?;
        }
    }
    ctx.out.flush()?;
    if !yes && !confirm(ctx)? {
        writeln!(ctx.out, "nothing written")?;
        return Ok(Exit::Failure);
    }
    for (f, updates) in &pending {
        let text = expect::apply_updates(&f.text, updates);
        crate::files::atomic::write(Path::new(&f.file), text.as_bytes())
            .map_err(|e| CliError::Run(format!("cannot write {}: {e}", f.file)))?;
        ctx.status(format_args!("updated {}", f.file));
    }
    if stuck > 0 {
        ctx.notice(
            "warning",
            format!("{stuck} failure(s) cannot be updated in place (an error, a discount list, a file with problems): edit them by hand"),
        );
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}

/// Asks on the terminal; off a terminal nothing is written without `--yes`.
fn confirm(ctx: &mut Ctx<'_>) -> Result<bool, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        ctx.notice(
            "note",
            "standard input is not a terminal: pass --update --yes to write these values".into(),
        );
        return Ok(false);
    }
    let _ = write!(ctx.err(), "write these values? [y/N] ");
    let _ = ctx.err().flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
