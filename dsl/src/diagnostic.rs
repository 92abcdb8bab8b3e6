//! Diagnostics: what went wrong, where, and how to fix it; rendered for people or as JSON.

use crate::ast::Span;
use crate::source::SourceSet;
use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
/// The terminal colour support diagnostics are written with.
pub use codespan_reporting::term::termcolor;
use codespan_reporting::term::{self, termcolor::WriteColor};
use serde::Serialize;

/// How serious a diagnostic is: an error stops the rule set from loading, a warning does not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The rule set is wrong.
    #[default]
    Error,
    /// The rule set loads, but probably does not say what was meant.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as printed and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a rule set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// A stable kebab-case code, listed in LANGUAGE.md (`unknown-name`, `syntax`…).
    pub code: &'static str,
    /// What is wrong: lowercase, no trailing period, user input in backticks.
    pub message: String,
    /// Where.
    pub span: Span,
    /// Text under the caret.
    pub label: String,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
    /// Other places that explain this one (the first definition of a duplicate…).
    pub related: Vec<(Span, String)>,
}

impl Diagnostic {
    /// A diagnostic with a code, message, span and label.
    pub fn new(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            message: message.into(),
            span,
            label: label.into(),
            help: None,
            related: Vec::new(),
        }
    }

    /// A warning with a code, message, span and label.
    pub fn warning(
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        label: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::new(code, message, span, label)
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a help line when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Self {
        if help.is_some() {
            self.help = help;
        }
        self
    }

    /// Points at another place that explains this one.
    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }
}

/// Sorts diagnostics by file, then position, so output is stable whatever order checks ran in.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| {
        (a.span.file, a.span.start, a.span.end, a.code, &a.message).cmp(&(
            b.span.file,
            b.span.start,
            b.span.end,
            b.code,
            &b.message,
        ))
    });
}

/// Writes diagnostics for people: `error[code]: message` (or `warning[code]`), `file:line:col`, the source line and
/// a caret. Colour is the writer's choice; tests use a plain writer.
pub fn render_human(
    sources: &SourceSet,
    diags: &[Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    emit(sources.files(), diags, out)
}

/// One source line, or a window of it, shown under a diagnostic about a file that is not read
/// as rules (a quote): a diagnostic whose span names excerpt `i` (`FileId(i)`) is shown under
/// `text`, with spans as byte offsets into `text`, and located at the file's real line and
/// column, so a megabyte line is shown as the few characters around its caret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// The file name as given.
    pub name: String,
    /// What is shown of the line: all of it, or a window marked `…` where it was cut.
    pub text: String,
    /// The 1-based line of the file the excerpt comes from.
    pub line: usize,
    /// A byte offset into `text` and the 1-based column (in characters) of the file it stands
    /// for: columns elsewhere in the excerpt are counted from it.
    pub anchor: (usize, usize),
}

/// Writes diagnostics for people as [`render_human`] does, each under its [`Excerpt`].
pub fn render_excerpts(
    excerpts: &[Excerpt],
    diags: &[Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    emit(&Excerpts(excerpts), diags, out)
}

/// Excerpts as the files codespan renders: one line each, numbered as in the file they come
/// from.
struct Excerpts<'e>(&'e [Excerpt]);

impl Excerpts<'_> {
    fn get(&self, id: usize) -> Result<&Excerpt, codespan_reporting::files::Error> {
        self.0
            .get(id)
            .ok_or(codespan_reporting::files::Error::FileMissing)
    }
}

impl<'a> codespan_reporting::files::Files<'a> for Excerpts<'_> {
    type FileId = usize;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: usize) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(self.get(id)?.name.as_str())
    }

    fn source(&'a self, id: usize) -> Result<&'a str, codespan_reporting::files::Error> {
        Ok(self.get(id)?.text.as_str())
    }

    fn line_index(&'a self, _: usize, _: usize) -> Result<usize, codespan_reporting::files::Error> {
        Ok(0)
    }

    fn line_number(
        &'a self,
        id: usize,
        _: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        Ok(self.get(id)?.line)
    }

    fn column_number(
        &'a self,
        id: usize,
        _: usize,
        byte_index: usize,
    ) -> Result<usize, codespan_reporting::files::Error> {
        let e = self.get(id)?;
        let (at, column) = e.anchor;
        let between = |a: usize, b: usize| e.text.get(a..b).map_or(0, |t| t.chars().count());
        Ok(if byte_index >= at {
            column + between(at, byte_index)
        } else {
            column.saturating_sub(between(byte_index, at))
        })
    }

    fn line_range(
        &'a self,
        id: usize,
        _: usize,
    ) -> Result<std::ops::Range<usize>, codespan_reporting::files::Error> {
        Ok(0..self.get(id)?.text.len())
    }
}

/// Writes each diagnostic through codespan, whatever holds the files.
fn emit<'f>(
    files: &'f impl codespan_reporting::files::Files<'f, FileId = usize>,
    diags: &[Diagnostic],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let config = term::Config::default();
    for d in diags {
        let mut labels = vec![
            Label::primary(d.span.file.0 as usize, d.span.start..d.span.end)
                .with_message(d.label.clone()),
        ];
        for (span, msg) in &d.related {
            labels.push(
                Label::secondary(span.file.0 as usize, span.start..span.end)
                    .with_message(msg.clone()),
            );
        }
        let level = match d.severity {
            Severity::Error => codespan_reporting::diagnostic::Severity::Error,
            Severity::Warning => codespan_reporting::diagnostic::Severity::Warning,
        };
        let mut cs = CsDiagnostic::new(level)
            .with_code(d.code)
            .with_message(d.message.clone())
            .with_labels(labels);
        if let Some(help) = &d.help {
            cs = cs.with_notes(vec![format!("help: {help}")]);
        }
        term::emit(out, &config, files, &cs).map_err(std::io::Error::other)?;
    }
    Ok(())
}

/// Renders diagnostics for people into a string without colour.
pub fn render_plain(sources: &SourceSet, diags: &[Diagnostic]) -> String {
    let mut buf = term::termcolor::NoColor::new(Vec::new());
    // Writing into memory cannot fail; a rendering error would only lose text, never panic.
    let _ = render_human(sources, diags, &mut buf);
    String::from_utf8_lossy(&buf.into_inner()).into_owned()
}

/// A diagnostic as JSON for editors and CI.
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    /// `error` or `warning`.
    pub severity: &'static str,
    /// The stable code.
    pub code: &'static str,
    /// The message.
    pub message: &'a str,
    /// The file name as given.
    pub file: &'a str,
    /// 1-based line of the start.
    pub line: usize,
    /// 1-based column of the start.
    pub column: usize,
    /// 1-based line of the end.
    pub end_line: usize,
    /// 1-based column of the end.
    pub end_column: usize,
    /// The label under the caret.
    pub label: &'a str,
    /// The help line, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<&'a str>,
}

/// Converts diagnostics to their JSON form.
pub fn to_json<'a>(sources: &'a SourceSet, diags: &'a [Diagnostic]) -> Vec<JsonDiagnostic<'a>> {
    diags
        .iter()
        .map(|d| {
            let start = sources.line_col(d.span.file, d.span.start);
            let end = sources.line_col(d.span.file, d.span.end);
            JsonDiagnostic {
                severity: d.severity.as_str(),
                code: d.code,
                message: &d.message,
                file: sources.name(d.span.file),
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                label: &d.label,
                help: d.help.as_deref(),
            }
        })
        .collect()
}

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| {
            // Allow about one edit in three characters, at least one, and never a rewrite of
            // the whole word (`x` is not a typo of `y`).
            let len = c.chars().count().min(name.chars().count());
            let limit = (c.chars().count().max(name.chars().count()) / 3).max(1);
            *d <= limit && *d < len
        })
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c)
}
