//! A problem as data: one entry of a `tenor.error/1` document, whatever reported it.

use serde::Serialize;

/// One problem as data: the entries of a `tenor.error/1` document.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// A stable code (`tier-order`, `quote`, `accept`, `usage`, `io` …).
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// `warning` or `note` for what does not stop the command; absent for errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
    /// The file at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Its 1-based line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Its 1-based column.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub col: Option<u64>,
    /// The field at fault, as a path (`lines[2].product`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Problem {
    /// A problem with only a code and a message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Problem {
            code: code.to_string(),
            message: message.into(),
            ..Problem::default()
        }
    }

    /// The same with a file.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The same with a help text.
    pub fn with_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }
}
