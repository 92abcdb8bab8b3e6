//! The quote file: what a salesperson sold, as YAML or JSON (same schema). See `core/QUOTES.md`.

use crate::files::yaml::{self, Positions};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;

mod runs;
pub use runs::{QuoteRuns, Runs};

/// A quote as written.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quote {
    /// The quote's id (`Q-1001`); document ids derive from it.
    pub quote: String,
    /// The day the quote was issued.
    pub date: NaiveDate,
    /// ISO 4217 code; must be the rule set's currency.
    pub currency: String,
    /// Who it is for.
    pub customer: Customer,
    /// What is sold.
    pub lines: Vec<QuoteLine>,
}

/// The customer of a quote.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// The customer's id in the PSA.
    pub id: String,
    /// Display name.
    pub name: String,
    /// One segment for discount conditions (`segment: nonprofit`): shorthand for a
    /// one-item `segments`; a quote gives one or the other.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Segments for discount conditions (`segments: [nonprofit, education]`); each must be
    /// declared in the rules (`segment nonprofit "…"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<String>,
    /// This quote is the customer's first order (`new: true`), for welcome offers
    /// (`when customer is new`). Stated on the quote until it is derived from the record.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub new: bool,
    /// Anniversary as `MM-DD`, the anchor of co-term policies on the customer anniversary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anniversary: Option<MonthDay>,
    /// Subscriptions the customer already has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscriptions: Vec<ExistingSubscription>,
}

impl Customer {
    /// Every segment the customer holds, the `segment` shorthand first, each with the field
    /// it is written in (`customer.segment`, `customer.segments[1]`).
    pub fn segment_fields(&self) -> impl Iterator<Item = (String, &str)> {
        let short = self
            .segment
            .iter()
            .map(|s| ("customer.segment".to_string(), s.as_str()));
        let listed = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("customer.segments[{i}]"), s.as_str()));
        short.chain(listed)
    }

    /// Whether the customer holds `segment`, under either spelling of the field.
    pub fn holds_segment(&self, segment: &str) -> bool {
        self.segment.as_deref() == Some(segment) || self.segments.iter().any(|s| s == segment)
    }

    /// The customer's segments in words for `explain`: `` `a`, `b` ``, or `none`.
    pub fn segments_text(&self) -> String {
        let all: Vec<String> = self
            .segment
            .iter()
            .chain(self.segments.iter())
            .map(|s| format!("`{s}`"))
            .collect();
        if all.is_empty() {
            "none".to_string()
        } else {
            all.join(", ")
        }
    }
}

/// A subscription the customer already holds.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingSubscription {
    /// Its id at the distributor or vendor, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Product SKU.
    pub product: String,
    /// Seats held.
    pub quantity: Decimal,
    /// Its term (`P1Y`).
    pub term: String,
    /// The last day of its current term (inclusive).
    pub ends: NaiveDate,
}

/// One line of a quote.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QuoteLine {
    /// Product or bundle SKU.
    pub product: String,
    /// Units sold (seats, devices, hours…); must be above zero.
    pub quantity: Decimal,
    /// Commitment term (`P1M`, `P1Y`, `P3Y`, `one-time`).
    pub term: String,
    /// Billing frequency (`monthly`, `quarterly`, `annual`, `upfront`); may be left out for
    /// one-time items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing: Option<String>,
    /// First day of service.
    #[serde(deserialize_with = "start_date")]
    pub start: NaiveDate,
    /// Co-term policy to use instead of the rule set's choice, or `none` for no co-terming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coterm: Option<String>,
    /// A manual discount: `10%` off every charge, or an amount (`50.00`) off the first charge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<ManualDiscount>,
    /// Estimated usage per billing period, for metered products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Decimal>,
}

/// A line's start date as chrono reads one, with `YYYY-MM-DD` taken apart by hand first:
/// chrono's general date parser is a tenth of reading a large JSON quote. Anything else, and
/// a day that does not exist, goes to chrono, so values and errors stay chrono's.
fn start_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = NaiveDate;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            // chrono's words, as its own visitor writes them.
            f.write_str("a formatted date string")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NaiveDate, E> {
            match iso_date(v) {
                Some(date) => Ok(date),
                None => v.parse().map_err(E::custom),
            }
        }
    }
    d.deserialize_str(Visitor)
}

/// `YYYY-MM-DD` exactly (ten ASCII characters, a real day), else `None`.
fn iso_date(v: &str) -> Option<NaiveDate> {
    let b: &[u8; 10] = v.as_bytes().try_into().ok()?;
    let num = |digits: &[u8]| {
        digits.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *b else {
        return None;
    };
    let year = i32::try_from(num(&[y0, y1, y2, y3])?).ok()?;
    NaiveDate::from_ymd_opt(year, num(&[m0, m1])?, num(&[d0, d1])?)
}

/// A month and day (`07-01`), for anniversaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonthDay {
    /// 1–12.
    pub month: u32,
    /// 1–31 (29 in February allowed: clamped to 28 in common years).
    pub day: u32,
}

impl fmt::Display for MonthDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl std::str::FromStr for MonthDay {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a month and day: write it as MM-DD, for example 07-01");
        let (m, d) = s.trim().split_once('-').ok_or_else(bad)?;
        if m.len() != 2 || d.len() != 2 {
            return Err(bad());
        }
        let month: u32 = m.parse().map_err(|_| bad())?;
        let day: u32 = d.parse().map_err(|_| bad())?;
        let max = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 => 29,
            _ => return Err(format!("`{s}`: there is no month {month}")),
        };
        if day == 0 || day > max {
            return Err(format!("`{s}`: month {month} has no day {day}"));
        }
        Ok(MonthDay { month, day })
    }
}

impl<'de> Deserialize<'de> for MonthDay {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for MonthDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A discount typed on a quote line by the salesperson.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManualDiscount {
    /// Percent off every charge of the line.
    Percent(Decimal),
    /// An amount off the line's first charge.
    Amount(Decimal),
}

impl std::str::FromStr for ManualDiscount {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let bad = || {
            format!("`{s}` is not a discount: write a percentage (`10%`) or an amount (`50.00`)")
        };
        let out = if let Some(p) = t.strip_suffix('%') {
            ManualDiscount::Percent(p.trim().parse().map_err(|_| bad())?)
        } else {
            ManualDiscount::Amount(t.replace(',', "").parse().map_err(|_| bad())?)
        };
        match out {
            ManualDiscount::Percent(p) if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED => {
                Err(format!("discount `{s}` must be above 0% and at most 100%"))
            }
            ManualDiscount::Amount(a) if a <= Decimal::ZERO => {
                Err(format!("discount `{s}` must be above zero"))
            }
            ok => Ok(ok),
        }
    }
}

impl<'de> Deserialize<'de> for ManualDiscount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for ManualDiscount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ManualDiscount::Percent(p) => s.collect_str(&format_args!("{p}%")),
            ManualDiscount::Amount(a) => s.collect_str(a),
        }
    }
}

/// A quote read from a file; where its fields were written is worked out only when an error
/// needs it (a 100,000-line quote should not pay for error messages it never prints).
pub struct QuoteFile {
    /// The file name as given.
    pub name: String,
    /// Its text.
    pub text: String,
    /// The quote.
    pub quote: Quote,
    positions: std::sync::OnceLock<Positions>,
}

/// A problem in a quote file: the file, line, column, field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteError {
    /// The quote file.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field, as a path (`lines[2].product`); empty for the whole document.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl fmt::Display for QuoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": error: {}", self.message)?;
        if !self.field.is_empty() {
            write!(f, " (field `{}`)", display_field(&self.field))?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

/// `lines[2].product` → `lines[3].product`: people count quote lines from 1.
fn display_field(path: &str) -> String {
    if let Some(rest) = path.strip_prefix("lines[") {
        if let Some((n, tail)) = rest.split_once(']') {
            if let Ok(i) = n.parse::<usize>() {
                return format!("line {} {}", i + 1, tail.trim_start_matches('.'));
            }
        }
    }
    path.to_string()
}

/// JSON is read by the YAML parser (one reader keeps decimals exact), but YAML forgives some
/// broken JSON (a missing comma becomes part of a string): checks JSON syntax first.
/// A JSON quote read by the JSON parser, when it reads cleanly: a quarter of the time the
/// YAML parser takes over the same text. `None` for YAML, and for a JSON document with any
/// problem, which is then read again the slow way so that the error names its line, column and
/// field exactly as before (errors are rare; every quote pays for the reading).
fn read_json(text: &str) -> Option<Quote> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    serde_json::from_str(text).ok()
}

fn check_json(name: &str, text: &str) -> Result<(), Box<QuoteError>> {
    if text.trim_start().starts_with('{') {
        if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
            return Err(Box::new(QuoteError {
                file: name.to_string(),
                line: Some(e.line()),
                column: Some(e.column()),
                field: String::new(),
                message: format!(
                    "the JSON does not parse: {}",
                    clean_json_message(&e.to_string())
                ),
                help: None,
            }));
        }
    }
    Ok(())
}

/// A YAML reader's error as a quote error: the field split off, dates in words, and the line
/// of the value our own checks complain about.
fn yaml_error(name: &str, text: &str, e: &yaml::YamlError) -> Box<QuoteError> {
    // serde_yaml says `lines[0].start: input is out of range`: split the path off as
    // the field and say in words what chrono's date errors mean.
    let (field, message) = match e.message.split_once(": ") {
        Some((path, rest)) if !path.contains(' ') => (path.to_string(), rest.to_string()),
        _ => (String::new(), e.message.clone()),
    };
    let value = e
        .line
        .and_then(|l| text.lines().nth(l.saturating_sub(1)))
        .map(|l| {
            let col = e.column.unwrap_or(1).saturating_sub(1);
            l.chars()
                .skip(col)
                .take_while(|c| !c.is_whitespace() && *c != ',')
                .collect::<String>()
        });
    let is_date = field.ends_with("date") || field.ends_with("start") || field.ends_with("ends");
    let (message, help) = if is_date
        && [
            "input is out of range",
            "premature end of input",
            "input contains invalid characters",
            "trailing input",
        ]
        .iter()
        .any(|m| message.contains(m))
    {
        (
            format!(
                "`{}` is not a date",
                value.unwrap_or_default().trim_matches('"')
            ),
            Some("write dates as YYYY-MM-DD, on a day the month has".to_string()),
        )
    } else {
        (message, None)
    };
    // Our own value checks (a month-day, a discount) are reported by serde at the
    // enclosing mapping; point at the line where the named value is written instead.
    let (line, column, field) = match relocate(text, &message) {
        Some((l, c, key)) if Some(l) != e.line => {
            let f = if field.is_empty() || field.ends_with(&key) {
                key
            } else {
                format!("{field}.{key}")
            };
            (Some(l), Some(c), f)
        }
        _ => (e.line, e.column, field),
    };
    Box::new(QuoteError {
        file: name.to_string(),
        line,
        column,
        field,
        message,
        help,
    })
}

impl QuoteFile {
    /// Parses a quote from text; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<QuoteFile, Box<QuoteError>> {
        QuoteFile::parse_owned(name, text.to_string()).map_err(|(e, _)| e)
    }

    /// [`QuoteFile::parse`] keeping `text` itself rather than a copy (a large quote's text is
    /// megabytes); with an error, the text comes back beside it.
    pub fn parse_owned(name: &str, text: String) -> Result<QuoteFile, (Box<QuoteError>, String)> {
        let quote = match QuoteFile::read_quote(name, &text) {
            Ok(q) => q,
            Err(e) => return Err((e, text)),
        };
        let file = QuoteFile {
            name: name.to_string(),
            text,
            quote,
            positions: std::sync::OnceLock::new(),
        };
        match file.check_id() {
            Ok(()) => Ok(file),
            Err(e) => Err((e, file.text)),
        }
    }

    /// The quote in `text`, read as JSON when it is JSON, else as YAML.
    fn read_quote(name: &str, text: &str) -> Result<Quote, Box<QuoteError>> {
        match read_json(text) {
            Some(q) => Ok(q),
            None => {
                check_json(name, text)?;
                yaml::from_str(text).map_err(|e| yaml_error(name, text, &e))
            }
        }
    }

    /// Document file names are built from the quote id: one that is not a plain name
    /// (`x/../../escaped`) is refused where it is written, before anything else happens.
    fn check_id(&self) -> Result<(), Box<QuoteError>> {
        let Err(why) = crate::files::names::validate_id(&self.quote.quote) else {
            return Ok(());
        };
        let mut e = self.error(
            "quote",
            format!(
                "the quote id `{}` cannot be used: {why}",
                self.quote.quote.escape_debug()
            ),
            Some(
                "document file names are made from the quote id: use 1 to 64 ASCII letters, \
                 digits, `-`, `_` or `.`, not starting with `.` (for example Q-1001)"
                    .into(),
            ),
        );
        if let Some((line, col)) = self.positions().value("quote") {
            e.line = Some(line);
            e.column = Some(col);
        }
        Err(Box::new(e))
    }

    /// Reads and parses a quote file.
    pub fn read(path: &std::path::Path) -> Result<QuoteFile, Box<QuoteError>> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| {
            Box::new(QuoteError {
                file: name.clone(),
                line: None,
                column: None,
                field: String::new(),
                message: format!("cannot read the quote: {e}"),
                help: None,
            })
        })?;
        Self::parse(&name, &text)
    }

    /// Where each field was written.
    pub fn positions(&self) -> &Positions {
        self.positions.get_or_init(|| Positions::of(&self.text))
    }

    /// An error located at a field of this quote.
    pub fn error(
        &self,
        field: &str,
        message: impl Into<String>,
        help: Option<String>,
    ) -> QuoteError {
        let pos = self.positions().get(field);
        QuoteError {
            file: self.name.clone(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            field: field.to_string(),
            message: message.into(),
            help,
        }
    }
}

/// serde_json ends its messages with " at line L column C"; the position is reported apart.
fn clean_json_message(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg).to_string(),
        None => msg.to_string(),
    }
}

/// Where a value named in a message (between the first pair of backticks) is written as a
/// `key: value` pair: its line, column and key.
fn relocate(text: &str, message: &str) -> Option<(usize, usize, String)> {
    let raw = message.split('`').nth(1)?;
    for (n, line) in text.lines().enumerate() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let v = value
            .trim()
            .trim_matches(|c| c == '"' || c == '\'' || c == ',');
        if v == raw {
            let k = key.trim_start_matches(|c: char| {
                c.is_whitespace() || c == '-' || c == '{' || c == '"'
            });
            let col = key.len() - k.len() + 1;
            return Some((n + 1, col, k.trim_matches('"').trim().to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &str = "quote: Q-1\ndate: 2026-03-01\ncurrency: USD\ncustomer:\n  id: C1\n  name: Acme\n  anniversary: 07-01\nlines:\n  - product: M365-BP\n    quantity: 10\n    term: P1Y\n    billing: annual\n    start: 2026-03-15\n";

    /// JSON quotes the JSON parser reads, each of which the YAML parser reads too.
    const JSON_QUOTES: &[&str] = &[
        r#"{"quote":"Q-1","date":"2026-03-01","currency":"USD","customer":{"id":"C1","name":"Acme","anniversary":"07-01"},"lines":[{"product":"M365-BP","quantity":10,"term":"P1Y","billing":"annual","start":"2026-03-15"}]}"#,
        r#"{"quote":"Q-2","date":"2026-03-01","currency":"USD","customer":{"id":"C1","name":"A \"b\" \u00e9","segment":"nonprofit","new":true},"lines":[{"product":"X","quantity":"12.50","term":"P1M","billing":"monthly","start":"2026-03-15","discount":"10%","coterm":"none"}]}"#,
        r#"{"quote":"Q-3","date":"2026-03-01","currency":"USD","customer":{"id":"C1","name":"A","segments":["a","b"],"subscriptions":[{"product":"P","quantity":"3","term":"P1Y","ends":"2027-01-31"}]},"lines":[{"product":"X","quantity":"2.5","usage":"1000.000","term":"one-time","start":"2026-03-15","discount":"50.00"}]}"#,
        "{\n  \"quote\": \"Q-4\",\n  \"date\": \"2026-03-01\",\n  \"currency\": \"USD\",\n  \"customer\": {\"id\": \"C\", \"name\": \"N\"},\n  \"lines\": [{\"product\": \"X\", \"quantity\": 7.50, \"usage\": 0.1, \"term\": \"P3Y\", \"billing\": \"upfront\", \"start\": \"2026-12-31\"}]\n}\n",
    ];

    #[test]
    fn json_and_yaml_readers_agree() {
        for (i, text) in JSON_QUOTES.iter().enumerate() {
            // A decimal written as a JSON number with a fraction is left to the YAML reader.
            assert_eq!(read_json(text).is_some(), i != 3, "{text}");
            let fast = QuoteFile::parse("q.json", text).unwrap().quote;
            let slow: Quote = yaml::from_str(text).unwrap();
            // Field by field, scales included: the serialized documents are the same bytes.
            assert_eq!(
                serde_json::to_string(&fast).unwrap(),
                serde_json::to_string(&slow).unwrap()
            );
        }
    }

    #[test]
    fn json_the_json_reader_refuses_is_read_again_for_a_located_error() {
        // An unknown field on line 3: the JSON reader refuses it, the located reader names it.
        let text = "{\"quote\": \"Q-1\", \"date\": \"2026-03-01\", \"currency\": \"USD\",\n\"customer\": {\"id\": \"C\", \"name\": \"N\"},\n\"lines\": [{\"product\": \"X\", \"qty\": 1, \"term\": \"P1Y\", \"billing\": \"annual\", \"start\": \"2026-03-15\"}]}";
        assert!(read_json(text).is_none());
        let e = QuoteFile::parse("q.json", text).err().unwrap();
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("unknown field `qty`"), "{}", e.message);
        // YAML is never given to the JSON reader.
        assert!(read_json(Q).is_none());
    }

    #[test]
    fn reads_a_quote() {
        let q = QuoteFile::parse("q.yaml", Q).unwrap();
        assert_eq!(
            q.quote.customer.anniversary,
            Some(MonthDay { month: 7, day: 1 })
        );
        assert_eq!(q.quote.lines[0].quantity, Decimal::from(10));
        assert_eq!(q.positions().get("lines[0].billing"), Some((12, 5)));
    }

    #[test]
    fn unknown_fields_are_errors_with_a_line() {
        let text = Q.replace("    billing: annual\n", "    biling: annual\n");
        let e = QuoteFile::parse("q.yaml", &text).err().unwrap();
        assert_eq!(e.line, Some(12));
        assert!(
            e.message.contains("unknown field `biling`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn impossible_dates_are_errors_with_a_line() {
        let text = Q.replace("start: 2026-03-15", "start: 2026-02-30");
        let e = QuoteFile::parse("q.yaml", &text).err().unwrap();
        assert_eq!(e.line, Some(13));
    }

    #[test]
    fn an_id_that_is_not_a_plain_name_is_refused_at_its_value() {
        let text = Q.replace("quote: Q-1", "quote: x/../../escaped");
        let e = QuoteFile::parse("q.yaml", &text).err().unwrap();
        assert_eq!((e.line, e.column), (Some(1), Some(8)));
        assert_eq!(e.field, "quote");
        assert!(e.message.contains("`x/../../escaped`"), "{}", e.message);
        assert!(e.message.contains("`/` (character 2)"), "{}", e.message);
        let long = Q.replace("quote: Q-1", &format!("quote: {}", "Q".repeat(65)));
        let e = QuoteFile::parse("q.yaml", &long).err().unwrap();
        assert!(e.message.contains("65 characters"), "{}", e.message);
        let dot = Q.replace("quote: Q-1", "quote: \".hidden\"");
        let e = QuoteFile::parse("q.yaml", &dot).err().unwrap();
        assert!(e.message.contains("starts with `.`"), "{}", e.message);
    }

    #[test]
    fn month_day_and_discount_parsing() {
        assert!("02-29".parse::<MonthDay>().is_ok());
        assert!("02-30".parse::<MonthDay>().is_err());
        assert!("13-01".parse::<MonthDay>().is_err());
        assert_eq!(
            "10%".parse::<ManualDiscount>(),
            Ok(ManualDiscount::Percent(Decimal::TEN))
        );
        assert_eq!(
            "1,250.00".parse::<ManualDiscount>(),
            Ok(ManualDiscount::Amount(Decimal::new(125000, 2)))
        );
        assert!("0%".parse::<ManualDiscount>().is_err());
        assert!("120%".parse::<ManualDiscount>().is_err());
    }
}

#[cfg(test)]
mod start_date_tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Deserialize)]
    struct Fast(#[serde(deserialize_with = "start_date")] NaiveDate);

    /// The value or the error message chrono's own reading gives.
    fn both(text: &str) -> (Result<NaiveDate, String>, Result<NaiveDate, String>) {
        let json = serde_json::to_string(text).unwrap();
        let ours = serde_json::from_str::<Fast>(&json)
            .map(|f| f.0)
            .map_err(|e| e.to_string());
        let chrono = serde_json::from_str::<NaiveDate>(&json).map_err(|e| e.to_string());
        (ours, chrono)
    }

    #[test]
    fn start_dates_read_as_chrono_reads_them() {
        for t in [
            "2026-01-01",
            "2024-02-29",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "0000-01-01",
            "9999-12-31",
            "2026-1-01",
            "+2026-01-01",
            "2026-01-01 ",
            " 2026-01-01",
            "20260101",
            "2026/01/01",
            "",
            "２０２６-01-01",
            "2026-01-32",
        ] {
            let (ours, chrono) = both(t);
            assert_eq!(ours, chrono, "{t:?}");
        }
        let number = serde_json::from_str::<Fast>("20260101")
            .map(|f| f.0)
            .map_err(|e| e.to_string());
        let chrono = serde_json::from_str::<NaiveDate>("20260101").map_err(|e| e.to_string());
        assert_eq!(number, chrono);
    }

    proptest! {
        #[test]
        fn any_text_reads_as_chrono_reads_it(t in "[0-9+ -]{0,12}") {
            let (ours, chrono) = both(&t);
            prop_assert_eq!(ours, chrono);
        }

        #[test]
        fn any_ten_characters_read_as_chrono_reads_them(t in "[0-9]{4}-[0-9]{2}-[0-9]{2}") {
            let (ours, chrono) = both(&t);
            prop_assert_eq!(ours, chrono);
        }

        #[test]
        fn any_day_reads_as_chrono_reads_it(days in 0i32..3_652_059) {
            let d = NaiveDate::from_num_days_from_ce_opt(days + 1).unwrap();
            let (ours, chrono) = both(&d.to_string());
            prop_assert_eq!(ours, chrono);
        }
    }
}
