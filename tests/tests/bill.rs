//! `tenor bill --month`: the example quotes accepted into a scratch record, billed for
//! December 2026 and January 2027, every amount checked against hand arithmetic from DOMAIN.md
//! and the example rules; a seat change shows in the bill from its date; the CSV and JSON
//! totals are the table's; an empty month is an empty bill; a bad month is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tenor_core::cli::Exit;
use tenor_tests::{Output, Scratch};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `tenor --db DB ARGS…` in process, through the suite's shared runner.
fn tenor(db: &Path, args: &[&str]) -> Output {
    let db = db.to_str().expect("a UTF-8 scratch path");
    let argv: Vec<&str> = ["--db", db]
        .into_iter()
        .chain(args.iter().copied())
        .collect();
    tenor_tests::tenor(&argv)
}

/// A scratch record holding the four example quotes, accepted with Tenor's documents only.
fn book(name: &str) -> Scratch {
    let s = Scratch::dir(&format!("bill-{name}"));
    let rules = root().join("rules");
    for q in [
        "q1001-dental-practice.yaml",
        "q1002-nonprofit.yaml",
        "q1003-managed-workstation.json",
        "q1004-month-to-month.yaml",
    ] {
        let quote = rules.join("quotes").join(q);
        let out = tenor(
            &s.db(),
            &[
                "-q",
                "accept",
                quote.to_str().unwrap(),
                "--rules",
                rules.to_str().unwrap(),
                "--no-plugins",
            ],
        );
        assert_eq!(out.exit, Exit::Success, "{q}: {}", out.stderr);
    }
    s
}

fn bill(db: &Path, month: &str, format: &str) -> Output {
    let out = tenor(db, &["bill", "--month", month, "--format", format]);
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    out
}

fn json(db: &Path, month: &str) -> Value {
    serde_json::from_str(&bill(db, month, "json").stdout).unwrap()
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

/// (quote, line, kind, amount) of every charge, in the bill's order.
fn charges(doc: &Value) -> Vec<(String, u64, String, String)> {
    doc["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["quote"].as_str().unwrap().to_string(),
                c["line"].as_u64().unwrap(),
                c["kind"].as_str().unwrap().to_string(),
                c["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(q: &str, line: u64, kind: &str, amount: &str) -> (String, u64, String, String) {
    (q.into(), line, kind.into(), amount.into())
}

/// December 2026: Q-1001 starts on 2026-12-07, co-termed on 07-01, so its licences bill a
/// stub `[2026-12-07, 2027-01-01)`, 25 of December's 31 days (the figures of
/// tests/tests/match_pulled.rs `q1001_billed` and tests/tests/cli_conventions.rs):
/// - M365-BP 25 × 22.00 = 550.00 × 25/31 = 443.548… → 443.55
/// - MDB 25 × 3.00 = 75.00 × 25/31 = 60.483… → 60.48
/// - MS-DEVICE 28 × 40.00 = 1,120.00 × 25/31 = 903.225… → 903.23; welcome 10 %: −90.32
/// - ONBOARDING 1,500.00, waived 500.00: −500.00
/// - DELL-LAT5550 4 × 1,237.80 = 4,951.20; DELL-WD22TB4 4 × 273.75 = 1,095.00
///
/// 443.55 + 60.48 + 903.23 − 90.32 + 1,500.00 − 500.00 + 4,951.20 + 1,095.00 = 8,363.14.
/// Q-1002 (October 2026, upfront and annual) bills nothing in December; Q-1003 starts in
/// February 2027 and Q-1004 in January 2027.
#[test]
fn december_2026_bills_q1001s_first_invoice() {
    let s = book("dec");
    let d = json(&s.db(), "2026-12");
    assert_eq!(d["schema"], "tenor.bill/1");
    assert_eq!(d["month"], "2026-12");
    assert_eq!(
        charges(&d),
        vec![
            row("Q-1001", 1, "stub", "443.55"),
            row("Q-1001", 2, "stub", "60.48"),
            row("Q-1001", 4, "stub", "903.23"),
            row("Q-1001", 4, "discount", "-90.32"),
            row("Q-1001", 5, "one_time", "1500.00"),
            row("Q-1001", 5, "discount", "-500.00"),
            row("Q-1001", 6, "one_time", "4951.20"),
            row("Q-1001", 7, "one_time", "1095.00"),
        ]
    );
    let first = &d["charges"][0];
    assert_eq!(first["customer"], "CUST-0042");
    assert_eq!(first["period_start"], "2026-12-07");
    assert_eq!(first["period_end"], "2027-01-01");
    assert_eq!(first["bill_date"], "2026-12-07");
    assert_eq!(first["quantity"], "25");
    assert_eq!(first["unit_price"], "22.00");
    assert_eq!(first["currency"], "USD");
    assert_eq!(d["customers"][0]["customer"], "CUST-0042");
    assert_eq!(d["customers"][0]["amount"], "8363.14");
    assert_eq!(d["customers"].as_array().unwrap().len(), 1);
    assert_eq!(d["totals"][0]["amount"], "8363.14");
    assert_eq!(d["totals"][0]["charges"], 8);
}

/// January 2027:
/// - Q-1001 (CUST-0042), the first full month from 2027-01-01: M365-BP 25 × 22.00 = 550.00,
///   MDB 25 × 3.00 = 75.00, MS-DEVICE 28 × 40.00 = 1,120.00 with the welcome 10 % −112.00;
///   and December's backup in arrears, billed 2027-01-01: 1,500 GB, the first 500 free, 1,000
///   × 0.05 = 50.00 a month × 25/31 = 40.322… → 40.32 (above the prorated minimum 25.00 ×
///   25/31 = 20.16). 550.00 + 75.00 + 40.32 + 1,120.00 − 112.00 = 1,673.32.
/// - Q-1004 (CUST-0078) from 2027-01-18, month to month with no co-term: M365-BS 8 × 15.00 =
///   120.00, EXO-P1 3 × 4.80 = 14.40, MS-DEVICE 8 × 45.00 = 360.00 less 5 % = −18.00,
///   ONBOARDING 1,500.00 less 250.00; MDB co-terms to the month's end: 8 × 3.60 = 28.80 ×
///   14/31 = 13.006… → 13.01. 120.00 + 14.40 + 13.01 + 360.00 − 18.00 + 1,500.00 − 250.00 =
///   1,739.41. Its backup bills in arrears on 2027-02-18.
///
/// Overall 1,673.32 + 1,739.41 = 3,412.73.
#[test]
fn january_2027_bills_two_customers_with_their_totals() {
    let s = book("jan");
    let d = json(&s.db(), "2027-01");
    assert_eq!(
        charges(&d),
        vec![
            row("Q-1001", 1, "recurring", "550.00"),
            row("Q-1001", 2, "recurring", "75.00"),
            row("Q-1001", 3, "usage", "40.32"),
            row("Q-1001", 4, "recurring", "1120.00"),
            row("Q-1001", 4, "discount", "-112.00"),
            row("Q-1004", 1, "recurring", "120.00"),
            row("Q-1004", 2, "recurring", "14.40"),
            row("Q-1004", 3, "stub", "13.01"),
            row("Q-1004", 5, "recurring", "360.00"),
            row("Q-1004", 5, "discount", "-18.00"),
            row("Q-1004", 6, "one_time", "1500.00"),
            row("Q-1004", 6, "discount", "-250.00"),
        ]
    );
    let c = d["customers"].as_array().unwrap();
    assert_eq!(c.len(), 2);
    assert_eq!(
        (c[0]["customer"].as_str(), dec(&c[0]["amount"])),
        (Some("CUST-0042"), "1673.32".parse().unwrap())
    );
    assert_eq!(
        (c[1]["customer"].as_str(), dec(&c[1]["amount"])),
        (Some("CUST-0078"), "1739.41".parse().unwrap())
    );
    assert_eq!(d["totals"][0]["amount"], "3412.73");
    assert_eq!(d["totals"][0]["charges"], 12);
    // The backup is rated from usage: no quantity × unit price explains it.
    assert_eq!(d["charges"][2]["quantity"], Value::Null);
    assert_eq!(d["charges"][2]["unit_price"], Value::Null);

    // One customer alone: its rows and total only.
    let out = tenor(
        &s.db(),
        &[
            "bill",
            "--month",
            "2027-01",
            "--customer",
            "CUST-0078",
            "--format",
            "json",
        ],
    );
    let one: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(one["customer"], "CUST-0078");
    assert_eq!(one["charges"].as_array().unwrap().len(), 7);
    assert_eq!(one["totals"][0]["amount"], "1739.41");
}

/// The CSV's amounts and the JSON's rows sum to the totals the table prints, customer by
/// customer and overall.
#[test]
fn csv_json_and_table_agree() {
    let s = book("agree");
    let table = bill(&s.db(), "2027-01", "table").stdout;
    assert!(
        table.contains("total CUST-0042 USD (5 charges): 1,673.32"),
        "{table}"
    );
    assert!(
        table.contains("total CUST-0078 USD (7 charges): 1,739.41"),
        "{table}"
    );
    assert!(
        table.contains("total 2027-01 USD (12 charges): 3,412.73"),
        "{table}"
    );
    let csv = bill(&s.db(), "2027-01", "csv").stdout;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let amount = header.iter().position(|h| *h == "amount").unwrap();
    let customer = header.iter().position(|h| *h == "customer").unwrap();
    let mut per: std::collections::BTreeMap<String, Decimal> = Default::default();
    let mut rows = 0;
    for l in lines {
        // No field of these quotes holds a comma, so splitting is parsing here.
        let f: Vec<&str> = l.split(',').collect();
        *per.entry(f[customer].to_string()).or_default() += f[amount].parse::<Decimal>().unwrap();
        rows += 1;
    }
    assert_eq!(rows, 12);
    assert_eq!(per["CUST-0042"], "1673.32".parse().unwrap());
    assert_eq!(per["CUST-0078"], "1739.41".parse().unwrap());
    let d = json(&s.db(), "2027-01");
    let sum: Decimal = d["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| dec(&c["amount"]))
        .sum();
    assert_eq!(sum, dec(&d["totals"][0]["amount"]));
    assert_eq!(sum, "3412.73".parse().unwrap());
}

/// `tenor change Q-1001 --line 1 --quantity 30 --date 2026-12-20` adds 5 seats of M365-BP:
/// `[2026-12-20, 2027-01-01)` is 12 of December's 31 days, 5 × 22.00 × 12/31 = 42.580… →
/// 42.58 billed 2026-12-20 (core/CHANGES.md), then 5 × 22.00 = 110.00 beside the 550.00 of
/// the 25 seats from 2027-01-01. December: 8,363.14 + 42.58 = 8,405.72; January's Q-1001:
/// 1,673.32 + 110.00 = 1,783.32, overall 1,783.32 + 1,739.41 = 3,522.73.
#[test]
fn a_seat_change_is_billed_from_its_date() {
    let s = book("change");
    let out = tenor(
        &s.db(),
        &[
            "-q",
            "change",
            "Q-1001",
            "--line",
            "1",
            "--quantity",
            "30",
            "--date",
            "2026-12-20",
            "--rules",
            root().join("rules").to_str().unwrap(),
        ],
    );
    assert_eq!(out.exit, Exit::Success, "{}", out.stderr);
    let dec_bill = json(&s.db(), "2026-12");
    let bp: Vec<_> = charges(&dec_bill)
        .into_iter()
        .filter(|c| c.1 == 1)
        .collect();
    assert_eq!(
        bp,
        vec![
            row("Q-1001", 1, "stub", "443.55"),
            row("Q-1001", 1, "prorated", "42.58")
        ]
    );
    // The stub was billed for the 25 seats held then, the proration (last: the schedule is in
    // bill-date order) once there were 30.
    let all = dec_bill["charges"].as_array().unwrap();
    assert_eq!(all[0]["quantity"], "25");
    let last = all.last().unwrap();
    assert_eq!(
        (&last["kind"], &last["quantity"]),
        (&Value::from("prorated"), &Value::from("30"))
    );
    assert_eq!(last["bill_date"], "2026-12-20");
    assert_eq!(dec_bill["totals"][0]["amount"], "8405.72");
    let jan = json(&s.db(), "2027-01");
    let bp: Vec<_> = charges(&jan)
        .into_iter()
        .filter(|c| c.0 == "Q-1001" && c.1 == 1)
        .collect();
    assert_eq!(
        bp,
        vec![
            row("Q-1001", 1, "recurring", "550.00"),
            row("Q-1001", 1, "recurring", "110.00")
        ]
    );
    assert_eq!(jan["customers"][0]["amount"], "1783.32");
    assert_eq!(jan["totals"][0]["amount"], "3522.73");
}

/// A month nobody is billed in is an empty bill, exit 0; a bad month is refused (exit 2)
/// naming it; a record that is not there is not created.
#[test]
fn an_empty_month_and_a_bad_one() {
    let s = book("empty");
    // Q-1002 started 2026-10-12 and bills its annual EXO-P1 next on 2027-10-12; no other
    // quote is billed before Q-1001's December.
    let d = json(&s.db(), "2026-11");
    assert_eq!(d["charges"], serde_json::json!([]));
    assert_eq!(d["totals"], serde_json::json!([]));
    let t = bill(&s.db(), "2026-11", "table").stdout;
    assert!(t.contains("nothing is billed in 2026-11"), "{t}");
    assert_eq!(bill(&s.db(), "2026-11", "csv").stdout.lines().count(), 1);
    for bad in ["2027-13", "2027-1", "january", "2027-01-01"] {
        let out = tenor(&s.db(), &["bill", "--month", bad]);
        assert_eq!(out.exit, Exit::Error, "{bad}");
        assert!(
            out.stderr
                .contains(&format!("`--month {bad}` is not a month")),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    let missing = s.path().join("none.db");
    let out = tenor(&missing, &["bill", "--month", "2027-01"]);
    assert_eq!(out.exit, Exit::Error);
    assert!(out.stderr.contains("there is no record"), "{}", out.stderr);
    assert!(!missing.exists());
}
