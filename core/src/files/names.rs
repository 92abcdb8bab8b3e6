//! Names that become file names: quote ids, plugin names, and each component of an exported
//! path. Only plain names reach the file system: ASCII letters, digits, `-`, `_` and `.`, no
//! leading dot (no `..`, no hidden files, no separators), and a bounded length.

/// The longest id (a quote id, a plugin name).
pub const MAX_ID: usize = 64;

/// The longest file name most file systems accept.
pub const MAX_FILE_NAME: usize = 255;

/// Which rule a name breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Nothing at all.
    #[error("it is empty")]
    Empty,
    /// Longer than allowed.
    #[error("it is {len} characters long, more than the {max} allowed")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character outside letters, digits, `-`, `_` and `.`.
    #[error(
        "it holds `{ch}` (character {at}); only ASCII letters, digits, `-`, `_` and `.` are allowed"
    )]
    BadChar {
        /// The character.
        ch: char,
        /// Its position, from 1.
        at: usize,
    },
    /// Starts with a dot (a hidden file, `.` or `..`).
    #[error("it starts with `.`")]
    LeadingDot,
}

/// Checks an id that becomes part of file names: 1 to 64 ASCII letters, digits, `-`, `_` or
/// `.`, not starting with a dot.
pub fn validate_id(id: &str) -> Result<(), NameError> {
    validate(id, MAX_ID)
}

/// Checks one component of a path Tenor writes (`SO-Q-1001.json`, a plugin's file name): the
/// characters of an id, up to 255 of them.
pub fn validate_file_name(name: &str) -> Result<(), NameError> {
    validate(name, MAX_FILE_NAME)
}

fn validate(s: &str, max: usize) -> Result<(), NameError> {
    if s.is_empty() {
        return Err(NameError::Empty);
    }
    if let Some((i, ch)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(NameError::BadChar { ch, at: i + 1 });
    }
    // Only ASCII from here: bytes are characters.
    if s.len() > max {
        return Err(NameError::TooLong { len: s.len(), max });
    }
    if s.starts_with('.') {
        return Err(NameError::LeadingDot);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_pass() {
        for id in ["Q-1001", "q_1.2", "A", &"x".repeat(64)] {
            assert_eq!(validate_id(id), Ok(()), "{id}");
        }
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(validate_id(""), Err(NameError::Empty));
        assert_eq!(
            validate_id(&"x".repeat(65)),
            Err(NameError::TooLong { len: 65, max: 64 })
        );
        assert_eq!(
            validate_id("x/../../escaped"),
            Err(NameError::BadChar { ch: '/', at: 2 })
        );
        assert_eq!(validate_id(".."), Err(NameError::LeadingDot));
        assert_eq!(validate_id(".hidden"), Err(NameError::LeadingDot));
        assert_eq!(
            validate_id("Q 1"),
            Err(NameError::BadChar { ch: ' ', at: 2 })
        );
        assert_eq!(
            validate_id("Qé"),
            Err(NameError::BadChar { ch: 'é', at: 2 })
        );
        assert_eq!(
            validate_id("a\\b"),
            Err(NameError::BadChar { ch: '\\', at: 2 })
        );
        assert!(validate_file_name(&"x".repeat(255)).is_ok());
        assert!(validate_file_name(&"x".repeat(256)).is_err());
    }
}
