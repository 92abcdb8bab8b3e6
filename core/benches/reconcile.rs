//! The month's reconciliation at scale (issue 15, target 4: 5,000 customers × 20
//! subscriptions, 100,000 lines, in under 10 s with memory bounded by a customer's data): a
//! record of 5,000 customers, each with one accepted quote of 20 lines on the example rules
//! (`rules/`) and that month's pull (Pax8 subscriptions and invoices, Ingram order lines,
//! ConnectWise additions and invoices) stored through the record's own pull API as `tenor pull`
//! stores it, with drift in one customer in a hundred (5 seats more at Pax8) so findings
//! exist. `reconcile::month` runs beside a floor: the same pulled rows of every customer only
//! read and deserialised (`Record::pulled` + `pulled_inputs`), so the ratio is what rebuilding
//! and matching cost beyond reading.
//!
//! The record is built once per [`BOOK`] version under `target/bench-reconcile/` (a few
//! minutes: every acceptance and pull is its own durable transaction) and reused. The setup
//! also runs the month once in a child process per book size (1,000 and 5,000 customers) and
//! prints its peak resident memory (`VmHWM`) before and after, to show it does not grow with
//! the book. `TENOR_RECONCILE_CUSTOMERS=n` builds and measures a book of `n` customers only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

#[path = "support/mod.rs"]
mod support;
use chrono::{Months, NaiveDate};
use criterion::{Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use support::peak_kib;
use tenor_core::accepting::{Acceptance, accept};
use tenor_core::documents::accept::Accepted;
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{self, PriceOptions};
use tenor_core::engine::quote::QuoteFile;
use tenor_core::reconcile::recorded::pulled_inputs;
use tenor_core::reconcile::{self, Ask, Reconciliation};
use tenor_core::record::{NewConversation, Record};
use tenor_plugin_sdk::docs::Timing;
use tenor_plugin_sdk::exchange::{Pulled, Subscription};
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

/// Bump when the book's contents change, so a cached record of the old shape is not reused.
const BOOK: u32 = 2;
/// The month reconciled: the quotes start in it.
const MONTH: &str = "2027-01";
/// One customer in this many has drift.
const DRIFT_EVERY: usize = 100;
/// The child process's variable: the record to reconcile once, printing its peak memory.
const CHILD: &str = "TENOR_RECONCILE_CHILD";

/// The 20 lines of every quote: (product, base quantity, term, billing).
const LINES: [(&str, u32, &str, &str); 20] = [
    ("M365-BB", 10, "P1Y", "monthly"),
    ("M365-BS", 12, "P1Y", "monthly"),
    ("M365-BP", 25, "P1Y", "monthly"),
    ("M365-E3", 5, "P1Y", "monthly"),
    ("EXO-P1", 8, "P1Y", "monthly"),
    ("MDB", 25, "P1Y", "monthly"),
    ("M365-BB", 3, "P1M", "monthly"),
    ("M365-BS", 2, "P1M", "monthly"),
    ("M365-BP", 4, "P1M", "monthly"),
    ("M365-E3", 1, "P1M", "monthly"),
    ("EXO-P1", 6, "P1M", "monthly"),
    ("MDB", 2, "P1M", "monthly"),
    ("DATTO-CLOUD", 1, "P1M", "monthly"),
    ("MS-DEVICE", 28, "P1Y", "monthly"),
    ("MS-SERVER", 2, "P1Y", "monthly"),
    ("MS-SERVER", 1, "P1M", "monthly"),
    ("ONBOARDING", 1, "one-time", ""),
    ("LABOUR-HOUR", 10, "one-time", ""),
    ("DELL-LAT5550", 4, "one-time", ""),
    ("DELL-WD22TB4", 4, "one-time", ""),
];

fn rules_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

/// Customer `i`'s quote: the 20 lines, quantities varied by customer, all from 2027-01-07.
fn quote_text(i: usize) -> String {
    let mut t = format!(
        "quote: Q-{i:05}\ndate: 2027-01-04\ncurrency: USD\ncustomer:\n  id: CUST-{i:05}\n  name: Customer {i} LLC\n  segment: commercial\n  anniversary: 07-01\nlines:\n"
    );
    for (n, (product, qty, term, billing)) in LINES.iter().enumerate() {
        let q = qty + (i + n) as u32 % 5;
        t.push_str(&format!(
            "  - product: {product}\n    quantity: {q}\n    term: {term}\n"
        ));
        if !billing.is_empty() {
            t.push_str(&format!("    billing: {billing}\n"));
        }
        t.push_str("    start: 2027-01-07\n");
        if *product == "DATTO-CLOUD" {
            t.push_str("    usage: 1500\n");
        }
    }
    t
}

/// What each vendor holds for a quote that every vendor followed, as their connectors read it.
struct Held {
    pax8_subs: Vec<Subscription>,
    pax8_invoice: Vec<InvoiceLine>,
    ingram_orders: Vec<OrderLine>,
    additions: Vec<Subscription>,
    psa_invoice: Vec<InvoiceLine>,
}

/// The month's invoices cover what was billed in it.
fn in_month(d: NaiveDate) -> bool {
    d.format("%Y-%m").to_string() == MONTH
}

/// The vendors' rows for customer `i`'s accepted quote: Pax8 subscriptions from the order day
/// for a full term (Pax8 does not co-term) and its first month charged at cost, Ingram's order
/// lines, one ConnectWise addition per template line and the PSA invoice of the month's
/// scheduled charges.
// Long: one row literal per vendor document, field by field.
fn held(i: usize, acc: &Accepted) -> Held {
    let mut h = Held {
        pax8_subs: Vec::new(),
        pax8_invoice: Vec::new(),
        ingram_orders: Vec::new(),
        additions: Vec::new(),
        psa_invoice: Vec::new(),
    };
    for po in &acc.purchase_orders {
        for l in &po.lines {
            let part = l
                .distributor_product_id
                .clone()
                .unwrap_or_else(|| l.part_number.clone());
            match po.distributor.as_str() {
                "pax8" => {
                    let months = if l.term == "P1M" { 1 } else { 12 };
                    let start = l.first_term_start;
                    h.pax8_subs.push(Subscription {
                        id: format!("sub-{i}-{}", l.line),
                        customer: Some(format!("company-{i}")),
                        part_number: part.clone(),
                        quantity: l.quantity,
                        status: "Active".into(),
                        term: Some(l.term.clone()),
                        billing: Some(l.billing.clone()),
                        start: Some(start),
                        end: start.checked_add_months(Months::new(months)),
                        unit_cost: l.unit_cost,
                        ..Subscription::default()
                    });
                    h.pax8_invoice.push(InvoiceLine {
                        document: format!("PAX8-INV-{i}"),
                        part_number: part,
                        quantity: l.quantity,
                        unit_price: l.unit_cost,
                        amount: l.period_cost.unwrap_or_default(),
                        period_start: Some(start),
                        period_end: start.checked_add_months(Months::new(1)),
                        term: Some(l.term.clone()),
                        billing: Some(l.billing.clone()),
                        date: Some(start),
                        ..InvoiceLine::default()
                    });
                }
                _ => h.ingram_orders.push(OrderLine {
                    document: format!("20-{i}"),
                    reference: Some(po.id.clone()),
                    line_ref: Some(l.line.to_string()),
                    part_number: l.part_number.clone(),
                    quantity: l.quantity,
                    term: Some(l.term.clone()),
                    billing: Some(l.billing.clone()),
                    start: Some(l.first_term_start),
                    unit_cost: l.unit_cost,
                    ..OrderLine::default()
                }),
            }
        }
    }
    for (n, l) in acc.template.lines.iter().enumerate() {
        // A metered line is billed in arrears: its addition starts on its first bill day.
        let start = if l.timing == Timing::Arrears {
            l.next_bill_date
        } else {
            l.start
        };
        h.additions.push(Subscription {
            id: format!("{}", n + 1),
            agreement: Some(format!("{i}")),
            part_number: l.product.clone(),
            quantity: l.quantity,
            status: "Active".into(),
            start: Some(start),
            unit_price: l.unit_price.or(Some(l.amount)),
            ..Subscription::default()
        });
    }
    let so = &acc.sales_order;
    for c in acc
        .schedule
        .charges
        .iter()
        .filter(|c| in_month(c.bill_date))
    {
        let line = so.lines.iter().find(|l| l.line == c.line);
        let once = c.kind == "one_time";
        h.psa_invoice.push(InvoiceLine {
            document: format!("CW-INV-{i}"),
            part_number: c.product.to_string(),
            quantity: line.map(|l| l.quantity).unwrap_or_default(),
            unit_price: if once {
                line.map(|l| l.unit_price)
            } else {
                None
            },
            amount: c.amount,
            period_start: Some(c.period_start),
            period_end: if once { None } else { Some(c.period_end) },
            date: Some(c.bill_date),
            ..InvoiceLine::default()
        });
    }
    if i % DRIFT_EVERY == DRIFT_EVERY / 2 {
        // Seats added at Pax8 and never billed: 5 more Business Premium on the annual term.
        if let Some(s) = h
            .pax8_subs
            .iter_mut()
            .find(|s| s.term.as_deref() == Some("P1Y") && s.id.ends_with("-3"))
        {
            s.quantity += Decimal::from(5);
        }
    }
    h
}

/// Stores what one pull read, as `tenor pull` does: a conversation opened, then closed with
/// the rows.
fn store(record: &mut Record, plugin: &str, customer: &str, what: &str, pulled: &Pulled) {
    let id = format!("pull/{plugin}/{customer}/{what}/{MONTH}/000001");
    record
        .open_conversation(&NewConversation {
            id: id.clone(),
            direction: "pull",
            plugin: plugin.into(),
            customer: customer.into(),
            quote: None,
            document: what.into(),
            month: Some(MONTH.into()),
        })
        .unwrap();
    record.finish_pull(&id, Some(MONTH), pulled, &[]).unwrap();
}

/// The example rules, compiled, with their texts as `tenor accept` records them.
fn rules() -> (Catalogue, Vec<(String, String)>) {
    let sources = tenor_dsl::load(&[rules_dir()]).unwrap();
    let texts = sources
        .ids()
        .map(|id| (sources.name(id).to_string(), sources.text(id).to_string()))
        .collect();
    let book = tenor_core::review::rules::compile(sources, "the example rules".into()).unwrap();
    (book.catalogue, texts)
}

/// A record of `customers` customers at `path` (made once; kept between runs when complete).
fn book(path: &Path, customers: usize) {
    let done = path.with_extension("done");
    if path.is_file() && done.is_file() {
        return;
    }
    for ext in ["db", "db-wal", "db-shm", "done"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    let t = Instant::now();
    let (cat, texts) = rules();
    let mut record = Record::open(path).unwrap();
    for i in 0..customers {
        let file = QuoteFile::parse("quote.yaml", &quote_text(i)).unwrap();
        let priced = pricing::price(&cat, &file.quote, &PriceOptions::default())
            .unwrap_or_else(|e| panic!("customer {i}: {e:?}"));
        let outcome = accept(
            &mut record,
            &Acceptance {
                catalogue: &cat,
                rules: &texts,
                rules_git: None,
                file: &file,
                priced: tenor_core::accepting::Priced::Whole(&priced),
                revise: false,
                plugins: None,
                decision: None,
            },
        )
        .unwrap_or_else(|e| panic!("customer {i}: {e:?}"));
        let h = held(i, &outcome.accepted);
        let c = format!("CUST-{i:05}");
        let subs = |s: Vec<Subscription>| Pulled {
            subscriptions: s,
            ..Pulled::default()
        };
        let invoices = |v: Vec<InvoiceLine>| Pulled {
            invoices: v,
            ..Pulled::default()
        };
        store(&mut record, "pax8", &c, "subscriptions", &subs(h.pax8_subs));
        store(
            &mut record,
            "pax8",
            &c,
            "invoices",
            &invoices(h.pax8_invoice),
        );
        let orders = Pulled {
            orders: h.ingram_orders,
            ..Pulled::default()
        };
        store(&mut record, "ingram", &c, "orders", &orders);
        store(
            &mut record,
            "connectwise",
            &c,
            "subscriptions",
            &subs(h.additions),
        );
        store(
            &mut record,
            "connectwise",
            &c,
            "invoices",
            &invoices(h.psa_invoice),
        );
        if (i + 1) % 500 == 0 {
            eprintln!(
                "book of {customers}: {} customers in {:.0?}",
                i + 1,
                t.elapsed()
            );
        }
    }
    std::fs::write(done, "").unwrap();
}

/// The floor: every customer's pulled rows of the month read and deserialised.
fn floor(record: &Record) -> usize {
    let mut n = 0;
    for c in record.pulled_customers(Some(MONTH)).unwrap() {
        n += pulled_inputs(record.pulled(&c, Some(MONTH)).unwrap())
            .unwrap()
            .len();
    }
    n
}

fn month(record: &Record) -> Reconciliation {
    reconcile::month(
        record,
        &Ask {
            month: MONTH,
            customer: None,
            rules: None,
        },
    )
    .unwrap()
}

/// In the child: the record opened, then the month reconciled once, with the peak after each.
fn child(path: &str) {
    let record = Record::open(Path::new(path)).unwrap();
    let before = peak_kib();
    let t = Instant::now();
    let r = month(&record);
    let took = t.elapsed();
    println!(
        "{} {} {} {before} {}",
        r.quotes.len(),
        r.report.findings.len(),
        took.as_millis(),
        peak_kib()
    );
}

/// The month run once in a child process on the record at `path`: its peak memory.
fn measure(path: &Path, customers: usize) {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let w: Vec<&str> = text.split_whitespace().collect();
    eprintln!(
        "peak memory, {customers} customers: {} quotes, {} findings in {} ms; VmHWM {} KiB after opening the record, {} KiB after the month",
        w[0], w[1], w[2], w[3], w[4]
    );
}

fn path_of(customers: usize) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-reconcile");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(format!("book-v{BOOK}-{customers}.db"))
}

fn bench(c: &mut Criterion) {
    let only: Option<usize> = std::env::var("TENOR_RECONCILE_CUSTOMERS")
        .ok()
        .and_then(|n| n.parse().ok());
    let sizes = match only {
        Some(n) => vec![n],
        None => vec![1_000, 5_000],
    };
    for &n in &sizes {
        book(&path_of(n), n);
        measure(&path_of(n), n);
    }
    let n = *sizes.last().unwrap();
    let record = Record::open(&path_of(n)).unwrap();
    let r = month(&record);
    let drifted: std::collections::BTreeSet<&str> = r
        .report
        .findings
        .iter()
        .map(|f| f.customer.as_str())
        .collect();
    let sum = |f: fn(&tenor_core::matching::Checked) -> usize| -> usize {
        r.report.checked.iter().map(f).sum()
    };
    eprintln!(
        "{n} customers, {} quotes of {} lines: {} findings for {} customers; {} pulled rows; checked {} order lines of {} expected, {} PSA invoice lines, {} distributor invoice lines, {} additions",
        r.quotes.len(),
        LINES.len(),
        r.report.findings.len(),
        drifted.len(),
        floor(&record),
        sum(|c| c.order_lines),
        sum(|c| c.expected_order_lines),
        sum(|c| c.invoice_lines),
        sum(|c| c.distributor_invoice_lines.unwrap_or(0)),
        sum(|c| c.additions.unwrap_or(0)),
    );
    // Every drifted customer is found, and no other.
    let expected: std::collections::BTreeSet<String> = (0..n)
        .filter(|i| i % DRIFT_EVERY == DRIFT_EVERY / 2)
        .map(|i| format!("CUST-{i:05}"))
        .collect();
    assert_eq!(
        drifted,
        expected.iter().map(String::as_str).collect(),
        "the customers with findings"
    );
    let mut g = c.benchmark_group(format!("reconcile/{n}-customers"));
    g.sample_size(10);
    g.throughput(Throughput::Elements((n * LINES.len()) as u64));
    g.bench_function("floor: pulled rows read", |b| {
        b.iter(|| black_box(floor(&record)))
    });
    g.bench_function("reconcile::month", |b| b.iter(|| black_box(month(&record))));
    g.finish();
}

fn main() {
    if let Some(path) = std::env::var_os(CHILD) {
        child(&path.to_string_lossy());
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
