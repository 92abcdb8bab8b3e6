//! Usage rating (`tenor rate`): the scenarios under `tests/scenarios/usage-*/` rated through
//! `tenor_core::documents::rate::rate_cmd`, checked against hand-computed amounts, then snapshot whole.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use tenor_core::cli::Exit;
use tenor_core::cli::rate::{RateArgs, rate_cmd};
use tenor_core::documents::rate::{MAX_KEPT_ERRORS, Period, RateError, RateOptions, rate_usage};

const DIR: &str = env!("CARGO_MANIFEST_DIR");

/// What one run printed.
#[derive(Debug)]
struct Run {
    exit: Result<Exit, String>,
    stdout: String,
    stderr: String,
}

/// Rates `scenarios/{usage}` with the rules of `scenarios/{rules}`; paths in messages are shown
/// relative to the tests folder.
fn rate(usage: &str, rules: &str, period: &str, json: bool, skip_bad: bool) -> Run {
    let args = RateArgs {
        usage: PathBuf::from(DIR).join("scenarios").join(usage),
        period: period.to_string(),
        rules: vec![PathBuf::from(DIR).join("scenarios").join(rules)],
        json,
        skip_bad,
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = rate_cmd(args, &mut out, &mut err);
    let strip = |s: Vec<u8>| {
        String::from_utf8(s)
            .unwrap()
            .replace(&format!("{DIR}/"), "")
    };
    Run {
        exit: exit.map_err(|e| e.to_string().replace(&format!("{DIR}/"), "")),
        stdout: strip(out),
        stderr: strip(err),
    }
}

/// Rates `scenarios/{usage}` with the rules of `scenarios/usage-aggregation`, as JSON.
fn rate_agg(usage: &str, period: &str, skip_bad: bool) -> Run {
    rate(usage, "usage-aggregation", period, true, skip_bad)
}

/// The JSON document of a successful run, parsed and as written (for the snapshot, which keeps
/// the document's own field order).
fn json(usage: &str, rules: &str, period: &str) -> (Value, String) {
    let r = rate(usage, rules, period, true, false);
    assert_eq!(r.exit, Ok(Exit::Success), "{}", r.stderr);
    assert_eq!(r.stderr, "");
    (serde_json::from_str(&r.stdout).unwrap(), r.stdout)
}

/// (customer, product, kind, quantity, amount, cost) of every charge.
fn charges(v: &Value) -> Vec<[String; 6]> {
    v["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            ["customer", "product", "kind", "quantity", "amount", "cost"]
                .map(|k| c[k].as_str().unwrap().to_string())
        })
        .collect()
}

fn row(
    customer: &str,
    product: &str,
    kind: &str,
    qty: &str,
    amount: &str,
    cost: &str,
) -> [String; 6] {
    [customer, product, kind, qty, amount, cost].map(str::to_string)
}

fn totals(v: &Value) -> (String, String) {
    (
        v["totals"]["amount"].as_str().unwrap().to_string(),
        v["totals"]["cost"].as_str().unwrap().to_string(),
    )
}

#[test]
fn domain_example_4_graduated_and_volume_storage() {
    let (v, text) = json("usage-domain-4/usage.csv", "usage-domain-4", "2026-12");
    // The month's peak is 12,500 GB. Graduated: 1,000 × 0.05 + 9,000 × 0.04 + 2,500 × 0.03 =
    // 50 + 360 + 75; volume: every GB in the last tier, 12,500 × 0.03.
    assert_eq!(
        charges(&v),
        vec![
            row("C-100", "STORAGE-G", "usage", "12500", "485.00", "0.00"),
            row("C-100", "STORAGE-V", "usage", "12500", "375.00", "0.00"),
        ]
    );
    let tiers: Vec<(u64, String, String)> = v["charges"][0]["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tier"].as_u64().unwrap(),
                t["units"].as_str().unwrap().to_string(),
                t["amount"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        tiers,
        vec![
            (1, "1000".into(), "50.00".into()),
            (2, "9000".into(), "360.00".into()),
            (3, "2500".into(), "75.00".into()),
        ]
    );
    assert_eq!(v["charges"][0]["records"], 3);
    assert_eq!(v["charges"][0]["aggregation"], "max");
    assert_eq!(totals(&v), ("860.00".into(), "0.00".into()));
    insta::assert_snapshot!("usage-domain-4", text);
}

#[test]
fn domain_example_6_package_blocks() {
    let (v, text) = json("usage-domain-6/usage.csv", "usage-domain-6", "2026-12");
    // Peak 2,300 GB: 3 started blocks of 1,000 at 40.00.
    assert_eq!(
        charges(&v),
        vec![row("C-100", "ARCHIVE", "usage", "2300", "120.00", "0.00")]
    );
    assert_eq!(v["charges"][0]["tiers"][0]["units"], "3");
    insta::assert_snapshot!("usage-domain-6", text);
}

#[test]
fn sum_max_and_last_each_aggregate_their_own_way() {
    let (v, text) = json(
        "usage-aggregation/usage.csv",
        "usage-aggregation",
        "2026-12",
    );
    assert_eq!(
        charges(&v),
        vec![
            // last: 2026-12-28T09:00+02:00 and 2026-12-28T07:00Z are the same instant, the
            // latest of the month; the later row (29) wins. 29 × 3.50 on the P1M line (the P1Y
            // line's 3.00 is not used).
            row("C-100", "DEVICES", "usage", "29", "101.50", "0.00"),
            // sum: 0.333 + 0.333 = 0.666 GB × 0.09 = 0.05994 → 0.06; cost × 0.05 = 0.0333 → 0.03.
            row("C-100", "EGRESS", "usage", "0.666", "0.06", "0.03"),
            // max: of 10, 14, 12.
            row("C-100", "SEATS", "usage", "14", "56.00", "0.00"),
            // max 1,500 GB through yearly tiers: (1,000 × 1.20 + 500 × 0.60) / 12 = 1,500 / 12.
            row("C-200", "ARCHIVE", "usage", "1500", "125.00", "0.00"),
            // sum: 100.5 + 250.25 + 49.25 = 400.00 GB × 0.09; cost × 0.05.
            row("C-200", "EGRESS", "usage", "400.00", "36.00", "20.00"),
        ]
    );
    let aggs: Vec<(&str, u64)> = v["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["aggregation"].as_str().unwrap(),
                c["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        aggs,
        vec![("last", 5), ("sum", 2), ("max", 3), ("max", 2), ("sum", 3)]
    );
    // The yearly table's tiers are shown in its own period.
    assert_eq!(v["charges"][3]["tiers"][0]["amount"], "1200.00");
    assert_eq!(v["charges"][3]["tiers"][1]["amount"], "300.00");
    // Totals are sums of the rounded charges.
    assert_eq!(totals(&v), ("318.56".into(), "20.03".into()));
    insta::assert_snapshot!("usage-aggregation", text);
}

#[test]
fn a_minimum_commitment_adds_its_true_up() {
    let (v, text) = json("usage-minimum/usage.csv", "usage-minimum", "2026-12");
    assert_eq!(
        charges(&v),
        vec![
            // Peak 300 GB, inside the 500 GB allowance: rated 0.00, so the minimum 25.00 is
            // billed as its own line. Cost 300 × 0.02.
            row("C-1", "DATTO-CLOUD", "usage", "300", "0.00", "6.00"),
            row(
                "C-1",
                "DATTO-CLOUD",
                "minimum_true_up",
                "300",
                "25.00",
                "0.00"
            ),
            // Peak 1,200 GB: 700 × 0.05 = 35.00, above the minimum. Cost 1,200 × 0.02.
            row("C-2", "DATTO-CLOUD", "usage", "1200", "35.00", "24.00"),
            // 900 GB: 400 × 0.05 = 20.00; true-up 5.00. Cost 900 × 0.02.
            row("C-3", "DATTO-CLOUD", "usage", "900", "20.00", "18.00"),
            row(
                "C-3",
                "DATTO-CLOUD",
                "minimum_true_up",
                "900",
                "5.00",
                "0.00"
            ),
            // Nothing used: the whole minimum.
            row("C-4", "DATTO-CLOUD", "usage", "0", "0.00", "0.00"),
            row(
                "C-4",
                "DATTO-CLOUD",
                "minimum_true_up",
                "0",
                "25.00",
                "0.00"
            ),
        ]
    );
    let c = &v["charges"][0];
    assert_eq!(
        (&c["period_start"], &c["period_end"], &c["bill_date"]),
        (
            &Value::from("2026-12-01"),
            &Value::from("2027-01-01"),
            &Value::from("2027-01-01")
        )
    );
    assert_eq!(totals(&v), ("110.00".into(), "48.00".into()));
    insta::assert_snapshot!("usage-minimum", text);
}

#[test]
fn the_table_shows_every_charge_and_the_totals() {
    let r = rate(
        "usage-minimum/usage.csv",
        "usage-minimum",
        "2026-12",
        false,
        false,
    );
    assert_eq!(r.exit, Ok(Exit::Success), "{}", r.stderr);
    assert_eq!(r.stderr, "");
    assert!(r.stdout.contains("minimum true up"), "{}", r.stdout);
    assert!(r.stdout.contains("110.00 USD"), "{}", r.stdout);
    insta::assert_snapshot!("usage-minimum-table", r.stdout);
}

#[test]
fn records_outside_the_month_are_counted_and_ignored() {
    let r = rate_agg("usage-period/usage.csv", "2026-12", false);
    assert_eq!(r.exit, Ok(Exit::Success), "{}", r.stderr);
    // 2026-11-30T23:30-05:00 is 2026-12-01 in UTC and 2027-01-01T00:30+01:00 is 2026-12-31:
    // both count. The plain dates 2026-11-30 and 2027-01-01, 2027-01-01T00:00Z and the November
    // seat count do not.
    assert_eq!(r.stderr, "4 records outside 2026-12 ignored\n");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        charges(&v),
        vec![
            // 20 + 30 + 50 GB × 0.09; cost × 0.05.
            row("C-100", "EGRESS", "usage", "100", "9.00", "5.00"),
            // 7, not November's 99.
            row("C-100", "SEATS", "usage", "7", "28.00", "0.00"),
        ]
    );
    // The same file for January: 40 + 60 GB; nothing for seats.
    let jan = rate_agg("usage-period/usage.csv", "2027-01", false);
    assert_eq!(jan.stderr, "6 records outside 2027-01 ignored\n");
    let v: Value = serde_json::from_str(&jan.stdout).unwrap();
    assert_eq!(
        charges(&v),
        vec![row("C-100", "EGRESS", "usage", "100", "9.00", "5.00")]
    );
    assert_eq!(v["charges"][0]["bill_date"], "2027-02-01");
    // One record left in November for each product.
    let nov = rate_agg("usage-period/usage.csv", "2026-11", false);
    assert_eq!(nov.stderr, "6 records outside 2026-11 ignored\n");
    let v: Value = serde_json::from_str(&nov.stdout).unwrap();
    assert_eq!(
        charges(&v),
        vec![
            row("C-100", "EGRESS", "usage", "10", "0.90", "0.50"),
            row("C-100", "SEATS", "usage", "99", "396.00", "0.00"),
        ]
    );
}

const BAD_ROWS: &str = "\
scenarios/usage-errors/bad.csv:3: field quantity: `12,5` is not a number
scenarios/usage-errors/bad.csv:4: field product: unknown product `BOGUS`
scenarios/usage-errors/bad.csv:5: expected 5 fields (customer,product,metric,quantity,timestamp), found 6
scenarios/usage-errors/bad.csv:6: field metric: `cpu` is not the metric of `SEATS`, which is metered by `seats`
scenarios/usage-errors/bad.csv:7: field quantity: `-2` is negative
scenarios/usage-errors/bad.csv:8: field timestamp: `2026-12-32` is not an RFC 3339 timestamp (2026-12-03T14:00:00Z) or a date (2026-12-03)
scenarios/usage-errors/bad.csv:9: field product: unknown product `EGRES` (did you mean `EGRESS`?)
scenarios/usage-errors/bad.csv:11: field product: `SETUP` is not metered (its rules have no `usage METRIC by …` line)
scenarios/usage-errors/bad.csv:12: field customer: empty; every record names a customer
scenarios/usage-errors/bad.csv:13: expected 5 fields (customer,product,metric,quantity,timestamp), found 4
";

#[test]
fn a_bad_row_fails_the_run_with_its_line_and_field() {
    let r = rate_agg("usage-errors/bad.csv", "2026-12", false);
    assert_eq!(r.exit, Ok(Exit::Failure));
    assert_eq!(r.stdout, "", "nothing is written when a row is bad");
    assert_eq!(
        r.stderr,
        format!(
            "{BAD_ROWS}error: 10 bad rows in scenarios/usage-errors/bad.csv; nothing was rated (pass --skip-bad to rate the good rows)\n"
        )
    );
}

#[test]
fn skip_bad_reports_the_bad_rows_and_rates_the_rest() {
    let r = rate_agg("usage-errors/bad.csv", "2026-12", true);
    assert_eq!(r.exit, Ok(Exit::Success));
    assert_eq!(
        r.stderr,
        format!("{BAD_ROWS}warning: 10 bad rows skipped\n")
    );
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        charges(&v),
        vec![
            row("C-100", "SEATS", "usage", "10", "40.00", "0.00"),
            row("C-200", "SEATS", "usage", "5", "20.00", "0.00"),
        ]
    );
    // Nothing good to rate: still a failure.
    let r = rate_agg("usage-errors/all-bad.csv", "2026-12", true);
    assert_eq!(r.exit, Ok(Exit::Failure));
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr
            .ends_with("error: no good records in 2026-12 to rate\n"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_missing_or_wrong_header_names_the_expected_one() {
    let expected = "`customer,product,metric,quantity,timestamp`";
    for (file, message) in [
        (
            "no-header.csv",
            format!(
                "error: scenarios/usage-errors/no-header.csv:1: the header must be {expected}; found `C-100,SEATS,seats,10,2026-12-01`\n"
            ),
        ),
        (
            "wrong-header.csv",
            format!(
                "error: scenarios/usage-errors/wrong-header.csv:1: the header must be {expected}; found `customer,sku,metric,qty,timestamp`\n"
            ),
        ),
        (
            "empty.csv",
            format!(
                "error: scenarios/usage-errors/empty.csv is empty; a usage file starts with the header {expected}\n"
            ),
        ),
    ] {
        let r = rate_agg(&format!("usage-errors/{file}"), "2026-12", false);
        assert_eq!(r.exit, Ok(Exit::Failure), "{file}");
        assert_eq!(r.stdout, "", "{file}");
        assert_eq!(r.stderr, message, "{file}");
    }
    // A header and nothing else is a month without usage.
    let r = rate_agg("usage-errors/header-only.csv", "2026-12", false);
    assert_eq!(r.exit, Ok(Exit::Success), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["charges"], serde_json::json!([]));
    assert_eq!(totals(&v), ("0.00".into(), "0.00".into()));
}

#[test]
fn unknown_paths_and_a_bad_period_cannot_run() {
    let r = rate_agg("usage-errors/nope.csv", "2026-12", false);
    let e = r.exit.unwrap_err();
    assert!(
        e.starts_with("cannot read the usage file scenarios/usage-errors/nope.csv"),
        "{e}"
    );
    let r = rate(
        "usage-minimum/usage.csv",
        "no-such-rules",
        "2026-12",
        true,
        false,
    );
    assert!(r.exit.unwrap_err().contains("no-such-rules"));
    let r = rate(
        "usage-minimum/usage.csv",
        "usage-minimum",
        "2026-13",
        true,
        false,
    );
    assert_eq!(
        r.exit,
        Err("--period: `2026-13` is not a month; expected YYYY-MM, such as 2026-12".into())
    );
    assert_eq!(r.stdout, "");
}

#[test]
fn the_same_input_gives_the_same_bytes() {
    let once = rate_agg("usage-aggregation/usage.csv", "2026-12", false);
    let again = rate_agg("usage-aggregation/usage.csv", "2026-12", false);
    assert_eq!(once.stdout.as_bytes(), again.stdout.as_bytes());
    let t1 = rate(
        "usage-aggregation/usage.csv",
        "usage-aggregation",
        "2026-12",
        false,
        false,
    );
    let t2 = rate(
        "usage-aggregation/usage.csv",
        "usage-aggregation",
        "2026-12",
        false,
        false,
    );
    assert_eq!(t1.stdout.as_bytes(), t2.stdout.as_bytes());
}

fn catalogue(scenario: &str) -> tenor_core::engine::catalogue::Catalogue {
    let sources = tenor_dsl::load(&[PathBuf::from(DIR).join("scenarios").join(scenario)]).unwrap();
    let rules = tenor_dsl::check(&sources).unwrap();
    tenor_core::engine::catalogue::Catalogue::compile(&rules, &sources)
}

#[test]
fn sum_and_max_do_not_depend_on_row_order() {
    // The minimum scenario (max) and the sum rows of the aggregation scenario, rows reversed.
    let cat = catalogue("usage-aggregation");
    let text =
        std::fs::read_to_string(format!("{DIR}/scenarios/usage-aggregation/usage.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.contains("DEVICES")).collect();
    let header = lines.remove(0);
    let forward = format!("{header}\n{}\n", lines.join("\n"));
    lines.reverse();
    let backward = format!("{header}\n{}\n", lines.join("\n"));
    let period = Period::parse("2026-12").unwrap();
    let opts = RateOptions::default();
    let a = rate_usage(&cat, forward.as_bytes(), period, &opts).unwrap();
    let b = rate_usage(&cat, backward.as_bytes(), period, &opts).unwrap();
    assert_eq!(a.charges, b.charges);
    assert_eq!(a.stats.rated, 10);
}

/// Usage rows made on the fly, never held: `rows` records over `customers` customers.
struct Generated {
    rows: u64,
    customers: u64,
    next: u64,
    line: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.line.len() {
            self.line.clear();
            self.pos = 0;
            if self.next == 0 {
                self.line
                    .extend_from_slice(b"customer,product,metric,quantity,timestamp\n");
            } else if self.next <= self.rows {
                let i = self.next;
                self.line.extend_from_slice(
                    format!(
                        "C-{},SEATS,seats,{},2026-12-{:02}T12:00:00Z\n",
                        i % self.customers,
                        i % 97,
                        1 + i % 28
                    )
                    .as_bytes(),
                );
            } else {
                return Ok(0);
            }
            self.next += 1;
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn a_long_stream_is_rated_without_holding_it() {
    let cat = catalogue("usage-aggregation");
    let reader = Generated {
        rows: 200_000,
        customers: 50,
        next: 0,
        line: Vec::new(),
        pos: 0,
    };
    let period = Period::parse("2026-12").unwrap();
    let r = rate_usage(&cat, reader, period, &RateOptions::default()).unwrap();
    assert_eq!(r.stats.rows, 200_000);
    assert_eq!(r.stats.rated, 200_000);
    assert_eq!(r.charges.len(), 50);
    // Each customer's rows cover every residue of 97 many times: the peak is 96 seats.
    assert!(
        r.charges
            .iter()
            .all(|c| c.quantity.to_string() == "96" && c.records == 4000)
    );
    assert!(r.charges.iter().all(|c| c.amount.to_string() == "384.00"));
}

#[test]
fn bad_rows_beyond_the_cap_are_counted_not_kept() {
    let cat = catalogue("usage-aggregation");
    let mut text = String::from("customer,product,metric,quantity,timestamp\n");
    for i in 0..(MAX_KEPT_ERRORS + 50) {
        text.push_str(&format!("C-{i},SEATS,seats,x,2026-12-01\n"));
    }
    let period = Period::parse("2026-12").unwrap();
    match rate_usage(&cat, text.as_bytes(), period, &RateOptions::default()) {
        Err(RateError::BadRows(errors, stats)) => {
            assert_eq!(errors.len(), MAX_KEPT_ERRORS);
            assert_eq!(stats.bad, MAX_KEPT_ERRORS as u64 + 50);
            assert_eq!(errors[0].line, 2);
            assert_eq!(errors[0].field, Some("quantity"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_file_is_read_as_csv_with_lines_counted_as_in_the_file() {
    let cat = catalogue("usage-aggregation");
    // A byte-order mark, spaces around fields, a quoted customer with a comma, a blank line,
    // and a quoted customer over two lines: the bad row after it is on line 8 of the file.
    let text = "\u{feff}customer, product ,metric,quantity,timestamp\n\
                \"Harbour Dental, Inc.\", SEATS , seats , 3 , 2026-12-01 \n\
                \n\
                \"Harbour Dental, Inc.\",SEATS,seats,5,2026-12-02\n\
                \"Two\n\
                lines\",SEATS,seats,1,2026-12-02\n\
                C-1,SEATS,seats,2,2026-12-02\n\
                C-1,SEATS,seats,x,2026-12-02\n";
    let period = Period::parse("2026-12").unwrap();
    let opts = RateOptions {
        source: "usage.csv".into(),
        skip_bad: true,
    };
    let r = rate_usage(&cat, text.as_bytes(), period, &opts).unwrap();
    let got: Vec<(String, String)> = r
        .charges
        .iter()
        .map(|c| (c.customer.clone(), c.quantity.to_string()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("C-1".to_string(), "2".to_string()),
            ("Harbour Dental, Inc.".to_string(), "5".to_string()),
            ("Two\nlines".to_string(), "1".to_string()),
        ]
    );
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        r.skipped[0].to_string(),
        "8: field quantity: `x` is not a number"
    );
    assert_eq!(r.stats.rows, 5);
}

proptest::proptest! {
    #[test]
    fn sum_and_max_match_a_plain_fold(cents in proptest::collection::vec(0u32..10_000_000, 1..40)) {
        let cat = catalogue("usage-aggregation");
        let mut text = String::from("customer,product,metric,quantity,timestamp\n");
        for (i, c) in cents.iter().enumerate() {
            let q = format!("{}.{:02}", c / 100, c % 100);
            let day = 1 + i % 31;
            text.push_str(&format!("C,EGRESS,egress-gb,{q},2026-12-{day:02}T10:00:00Z\n"));
            text.push_str(&format!("C,SEATS,seats,{q},2026-12-{day:02}\n"));
        }
        let period = Period::parse("2026-12").unwrap();
        let r = rate_usage(&cat, text.as_bytes(), period, &RateOptions::default()).unwrap();
        let dec = |c: u64| rust_decimal::Decimal::new(i64::try_from(c).unwrap(), 2);
        let sum = dec(cents.iter().map(|&c| u64::from(c)).sum());
        let max = dec(u64::from(*cents.iter().max().unwrap()));
        let rounded = |d: rust_decimal::Decimal| d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        proptest::prop_assert_eq!(r.charges.len(), 2);
        proptest::prop_assert_eq!(r.charges[0].quantity, sum);
        proptest::prop_assert_eq!(r.charges[0].amount, rounded(sum * rust_decimal::Decimal::new(9, 2)));
        proptest::prop_assert_eq!(r.charges[1].quantity, max);
        proptest::prop_assert_eq!(r.charges[1].amount, rounded(max * rust_decimal::Decimal::from(4)));
        proptest::prop_assert_eq!(r.totals.amount, r.charges[0].amount + r.charges[1].amount);
    }
}
