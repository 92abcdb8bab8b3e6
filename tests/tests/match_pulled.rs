//! `tenor match QUOTE --pulled`: the quote as accepted in the record against what `tenor pull`
//! stored. Each test accepts a quote into a fresh record (customers linked first), stores the
//! pulled rows through the record's own API exactly as `tenor pull` does (a done `pull/…`
//! conversation closed with `finish_pull`), and runs the command in-process.
//!
//! Clean rows (what the vendors hold when they follow Tenor's documents) give no finding;
//! each seeded mistake is found with its money at risk, the figures worked out by hand from
//! DOMAIN.md and the example rules in the comments beside them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use std::path::{Path, PathBuf};
use tenor_core::cli::Exit;
use tenor_core::record::{NewConversation, Record};
use tenor_plugin_sdk::InvoiceLine;
use tenor_plugin_sdk::OrderLine;
use tenor_plugin_sdk::exchange::{Pulled, Subscription};
use tenor_tests::scratch::{Scratch, arg, link_customers};
use tenor_tests::{rules_dir, tenor};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A fresh record with the example customers linked and `quotes` accepted (paths under
/// `rules/quotes/`, or absolute).
struct Book {
    dir: Scratch,
    db: PathBuf,
}

impl Book {
    fn new(name: &str, quotes: &[&Path]) -> Book {
        let dir = Scratch::dir(&format!("match-pulled-{name}"));
        let db = dir.db();
        link_customers(&db);
        for q in quotes {
            let out = dir.join(format!("out-{}", q.file_stem().unwrap().to_string_lossy()));
            let r = tenor(&[
                "--db",
                arg(&db),
                "accept",
                arg(q),
                "--rules",
                arg(&rules_dir()),
                "--out",
                arg(&out),
                "--no-plugins",
            ]);
            assert_eq!(
                r.exit,
                Exit::Success,
                "accept {}: {}",
                q.display(),
                r.stderr
            );
        }
        Book { dir, db }
    }

    /// Stores what one pull read, as `tenor pull` does: a pull conversation opened, then
    /// closed with the rows.
    fn store(&self, plugin: &str, customer: &str, what: &str, month: &str, pulled: &Pulled) {
        let mut record = Record::open(&self.db).unwrap();
        let id = format!("pull/{plugin}/{customer}/{what}/{month}/000001");
        record
            .open_conversation(&NewConversation {
                id: id.clone(),
                direction: "pull",
                plugin: plugin.into(),
                customer: customer.into(),
                quote: None,
                document: what.into(),
                month: Some(month.into()),
            })
            .unwrap();
        record.finish_pull(&id, Some(month), pulled, &[]).unwrap();
    }

    /// `tenor --db DB match QUOTE --pulled --month MONTH --json`: the exit and the report.
    fn matched(&self, quote: &str, month: &str) -> (Exit, Value, String) {
        let r = tenor(&[
            "--db",
            arg(&self.db),
            "match",
            quote,
            "--pulled",
            "--month",
            month,
            "--json",
        ]);
        let v = serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
        (r.exit, v, r.stderr)
    }
}

fn example(name: &str) -> PathBuf {
    rules_dir().join("quotes").join(name)
}

/// A Pax8 subscription as the connector reads it (`productId`, `commitmentTerm`, the end made
/// exclusive, `partnerCost`): `shape` is "QTY TERM BILLING START END".
fn pax8_sub(id: &str, product_id: &str, shape: &str, cost: Option<&str>) -> Subscription {
    let w: Vec<&str> = shape.split(' ').collect();
    Subscription {
        id: id.into(),
        customer: Some("3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01".into()),
        part_number: product_id.into(),
        quantity: dec(w[0]),
        status: "Active".into(),
        term: Some(w[1].into()),
        billing: Some(w[2].into()),
        start: Some(d(w[3])),
        end: Some(d(w[4])),
        unit_cost: cost.map(dec),
        ..Subscription::default()
    }
}

/// A ConnectWise agreement addition as the connector reads it: `shape` is "QTY UNIT FROM",
/// then the day after its cancelled date when it has one.
fn addition(id: &str, item: &str, shape: &str) -> Subscription {
    let w: Vec<&str> = shape.split(' ').collect();
    let end = w.get(3).map(|e| d(e));
    Subscription {
        id: id.into(),
        agreement: Some("17".into()),
        part_number: item.into(),
        quantity: dec(w[0]),
        status: if end.is_some() { "Cancelled" } else { "Active" }.into(),
        start: Some(d(w[2])),
        end,
        unit_price: Some(dec(w[1])),
        ..Subscription::default()
    }
}

/// An Ingram order line of PO-Q-1001-ingram (4 units, one-time).
fn ingram_line(line: &str, part: &str, cost: &str) -> OrderLine {
    OrderLine {
        document: "20-RD3QV".into(),
        reference: Some("PO-Q-1001-ingram".into()),
        line_ref: Some(line.into()),
        part_number: part.into(),
        quantity: dec("4"),
        term: Some("one-time".into()),
        billing: Some("once".into()),
        start: Some(d("2026-12-07")),
        unit_cost: Some(dec(cost)),
        ..OrderLine::default()
    }
}

/// A Pax8 invoice line of Q-1001's first month at Pax8 (from the order day: Pax8 does not
/// co-term), at cost.
fn pax8_billed(product_id: &str, unit: &str, amount: &str) -> InvoiceLine {
    InvoiceLine {
        document: "PAX8-INV-9001".into(),
        part_number: product_id.into(),
        quantity: dec("25"),
        unit_price: Some(dec(unit)),
        amount: dec(amount),
        period_start: Some(d("2026-12-07")),
        period_end: Some(d("2027-01-07")),
        term: Some("P1Y".into()),
        billing: Some("monthly".into()),
        date: Some(d("2026-12-07")),
        ..InvoiceLine::default()
    }
}

/// RT-Q-1001 as ConnectWise holds it: one addition per recurring line at its unit price from
/// its first day of service, and the welcome offer's three dated steps (line 4 `discounts`).
fn q1001_additions() -> Vec<Subscription> {
    vec![
        addition("101", "M365-BP", "25 22.00 2026-12-07"),
        addition("102", "MDB", "25 3.00 2026-12-07"),
        // A metered line is billed in arrears: its addition starts on the anchor.
        addition("103", "DATTO-CLOUD", "1 50.00 2027-01-01"),
        addition("104", "MS-DEVICE", "28 40.00 2026-12-07"),
        addition("105", "MS-DEVICE", "1 -90.32 2026-12-07 2027-01-01"),
        addition("106", "MS-DEVICE", "1 -112.00 2027-01-01 2027-03-01"),
        addition("107", "MS-DEVICE", "1 -21.68 2027-03-01 2027-04-01"),
    ]
}

/// The PSA's December invoice: SCHED-Q-1001's charges billed on 2026-12-07, the welcome
/// discount as a credit line of its own.
fn q1001_billed() -> Vec<InvoiceLine> {
    let stub = Some(("2026-12-07", "2027-01-01"));
    vec![
        billed("M365-BP", "25", None, "443.55", stub),
        billed("MDB", "25", None, "60.48", stub),
        billed("MS-DEVICE", "28", None, "903.23", stub),
        billed("MS-DEVICE", "28", None, "-90.32", stub),
        billed("ONBOARDING", "1", None, "1000.00", None),
        billed("DELL-LAT5550", "4", Some("1237.80"), "4951.20", None),
        billed("DELL-WD22TB4", "4", Some("273.75"), "1095.00", None),
    ]
}

/// A customer invoice line from the PSA.
fn billed(
    part: &str,
    qty: &str,
    unit: Option<&str>,
    amount: &str,
    period: Option<(&str, &str)>,
) -> InvoiceLine {
    InvoiceLine {
        document: "CW-INV-501".into(),
        part_number: part.into(),
        quantity: dec(qty),
        unit_price: unit.map(dec),
        amount: dec(amount),
        period_start: Some(d(period.map_or("2026-12-07", |p| p.0))),
        period_end: period.map(|p| d(p.1)),
        date: Some(d("2026-12-07")),
        ..InvoiceLine::default()
    }
}

/// What the vendors hold for Q-1001 in December 2026 when every one followed Tenor's
/// documents (PO-Q-1001-pax8, PO-Q-1001-ingram, RT-Q-1001, SCHED-Q-1001).
struct Q1001 {
    pax8_subs: Vec<Subscription>,
    pax8_invoice: Vec<InvoiceLine>,
    ingram_orders: Vec<OrderLine>,
    additions: Vec<Subscription>,
    psa_invoice: Vec<InvoiceLine>,
}

impl Q1001 {
    fn clean() -> Q1001 {
        // Pax8 takes no co-term date (`distributor pax8 "Pax8" coterm none`): both P1Y
        // subscriptions run a full year from the order, 2026-12-07 to 2027-12-07, then renew,
        // whatever the customer's co-term (the anniversary for M365-BP, the calendar month for
        // Defender).
        let bp = "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33";
        let mdb = "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66";
        Q1001 {
            pax8_subs: vec![
                pax8_sub(
                    "sub-bp",
                    bp,
                    "25 P1Y monthly 2026-12-07 2027-12-07",
                    Some("17.60"),
                ),
                pax8_sub(
                    "sub-mdb",
                    mdb,
                    "25 P1Y monthly 2026-12-07 2027-12-07",
                    Some("2.40"),
                ),
            ],
            // Pax8 charges the MSP its cost for its own first month, unprorated:
            // 25 × 17.60 = 440.00 and 25 × 2.40 = 60.00.
            pax8_invoice: vec![
                pax8_billed(bp, "17.60", "440.00"),
                pax8_billed(mdb, "2.40", "60.00"),
            ],
            ingram_orders: vec![
                ingram_line("1", "7YD4KL", "1049.00"),
                ingram_line("2", "5TF9KV", "219.00"),
            ],
            additions: q1001_additions(),
            psa_invoice: q1001_billed(),
        }
    }

    fn store(&self, book: &Book) {
        let c = "CUST-0042";
        let m = "2026-12";
        let subs = |s: &[Subscription]| Pulled {
            subscriptions: s.to_vec(),
            ..Pulled::default()
        };
        let invoices = |i: &[InvoiceLine]| Pulled {
            invoices: i.to_vec(),
            ..Pulled::default()
        };
        book.store("pax8", c, "subscriptions", m, &subs(&self.pax8_subs));
        book.store("pax8", c, "invoices", m, &invoices(&self.pax8_invoice));
        let orders = Pulled {
            orders: self.ingram_orders.clone(),
            ..Pulled::default()
        };
        book.store("ingram", c, "orders", m, &orders);
        book.store("connectwise", c, "subscriptions", m, &subs(&self.additions));
        book.store(
            "connectwise",
            c,
            "invoices",
            m,
            &invoices(&self.psa_invoice),
        );
    }
}

/// A quote for Bayview Family Dental (anniversary 07-01) written into `dir`: each line P1Y
/// billed monthly from the anniversary 2027-07-01, so no stub.
fn anniversary_quote(dir: &Path, id: &str, lines: &[(&str, u32)]) -> PathBuf {
    let mut text = format!(
        "quote: {id}\ndate: 2027-06-01\ncurrency: USD\ncustomer:\n  id: CUST-0042\n  name: Bayview Family Dental\n  segment: commercial\n  anniversary: 07-01\nlines:\n"
    );
    for (product, qty) in lines {
        text.push_str(&format!(
            "  - product: {product}\n    quantity: {qty}\n    term: P1Y\n    billing: monthly\n    start: 2027-07-01\n"
        ));
    }
    let q = dir.join(format!("{id}.yaml"));
    std::fs::write(&q, text).unwrap();
    q
}

fn findings(report: &Value) -> &Vec<Value> {
    report["findings"].as_array().unwrap()
}

/// The only finding of a report, with its class, side and line checked.
fn only<'r>(report: &'r Value, class: &str, side: &str, line: u64) -> &'r Value {
    let f = findings(report);
    assert_eq!(f.len(), 1, "{}", serde_json::to_string_pretty(f).unwrap());
    let f = &f[0];
    assert_eq!(f["class"], class, "{f}");
    assert_eq!(f["side"], side, "{f}");
    assert_eq!(f["line"], line, "{f}");
    f
}

#[test]
fn q1001_matches_clean_when_every_vendor_followed_the_documents() {
    let book = Book::new("clean", &[&example("q1001-dental-practice.yaml")]);
    Q1001::clean().store(&book);
    let (exit, report, stderr) = book.matched("Q-1001", "2026-12");
    assert_eq!(report["schema"], "tenor.match/1");
    assert_eq!(
        findings(&report).len(),
        0,
        "{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    assert_eq!(exit, Exit::Success, "{stderr}");
    let checked = &report["checked"][0];
    // Two Pax8 subscriptions and two Ingram order lines against the four purchase-order
    // lines; seven PSA invoice lines, one a credit folded into its charge; the template's four
    // lines against seven additions (three of them the welcome offer's steps).
    assert_eq!(checked["expected_order_lines"], 4);
    assert_eq!(checked["order_lines"], 4);
    assert_eq!(checked["invoice_lines"], 6);
    assert_eq!(checked["distributor_invoice_lines"], 2);
    assert_eq!(checked["template_lines"], 4);
    assert_eq!(checked["additions"], 7);
    // The same record gives byte-identical output.
    let again = tenor(&[
        "--db",
        arg(&book.db),
        "match",
        "Q-1001",
        "--pulled",
        "--month",
        "2026-12",
        "--json",
    ]);
    assert_eq!(
        again.stdout,
        serde_json::to_string_pretty(&report).unwrap() + "\n"
    );
    drop(book.dir);
}

/// Q-1001 accepted, the clean rows changed by `seed`, matched for December 2026; the table
/// the same match prints is checked to give the same exit.
fn q1001_seeded(name: &str, seed: impl FnOnce(&mut Q1001)) -> (Exit, Value) {
    q1001_seeded_table(name, seed).0
}

/// [`q1001_seeded`] with the table.
fn q1001_seeded_table(name: &str, seed: impl FnOnce(&mut Q1001)) -> ((Exit, Value), String) {
    let book = Book::new(name, &[&example("q1001-dental-practice.yaml")]);
    let mut rows = Q1001::clean();
    seed(&mut rows);
    rows.store(&book);
    let (exit, report, _) = book.matched("Q-1001", "2026-12");
    let table = tenor(&[
        "--db",
        arg(&book.db),
        "match",
        "Q-1001",
        "--pulled",
        "--month",
        "2026-12",
    ]);
    assert_eq!(table.exit, exit, "{}", table.stderr);
    ((exit, report), table.stdout)
}

/// The one finding of Q-1001's clean rows changed by `seed`, of `(class, side, line)`; the
/// match exits 1.
fn seeded_finding(name: &str, at: (&str, &str, u64), seed: impl FnOnce(&mut Q1001)) -> Value {
    let (exit, report) = q1001_seeded(name, seed);
    assert_eq!(exit, Exit::Failure);
    only(&report, at.0, at.1, at.2).clone()
}

/// The addition of `item` among the rows (the first, the regular one).
fn addition_of<'r>(rows: &'r mut Q1001, item: &str) -> &'r mut Subscription {
    rows.additions
        .iter_mut()
        .find(|a| a.part_number == item)
        .unwrap()
}

#[test]
fn an_addition_missing_in_the_psa_never_bills_its_commitment() {
    let ((exit, report), table) = q1001_seeded_table("missing-addition", |rows| {
        rows.additions.retain(|a| a.part_number != "M365-BP");
    });
    assert!(table.contains("PSA agreement"), "{table}");
    assert!(
        table.contains("PSA: 4 recurring-template lines against 6 agreement additions"),
        "{table}"
    );
    assert!(table.contains("10,343.55"), "{table}");
    assert_eq!(exit, Exit::Failure);
    let f = only(&report, "missing_line", "psa", 1);
    // Q-1001 line 1, 25 × M365-BP P1Y monthly at 22.00 (550.00 a month) from 2026-12-07,
    // co-termed on 07-01 with a daily-prorated stub: [2026-12-07, 2027-01-01) is 25 of
    // December's 31 days → 550.00 × 25/31 = 443.548… → 443.55; January–June 6 × 550.00 =
    // 3,300.00; the full year from 2027-07-01 12 × 550.00 = 6,600.00. Never billed:
    // 443.55 + 3,300.00 + 6,600.00 = 10,343.55.
    assert_eq!(f["money_at_risk"], "10343.55");
    assert_eq!(f["kind"], "billing");
    assert_eq!(f["direction"], "under_billed");
    assert_eq!(report["totals"]["money_at_risk"], "10343.55");
}

#[test]
fn an_addition_for_fewer_seats_bills_the_commitment_at_that_quantity() {
    let f = seeded_finding("psa-quantity", ("quantity", "psa", 1), |rows| {
        addition_of(rows, "M365-BP").quantity = dec("20");
    });
    // At 25 the commitment bills 10,343.55 (above). At 20: the stub 440.00 × 25/31 =
    // 354.838… → 354.84, then 18 months × 440.00 = 7,920.00: 8,274.84. Never billed:
    // 10,343.55 − 8,274.84 = 2,068.71.
    assert_eq!(f["money_at_risk"], "2068.71");
    assert_eq!(f["direction"], "under_billed");
}

#[test]
fn an_addition_at_a_lower_unit_price_bills_less_over_the_commitment() {
    let f = seeded_finding("psa-price", ("unit_price", "psa", 2), |rows| {
        addition_of(rows, "MDB").unit_price = Some(dec("2.50"));
    });
    // Q-1001 line 2, 25 × MDB at 3.00 (75.00 a month), calendar-month year to 2027-12-01:
    // the stub 75.00 × 25/31 = 60.48, then January–November 11 × 75.00 = 825.00: 885.48. At
    // 2.50 (62.50 a month): 62.50 × 25/31 = 50.40, 11 × 62.50 = 687.50: 737.90. Never billed:
    // 885.48 − 737.90 = 147.58.
    assert_eq!(f["money_at_risk"], "147.58");
    assert_eq!(f["expected"], "3.00 a month");
    assert_eq!(f["found"], "2.50 a month");
    assert_eq!(f["direction"], "under_billed");
}

#[test]
fn an_addition_effective_five_days_late_bills_a_shorter_stub() {
    let f = seeded_finding("psa-late", ("start_date", "psa", 1), |rows| {
        addition_of(rows, "M365-BP").start = Some(d("2026-12-12"));
    });
    // The stub from 2026-12-07 bills 443.55, from 2026-12-12 20/31 × 550.00 = 354.84: the
    // PSA never bills 443.55 − 354.84 = 88.71.
    assert_eq!(f["money_at_risk"], "88.71");
    assert_eq!(f["direction"], "under_billed");
}

#[test]
fn an_addition_cancelled_before_the_commitment_ends_loses_the_rest() {
    let f = seeded_finding("psa-cancelled", ("coterm_date", "psa", 1), |rows| {
        // Cancelled on 2027-06-30, its last day: it ends 2027-07-01.
        addition_of(rows, "M365-BP").end = Some(d("2027-07-01"));
    });
    // The commitment runs to 2028-07-01: the full year from 2027-07-01, 12 × 550.00 =
    // 6,600.00, is never billed.
    assert_eq!(f["money_at_risk"], "6600.00");
    assert_eq!(f["expected"], "ends 2028-07-01");
    assert_eq!(f["direction"], "under_billed");
}

#[test]
fn a_discount_step_missing_in_the_psa_overcharges_the_customer() {
    let f = seeded_finding("psa-discount", ("missing_line", "psa", 4), |rows| {
        rows.additions
            .retain(|a| a.unit_price != Some(dec("-112.00")));
    });
    // The welcome offer takes 10% off MS-DEVICE's first three months: 112.00 off January and
    // off February (the step [2027-01-01, 2027-03-01)). Without it the customer pays 2 ×
    // 112.00 = 224.00 more than sold.
    assert_eq!(f["money_at_risk"], "224.00");
    assert_eq!(f["direction"], "over_billed");
}

#[test]
fn a_distributor_charging_above_the_rules_cost_leaks_margin() {
    let f = seeded_finding("cost", ("unit_price", "distributor_invoice", 1), |rows| {
        rows.pax8_invoice[0].unit_price = Some(dec("18.50"));
        rows.pax8_invoice[0].amount = dec("462.50");
    });
    // PO-Q-1001-pax8 line 1 commits 10,560.00 at the rules' 17.60 a unit a month: Pax8 takes
    // no co-term date, so two full years from 2026-12-07 cover the customer's end 2028-07-01,
    // 24 × 25 × 17.60. At 18.50 the same commitment costs 24 × 25 × 0.90 = 540.00 more.
    assert_eq!(f["money_at_risk"], "540.00");
    assert_eq!(f["kind"], "cost");
}

#[test]
fn another_quotes_rows_are_set_aside_not_reported() {
    let (exit, report) = q1001_seeded("theirs", |rows| {
        let mut other = rows.pax8_subs[0].clone();
        other.id = "sub-other".into();
        other.reference = Some("PO-Q-2000-pax8".into());
        other.quantity = dec("3");
        rows.pax8_subs.push(other);
        let mut extra = rows.additions[0].clone();
        extra.id = "999".into();
        extra.part_number = "SOMETHING-ELSE".into();
        rows.additions.push(extra);
    });
    assert_eq!(exit, Exit::Success, "{report:#}");
    let notes: Vec<&str> = report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("1 pulled subscription from pax8 set aside")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("1 pulled addition from connectwise set aside")),
        "{notes:?}"
    );
}

#[test]
fn an_addition_missing_for_a_full_year_is_twelve_months_of_revenue() {
    // DOMAIN.md's figure: 25 × 22.00 a month for the 12 months of a P1Y, starting on the
    // anniversary (no stub) and missing in the PSA: 25 × 22.00 × 12 = 6,600.00.
    let dir = Scratch::dir("match-pulled-year-quote");
    let q = anniversary_quote(&dir, "Q-7025", &[("M365-BP", 25), ("MDB", 25)]);
    let book = Book::new("year", &[&q]);
    let adds = Pulled {
        subscriptions: vec![addition("201", "MDB", "25 3.00 2027-07-01")],
        ..Pulled::default()
    };
    book.store(
        "connectwise",
        "CUST-0042",
        "subscriptions",
        "2027-07",
        &adds,
    );
    let (exit, report, _) = book.matched("Q-7025", "2027-07");
    assert_eq!(exit, Exit::Failure);
    let f = only(&report, "missing_line", "psa", 1);
    assert_eq!(f["money_at_risk"], "6600.00");
    assert_eq!(f["direction"], "under_billed");
}

#[test]
fn forty_five_seats_invoiced_where_fifty_were_sold() {
    // 50 × M365-BP P1Y monthly at 22.00 from the anniversary: twelve charges of 1,100.00.
    // The PSA invoices July for 45 (45 × 22.00 = 990.00). Carried over the commitment, the
    // quote bills 13,200.00 at 50 and 11,880.00 at 45: 5 × 22.00 × 12 = 1,320.00 never billed.
    let dir = Scratch::dir("match-pulled-45-quote");
    let q = anniversary_quote(&dir, "Q-7050", &[("M365-BP", 50)]);
    let book = Book::new("45-of-50", &[&q]);
    let mut line = billed(
        "M365-BP",
        "45",
        Some("22.00"),
        "990.00",
        Some(("2027-07-01", "2027-08-01")),
    );
    line.date = Some(d("2027-07-01"));
    let inv = Pulled {
        invoices: vec![line],
        ..Pulled::default()
    };
    book.store("connectwise", "CUST-0042", "invoices", "2027-07", &inv);
    let (exit, report, _) = book.matched("Q-7050", "2027-07");
    assert_eq!(exit, Exit::Failure);
    let f = only(&report, "quantity", "invoice", 1);
    assert_eq!(f["money_at_risk"], "1320.00");
    assert_eq!(f["expected"], "50");
    assert_eq!(f["found"], "45");
    assert_eq!(f["direction"], "under_billed");
}

#[test]
fn service_provisioned_five_days_late_changes_the_stub() {
    let f = seeded_finding("late", ("start_date", "purchase_order", 1), |rows| {
        rows.pax8_subs[0].start = Some(d("2026-12-12"));
    });
    // Sold from 2026-12-07, the stub to 2027-01-01 is 25/31 of 550.00 = 443.548… → 443.55;
    // provisioned from 2026-12-12 it would be 20/31 of 550.00 = 354.838… → 354.84 (January to
    // June are whole months either way). The customer is billed 443.55 − 354.84 = 88.71 for
    // days without service.
    assert_eq!(f["money_at_risk"], "88.71");
    assert_eq!(f["expected"], "2026-12-07");
    assert_eq!(f["found"], "2026-12-12");
    assert_eq!(f["kind"], "start_date");
    assert_eq!(f["direction"], "over_billed");
}

#[test]
fn p1y_annual_bought_where_p3y_upfront_was_sold() {
    // Q-1002 line 1: 18 × M365-E3 sold P3Y upfront from 2026-10-12 (co-termed on 04-01, the
    // commitment to 2030-04-01). Pax8 holds a P1Y annual subscription, a year from the order
    // (Pax8 takes no co-term date) to 2027-10-12: the customer holds a 36-month price, the MSP
    // bought 12 months. DOMAIN.md, commitment class: a shorter commitment is flagged with its amount
    // unknown until renewal (what the distributor charges for the remaining 24 months).
    let book = Book::new("p3y", &[&example("q1002-nonprofit.yaml")]);
    let e3 = pax8_sub(
        "sub-e3",
        "c4a81f07-52d9-4e3b-8a6f-1b9e0d7c5a44",
        "18 P1Y annual 2026-10-12 2027-10-12",
        None,
    );
    let exo = pax8_sub(
        "sub-exo",
        "1e7d3a95-6b2c-4f80-9c4e-2a8f6d0b7c55",
        "6 P1Y annual 2026-10-12 2027-10-12",
        Some("36.57"),
    );
    let subs = Pulled {
        subscriptions: vec![e3, exo],
        ..Pulled::default()
    };
    book.store("pax8", "CUST-0057", "subscriptions", "2026-12", &subs);
    let (exit, report, _) = book.matched("Q-1002", "2026-12");
    assert_eq!(exit, Exit::Failure);
    let f = only(&report, "term", "purchase_order", 1);
    assert_eq!(f["expected"], "P3Y");
    assert_eq!(f["found"], "P1Y");
    assert_eq!(f["kind"], "commitment");
    assert_eq!(f["money_at_risk"], Value::Null);
    let why = f["explanation"].as_str().unwrap();
    assert!(why.contains("36-month price (to 2030-04-01)"), "{why}");
    assert!(why.contains("remaining 24 months"), "{why}");
    assert_eq!(report["totals"]["unknown"], 1);
}

#[test]
fn it_cannot_run_without_a_record_an_accepted_quote_or_a_pull() {
    let dir = Scratch::dir("match-pulled-refusals");
    let db = dir.join("none.db");
    let r = tenor(&["--db", arg(&db), "match", "Q-1001", "--pulled"]);
    assert_eq!(r.exit, Exit::Error, "{}", r.stderr);
    assert!(r.stderr.contains("no record at"), "{}", r.stderr);
    assert!(!db.exists(), "the match must not create a record");

    let book = Book::new("refusals", &[&example("q1001-dental-practice.yaml")]);
    let r = tenor(&["--db", arg(&book.db), "match", "Q-1009", "--pulled"]);
    assert_eq!(r.exit, Exit::Error, "{}", r.stderr);
    assert!(
        r.stderr.contains("`Q-1009` is not accepted"),
        "{}",
        r.stderr
    );

    let r = tenor(&[
        "--db",
        arg(&book.db),
        "match",
        "Q-1001",
        "--pulled",
        "--month",
        "2026-12",
    ]);
    assert_eq!(r.exit, Exit::Error, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "nothing pulled for CUST-0042 for 2026-12: run `tenor pull --month 2026-12` first"
        ),
        "{}",
        r.stderr
    );

    let r = tenor(&[
        "--db",
        arg(&book.db),
        "match",
        "Q-1001",
        "--pulled",
        "--month",
        "12/2026",
    ]);
    assert_eq!(r.exit, Exit::Error, "{}", r.stderr);
    assert!(r.stderr.contains("is not YYYY-MM"), "{}", r.stderr);
}

#[test]
fn a_distributor_that_holds_nothing_has_every_line_missing() {
    // Pax8 answered the pull with no subscription: the pull stored no row, yet it was made.
    let (exit, report) = q1001_seeded("nothing-held", |rows| rows.pax8_subs.clear());
    assert_eq!(exit, Exit::Failure);
    let f = findings(&report);
    assert_eq!(f.len(), 2, "{report:#}");
    // Nothing provisioned for what the customer is billed over each commitment: M365-BP
    // 10,343.55 (see the missing addition above) and MDB 885.48 (the stub 60.48 and 11 ×
    // 75.00), owed back unless they are bought.
    let got: Vec<(&str, &str, &str)> = f
        .iter()
        .map(|x| {
            (
                x["class"].as_str().unwrap(),
                x["product"].as_str().unwrap(),
                x["money_at_risk"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("missing_line", "M365-BP", "10343.55"),
            ("missing_line", "MDB", "885.48")
        ]
    );
    assert!(f.iter().all(|x| x["direction"] == "over_billed"));
}

#[test]
fn a_pax8_subscription_on_the_one_year_commitment_id_where_the_po_names_three_years() {
    // Q-1002 line 1 again (18 × M365-E3 sold P3Y upfront, PO-Q-1002-pax8 naming the rules'
    // 3-year commitment id cb4ac8b4-…), but Pax8's row states no term word: only its
    // `commitmentTerm.id`, the rules' 1-year id d59a0625-…. The id is read back through the
    // rules as P1Y, so the finding is the term one of `p1y_annual_bought_where_p3y_upfront_was_sold`:
    // 36-month price held, 12 months bought, the other 24 unknown until renewal (DOMAIN.md).
    let book = Book::new("plan-id", &[&example("q1002-nonprofit.yaml")]);
    let mut e3 = pax8_sub(
        "sub-e3",
        "c4a81f07-52d9-4e3b-8a6f-1b9e0d7c5a44",
        "18 P1Y annual 2026-10-12 2027-10-12",
        None,
    );
    e3.term = None;
    e3.plan = Some("d59a0625-469d-4e78-be33-9eca03b1d74b".into());
    let mut exo = pax8_sub(
        "sub-exo",
        "1e7d3a95-6b2c-4f80-9c4e-2a8f6d0b7c55",
        "6 P1Y annual 2026-10-12 2027-10-12",
        Some("36.57"),
    );
    exo.term = None;
    let subs = Pulled {
        subscriptions: vec![e3, exo],
        ..Pulled::default()
    };
    book.store("pax8", "CUST-0057", "subscriptions", "2026-12", &subs);
    let (exit, report, _) = book.matched("Q-1002", "2026-12");
    assert_eq!(exit, Exit::Failure);
    let f = only(&report, "term", "purchase_order", 1);
    assert_eq!(f["expected"], "P3Y");
    assert_eq!(f["found"], "P1Y");
    assert_eq!(f["kind"], "commitment");
    assert_eq!(f["money_at_risk"], Value::Null);
    let why = f["explanation"].as_str().unwrap();
    assert!(why.contains("remaining 24 months"), "{why}");
    assert_eq!(report["totals"]["unknown"], 1);
}
