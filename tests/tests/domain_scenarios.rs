//! DOMAIN.md's worked examples 1–6, each a folder under `tests/scenarios/`, priced through the
//! `tenor price --format json` command and checked against the numbers DOMAIN.md gives (worked
//! out by hand there, not read off this program), then snapshot whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use tenor_core::cli::{Exit, run};
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_tests::{ChargeRow, charge_row as c, charge_rows};

/// Runs `tenor` in-process from the tests folder (so paths in output are relative).
fn tenor(args: &[&str]) -> (Exit, String, String) {
    let dir = env!("CARGO_MANIFEST_DIR");
    let mut argv: Vec<std::ffi::OsString> = vec!["tenor".into()];
    for a in args {
        let p = std::path::Path::new(a);
        // Arguments that name files are resolved from the tests folder, whatever the cwd.
        if a.starts_with("scenarios/") {
            argv.push(std::path::Path::new(dir).join(p).into_os_string());
        } else {
            argv.push((*a).into());
        }
    }
    let mut out = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let code = run(argv, &mut out, &mut err);
    let strip = |s: String| s.replace(&format!("{dir}/"), "");
    (
        code,
        strip(String::from_utf8(out).unwrap()),
        strip(String::from_utf8(err.into_inner()).unwrap()),
    )
}

fn price_json(scenario: &str) -> Value {
    let quote = format!("scenarios/{scenario}/quote.yaml");
    let rules = format!("scenarios/{scenario}");
    let (code, out, err) = tenor(&["price", &quote, "--rules", &rules, "--format", "json"]);
    assert_eq!(code, Exit::Success, "{err}");
    serde_json::from_str(&out).unwrap()
}

/// (kind, period_start, period_end, bill_date, amount) of every charge of a line.
fn charges(v: &Value, line: usize) -> Vec<ChargeRow> {
    charge_rows(&v["lines"][line]["charges"])
}

#[test]
fn domain_1_annual_stub() {
    let v = price_json("domain-1");
    // Stub [2026-03-15, 2026-07-01) = 108 days of 365 → 10 × 264.00 × 108/365 = 781.1506… → 781.15.
    assert_eq!(
        charges(&v, 0),
        vec![
            c("stub", "2026-03-15", "2026-07-01", "2026-03-15", "781.15"),
            c(
                "recurring",
                "2026-07-01",
                "2027-07-01",
                "2026-07-01",
                "2640.00"
            ),
        ]
    );
    assert_eq!(v["totals"]["contract_value"], "3421.15");
    assert_eq!(v["totals"]["first_invoice"], "781.15");
    insta::assert_snapshot!("domain-1", tenor_tests::pretty_json(&v));
}

#[test]
fn domain_2_coterminous_is_the_stub_alone() {
    let v = price_json("domain-2");
    assert_eq!(
        charges(&v, 0),
        vec![c(
            "stub",
            "2026-03-15",
            "2026-07-01",
            "2026-03-15",
            "781.15"
        )]
    );
    assert_eq!(v["totals"]["contract_value"], "781.15");
    // Renewal on the anniversary.
    assert_eq!(v["lines"][0]["end"], "2026-07-01");
    insta::assert_snapshot!("domain-2", tenor_tests::pretty_json(&v));
}

#[test]
fn domain_3_monthly_stub_then_twelve_months() {
    let v = price_json("domain-3");
    let got = charges(&v, 0);
    // [03-15, 04-01) = 17/31 → 10 × 22.00 × 17/31 = 120.645… → 120.65
    assert_eq!(
        got[0],
        c("stub", "2026-03-15", "2026-04-01", "2026-03-15", "120.65")
    );
    // April, May, June at 220.00, then twelve charges of 220.00 from 2026-07-01.
    assert_eq!(got.len(), 1 + 3 + 12);
    let months = [
        "2026-04-01",
        "2026-05-01",
        "2026-06-01",
        "2026-07-01",
        "2026-08-01",
        "2026-09-01",
        "2026-10-01",
        "2026-11-01",
        "2026-12-01",
        "2027-01-01",
        "2027-02-01",
        "2027-03-01",
        "2027-04-01",
        "2027-05-01",
        "2027-06-01",
        "2027-07-01",
    ];
    for (i, charge) in got.iter().enumerate().skip(1) {
        assert_eq!(
            charge,
            &c(
                "recurring",
                months[i - 1],
                months[i],
                months[i - 1],
                "220.00"
            )
        );
    }
    assert_eq!(v["totals"]["contract_value"], "3420.65");
    insta::assert_snapshot!("domain-3", tenor_tests::pretty_json(&v));
}

#[test]
fn domain_4_graduated_and_volume_storage() {
    let v = price_json("domain-4");
    // 1,000 × 0.05 + 9,000 × 0.04 + 2,500 × 0.03 = 485.00; volume: 12,500 × 0.03 = 375.00.
    assert_eq!(
        charges(&v, 0),
        vec![c(
            "usage",
            "2026-04-01",
            "2026-05-01",
            "2026-05-01",
            "485.00"
        )]
    );
    assert_eq!(
        charges(&v, 1),
        vec![c(
            "usage",
            "2026-04-01",
            "2026-05-01",
            "2026-05-01",
            "375.00"
        )]
    );
    insta::assert_snapshot!("domain-4", tenor_tests::pretty_json(&v));
}

#[test]
fn domain_5_unit_tiers() {
    let v = price_json("domain-5");
    // 5 × 7.00 + 5 × 6.50 + 2 × 6.00 = 79.50; volume: 12 × 6.00 = 72.00.
    assert_eq!(charges(&v, 0)[0].4, "79.50");
    assert_eq!(charges(&v, 1)[0].4, "72.00");
    insta::assert_snapshot!("domain-5", tenor_tests::pretty_json(&v));
}

#[test]
fn domain_6_package_blocks() {
    let v = price_json("domain-6");
    // ceil(2,300 / 1,000) = 3 blocks × 40.00.
    assert_eq!(charges(&v, 0)[0].4, "120.00");
    insta::assert_snapshot!("domain-6", tenor_tests::pretty_json(&v));
}

#[test]
fn explain_domain_1_and_3() {
    for s in ["domain-1", "domain-3"] {
        let (code, out, err) = tenor(&[
            "explain",
            &format!("scenarios/{s}/quote.yaml"),
            "--rules",
            &format!("scenarios/{s}"),
        ]);
        assert_eq!(code, Exit::Success, "{err}");
        assert!(
            out.contains("rules.tenor:"),
            "explain names rule locations:\n{out}"
        );
        insta::assert_snapshot!(format!("explain-{s}"), out);
    }
}

#[test]
fn json_output_is_byte_identical_across_runs() {
    let a = tenor(&[
        "price",
        "scenarios/domain-3/quote.yaml",
        "--rules",
        "scenarios/domain-3",
        "--format",
        "json",
    ]);
    let b = tenor(&[
        "price",
        "scenarios/domain-3/quote.yaml",
        "--rules",
        "scenarios/domain-3",
        "--format",
        "json",
    ]);
    assert_eq!(a.1, b.1);
}

#[test]
fn package_allowance_bills_blocks_above_it() {
    let v = price_json("package-allowance");
    // first 100 free, 5.00 per block of 100: 201 GB → ceil((201 − 100) / 100) = 2 blocks → 10.00
    // (three blocks, 15.00, before issue 10); 200 GB → ceil(100 / 100) = 1 block → 5.00.
    assert_eq!(charges(&v, 0)[0].4, "10.00");
    assert_eq!(charges(&v, 1)[0].4, "5.00");
}
