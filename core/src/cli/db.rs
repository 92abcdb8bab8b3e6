//! The record's database for a command: where it is (`--db`, else `TENOR_DB`, else
//! `tenor.db` beside the rule set) and its errors as the command line's.

use crate::cli::exit::CliError;
use crate::cli::render::errors::Problem;
use crate::record::{Record, RecordError, TENOR_DB};
use std::path::{Path, PathBuf};

/// The database path: `flag`, else `TENOR_DB` when set and not empty, else `tenor.db` in the
/// parent of the first rule path (`rules` when none is given: `./tenor.db`).
pub fn path(flag: Option<&Path>, rules: &[PathBuf]) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os(TENOR_DB) {
        Some(v) if !v.is_empty() => PathBuf::from(v),
        _ => crate::record::default_path(rules.first().map_or(Path::new("rules"), |p| p)),
    }
}

/// Opens the database for a command.
pub fn open(flag: Option<&Path>, rules: &[PathBuf]) -> Result<Record, CliError> {
    Record::open(&path(flag, rules)).map_err(error)
}

/// A record error as the command line reports it: a refusal (exit 1) when the record says no
/// to what was asked, a failure to run (exit 2) otherwise.
pub fn error(e: RecordError) -> CliError {
    let help = match &e {
        RecordError::Changed { revision, .. } => Some(format!(
            "pass --revise to record it as revision {}; every revision stays readable (`tenor log`)",
            revision + 1
        )),
        RecordError::Inconsistent(_) => {
            Some("accept the quote again with --revise to start a sound revision".into())
        }
        _ => None,
    };
    match help {
        Some(help) => CliError::Refused {
            problems: vec![Problem::new("record", e.to_string()).with_help(Some(help))],
            summary: Some("nothing was recorded".into()),
        },
        None => CliError::Run(e.to_string()),
    }
}
