//! `tenor change`: seat increases and decreases on accepted subscriptions, checked against
//! hand-worked numbers, then snapshot; the cancellation window, anchored month ends, prices
//! locked for the term, and running the same change twice.
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
use std::str::FromStr;
use tenor_core::cli::change::{ChangeArgs, change_cmd};
use tenor_core::cli::{Exit, run};
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_tests::scratch::Scratch;
use tenor_tests::{ChargeRow, charge_row as c, charge_rows};

const TESTS: &str = env!("CARGO_MANIFEST_DIR");

/// A fresh scratch path (nothing there yet) for one test, removed with its record when the
/// test ends.
fn scratch(name: &str) -> Scratch {
    Scratch::new(&format!("change-{name}"))
}

/// The record of a test's output directory: `<dir>.db`, beside it.
fn db_for(dir: &Path) -> PathBuf {
    dir.with_extension("db")
}

fn scenario(name: &str) -> PathBuf {
    Path::new(TESTS).join("scenarios").join(name)
}

/// Accepts `quote` of scenario `name` into a fresh directory; returns it.
fn accepted(name: &str, quote: &str, dir: &str) -> Scratch {
    let out = scratch(dir);
    accepted_into(name, quote, &out);
    out
}

/// Accepts `quote` of scenario `name` into `out`.
fn accepted_into(name: &str, quote: &str, out: &Path) {
    let rules = scenario(name);
    tenor_tests::scratch::link_customers(&db_for(out));
    let argv: Vec<std::ffi::OsString> = vec![
        "tenor".into(),
        "--db".into(),
        db_for(out).into(),
        "accept".into(),
        rules.join(quote).into(),
        "--rules".into(),
        rules.clone().into(),
        "--out".into(),
        out.into(),
    ];
    let mut stdout = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let exit = run(argv, &mut stdout, &mut err);
    assert_eq!(
        exit,
        Exit::Success,
        "{}",
        String::from_utf8_lossy(&err.into_inner())
    );
}

struct Out {
    exit: Exit,
    stdout: String,
    stderr: String,
}

/// Runs `tenor change` on the latest revision of `quote` in the record of `dir`, exporting it
/// into `dir` afterwards.
fn change(rules: &str, dir: &Path, quote: &str, line: u32, quantity: &str, date: &str) -> Out {
    let args = ChangeArgs {
        quote: quote.into(),
        revision: None,
        line,
        quantity: Decimal::from_str(quantity).unwrap(),
        date: date.parse().unwrap(),
        out: Some(dir.to_path_buf()),
        rules: vec![scenario(rules)],
        db: Some(db_for(dir)),
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = change_cmd(args, &mut out, &mut err).unwrap_or_else(|e| {
        err.extend_from_slice(e.to_string().as_bytes());
        Exit::Error
    });
    Out {
        exit,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

fn ok(o: &Out) {
    assert_eq!(
        o.exit,
        Exit::Success,
        "stdout: {}\nstderr: {}",
        o.stdout,
        o.stderr
    );
}

/// Runs [`change`], which must succeed; returns what it printed and the change order written.
fn change_ok(
    rules: &str,
    dir: &Path,
    quote: &str,
    line: u32,
    quantity: &str,
    date: &str,
) -> (Out, Value) {
    let o = change(rules, dir, quote, line, quantity, date);
    ok(&o);
    let co = doc(dir, &format!("CO-{quote}-{line}-{date}"));
    (o, co)
}

fn doc(dir: &Path, id: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap()).unwrap()
}

/// (kind, period_start, period_end, bill_date, amount) of every charge.
fn charges(v: &Value) -> Vec<ChargeRow> {
    charge_rows(&v["charges"])
}

/// `first`, then a charge of `kind` and `amount` for each of the `n` months from `year`-`month`,
/// billed on the month's first day.
fn then_monthly(
    first: Option<ChargeRow>,
    kind: &str,
    (year, month): (i32, u32),
    n: u32,
    amount: &str,
) -> Vec<ChargeRow> {
    let starts = month_starts(year, month, n);
    first
        .into_iter()
        .chain(
            starts
                .windows(2)
                .map(|w| c(kind, &w[0], &w[1], &w[0], amount)),
        )
        .collect()
}

/// The month starts from `from` (inclusive) for `n` months: `2027-07-01`, `2027-08-01`…
fn month_starts(year: i32, month: u32, n: u32) -> Vec<String> {
    (0..=n)
        .map(|k| {
            let m0 = (month - 1 + k) % 12;
            let y = year + i32::try_from((month - 1 + k) / 12).unwrap();
            format!("{y}-{:02}-01", m0 + 1)
        })
        .collect()
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap()).unwrap()
}

/// The change order's file as written, its SHA-256 digests masked: they follow the exact bytes
/// of accept's documents, which are snapshot by accept's own tests.
fn for_snapshot(dir: &Path, id: &str) -> String {
    let text = std::fs::read_to_string(dir.join(format!("{id}.json"))).unwrap();
    text.lines()
        .map(|l| match l.trim_end_matches(',').rsplit_once(": \"") {
            Some((key, v)) if v.len() == 65 && v[..64].chars().all(|c| c.is_ascii_hexdigit()) => {
                format!(
                    "{key}: \"[sha256]\"{}",
                    if l.ends_with(',') { "," } else { "" }
                )
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

// Long: one scenario followed end to end, each step checked against its hand-worked numbers.
#[test]
fn increase_on_day_200_is_prorated_then_billed_monthly_at_the_locked_price() {
    let dir = accepted("change-seats", "quote.yaml", "day-200");
    let so_before = doc(&dir, "SO-Q-CHG-1");
    // Accepted: stub 10 × 22.00 × 25/31 = 177.42, then 18 months of 220.00.
    assert_eq!(so_before["lines"][0]["contract_value"], "4137.42");
    // Day 200 from 2026-12-07 is 2027-06-24 (Dec 25 + Jan 31 + Feb 28 + Mar 31 + Apr 30 +
    // May 31 = 176 days, then 24 more).
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "15", "2027-06-24");
    ok(&o);
    assert!(o.stdout.contains("CO-Q-CHG-1-1-2027-06-24: line 1 `M365-BP` 10 → 15 from 2027-06-24; 13 charge(s), 1,345.67 USD"), "{}", o.stdout);
    let co = doc(&dir, "CO-Q-CHG-1-1-2027-06-24");
    assert_eq!(co["schema"], "tenor.change-order/1");
    assert_eq!(co["kind"], "increase");
    assert_eq!(co["old_quantity"], "10");
    assert_eq!(co["new_quantity"], "15");
    assert_eq!(co["unit_price"], "22.00");
    // [2027-06-24, 2027-07-01) is 7 of June's 30 days: 5 × 22.00 × 7/30 = 25.666… → 25.67.
    let prorated = c(
        "prorated",
        "2027-06-24",
        "2027-07-01",
        "2027-06-24",
        "25.67",
    );
    // Then 5 × 22.00 = 110.00 for each month of the full year, 2027-07 to 2028-06.
    let want = then_monthly(Some(prorated), "recurring", (2027, 7), 12, "110.00");
    assert_eq!(charges(&co), want);
    // 25.67 + 12 × 110.00
    assert_eq!(co["total"], "1345.67");
    assert_eq!(co["recurring_change"], "110.00");
    // Cost: 5 × 17.60 × 7/30 = 20.533… → 20.53, then 88.00 a month.
    assert_eq!(co["charges"][0]["cost"], "20.53");
    assert_eq!(co["charges"][1]["cost"], "88.00");

    let so = doc(&dir, "SO-Q-CHG-1");
    assert_eq!(so["fingerprint"], so_before["fingerprint"]);
    assert_eq!(so["lines"][0]["quantity"], "15");
    assert_eq!(so["lines"][0]["recurring"], "330.00");
    // 4,137.42 + 1,345.67
    assert_eq!(so["lines"][0]["contract_value"], "5483.09");
    // 3,284.88 accepted cost (177.42 → 141.94 stub + 18 × 176.00) + 20.53 + 12 × 88.00
    assert_eq!(
        dec(&so["lines"][0]["cost"]),
        dec(&so_before["lines"][0]["cost"]) + Decimal::from_str("1076.53").unwrap()
    );
    assert_eq!(
        dec(&so["totals"]["contract_value"]),
        dec(&so_before["totals"]["contract_value"]) + Decimal::from_str("1345.67").unwrap()
    );
    assert_eq!(
        dec(&so["totals"]["mrr"]),
        dec(&so_before["totals"]["mrr"]) + Decimal::from(110)
    );
    assert_eq!(
        dec(&so["totals"]["arr"]),
        dec(&so["totals"]["mrr"]) * Decimal::from(12)
    );
    assert_eq!(
        dec(&so["totals"]["margin"]),
        dec(&so["totals"]["contract_value"]) - dec(&so["totals"]["cost"])
    );
    // The first invoice (2026-12-07) is not touched by a change billed in June.
    assert_eq!(
        so["totals"]["first_invoice"],
        so_before["totals"]["first_invoice"]
    );
    assert_eq!(
        so["lines"][0]["first_charge"],
        so_before["lines"][0]["first_charge"]
    );
    // Other lines are untouched.
    assert_eq!(so["lines"][1], so_before["lines"][1]);
    assert_eq!(so["lines"][2], so_before["lines"][2]);

    let sched = doc(&dir, "SCHED-Q-CHG-1");
    assert_eq!(sched["schema"], "tenor.invoice-schedule/1");
    let total: Decimal = sched["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| dec(&c["amount"]))
        .sum();
    assert_eq!(dec(&sched["total"]), total);
    // Bill-date order; on 2027-07-01 the accepted line 1 charge, the change's, then line 2's.
    let bills: Vec<&str> = sched["charges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bill_date"].as_str().unwrap())
        .collect();
    let mut sorted = bills.clone();
    sorted.sort_unstable();
    assert_eq!(bills, sorted);
    let july: Vec<(u64, &str)> = sched["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["bill_date"] == "2027-07-01")
        .map(|c| (c["line"].as_u64().unwrap(), c["amount"].as_str().unwrap()))
        .collect();
    assert_eq!(
        july,
        vec![(1, "220.00"), (1, "110.00"), (2, "1056.00"), (3, "240.00")]
    );
    // The line's contract value is still the sum of its scheduled charges.
    let line1: Decimal = sched["charges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["line"] == 1)
        .map(|c| dec(&c["amount"]))
        .sum();
    assert_eq!(line1, dec(&so["lines"][0]["contract_value"]));

    insta::assert_snapshot!(
        "day-200-increase",
        for_snapshot(&dir, "CO-Q-CHG-1-1-2027-06-24")
    );
}

#[test]
fn decrease_inside_the_window_is_refunded_by_day() {
    let dir = accepted("change-seats", "quote.yaml", "window");
    // 2026-12-10 is within 7 days of the start, 2026-12-07. The stub [12-07, 01-01) belongs to
    // December's billing period, 31 days; [12-10, 01-01) is 22 of them:
    // 2 × 22.00 × 22/31 = 31.225… → 31.23 back.
    let (_, co) = change_ok("change-seats", &dir, "Q-CHG-1", 1, "8", "2026-12-10");
    assert_eq!(co["kind"], "decrease");
    assert_eq!(co["billed_from"], "2026-12-10");
    assert_eq!(co["cancel_days"], 7);
    let refund = c("refund", "2026-12-10", "2027-01-01", "2026-12-10", "-31.23");
    let want = then_monthly(Some(refund), "reduction", (2027, 1), 18, "-44.00");
    assert_eq!(charges(&co), want);
    // −31.23 − 18 × 44.00
    assert_eq!(co["total"], "-823.23");
    assert_eq!(co["recurring_change"], "-44.00");
    // The distributor refunds inside the window too: 2 × 17.60 × 22/31 = 24.98.
    assert_eq!(co["charges"][0]["cost"], "-24.98");
    let so = doc(&dir, "SO-Q-CHG-1");
    assert_eq!(so["lines"][0]["quantity"], "8");
    assert_eq!(so["lines"][0]["recurring"], "176.00");
    // 4,137.42 − 823.23
    assert_eq!(so["lines"][0]["contract_value"], "3314.19");
    insta::assert_snapshot!(
        "window-decrease",
        for_snapshot(&dir, "CO-Q-CHG-1-1-2026-12-10")
    );
}

#[test]
fn the_last_day_of_the_window_is_inside_and_the_next_is_refused() {
    let dir = accepted("change-seats", "quote.yaml", "window-edge");
    // Closes 7 days after 2026-12-07: 12-13 is the last day inside.
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "9", "2026-12-13");
    ok(&o);
    // 1 × 22.00 × 19/31 = 13.483… → 13.48
    assert_eq!(
        doc(&dir, "CO-Q-CHG-1-1-2026-12-13")["charges"][0]["amount"],
        "-13.48"
    );

    let dir = accepted("change-seats", "quote.yaml", "window-closed");
    let before = std::fs::read(dir.join("SO-Q-CHG-1.json")).unwrap();
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "8", "2026-12-14");
    assert_eq!(o.exit, Exit::Failure, "{}", o.stdout);
    assert!(
        o.stderr.contains("error: the cancellation window for M365-BP on line 1 closed on 2026-12-14 (7 days after 2026-12-07); seats can be reduced at renewal on 2028-07-01"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("nothing was written"), "{}", o.stderr);
    assert!(!dir.join("CO-Q-CHG-1-1-2026-12-14.json").exists());
    assert_eq!(std::fs::read(dir.join("SO-Q-CHG-1.json")).unwrap(), before);
}

#[test]
fn added_seats_have_their_own_cancellation_window() {
    let dir = accepted("change-seats", "quote.yaml", "lots");
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        1,
        "15",
        "2027-06-24",
    ));
    // Seats added on 2027-06-24 may be cancelled until 2027-06-30. Three of the five go on
    // 06-28: [06-28, 07-01) is 3 of June's 30 days: 3 × 22.00 × 3/30 = 6.60.
    let (_, co) = change_ok("change-seats", &dir, "Q-CHG-1", 1, "12", "2027-06-28");
    assert_eq!(co["charges"][0]["amount"], "-6.60");
    assert_eq!(co["charges"][1]["amount"], "-66.00");
    // −6.60 − 12 × 66.00
    assert_eq!(co["total"], "-798.60");
    // Two added seats are left in their window; the original ten are not.
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "9", "2027-06-29");
    assert_eq!(o.exit, Exit::Failure);
    assert!(
        o.stderr.contains("only 2 of the 3 seats can still be cancelled on 2027-06-29: the cancellation window for M365-BP on line 1 closed on 2026-12-14 (7 days after 2026-12-07); the rest can be reduced at renewal on 2028-07-01"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("change to 10 or more"), "{}", o.stderr);
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        1,
        "10",
        "2027-06-29",
    ));
    assert_eq!(doc(&dir, "SO-Q-CHG-1")["lines"][0]["quantity"], "10");
    // A change dated before one already made is refused.
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "11", "2027-03-01");
    assert_eq!(o.exit, Exit::Failure);
    assert!(
        o.stderr
            .contains("line 1 already has a change on 2027-06-29 (`CO-Q-CHG-1-1-2027-06-29`)"),
        "{}",
        o.stderr
    );
}

#[test]
fn annual_line_increase_is_prorated_over_the_annual_period() {
    let dir = accepted("change-seats", "quote.yaml", "annual");
    // Accepted: 4 × 264.00 × 206/365 = 595.99 for [2026-12-07, 2027-07-01), then 1,056.00.
    let so = doc(&dir, "SO-Q-CHG-1");
    assert_eq!(so["lines"][1]["contract_value"], "1651.99");
    // In the stub: the billing period is [2026-07-01, 2027-07-01), 365 days, of which
    // [2027-03-10, 2027-07-01) is 22 + 30 + 31 + 30 = 113: 3 × 264.00 × 113/365 = 245.194… → 245.19.
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        2,
        "7",
        "2027-03-10",
    ));
    let co = doc(&dir, "CO-Q-CHG-1-2-2027-03-10");
    assert_eq!(
        charges(&co),
        vec![
            c(
                "prorated",
                "2027-03-10",
                "2027-07-01",
                "2027-03-10",
                "245.19"
            ),
            c(
                "recurring",
                "2027-07-01",
                "2028-07-01",
                "2027-07-01",
                "792.00"
            ),
        ]
    );
    // In the full year [2027-07-01, 2028-07-01), 366 days (29 February 2028): from 2027-09-15,
    // 290 days are left: 1 × 264.00 × 290/366 = 209.180… → 209.18.
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        2,
        "8",
        "2027-09-15",
    ));
    let co = doc(&dir, "CO-Q-CHG-1-2-2027-09-15");
    assert_eq!(
        charges(&co),
        vec![c(
            "prorated",
            "2027-09-15",
            "2028-07-01",
            "2027-09-15",
            "209.18"
        )]
    );
    assert_eq!(co["recurring_change"], "264.00");
    let so = doc(&dir, "SO-Q-CHG-1");
    assert_eq!(so["lines"][1]["quantity"], "8");
    assert_eq!(so["lines"][1]["recurring"], "2112.00");
    // 1,651.99 + 245.19 + 792.00 + 209.18
    assert_eq!(so["lines"][1]["contract_value"], "2898.36");
}

// Long: one scenario followed end to end, each step checked against its hand-worked numbers.
#[test]
fn jan_31_anchor_keeps_month_end_periods() {
    let dir = accepted("change-month-end", "quote.yaml", "month-end");
    // In the stub piece [2027-02-10, 2027-02-28): its billing period is [2027-01-31,
    // 2027-02-28), 28 days; [02-20, 02-28) is 8: 5 × 22.00 × 8/28 = 31.428… → 31.43.
    ok(&change(
        "change-month-end",
        &dir,
        "Q-CHG-3",
        1,
        "15",
        "2027-02-20",
    ));
    let co = doc(&dir, "CO-Q-CHG-3-1-2027-02-20");
    let got = charges(&co);
    assert_eq!(got.len(), 24);
    assert_eq!(
        got[0],
        c(
            "prorated",
            "2027-02-20",
            "2027-02-28",
            "2027-02-20",
            "31.43"
        )
    );
    assert_eq!(
        got[1],
        c(
            "recurring",
            "2027-02-28",
            "2027-03-31",
            "2027-02-28",
            "110.00"
        )
    );
    assert_eq!(
        got[2],
        c(
            "recurring",
            "2027-03-31",
            "2027-04-30",
            "2027-03-31",
            "110.00"
        )
    );
    assert_eq!(
        got[3],
        c(
            "recurring",
            "2027-04-30",
            "2027-05-31",
            "2027-04-30",
            "110.00"
        )
    );
    assert_eq!(
        got[12],
        c(
            "recurring",
            "2028-01-31",
            "2028-02-29",
            "2028-01-31",
            "110.00"
        )
    );
    assert_eq!(
        got[13],
        c(
            "recurring",
            "2028-02-29",
            "2028-03-31",
            "2028-02-29",
            "110.00"
        )
    );
    assert_eq!(
        got[23],
        c(
            "recurring",
            "2028-12-31",
            "2029-01-31",
            "2028-12-31",
            "110.00"
        )
    );
    // 31.43 + 23 × 110.00
    assert_eq!(co["total"], "2561.43");
    // A leap February: [2028-01-31, 2028-02-29) is 29 days; [02-15, 02-29) is 14:
    // 5 × 22.00 × 14/29 = 53.103… → 53.10, then the 11 month-end periods to 2029-01-31.
    ok(&change(
        "change-month-end",
        &dir,
        "Q-CHG-3",
        1,
        "20",
        "2028-02-15",
    ));
    let co = doc(&dir, "CO-Q-CHG-3-1-2028-02-15");
    let got = charges(&co);
    assert_eq!(got.len(), 12);
    assert_eq!(
        got[0],
        c(
            "prorated",
            "2028-02-15",
            "2028-02-29",
            "2028-02-15",
            "53.10"
        )
    );
    assert_eq!(
        got[1],
        c(
            "recurring",
            "2028-02-29",
            "2028-03-31",
            "2028-02-29",
            "110.00"
        )
    );
    assert_eq!(
        got[2],
        c(
            "recurring",
            "2028-03-31",
            "2028-04-30",
            "2028-03-31",
            "110.00"
        )
    );
    assert_eq!(co["total"], "1263.10");
    insta::assert_snapshot!(
        "month-end-increase",
        for_snapshot(&dir, "CO-Q-CHG-3-1-2028-02-15")
    );
}

#[test]
fn product_without_a_window_drops_seats_from_the_next_period_without_a_refund() {
    let dir = accepted("change-seats", "quote.yaml", "no-window");
    let (_, co) = change_ok("change-seats", &dir, "Q-CHG-1", 3, "4", "2027-03-10");
    assert_eq!(co["effective"], "2027-03-10");
    assert_eq!(co["billed_from"], "2027-04-01");
    assert!(co.get("cancel_days").is_none());
    // No refund for March; 2 × 40.00 off each month from April 2027 to June 2028 (15 months).
    let want = then_monthly(None, "reduction", (2027, 4), 15, "-80.00");
    assert_eq!(charges(&co), want);
    assert_eq!(co["total"], "-1200.00");
    // A service we deliver ourselves stops costing: 2 × 12.00 a month.
    assert_eq!(co["charges"][0]["cost"], "-24.00");
    assert_eq!(doc(&dir, "SO-Q-CHG-1")["lines"][2]["recurring"], "160.00");
}

#[test]
fn discounts_of_the_line_carry_to_added_seats() {
    let dir = accepted("change-seats", "quote-nonprofit.yaml", "nonprofit");
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-2",
        1,
        "15",
        "2027-06-24",
    ));
    let co = doc(&dir, "CO-Q-CHG-2-1-2027-06-24");
    let got = charges(&co);
    // 25.67 as without the discount, then 15% of it: 3.8505 → 3.85 (half up).
    assert_eq!(
        got[0],
        c(
            "prorated",
            "2027-06-24",
            "2027-07-01",
            "2027-06-24",
            "25.67"
        )
    );
    assert_eq!(
        got[1],
        c(
            "discount",
            "2027-06-24",
            "2027-07-01",
            "2027-06-24",
            "-3.85"
        )
    );
    // 110.00 less 15% (16.50) every month.
    assert_eq!(
        got[2],
        c(
            "recurring",
            "2027-07-01",
            "2027-08-01",
            "2027-07-01",
            "110.00"
        )
    );
    assert_eq!(
        got[3],
        c(
            "discount",
            "2027-07-01",
            "2027-08-01",
            "2027-07-01",
            "-16.50"
        )
    );
    assert_eq!(co["charges"][1]["rule"], "nonprofit");
    assert_eq!(got.len(), 26);
    // 25.67 − 3.85 + 12 × 93.50
    assert_eq!(co["total"], "1143.82");
    assert_eq!(co["recurring_change"], "93.50");
    assert_eq!(doc(&dir, "SO-Q-CHG-2")["lines"][0]["recurring"], "280.50");
}

#[test]
fn the_same_change_twice_is_applied_once() {
    let dir = accepted("change-seats", "quote.yaml", "twice");
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        1,
        "15",
        "2027-06-24",
    ));
    let files = ["CO-Q-CHG-1-1-2027-06-24", "SCHED-Q-CHG-1", "SO-Q-CHG-1"];
    let after: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(format!("{f}.json"))).unwrap())
        .collect();
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "15", "2027-06-24");
    ok(&o);
    assert!(
        o.stdout.contains("is already applied; nothing written"),
        "{}",
        o.stdout
    );
    let again: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(dir.join(format!("{f}.json"))).unwrap())
        .collect();
    assert_eq!(after, again);
    // A different change under the same name is refused.
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "16", "2027-06-24");
    assert_eq!(o.exit, Exit::Failure);
    assert!(
        o.stderr
            .contains("already recorded as a different change: line 1 to 15 on 2027-06-24"),
        "{}",
        o.stderr
    );
    // After a later change, repeating the first is still a no-op.
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        1,
        "16",
        "2027-06-25",
    ));
    let o = change("change-seats", &dir, "Q-CHG-1", 1, "15", "2027-06-24");
    ok(&o);
    assert!(
        o.stdout
            .contains("was applied before (later changes followed it); nothing written"),
        "{}",
        o.stdout
    );
    assert_eq!(doc(&dir, "SO-Q-CHG-1")["lines"][0]["quantity"], "16");
}

/// Runs `tenor` in-process on the record of `dir`.
fn tenor_on(dir: &Path, args: &[std::ffi::OsString]) -> (Exit, String) {
    let mut argv: Vec<std::ffi::OsString> = vec!["tenor".into(), "--db".into(), db_for(dir).into()];
    argv.extend(args.iter().cloned());
    let mut stdout = Vec::new();
    let mut err = NoColor::new(Vec::new());
    let exit = run(argv, &mut stdout, &mut err);
    (
        exit,
        String::from_utf8_lossy(&err.into_inner()).into_owned(),
    )
}

// Long: one scenario followed end to end: a change, accepting again, a new revision.
#[test]
fn a_change_stays_with_its_revision_and_a_new_revision_starts_from_the_quote() {
    let dir = accepted("change-seats", "quote.yaml", "revisions");
    let so_before = std::fs::read(dir.join("SO-Q-CHG-1.json")).unwrap();
    ok(&change(
        "change-seats",
        &dir,
        "Q-CHG-1",
        1,
        "15",
        "2027-06-24",
    ));
    let so_after = std::fs::read(dir.join("SO-Q-CHG-1.json")).unwrap();
    let sched_after = std::fs::read(dir.join("SCHED-Q-CHG-1.json")).unwrap();
    assert_ne!(so_before, so_after);
    let rules = scenario("change-seats");
    let accept = |quote: &Path, revise: bool| {
        let mut argv: Vec<std::ffi::OsString> = vec![
            "accept".into(),
            quote.into(),
            "--rules".into(),
            rules.clone().into(),
            "--out".into(),
            dir.path().into(),
        ];
        if revise {
            argv.push("--revise".into());
        }
        tenor_on(&dir, &argv)
    };
    // Accepting the same quote again changes nothing: the changed documents are exported.
    let (exit, msg) = accept(&rules.join("quote.yaml"), false);
    assert_eq!(exit, Exit::Success, "{msg}");
    assert!(msg.contains("nothing changed"), "{msg}");
    assert_eq!(
        std::fs::read(dir.join("SO-Q-CHG-1.json")).unwrap(),
        so_after
    );
    // A changed quote under the same id is refused without --revise…
    let edited = dir.with_extension("quote.yaml");
    let text = std::fs::read_to_string(rules.join("quote.yaml")).unwrap();
    let reordered = text.replace("quantity: 10", "quantity: 11");
    assert_ne!(reordered, text, "the scenario sells 10 seats on a line");
    std::fs::write(&edited, reordered).unwrap();
    let (exit, msg) = accept(&edited, false);
    assert_eq!(exit, Exit::Failure, "{msg}");
    assert!(msg.contains("--revise"), "{msg}");
    assert_eq!(
        std::fs::read(dir.join("SO-Q-CHG-1.json")).unwrap(),
        so_after
    );
    // …and with it becomes revision 2, made from the quote, without revision 1's change.
    let (exit, msg) = accept(&edited, true);
    assert_eq!(exit, Exit::Success, "{msg}");
    assert!(msg.contains("recorded Q-CHG-1 revision 2"), "{msg}");
    assert_eq!(doc(&dir, "SO-Q-CHG-1")["lines"][0]["quantity"], "11");
    // Revision 1 stays readable, with its change.
    let old = dir.with_extension("rev1");
    let (exit, msg) = tenor_on(
        &dir,
        &[
            "export".into(),
            "Q-CHG-1".into(),
            "--revision".into(),
            "1".into(),
            "--out".into(),
            old.clone().into(),
        ],
    );
    assert_eq!(exit, Exit::Success, "{msg}");
    assert_eq!(
        std::fs::read(old.join("SO-Q-CHG-1.json")).unwrap(),
        so_after
    );
    assert_eq!(
        std::fs::read(old.join("SCHED-Q-CHG-1.json")).unwrap(),
        sched_after
    );
    let _ = std::fs::remove_dir_all(&old);
    let _ = std::fs::remove_file(&edited);
}

#[test]
fn changes_that_make_no_sense_are_refused() {
    let dir = accepted("change-seats", "quote.yaml", "refusals");
    let cases = [
        (
            9,
            "5",
            "2027-01-15",
            "`SO-Q-CHG-1` has lines 1 to 3; there is no line 9",
        ),
        (
            1,
            "10",
            "2027-01-15",
            "line 1 already has 10 × `M365-BP`; nothing to change",
        ),
        (
            1,
            "-1",
            "2027-01-15",
            "the quantity must be zero or more, not -1",
        ),
        (
            1,
            "12",
            "2028-07-01",
            "2028-07-01 is outside line 1's commitment [2026-12-07, 2028-07-01)",
        ),
        (
            1,
            "12",
            "2026-12-01",
            "2026-12-01 is outside line 1's commitment",
        ),
    ];
    for (line, q, date, want) in cases {
        let o = change("change-seats", &dir, "Q-CHG-1", line, q, date);
        assert_eq!(o.exit, Exit::Failure, "{line} {q} {date}: {}", o.stdout);
        assert!(o.stderr.contains(want), "{line} {q} {date}: {}", o.stderr);
    }
    // A quote the record does not hold: exit 2.
    let args = ChangeArgs {
        quote: "Q-NOPE".into(),
        revision: None,
        line: 1,
        quantity: Decimal::from(5),
        date: "2027-01-15".parse().unwrap(),
        out: None,
        rules: vec![scenario("change-seats")],
        db: Some(db_for(&dir)),
    };
    let r = change_cmd(args, &mut Vec::new(), &mut Vec::new());
    assert!(
        r.unwrap_err()
            .to_string()
            .contains("no quote `Q-NOPE` in the record")
    );
}
