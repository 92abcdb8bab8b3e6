//! Bad quotes never panic: arbitrary text, and quotes assembled from plausible and absurd
//! values, go through reading, pricing and accepting and come out priced or as located errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use proptest::prelude::*;
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{PriceOptions, price};
use tenor_core::engine::quote::QuoteFile;

fn catalogue() -> &'static Catalogue {
    tenor_tests::example_catalogue()
}

fn cases() -> u32 {
    std::env::var("TENOR_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(800)
}

/// Reads, prices and accepts; every outcome is fine except a panic.
fn exercise(text: &str) {
    let Ok(file) = QuoteFile::parse("fuzz.yaml", text) else {
        return;
    };
    let cat = catalogue();
    if let Ok(p) = price(cat, &file.quote, &PriceOptions { explain: true }) {
        // Totals are sums of the charges.
        let sum: rust_decimal::Decimal = p
            .lines
            .iter()
            .flat_map(|l| &l.charges)
            .map(|c| c.amount)
            .sum();
        assert_eq!(sum, p.totals.contract_value);
        let _ = tenor_core::documents::accept::accept(cat, &file.quote, &p, "fuzz");
    }
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("M365-BP".to_string()),
        Just("MWS".to_string()),
        Just("DATTO-CLOUD".to_string()),
        Just("DELL-LAT5550".to_string()),
        Just("MS-DEVICE".to_string()),
        Just("NOPE".to_string()),
        Just("P1Y".to_string()),
        Just("P3Y".to_string()),
        Just("P1M".to_string()),
        Just("P0M".to_string()),
        Just("P1200Y".to_string()),
        Just("one-time".to_string()),
        Just("monthly".to_string()),
        Just("annual".to_string()),
        Just("upfront".to_string()),
        Just("quarterly".to_string()),
        Just("2026-02-29".to_string()),
        Just("2028-02-29".to_string()),
        Just("2026-12-31".to_string()),
        Just("9999-12-31".to_string()),
        Just("0001-01-01".to_string()),
        Just("-5".to_string()),
        Just("0".to_string()),
        Just("0.0000001".to_string()),
        Just("\"999999999999\"".to_string()),
        Just("\"79228162514264337593543950335\"".to_string()),
        Just("10%".to_string()),
        Just("100%".to_string()),
        Just("none".to_string()),
        Just("default".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        (1u32..100_000).prop_map(|n| n.to_string()),
        "[a-z0-9:.-]{0,12}",
        // Any text, multi-byte characters included, where a term or billing is expected.
        "P[0-9]{0,2}\\PC{0,2}",
        "\\PC{0,6}",
    ]
}

fn line() -> impl Strategy<Value = String> {
    (value(), value(), value(), value(), value(), prop::option::of(value()), prop::option::of(value()), prop::option::of(value()))
        .prop_map(|(p, q, t, b, s, c, d, u)| {
            let mut l = format!("  - product: {p}\n    quantity: {q}\n    term: {t}\n    billing: {b}\n    start: {s}\n");
            if let Some(c) = c {
                l.push_str(&format!("    coterm: {c}\n"));
            }
            if let Some(d) = d {
                l.push_str(&format!("    discount: {d}\n"));
            }
            if let Some(u) = u {
                l.push_str(&format!("    usage: {u}\n"));
            }
            l
        })
}

fn quote() -> impl Strategy<Value = String> {
    (
        value(),
        value(),
        prop::option::of(value()),
        prop::option::of(value()),
        prop::collection::vec(line(), 0..5),
    )
        .prop_map(|(date, currency, segment, anniversary, lines)| {
            let mut q = format!(
                "quote: Q-FUZZ\ndate: {date}\ncurrency: {currency}\ncustomer:\n  id: C\n  name: N\n"
            );
            if let Some(s) = segment {
                q.push_str(&format!("  segment: {s}\n"));
            }
            if let Some(a) = anniversary {
                q.push_str(&format!("  anniversary: {a}\n"));
            }
            q.push_str("lines:\n");
            for l in lines {
                q.push_str(&l);
            }
            q
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        exercise(&text);
    }

    #[test]
    fn assembled_quotes_never_panic(text in quote()) {
        exercise(&text);
    }

    #[test]
    fn plausible_quotes_price_or_fail_with_located_errors(text in quote().prop_map(|q| q.replace("currency: ", "currency: USD #"))) {
        exercise(&text);
    }
}
