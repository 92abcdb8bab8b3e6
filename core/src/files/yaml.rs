//! All YAML reading and writing in one place, so the YAML library can change here alone.
//!
//! Documents are deserialized with serde_yaml (JSON documents too: JSON is YAML's flow style,
//! and reading both through one parser keeps numbers exact, as text, for `Decimal`). A second
//! pass with yaml-rust2 records where every field was written ([`Positions`]), so an error
//! found after deserializing (an unknown product, a bad date) can still name its line.

use serde::Serialize;
use serde::de::DeserializeOwned;

mod positions;

pub use positions::Positions;

/// A YAML or JSON document that could not be read, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What went wrong.
    pub message: String,
}

/// The deepest nesting of collections read. Tenor's documents nest a few levels (a quote's
/// lines and their fields); the YAML parsers take time quadratic in the depth, so a document
/// nested deeper is refused before they see it.
pub const MAX_DEPTH: usize = 64;

/// Deserializes a YAML (or JSON) document.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, YamlError> {
    if let Some(deep) = too_deep(text) {
        return Err(deep);
    }
    serde_yaml::from_str(text).map_err(|e| {
        let loc = e.location();
        YamlError {
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: clean_message(&e.to_string()),
        }
    })
}

/// Where `text` first nests deeper than [`MAX_DEPTH`]: block levels by indentation and `- `
/// indicators, flow levels by `[` and `{` outside quoted scalars and comments. One pass over
/// the text; a quoted scalar is taken to end with its line, which can only undercount.
fn too_deep(text: &str) -> Option<YamlError> {
    let mut flow = 0usize;
    let mut indents: Vec<usize> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        let indent = line.len() - trimmed.len();
        if flow == 0 && !trimmed.is_empty() && !trimmed.starts_with('#') {
            while indents.last().is_some_and(|&t| t >= indent) {
                indents.pop();
            }
            indents.push(indent);
            let mut rest = trimmed;
            let mut dashes = 0;
            while let Some(r) = rest.strip_prefix("- ") {
                dashes += 1;
                rest = r.trim_start_matches(' ');
            }
            if indents.len() + dashes > MAX_DEPTH {
                return Some(deep_at(i + 1, indent + 1));
            }
        }
        if let Some(col) = flow_scan(line, &mut flow, indents.len()) {
            return Some(deep_at(i + 1, col));
        }
    }
    None
}

/// Follows the flow depth along one line; the 1-based column where it passes [`MAX_DEPTH`].
fn flow_scan(line: &str, flow: &mut usize, block: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut plain = false;
    let mut prev = ' ';
    let mut chars = line.chars().enumerate().peekable();
    while let Some((col, c)) = chars.next() {
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            // `''` is a quote inside a single-quoted scalar, not its end.
            Some('\'') if c == '\'' && chars.peek().is_some_and(|&(_, n)| n == '\'') => {
                chars.next();
            }
            Some(q) if c == q => quote = None,
            Some(_) => {}
            // A plain scalar in block context runs to `: ` or the line's end: its brackets
            // are text.
            None if plain => {
                if c == ':' && chars.peek().is_none_or(|&(_, n)| n.is_whitespace()) {
                    plain = false;
                }
            }
            None if *flow == 0 && !c.is_whitespace() && !"[]{}\"'#-,:?|>&*!%@`".contains(c) => {
                plain = true;
            }
            None => match c {
                '"' | '\'' if prev.is_whitespace() || "[{,:".contains(prev) => quote = Some(c),
                '#' if prev.is_whitespace() => break,
                '[' | '{' => {
                    *flow += 1;
                    if *flow + block > MAX_DEPTH {
                        return Some(col + 1);
                    }
                }
                ']' | '}' => *flow = flow.saturating_sub(1),
                _ => {}
            },
        }
        prev = c;
    }
    None
}

fn deep_at(line: usize, column: usize) -> YamlError {
    YamlError {
        line: Some(line),
        column: Some(column),
        message: format!(
            "the document nests more than {MAX_DEPTH} levels deep here; Tenor's documents nest a few"
        ),
    }
}

/// Serializes a value as YAML.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_yaml::to_string(value).map_err(|e| e.to_string())
}

/// serde_yaml appends " at line L column C" to messages; the location is reported separately.
fn clean_message(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_nested_fields() {
        let text = "quote: Q1\ncustomer:\n  id: C1\nlines:\n  - product: A\n    quantity: 3\n  - product: B\n    quantity: 4\n";
        let p = Positions::of(text);
        assert_eq!(p.get("quote"), Some((1, 1)));
        assert_eq!(p.value("quote"), Some((1, 8)));
        assert_eq!(p.get("customer.id"), Some((3, 3)));
        assert_eq!(p.get("lines[0].product"), Some((5, 5)));
        assert_eq!(p.get("lines[1].quantity"), Some((8, 5)));
        // Unknown sub-path falls back to its parent.
        assert_eq!(p.get("lines[1].usage"), Some((7, 5)));
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused_where_it_passes_it() {
        // Flow: `x: ` then 64 brackets reach 65 levels with the top-level mapping.
        let flow = format!("x: {}{}\n", "[".repeat(64), "]".repeat(64));
        let e = from_str::<serde_yaml::Value>(&flow).unwrap_err();
        assert_eq!((e.line, e.column), (Some(1), Some(4 + 63)));
        assert!(e.message.contains("more than 64 levels"), "{}", e.message);
        let ok = format!("x: {}{}\n", "[".repeat(63), "]".repeat(63));
        assert!(from_str::<serde_yaml::Value>(&ok).is_ok());
        // Block: one more indentation level per line.
        let block: String = (0..70)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        let e = from_str::<serde_yaml::Value>(&block).unwrap_err();
        assert_eq!((e.line, e.column), (Some(65), Some(65)));
        // `- - - …` on one line: a level per indicator.
        let dashes = format!("{}x\n", "- ".repeat(65));
        assert_eq!(
            from_str::<serde_yaml::Value>(&dashes).unwrap_err().line,
            Some(1)
        );
    }

    #[test]
    fn brackets_in_quotes_and_comments_are_not_nesting() {
        let text = format!(
            "a: \"{0}\"\nb: '{0}'\nc: 1 # {0}\nd: [\"]\", 'x''{0}']\ne: it's {0}\n",
            "[".repeat(100)
        );
        // The plain scalar of `e` holds brackets too: YAML reads it as text, so does the check.
        let v: serde_yaml::Value = from_str(&text).unwrap();
        assert_eq!(v["c"], serde_yaml::Value::from(1));
    }

    #[test]
    fn positions_in_json() {
        let text = "{\n  \"quote\": \"Q1\",\n  \"lines\": [\n    {\"product\": \"A\", \"quantity\": 3}\n  ]\n}\n";
        let p = Positions::of(text);
        assert_eq!(p.get("lines[0].product").map(|x| x.0), Some(4));
    }

    #[derive(serde::Deserialize)]
    struct Amounts {
        a: rust_decimal::Decimal,
        b: rust_decimal::Decimal,
    }

    #[test]
    fn decimals_stay_exact_from_yaml_and_json() {
        let y: Amounts = from_str("a: 0.1\nb: \"12.30\"\n").unwrap();
        assert_eq!(y.a.to_string(), "0.1");
        assert_eq!(y.b.to_string(), "12.30");
        let j: Amounts = from_str("{\"a\": 0.0375, \"b\": 12500}").unwrap();
        assert_eq!(j.a.to_string(), "0.0375");
        assert_eq!(j.b.to_string(), "12500");
    }
}
