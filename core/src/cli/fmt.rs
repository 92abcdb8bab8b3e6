//! `tenor fmt`: rule files rewritten in the canonical layout, or (`--check`) named.

use crate::cli::Ctx;
use crate::cli::exit::{CliError, CliResult, Exit};
use std::path::{Path, PathBuf};

/// What formatting the files found.
#[derive(Default)]
struct Outcome {
    /// The files that would change (or did).
    changed: Vec<String>,
    /// Some file does not parse: a problem in the input (1).
    unparsable: bool,
    /// The formatter would change a file's meaning: the tool's own failure (2).
    failed: bool,
}

/// `tenor fmt`: exit 0 when all is formatted (or, with `check_only`, nothing would change).
pub fn fmt(paths: &[PathBuf], check_only: bool, ctx: &mut Ctx<'_>) -> CliResult {
    let files = tenor_dsl::collect_rule_files(paths).map_err(|e| CliError::Run(e.to_string()))?;
    let mut outcome = Outcome::default();
    for path in &files {
        format_file(path, check_only, &mut outcome, ctx)?;
    }
    for name in &outcome.changed {
        if check_only {
            writeln!(ctx.out, "would reformat {name}")?;
        } else {
            ctx.status(format_args!("formatted {name}"));
        }
    }
    if outcome.failed {
        return Ok(Exit::Error);
    }
    if outcome.unparsable {
        return Ok(Exit::Failure);
    }
    if check_only && !outcome.changed.is_empty() {
        ctx.info(format!(
            "{} of {} files would change; run `tenor fmt` to fix",
            outcome.changed.len(),
            files.len()
        ));
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}

/// Formats one file (writing it unless `check_only`), recording what happened.
fn format_file(
    path: &Path,
    check_only: bool,
    outcome: &mut Outcome,
    ctx: &mut Ctx<'_>,
) -> Result<(), CliError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::Run(format!("cannot read {}: {e}", path.display())))?;
    match tenor_dsl::format::format_source(&name, &text) {
        Ok(formatted) if formatted != text => {
            if !check_only {
                // A symlinked rule file stays a symlink, and keeps its permissions.
                crate::files::atomic::replace_preserving(path, formatted.as_bytes())
                    .map_err(|e| CliError::Run(format!("cannot write {name}: {e}")))?;
            }
            outcome.changed.push(name);
        }
        Ok(_) => {}
        Err(tenor_dsl::format::FormatError::Syntax(sources, diags)) => {
            outcome.unparsable = true;
            ctx.report(&CliError::Rules {
                sources,
                diags,
                summary: format!("{name} was not formatted because it does not parse"),
            });
        }
        Err(tenor_dsl::format::FormatError::Changed(why)) => {
            outcome.failed = true;
            ctx.report(&CliError::Run(format!(
                "refusing to format {name}: the formatted text would mean something else ({why})"
            )));
        }
    }
    Ok(())
}
