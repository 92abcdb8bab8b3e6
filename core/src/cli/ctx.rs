//! What every subcommand writes to: the document on standard output, status lines and errors
//! on standard error, in the error format and quietness the command line asked for.

use crate::cli::args::ErrorFormat;
use crate::cli::exit::CliError;
use crate::cli::render::errors::{self, Problem};
use crate::engine::pricing::PriceWarning;
use crate::engine::quote::QuoteFile;
use std::io::Write;
use tenor_dsl::diagnostic::termcolor::WriteColor;

/// The streams of one run and how to write to them.
pub struct Ctx<'a> {
    /// Standard output: the document (table, JSON) and nothing else.
    pub out: &'a mut dyn Write,
    err: &'a mut dyn WriteColor,
    format: ErrorFormat,
    quiet: bool,
    /// In JSON mode, the problems kept for the one document written at the end.
    problems: Vec<Problem>,
}

impl<'a> Ctx<'a> {
    /// A context writing errors as `format`; `quiet` silences status lines and progress.
    pub fn new(
        out: &'a mut dyn Write,
        err: &'a mut dyn WriteColor,
        format: ErrorFormat,
        quiet: bool,
    ) -> Self {
        Ctx {
            out,
            err,
            format,
            quiet,
            problems: Vec::new(),
        }
    }

    /// Whether progress bars may be shown.
    pub fn progress(&self) -> bool {
        !self.quiet && self.format == ErrorFormat::Human
    }

    /// Whether errors are written as JSON.
    pub fn json_errors(&self) -> bool {
        self.format == ErrorFormat::Json
    }

    /// A status line (`wrote …`) on standard error, unless quiet or errors are JSON (then
    /// standard error holds only the error document).
    pub fn status(&mut self, line: std::fmt::Arguments<'_>) {
        if self.progress() {
            let _ = writeln!(self.err, "{line}");
        }
    }

    /// Reports an error now (people) or keeps it for the document (JSON); the run goes on.
    pub fn report(&mut self, e: &CliError) {
        if e.is_silent() {
            return;
        }
        match self.format {
            ErrorFormat::Human => {
                let _ = errors::human(e, self.err);
            }
            ErrorFormat::Json => self.problems.extend(errors::problems(e)),
        }
    }

    /// A warning or note (`level`) that does not stop the command.
    pub fn notice(&mut self, level: &'static str, message: String) {
        self.leveled(level, Problem::new(level, message));
    }

    /// A warning located in a file or field (`p`), which does not stop the command nor change
    /// its exit code; never silenced by `--quiet`.
    pub fn warning(&mut self, p: Problem) {
        self.leveled("warning", p);
    }

    /// `p` at `level`, written now (people) or kept for the document (JSON).
    fn leveled(&mut self, level: &'static str, p: Problem) {
        let p = Problem {
            severity: Some(level),
            ..p
        };
        match self.format {
            ErrorFormat::Human => {
                let _ = errors::problem_line(&p, self.err);
            }
            ErrorFormat::Json => self.problems.push(p),
        }
    }

    /// A line of information on standard error for people (`3 records outside … ignored`);
    /// a note in JSON mode.
    pub fn info(&mut self, message: String) {
        match self.format {
            ErrorFormat::Human => {
                let _ = writeln!(self.err, "{message}");
            }
            ErrorFormat::Json => self.problems.push(Problem {
                severity: Some("note"),
                ..Problem::new("note", message)
            }),
        }
    }

    /// A priced quote's warnings, each at its field: the quote's line and a caret (people) or
    /// `warning` entries of the error document (JSON). Never silenced by `--quiet`.
    pub fn quote_warnings(&mut self, file: &QuoteFile, warnings: &[PriceWarning]) {
        if warnings.is_empty() {
            return;
        }
        match self.format {
            ErrorFormat::Human => {
                let _ = errors::quote_warnings(file, warnings, self.err);
            }
            ErrorFormat::Json => self
                .problems
                .extend(errors::quote_warning_problems(file, warnings)),
        }
    }

    /// Standard error for renderings that write there themselves (rule diagnostics of `fmt`).
    pub fn err(&mut self) -> &mut dyn WriteColor {
        self.err
    }

    /// Writes the JSON error document, if errors are JSON and there were any.
    pub fn finish(&mut self) {
        if !self.problems.is_empty() {
            let _ = self
                .err
                .write_all(errors::document(&self.problems).as_bytes());
            self.problems.clear();
        }
    }
}
