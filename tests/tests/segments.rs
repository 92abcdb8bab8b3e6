//! Customer segments and the new-customer condition, on the example rules and quotes: a quote
//! may name only declared segments (a typo is an error naming the right one, not a discount
//! silently lost), may hold several, and the welcome offer needs a new customer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use rust_decimal::Decimal;
use tenor_core::engine::pricing::{PriceError, PriceOptions, PricedQuote, price};
use tenor_core::engine::quote::QuoteFile;
use tenor_tests::{example_catalogue, rules_dir};

/// An example quote's text, with `from` replaced by `to` (which must occur).
fn example(file: &str, from: &str, to: &str) -> QuoteFile {
    let path = rules_dir().join("quotes").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    QuoteFile::parse(file, &text.replacen(from, to, 1)).unwrap()
}

fn priced(q: &QuoteFile, explain: bool) -> Result<PricedQuote, Vec<PriceError>> {
    price(example_catalogue(), &q.quote, &PriceOptions { explain })
}

fn money(s: &str) -> Decimal {
    s.parse().unwrap()
}

// Q-1002 monthly recurring revenue, by hand from rules/microsoft-365.tenor:
//   M365-E3 P3Y upfront 1,234.29 a term × 18 users = 22,217.22 a term → / 36 = 617.145 a month
//   EXO-P1  P1Y annual     45.71 a year  ×  6 users =    274.26 a year → / 12 =  22.855 a month
//   without the nonprofit discount: 617.145 + 22.855 = 640.000 → 640.00 (rounded once, at the
//   total, as DOMAIN.md defines MRR)
//   with 15% off every Microsoft charge, each discount its own rounded charge:
//     22,217.22 − 3,332.58 = 18,884.64 a term → / 36 = 524.5733…
//        274.26 −    41.14 =    233.12 a year → / 12 =  19.4266…
//     524.5733… + 19.4266… = 544.0000 → 544.00
const Q1002: &str = "q1002-nonprofit.yaml";

#[test]
fn the_nonprofit_quote_keeps_its_discount() {
    let q = example(Q1002, "segment: nonprofit", "segment: nonprofit");
    assert_eq!(priced(&q, false).unwrap().totals.mrr, money("544.00"));
}

#[test]
fn a_customer_without_the_segment_pays_list_price() {
    // What the misspelt segment used to cost without a word: the discount lost.
    let q = example(Q1002, "  segment: nonprofit\n", "");
    assert_eq!(priced(&q, false).unwrap().totals.mrr, money("640.00"));
}

#[test]
fn a_misspelt_segment_is_an_error_naming_the_declared_one() {
    let q = example(Q1002, "segment: nonprofit", "segment: non-profit");
    let errors = priced(&q, false).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = q.error(&errors[0].field, &errors[0].message, errors[0].help.clone());
    assert_eq!(e.field, "customer.segment");
    // Line 24 of q1002-nonprofit.yaml is `  segment: nonprofit`, the key at column 3.
    assert_eq!((e.line, e.column), (Some(24), Some(3)));
    assert_eq!(e.message, "unknown segment `non-profit`");
    assert_eq!(e.help.as_deref(), Some("did you mean `nonprofit`?"));
}

#[test]
fn a_misspelt_segment_in_a_list_is_located_at_its_item() {
    let q = example(Q1002, "segment: nonprofit", "segments: [non-profit]");
    let errors = priced(&q, false).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = q.error(&errors[0].field, &errors[0].message, errors[0].help.clone());
    assert_eq!(e.field, "customer.segments[0]");
    // `  segments: [non-profit]`: the item starts after `  segments: [`, at column 14.
    assert_eq!((e.line, e.column), (Some(24), Some(14)));
    assert_eq!(e.help.as_deref(), Some("did you mean `nonprofit`?"));
}

#[test]
fn a_customer_may_hold_several_segments() {
    let q = example(
        Q1002,
        "segment: nonprofit",
        "segments: [education, nonprofit]",
    );
    assert_eq!(priced(&q, false).unwrap().totals.mrr, money("544.00"));
}

#[test]
fn segment_and_segments_together_are_an_error() {
    let q = example(
        Q1002,
        "segment: nonprofit",
        "segment: nonprofit\n  segments: [education]",
    );
    let errors = priced(&q, false).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].message.contains("both `segment` and `segments`"));
}

#[test]
fn a_segment_the_rules_do_not_declare_lists_those_they_do() {
    let q = example(Q1002, "segment: nonprofit", "segment: government");
    let errors = priced(&q, false).unwrap_err();
    assert_eq!(
        errors[0].help.as_deref(),
        Some("the rules declare `commercial`, `nonprofit` and `education`")
    );
}

// Q-1001's welcome offer, by hand: 28 managed devices at 40.00 = 1,120.00 a month, 10% off
// the first 3 months from 2026-12-07 (to 2027-03-07):
//   stub [2026-12-07, 2027-01-01) 903.23 × 10%             = 90.323 → 90.32
//   January and February 1,120.00 × 10%                    = 112.00 each
//   March [03-01, 04-01): 6 of its 31 days inside, 112.00 × 6/31 = 21.677 → 21.68
//   total 90.32 + 112.00 + 112.00 + 21.68 = 336.00
// The quote's figures with the offer: first invoice 8,363.14, MRR 1,795.00, contract value
// 39,092.78. Not a new customer: the first invoice loses only the stub's 90.32 discount
// (8,453.46), the contract value all 336.00 (39,428.78); MRR is a full month at the full rate,
// which the offer never touches.
const Q1001: &str = "q1001-dental-practice.yaml";

#[test]
fn the_welcome_offer_fires_for_a_new_customer() {
    let q = example(Q1001, "new: true", "new: true");
    let t = priced(&q, false).unwrap().totals;
    assert_eq!(t.first_invoice, money("8363.14"));
    assert_eq!(t.mrr, money("1795.00"));
    assert_eq!(t.contract_value, money("39092.78"));
}

#[test]
fn the_welcome_offer_does_not_fire_for_an_existing_customer() {
    let q = example(Q1001, "  new: true\n", "");
    let t = priced(&q, false).unwrap().totals;
    assert_eq!(t.first_invoice, money("8453.46"));
    assert_eq!(t.mrr, money("1795.00"));
    assert_eq!(t.contract_value, money("39428.78"));
}

#[test]
fn explain_says_why_the_welcome_offer_was_skipped() {
    let q = example(Q1001, "  new: true\n", "  new: false\n");
    let p = priced(&q, true).unwrap();
    let devices = p.lines.iter().find(|l| &*l.product == "MS-DEVICE").unwrap();
    let verdict = devices
        .charges
        .iter()
        .filter_map(|c| c.detail())
        .flat_map(|d| d.verdicts.iter())
        .find(|v| &*v.rule == "welcome")
        .unwrap();
    assert!(!verdict.applied);
    assert_eq!(verdict.why, "needs a new customer, CUST-0042 is not new");
}

/// Runs `tenor` in-process on a quote text written to a scratch file; (exit, stdout, stderr).
fn tenor_on(
    test: &str,
    args: &[&str],
    quote: &QuoteFile,
) -> (tenor_core::cli::Exit, String, String) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("tenor-segments-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("quote.yaml");
    std::fs::write(&file, &quote.text).unwrap();
    let rules = rules_dir();
    let argv: Vec<std::ffi::OsString> = std::iter::once("tenor")
        .chain(args.iter().copied())
        .chain([file.to_str().unwrap(), "--rules", rules.to_str().unwrap()])
        .map(Into::into)
        .collect();
    let mut out = Vec::new();
    let mut err = tenor_dsl::diagnostic::termcolor::NoColor::new(Vec::new());
    let exit = tenor_core::cli::run(argv, &mut out, &mut err);
    let _ = std::fs::remove_dir_all(&dir);
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err.into_inner()).unwrap(),
    )
}

#[test]
fn tenor_explain_shows_the_welcome_verdict_with_its_reason() {
    let q = example(Q1001, "  new: true\n", "  new: false\n");
    let (exit, out, err) = tenor_on("explain", &["explain"], &q);
    assert_eq!(exit, tenor_core::cli::Exit::Success, "{err}");
    let line = out
        .lines()
        .find(|l| l.contains("discount `welcome` skipped") && l.contains("new customer"))
        .unwrap_or_else(|| panic!("no welcome verdict in:\n{out}"));
    assert!(
        line.contains("needs a new customer, CUST-0042 is not new"),
        "{line}"
    );
}

#[test]
fn tenor_price_refuses_a_misspelt_segment_at_its_line() {
    let q = example(Q1002, "segment: nonprofit", "segment: non-profit");
    let (exit, out, err) = tenor_on("price", &["price"], &q);
    assert_ne!(exit, tenor_core::cli::Exit::Success);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("unknown segment `non-profit`"), "{err}");
    assert!(err.contains("quote.yaml:24:3"), "{err}");
    assert!(err.contains("did you mean `nonprofit`?"), "{err}");
}
