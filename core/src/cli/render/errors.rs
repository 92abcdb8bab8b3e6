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
///
/// At most [`SHOWN_ALIKE`] warnings of one code are shown, then one line says how many more
/// there are: a quote with 90,000 lines starting before its date gets ten examples and a count,
/// not 90,000 carets (the JSON error document lists every one, for a program to go through).
pub fn quote_warnings(
    file: &QuoteFile,
    warnings: &[PriceWarning],
    err: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let mut alike: Vec<(&'static str, usize)> = Vec::new();
    let mut located_at: Vec<(QuoteError, &'static str)> = Vec::new();
    for w in warnings {
        let seen = match alike.iter_mut().find(|(code, _)| *code == w.code) {
            Some((_, n)) => n,
            None => {
                alike.push((w.code, 0));
                match alike.last_mut() {
                    Some((_, n)) => n,
                    None => continue,
                }
            }
        };
        *seen += 1;
        if *seen <= SHOWN_ALIKE {
            located_at.push((warning_at(file, w), w.code));
        }
    }
    located(
        Some((&file.name, &file.text)),
        located_at.iter().map(|(e, code)| (e, Some(*code))),
        err,
    )?;
    for (code, n) in alike {
        if n > SHOWN_ALIKE {
            let more = n - SHOWN_ALIKE;
            writeln!(
                err,
                "warning: … and {more} more `{code}` warning{} like these, not shown (`--error-format json` lists every one)",
                if more == 1 { "" } else { "s" }
            )?;
        }
    }
    writeln!(
        err,
        "warning: the quote has {}; it was priced as written",
        crate::cli::render::count(warnings.len() as u64, "warning")
    )
}

/// How many warnings of one code a person is shown before the rest are counted.
pub const SHOWN_ALIKE: usize = 10;

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
    let problems: Vec<_> = problems.collect();
    let wanted: Vec<Option<(usize, usize)>> = problems
        .iter()
        .map(|(e, _)| e.line.map(|l| (l, e.column.unwrap_or(1))))
        .collect();
    let places = file.map_or_else(Vec::new, |(_, text)| places(text, &wanted));
    let mut excerpts = Vec::new();
    let mut diags = Vec::new();
    for (i, (e, warning)) in problems.iter().enumerate() {
        match (file, places.get(i).copied().flatten(), warning) {
            (Some((name, text)), Some(place), _) => {
                let id = tenor_dsl::FileId(excerpts.len() as u32);
                let (x, end) = excerpt(name, text, place);
                let d = quote_diagnostic(id, x.anchor.0, end, e);
                excerpts.push(x);
                diags.push(match warning {
                    Some(code) => Diagnostic {
                        severity: Severity::Warning,
                        code,
                        ..d
                    },
                    None => d,
                });
            }
            (.., None) => writeln!(err, "{e}")?,
            (.., Some(_)) => writeln!(err, "{}: warning: {}", e.file, e.message)?,
        }
    }
    diagnostic::render_excerpts(&excerpts, &diags, err)
}

/// The most characters of one line shown under a problem.
const SHOWN_LINE: usize = 160;

/// How many characters before its caret a window of a longer line shows.
const SHOWN_BEFORE: usize = 40;

/// Where a problem is in its file: the bytes of its line (without the line break), the byte
/// its column falls on (the line's end when the column is past it), its 1-based line and
/// that column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Place {
    line: (usize, usize),
    at: usize,
    number: usize,
    column: usize,
}

/// Where each wanted 1-based (line, column in characters) of `text` is, found in one pass
/// over the text however many problems share a line (a one-line JSON quote with 100,000
/// warnings is read once, not once a warning); a line past the end is not found.
fn places(text: &str, wanted: &[Option<(usize, usize)>]) -> Vec<Option<Place>> {
    let mut order: Vec<(usize, (usize, usize))> = wanted
        .iter()
        .enumerate()
        .filter_map(|(i, w)| w.map(|w| (i, w)))
        .collect();
    order.sort_by_key(|&(i, w)| (w, i));
    let mut found = vec![None; wanted.len()];
    // The cursor: the line it is on (1-based), that line's bytes, and a character column
    // with the byte it starts at; it only moves forward.
    let mut number = 1;
    let mut line = (0, line_end(text, 0));
    let mut cursor = (1, 0);
    for (i, (want_line, want_col)) in order {
        while number < want_line && line.1 < text.len() {
            let next = text
                .get(line.1..)
                .and_then(|rest| rest.find('\n'))
                .map_or(text.len(), |n| line.1 + n + 1);
            number += 1;
            line = (next, line_end(text, next));
            cursor = (1, next);
        }
        if number != want_line {
            continue;
        }
        let body = text.get(cursor.1..line.1).unwrap_or("");
        let mut chars = body.char_indices();
        while cursor.0 < want_col.max(1) {
            match chars.next() {
                Some((_, c)) => cursor = (cursor.0 + 1, cursor.1 + c.len_utf8()),
                None => break,
            }
        }
        if let Some(slot) = found.get_mut(i) {
            *slot = Some(Place {
                line,
                at: cursor.1,
                number,
                column: cursor.0,
            });
        }
    }
    found
}

/// Where the line starting at byte `start` ends, before its line break.
fn line_end(text: &str, start: usize) -> usize {
    text.get(start..)
        .and_then(|rest| rest.find(['\n', '\r']))
        .map_or(text.len(), |n| start + n)
}

/// What is shown of a problem's line: all of it when it holds at most [`SHOWN_LINE`]
/// characters, else a window of that many marked `…` where it was cut — the line's start
/// when the caret falls in it (as long lines always were shown), else [`SHOWN_BEFORE`]
/// characters before the caret and the rest after. The work is bounded by the window, not
/// the line: an 8 MB line costs the same as a short one. With it, where its caret ends: the
/// end of a whole line, or of the field in a window (`"start":"2026-01-01"`, not the rest of
/// a window of other fields).
fn excerpt(name: &str, text: &str, place: Place) -> (tenor_dsl::diagnostic::Excerpt, usize) {
    let body = text.get(place.line.0..place.line.1).unwrap_or("");
    let at = place.at.saturating_sub(place.line.0).min(body.len());
    let nth = |s: &str, n: usize| s.char_indices().nth(n).map(|(b, _)| b);
    let Some(cut) = nth(body, SHOWN_LINE) else {
        let x = tenor_dsl::diagnostic::Excerpt {
            name: name.to_string(),
            text: body.to_string(),
            line: place.number,
            anchor: (at, place.column),
        };
        return (x, body.len());
    };
    let head = nth(body, SHOWN_LINE - SHOWN_BEFORE).unwrap_or(cut);
    let (from, lead) = if at < head {
        (0, "")
    } else {
        let before = body.get(..at).unwrap_or("");
        let from = before
            .char_indices()
            .rev()
            .nth(SHOWN_BEFORE - 1)
            .map_or(0, |(b, _)| b);
        (from, "…")
    };
    let rest = body.get(from..).unwrap_or("");
    let shown = SHOWN_LINE - if lead.is_empty() { 0 } else { SHOWN_BEFORE };
    let window = match nth(rest.get(at - from..).unwrap_or(""), shown) {
        Some(n) if !lead.is_empty() => rest.get(..at - from + n),
        _ if lead.is_empty() => rest.get(..cut),
        _ => Some(rest),
    }
    .unwrap_or(rest);
    let tail = if from + window.len() < body.len() {
        "…"
    } else {
        ""
    };
    let anchor = lead.len() + at - from;
    let text = format!("{lead}{window}{tail}");
    let end = anchor + field_len(text.get(anchor..).unwrap_or(""));
    let x = tenor_dsl::diagnostic::Excerpt {
        name: name.to_string(),
        text,
        line: place.number,
        anchor: (anchor, place.column),
    };
    (x, end)
}

/// The bytes of `s` up to the first `,`, `}` or `]` outside a quoted string: the field and
/// its value when `s` starts at a field of flow or JSON text; all of `s` when none is found.
fn field_len(s: &str) -> usize {
    let (mut quoted, mut escaped) = (None, false);
    for (i, c) in s.char_indices() {
        match (quoted, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some('"'), '\\') => escaped = true,
            (Some(q), c) if c == q => quoted = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quoted = Some(c),
            (None, ',' | '}' | ']') => return i,
            (None, _) => {}
        }
    }
    s.len()
}

/// A quote error as a diagnostic underlining the rest of its excerpt from `start`.
fn quote_diagnostic(id: tenor_dsl::FileId, start: usize, end: usize, e: &QuoteError) -> Diagnostic {
    let label = if e.field.is_empty() {
        "here".to_string()
    } else {
        format!("field `{}`", display_path(&e.field))
    };
    let d = Diagnostic::new("quote", e.message.clone(), Span::new(id, start, end), label);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_found_whatever_order_they_are_asked_in() {
        // Line 2 holds a two-byte character before its third column.
        let text = "ab\néxy\r\nlast";
        let got = places(
            text,
            &[Some((2, 3)), None, Some((1, 2)), Some((3, 9)), Some((4, 1))],
        );
        let at = |p: Option<Place>| p.map(|p| (p.number, p.column, p.at, p.line));
        assert_eq!(at(got[0]), Some((2, 3, 6, (3, 7))));
        assert_eq!(at(got[1]), None);
        assert_eq!(at(got[2]), Some((1, 2, 1, (0, 2))));
        // A column past the end of its line stops at the end; a line past the file is not found.
        assert_eq!(at(got[3]), Some((3, 5, 13, (9, 13))));
        assert_eq!(at(got[4]), None);
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_its_caret() {
        let line = format!(
            "{}\"start\":\"2026-01-01\",{}",
            "x".repeat(1_000),
            "y".repeat(1_000)
        );
        let p = places(&line, &[Some((1, 1_001))])[0].unwrap();
        let (x, end) = excerpt("q.json", &line, p);
        assert_eq!(x.text.chars().count(), 2 + SHOWN_LINE);
        assert!(x.text.starts_with('…') && x.text.ends_with('…'));
        assert_eq!(&x.text[x.anchor.0..end], "\"start\":\"2026-01-01\"");
        assert_eq!((x.line, x.anchor.1), (1, 1_001));
        // A caret near the start keeps the line's start, cut once.
        let p = places(&line, &[Some((1, 3))])[0].unwrap();
        let (x, _) = excerpt("q.json", &line, p);
        assert_eq!(x.text, format!("{}…", "x".repeat(SHOWN_LINE)));
    }
}
