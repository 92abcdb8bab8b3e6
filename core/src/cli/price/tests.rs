//! `price --format json` priced in runs while the quote is read: the bytes of the quote priced
//! whole, whatever the reader, the part bounds or the order of the quote's fields.

use super::*;
use crate::cli::args::ErrorFormat;
use crate::engine::pricing::{self, PriceOptions};
use tenor_dsl::diagnostic::termcolor::NoColor;

const RULES: &str = r#"
currency USD
rounding half_even
vendor microsoft "Microsoft"
product BP "Business Premium" {
  vendor microsoft
  P1Y monthly  22.00 a month  cost 17.60
  P1Y annual  264.00 a year   cost 211.20
}
tiers devices graduated per device a month {
  up to 10  45.00
  above     35.00
}
product DEV "Managed device" {
  vendor microsoft
  not bought
  P1Y annual  tiers devices
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
segment nonprofit "Nonprofit organisations"
discount nonprofit: 15% off vendor microsoft when customer segment is nonprofit and quantity at least 5
"#;

/// The quote's fields but its lines, as JSON members.
const FIELDS: &str = r#""quote":"Q-PARTS","date":"2026-01-01","currency":"USD","customer":{"id":"C","name":"C","segment":"nonprofit","anniversary":"07-01"}"#;

/// `RULES` with `more` after them, compiled.
fn catalogue(more: &str) -> Catalogue {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("parts.tenor", format!("{RULES}{more}"));
    let rules = tenor_dsl::check(&sources).unwrap();
    Catalogue::compile(&rules, &sources)
}

/// Line `i` of a quote of several offers, quantities and starts, as JSON.
fn line(i: usize) -> String {
    let (p, b) = [("BP", "monthly"), ("BP", "annual"), ("DEV", "annual")][i % 3];
    format!(
        r#"{{"product":"{p}","quantity":{},"term":"P1Y","billing":"{b}","start":"2026-{:02}-{:02}"}}"#,
        1 + i % 37,
        1 + i % 12,
        1 + i % 28
    )
}

/// A JSON quote of `n` lines made by `line`, its fields before them or after.
fn quote_text(n: usize, line: impl Fn(usize) -> String, fields_first: bool) -> String {
    let lines: Vec<String> = (0..n).map(line).collect();
    let lines = format!(r#""lines":[{}]"#, lines.join(","));
    match fields_first {
        true => format!("{{{FIELDS},{lines}}}"),
        false => format!("{{{lines},{FIELDS}}}"),
    }
}

/// What `price --format json` writes and says of the quote `text`, and how it ends.
fn run(
    cat: &Catalogue,
    name: &str,
    text: String,
    stream: fn(&Catalogue, String, String, &mut Ctx<'_>) -> CliResult,
) -> (String, String, CliResult) {
    let (mut out, mut err) = (Vec::new(), NoColor::new(Vec::new()));
    let mut ctx = Ctx::new(&mut out, &mut err, ErrorFormat::Human, true);
    let result = stream(cat, name.to_string(), text, &mut ctx);
    drop(ctx);
    let err = String::from_utf8(err.into_inner()).unwrap();
    (String::from_utf8(out).unwrap(), err, result)
}

/// The quote read the usual way first, then priced in runs as [`stream_text`] prices a quote
/// it could not read in runs.
fn parsed_first(cat: &Catalogue, name: String, text: String, ctx: &mut Ctx<'_>) -> CliResult {
    let file = QuoteFile::parse(&name, &text).unwrap();
    runs::priced_in_runs(
        cat,
        |sink| Ok(file.into_runs(runs::PART, sink)),
        runs::AHEAD,
        ctx,
    )
    .unwrap()
}

/// [`stream_text`] with a helper that may hold a byte ahead of what is written: once it has
/// rendered a part, it checks the parts read after it ahead instead.
fn held_back(cat: &Catalogue, name: String, text: String, ctx: &mut Ctx<'_>) -> CliResult {
    stream_holding(cat, name, text, 1, ctx)
}

/// The quote read first, its runs handed over, and a pause before it is said to be read: time
/// for a helper holding a byte ahead to render the first part and check every other ahead, so
/// that the main thread has none left to check and goes by the helper's verdict.
fn checked_ahead(cat: &Catalogue, name: String, text: String, ctx: &mut Ctx<'_>) -> CliResult {
    let file = QuoteFile::parse(&name, &text).unwrap();
    let read = |sink: &mut dyn Runs| {
        let runs = file.into_runs(runs::PART, sink);
        std::thread::sleep(std::time::Duration::from_millis(200));
        Ok(runs)
    };
    runs::priced_in_runs(cat, read, 1, ctx).unwrap()
}

/// The bytes of `text` priced whole and written by serde_json.
fn whole(cat: &Catalogue, text: &str) -> String {
    let file = QuoteFile::parse("q.json", text).unwrap();
    let priced = pricing::price(cat, &file.quote, &PriceOptions::default()).unwrap();
    serde_json::to_string(&priced).unwrap() + "\n"
}

/// Asserts `out` is `expected`, naming the first byte that differs (the documents run to
/// megabytes, too long to print whole).
fn same(out: &str, expected: &str, what: &str) {
    let at = out.bytes().zip(expected.bytes()).position(|(a, b)| a != b);
    let at = at.unwrap_or(out.len().min(expected.len()));
    assert!(
        out == expected,
        "{what}: {} bytes for {}, first differing at {at}: {:?}",
        out.len(),
        expected.len(),
        out.get(at..(at + 200).min(out.len()))
    );
}

/// Lines priced in parts on two threads make the bytes of the whole quote priced in one run,
/// for quotes of fewer lines than a part, of exactly one and two parts, and of several with a
/// short last part; whether read in runs or read first, fields first or last, and whether the
/// helper renders parts ahead or checks them.
#[test]
fn a_quote_priced_in_parts_is_the_quote_priced_whole() {
    let cat = catalogue("");
    assert!(pricing::parts_independent(&cat));
    let part = runs::PART;
    for n in [1, part - 1, part, part + 1, 2 * part, 5 * part + 7] {
        for fields_first in [true, false] {
            let text = quote_text(n, line, fields_first);
            let expected = whole(&cat, &text);
            for stream in [stream_text, parsed_first, held_back, checked_ahead] {
                let (out, err, result) = run(&cat, "q.json", text.clone(), stream);
                assert!(matches!(result, Ok(Exit::Success)), "{n} lines");
                same(
                    &out,
                    &expected,
                    &format!("{n} lines, fields first: {fields_first}"),
                );
                assert_eq!(err, "", "{n} lines");
            }
        }
    }
}

/// A YAML quote (read the usual way) writes the bytes of the same quote in JSON.
#[test]
fn a_yaml_quote_writes_what_the_same_quote_in_json_writes() {
    let cat = catalogue("");
    let n = 3 * runs::PART + 1;
    let text = quote_text(n, line, true);
    let mut yaml = String::from(
        "quote: Q-PARTS\ndate: 2026-01-01\ncurrency: USD\ncustomer: { id: C, name: C, segment: nonprofit, anniversary: \"07-01\" }\nlines:\n",
    );
    for i in 0..n {
        // Each line's JSON object is a YAML flow mapping as it stands.
        yaml.push_str(&format!("  - {}\n", line(i)));
    }
    let (out, _, result) = run(&cat, "q.yaml", yaml, stream_text);
    assert!(result.is_ok(), "{result:?}");
    same(&out, &whole(&cat, &text), "yaml");
}

/// A bad line far into the quote, after parts of it may be priced or checked ahead, writes
/// nothing and is named with every other problem, at its line and field.
#[test]
fn a_late_bad_line_writes_nothing_and_is_named() {
    let cat = catalogue("");
    let bad = |i: usize| match i {
        1399 => line(i).replace(r#""BP""#, r#""NOPE""#),
        1400 => line(i).replace(r#""quantity":"#, r#""quantity":-"#),
        _ => line(i),
    };
    let text = quote_text(3 * runs::PART, bad, true);
    assert!(text.contains("NOPE"));
    for stream in [stream_text, parsed_first, held_back, checked_ahead] {
        let (out, _, result) = run(&cat, "q.json", text.clone(), stream);
        assert!(out.is_empty(), "{} bytes written", out.len());
        let Err(CliError::Quote { errors, .. }) = result else {
            panic!("not the quote's errors: {result:?}");
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"lines[1399].product"), "{fields:?}");
        assert!(
            fields.iter().any(|f| f.starts_with("lines[1400]")),
            "{fields:?}"
        );
        assert!(errors.iter().all(|e| e.line == Some(1)), "{errors:?}");
    }
}

/// A warning far into the quote is said, at its line, and the document is still written.
#[test]
fn a_late_warning_is_said_and_the_document_written() {
    let cat = catalogue("");
    let early = |i: usize| match i {
        1000 => line(i).replace(r#""start":"2026-05-21""#, r#""start":"2025-12-31""#),
        _ => line(i),
    };
    let text = quote_text(2 * runs::PART + 5, early, true);
    assert!(text.contains("2025-12-31"));
    let expected = whole(&cat, &text);
    assert!(expected.contains("start-before-quote"));
    for stream in [stream_text, parsed_first, held_back, checked_ahead] {
        let (out, err, result) = run(&cat, "q.json", text.clone(), stream);
        assert!(result.is_ok(), "{result:?}");
        same(&out, &expected, "");
        assert!(
            err.contains("line 1001 starts on 2025-12-31, before the quote's date, 2026-01-01"),
            "{err}"
        );
    }
}

/// A rule taking a fixed amount off the whole quote keeps one thread and the same bytes.
#[test]
fn a_fixed_amount_off_the_quote_is_priced_on_one_thread_to_the_same_bytes() {
    let cat = catalogue("discount goodwill: 50.00 once off the quote\n");
    assert!(!pricing::parts_independent(&cat));
    let text = quote_text(2 * runs::PART + 3, line, false);
    let expected = whole(&cat, &text);
    assert!(expected.contains("goodwill"));
    for stream in [stream_text, parsed_first, held_back, checked_ahead] {
        let (out, _, result) = run(&cat, "q.json", text.clone(), stream);
        assert!(result.is_ok(), "{result:?}");
        same(&out, &expected, "");
    }
}
