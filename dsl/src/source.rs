//! Source files of a rule set, and line:column lookup for rendering.

use crate::ast::{FileId, Span};
use codespan_reporting::files::{Files, SimpleFiles};

/// The text of every file in a rule set, addressed by [`FileId`].
#[derive(Default)]
pub struct SourceSet {
    files: SimpleFiles<String, String>,
    count: u32,
}

/// A 1-based line and column (columns count characters, not bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl SourceSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file under the name diagnostics will show.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        self.files.add(name.into(), text.into());
        let id = FileId(self.count);
        self.count += 1;
        id
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when no file was added.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every file id, in the order added.
    pub fn ids(&self) -> impl Iterator<Item = FileId> + use<> {
        (0..self.count).map(FileId)
    }

    /// The file's display name.
    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id.0 as usize)
            .map(|f| f.name().as_str())
            .unwrap_or("<unknown>")
    }

    /// The file's text.
    pub fn text(&self, id: FileId) -> &str {
        self.files
            .get(id.0 as usize)
            .map(|f| f.source().as_str())
            .unwrap_or("")
    }

    /// Line and column of a byte offset.
    pub fn line_col(&self, file: FileId, offset: usize) -> LineCol {
        match self.files.location(file.0 as usize, offset) {
            Ok(loc) => LineCol {
                line: loc.line_number,
                column: loc.column_number,
            },
            Err(_) => LineCol { line: 1, column: 1 },
        }
    }

    /// `file:line:col` of a span's start.
    pub fn locate(&self, span: Span) -> String {
        let lc = self.line_col(span.file, span.start);
        format!("{}:{}:{}", self.name(span.file), lc.line, lc.column)
    }

    /// The codespan view of the files, for rendering.
    pub(crate) fn files(&self) -> &SimpleFiles<String, String> {
        &self.files
    }
}
