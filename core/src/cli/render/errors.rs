//! Errors for people (source lines with carets, `error:` lines) and as one `tenor.error/1`
//! JSON document for editors and CI.

use crate::cli::exit::CliError;
use crate::engine::pricing::PriceWarning;
use crate::engine::quote::{QuoteError, QuoteFile};
use serde::Serialize;
use std::io::Write;
use tenor_dsl::diagnostic::{self, termcolor::WriteColor};
use tenor_dsl::{Diagnostic, Severity, SourceSet, Span};

pub use crate::cli::problem::Problem;

/// The `tenor.error/1` document holding `problems`, pretty-printed, with a final newline.
pub fn document(problems: &[Problem]) -> String {
    /// The document, its schema first.
    #[derive(Serialize)]
    struct Doc<'a> {
        schema: &'static str,
        errors: &'a [Problem],
    }
    let doc = Doc {
        schema: "tenor.error/1",
        errors: problems,
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// The problems an error stands for, as data.
pub fn problems(e: &CliError) -> Vec<Problem> {
    match e {
        CliError::Usage(u) => {
            let text = u.render().to_string();
            let first = text.lines().next().unwrap_or_default();
            vec![Problem::new(
                "usage",
                first.trim_start_matches("error: ").trim(),
            )]
        }
        CliError::Rules { sources, diags, .. } => rule_problems(sources, diags),
        CliError::Quote { errors, .. } => errors.iter().map(quote_problem).collect(),
        CliError::Refused { problems, .. } => problems.clone(),
        CliError::Rows {
            file,
            errors,
            fatal,
            ..
        } => errors
            .iter()
            .map(|r| Problem {
                severity: (!fatal).then_some("warning"),
                line: Some(r.line),
                field: r.field.map(str::to_string),
                ..Problem::new("usage-row", r.message.clone()).in_file(file.clone())
            })
            .collect(),
        CliError::Failed(m) => vec![Problem::new("input", m.clone())],
        CliError::Run(m) => vec![Problem::new("error", m.clone())],
        CliError::Output(io) => vec![Problem::new("io", io.to_string())],
    }
}

/// Rule diagnostics as problems.
fn rule_problems(sources: &SourceSet, diags: &[Diagnostic]) -> Vec<Problem> {
    diagnostic::to_json(sources, diags)
        .into_iter()
        .map(|d| Problem {
            line: Some(d.line as u64),
            col: Some(d.column as u64),
            help: d.help.map(str::to_string),
            ..Problem::new(d.code, d.message).in_file(d.file)
        })
        .collect()
}

/// A quote error as a problem.
fn quote_problem(e: &QuoteError) -> Problem {
    Problem {
        line: e.line.map(|l| l as u64),
        col: e.column.map(|c| c as u64),
        field: (!e.field.is_empty()).then(|| e.field.clone()),
        help: e.help.clone(),
        ..Problem::new("quote", e.message.clone()).in_file(e.file.clone())
    }
}

/// Writes an error for people, as the commands always have.
pub fn human(e: &CliError, err: &mut dyn WriteColor) -> std::io::Result<()> {
    match e {
        CliError::Usage(u) => write!(err, "{}", u.render()),
        CliError::Rules {
            sources,
            diags,
            summary,
        } => {
            diagnostic::render_human(sources, diags, err)?;
            writeln!(err, "error: {summary}")
        }
        CliError::Quote { file, errors } => {
            let file = file.as_ref().map(|(n, t)| (n.as_str(), t.as_str()));
            quote_errors(file, errors, err)
        }
        CliError::Refused { problems, summary } => {
            for p in problems {
                problem_line(p, err)?;
            }
            match summary {
                Some(s) => writeln!(err, "error: {s}"),
                None => Ok(()),
            }
        }
        CliError::Rows {
            file: source,
            errors,
            total,
            summary,
            fatal,
        } => {
            for e in errors {
                writeln!(err, "{source}:{e}")?;
            }
            let more = total.saturating_sub(errors.len() as u64);
            if more > 0 {
                let shown = crate::cli::render::count(more, "more bad row");
                writeln!(err, "… and {shown} not shown")?;
            }
            let level = if *fatal { "error" } else { "warning" };
            writeln!(err, "{level}: {summary}")
        }
        CliError::Failed(m) | CliError::Run(m) => writeln!(err, "error: {m}"),
        CliError::Output(io) => writeln!(err, "error: {io}"),
    }
}

/// `error: FILE: line N: MESSAGE` and its help, for one problem.
pub fn problem_line(p: &Problem, err: &mut dyn Write) -> std::io::Result<()> {
    let level = p.severity.unwrap_or("error");
    write!(err, "{level}: ")?;
    if let Some(f) = &p.file {
        write!(err, "{f}: ")?;
    }
    if let Some(l) = p.line {
        write!(err, "line {l}: ")?;
    }
    writeln!(err, "{}", p.message)?;
    if let Some(h) = &p.help {
        writeln!(err, "  help: {h}")?;
    }
    Ok(())
}

/// Renders quote errors with the quote's own line and a caret, like rule diagnostics.
fn quote_errors(
    file: Option<(&str, &str)>,
    errors: &[QuoteError],
    err: &mut dyn WriteColor,
) -> std::io::Result<()> {
    located(file, errors.iter().map(|e| (e, None)), err)?;
    writeln!(
        err,
        "error: the quote has {} problem{}; nothing was priced",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )
}

/// A priced quote's warnings for people: each at its field with the quote's line and a caret,
/// labelled `warning`, then a closing `warning:` line.
pub fn quote_warnings(
    file: &QuoteFile,
    warnings: &[PriceWarning],
    err: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let located_at: Vec<(QuoteError, &'static str)> = warnings
        .iter()
        .map(|w| (warning_at(file, w), w.code))
        .collect();
    located(
        Some((&file.name, &file.text)),
        located_at.iter().map(|(e, code)| (e, Some(*code))),
        err,
    )?;
    writeln!(
        err,
        "warning: the quote has {}; it was priced as written",
        crate::cli::render::count(warnings.len() as u64, "warning")
    )
}

/// A priced quote's warnings as `warning` problems of the error document.
pub fn quote_warning_problems(file: &QuoteFile, warnings: &[PriceWarning]) -> Vec<Problem> {
    warnings
        .iter()
        .map(|w| Problem {
            code: w.code.to_string(),
            severity: Some("warning"),
            ..quote_problem(&warning_at(file, w))
        })
        .collect()
}

/// Where in the quote file a warning's field is written.
fn warning_at(file: &QuoteFile, w: &PriceWarning) -> QuoteError {
    file.error(&w.field, w.message.clone(), w.help.clone())
}

/// Problems located in a file other than a quote (an expectation file), each under its line
/// with a caret, with no closing line.
pub fn file_errors(
    file: (&str, &str),
    errors: &[QuoteError],
    err: &mut dyn WriteColor,
) -> std::io::Result<()> {
    located(Some(file), errors.iter().map(|e| (e, None)), err)
}

/// Writes quote problems at their lines with a caret: errors, or warnings (those with a code).
/// A problem whose line is not known is written on one line.
fn located<'e>(
    file: Option<(&str, &str)>,
    problems: impl Iterator<Item = (&'e QuoteError, Option<&'static str>)>,
    err: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let mut sources = SourceSet::new();
    // What is shown of the file: its overlong lines clipped (a 1 MB line is not printed back).
    let shown = file.map(|(name, text)| (name, clip_long_lines(text)));
    let file = shown.as_ref().map(|(name, text)| (*name, text.as_ref()));
    let id = file.map(|(name, text)| sources.add(name, text));
    let starts = file.map(|(_, text)| line_starts(text)).unwrap_or_default();
    let mut diags = Vec::new();
    for (e, warning) in problems {
        match (id, file, e.line, warning) {
            (Some(id), Some((_, text)), Some(line), None) => {
                diags.push(quote_diagnostic(id, (text, &starts), line, e))
            }
            (Some(id), Some((_, text)), Some(line), Some(code)) => diags.push(Diagnostic {
                severity: Severity::Warning,
                code,
                ..quote_diagnostic(id, (text, &starts), line, e)
            }),
            (.., None) => writeln!(err, "{e}")?,
            (.., Some(_)) => writeln!(err, "{}: warning: {}", e.file, e.message)?,
        }
    }
    diagnostic::render_human(&sources, &diags, err)
}

/// The most characters of one line shown under a problem.
const SHOWN_LINE: usize = 160;

/// `text` with every line longer than [`SHOWN_LINE`] characters cut there and marked `…`: line
/// numbers stay, and a column beyond the cut lands on the mark.
fn clip_long_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.lines().any(|l| l.len() > SHOWN_LINE) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(1 << 20));
    for l in text.split_inclusive('\n') {
        let body = l.trim_end_matches(['\n', '\r']);
        match body.char_indices().nth(SHOWN_LINE) {
            Some((cut, _)) => {
                out.push_str(body.get(..cut).unwrap_or(body));
                out.push('…');
                out.push_str(l.get(body.len()..).unwrap_or(""));
            }
            None => out.push_str(l),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A quote error as a diagnostic underlining the rest of its line.
fn quote_diagnostic(
    id: tenor_dsl::FileId,
    (text, starts): (&str, &[usize]),
    line: usize,
    e: &QuoteError,
) -> Diagnostic {
    let start = byte_offset(text, starts, line, e.column.unwrap_or(1));
    let width = text
        .get(start..)
        .map(|rest| rest.find(['\n', '\r']).unwrap_or(rest.len()))
        .unwrap_or(0);
    let label = if e.field.is_empty() {
        "here".to_string()
    } else {
        format!("field `{}`", display_path(&e.field))
    };
    let d = Diagnostic::new(
        "quote",
        e.message.clone(),
        Span::new(id, start, start + width),
        label,
    );
    match &e.help {
        Some(h) => d.with_help(h.clone()),
        None => d,
    }
}

/// `lines[2].product` as people count: `lines[3].product` is line 3.
fn display_path(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("lines[") {
        if let Some((n, tail)) = rest.split_once(']') {
            if let Ok(i) = n.parse::<usize>() {
                return format!(
                    "line {}{}",
                    i + 1,
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!(" {}", tail.trim_start_matches('.'))
                    }
                );
            }
        }
    }
    path.to_string()
}

/// The byte offset of a 1-based line and column in `text`.
/// Byte offset of a 1-based line and column (in characters) of `text`, from the offsets
/// where its lines start (`line_starts`): one index for all of a file's problems, so that
/// locating N problems costs N, not N × the file.
fn byte_offset(text: &str, starts: &[usize], line: usize, column: usize) -> usize {
    let Some(&begin) = starts.get(line.saturating_sub(1)) else {
        return text.len();
    };
    let rest = text.get(begin..).unwrap_or("");
    let this = rest.split_inclusive('\n').next().unwrap_or("");
    let col: usize = this
        .chars()
        .take(column.saturating_sub(1))
        .map(char::len_utf8)
        .sum();
    begin + col
}

/// Where each line of `text` starts.
fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len() || i == 0)
        .collect()
}
