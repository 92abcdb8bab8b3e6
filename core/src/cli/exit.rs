//! Exit codes and the typed errors every subcommand returns; the exit code of an error is
//! decided here and nowhere else.
//!
//! - 0: success (`check`: no problems; `fmt --check`: nothing would change; a closed pipe)
//! - 1: the input has problems (`check`: diagnostics; `fmt --check`: files would change)
//! - 2: the command could not run (bad arguments, unreadable files, internal error)

use crate::cli::problem::Problem;
use crate::documents::rate::RowError;
use crate::engine::quote::QuoteError;
use tenor_dsl::{Diagnostic, SourceSet};

/// Process exit codes of `tenor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything is in order.
    Success = 0,
    /// The input has problems, reported on standard error.
    Failure = 1,
    /// The command could not run.
    Error = 2,
}

/// Why a subcommand stopped (or, reported on the way, what went wrong while it went on).
#[derive(thiserror::Error)]
pub enum CliError {
    /// The command line does not parse (clap's own message).
    #[error("{}", .0.render())]
    Usage(Box<clap::Error>),
    /// Rule files that do not check or parse; `summary` is the closing line.
    #[error("{summary}")]
    Rules {
        /// The files, for the source lines under each diagnostic.
        sources: SourceSet,
        /// Every problem found.
        diags: Vec<Diagnostic>,
        /// The closing line (`the rules have 2 problem(s); …`).
        summary: String,
    },
    /// A quote that cannot be read or priced.
    #[error("the quote has {} problem(s); nothing was priced", .errors.len())]
    Quote {
        /// The file's name and text, to show the line at fault.
        file: Option<(String, String)>,
        /// Every problem found.
        errors: Vec<QuoteError>,
    },
    /// A refusal (accept, change) or problems in the input, each with its own message.
    #[error("{}", .summary.clone().unwrap_or_default())]
    Refused {
        /// What is wrong.
        problems: Vec<Problem>,
        /// The closing line, if any (`the quote was not accepted; …`).
        summary: Option<String>,
    },
    /// Bad rows of a usage file.
    #[error("{summary}")]
    Rows {
        /// The usage file.
        file: String,
        /// The rows kept (at most a few hundred).
        errors: Vec<RowError>,
        /// How many rows were bad in all.
        total: u64,
        /// The closing line.
        summary: String,
        /// Whether the command stops (`error:`) or goes on without them (`warning:`).
        fatal: bool,
    },
    /// The input has a problem told in one sentence (exit 1).
    #[error("{0}")]
    Failed(String),
    /// The command could not run (exit 2).
    #[error("{0}")]
    Run(String),
    /// Writing the output failed; a closed pipe (`| head`) is not an error.
    #[error("{0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The exit code of a run that stopped with this error.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(e) if !e.use_stderr() => Exit::Success,
            CliError::Usage(_) | CliError::Run(_) => Exit::Error,
            CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Exit::Success,
            CliError::Output(_) => Exit::Error,
            CliError::Rules { .. }
            | CliError::Quote { .. }
            | CliError::Refused { .. }
            | CliError::Rows { .. }
            | CliError::Failed(_) => Exit::Failure,
        }
    }

    /// Whether nothing should be said about it (a reader closed the pipe).
    pub fn is_silent(&self) -> bool {
        matches!(self, CliError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

impl std::fmt::Debug for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl From<String> for CliError {
    fn from(message: String) -> Self {
        CliError::Run(message)
    }
}

impl From<serde_json::Error> for CliError {
    fn from(e: serde_json::Error) -> Self {
        match e.io_error_kind() {
            Some(kind) => CliError::Output(kind.into()),
            None => CliError::Run(e.to_string()),
        }
    }
}

/// What a subcommand returns: its exit code, or why it stopped.
pub type CliResult = Result<Exit, CliError>;
