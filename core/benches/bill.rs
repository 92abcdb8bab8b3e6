//! The bill run for the whole book (issue 16, target 4: 1M lines in under 10 s): a record of
//! 2,000 accepted quotes holding 1,000,000 schedule charges, made directly through the record
//! API, billed for a month by `tenor bill --month` (the command end to end, CSV and JSON into
//! memory), beside a floor: the same schedule documents read from SQLite in one query into
//! plain structs, filtered on the month and summed, with no hash checks, sales orders, seat
//! changes, ordering or output.
//!
//! Two books: `spread`, 20 lines per quote each billed monthly over 25 periods (a stub and 24
//! months), so a month bills one charge in 25 (40,000 rows); and `one-month`, 500 one-time
//! lines per quote all billed in the month (all 1,000,000 rows written out).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

use chrono::{Months, NaiveDate};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::borrow::Cow;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tenor_core::record::{Document, NewRevision, Record};
use tenor_dsl::diagnostic::termcolor::NoColor;
use tenor_plugin_sdk::docs::{
    Customer, INVOICE_SCHEDULE, InvoiceSchedule, SALES_ORDER, SalesOrder, SalesOrderLine,
    ScheduledCharge, Timing, Totals,
};

const QUOTES: usize = 2_000;
const CHARGES: usize = 1_000_000;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// One quote's sales order and schedule: `lines` lines of `periods` charges each (`periods`
/// 1: one-time lines billed on the start day).
// Long: two document literals field by field, one sales order and its schedule.
fn documents(q: usize, lines: u32, periods: u32) -> (SalesOrder, InvoiceSchedule) {
    let id = format!("Q-{q:06}");
    let customer = Customer {
        id: format!("CUST-{:05}", q % 700),
        name: format!("Customer {} LLC", q % 700),
        accounts: Default::default(),
    };
    let start = day(2027, 1, 1 + (q % 28) as u32);
    let mut so_lines = Vec::new();
    let mut charges = Vec::new();
    let product: Arc<str> = Arc::from("M365-BP");
    for l in 1..=lines {
        let quantity = Decimal::from(1 + (q as u32 + l) % 40);
        let unit = Decimal::new(2200 + i64::from(l % 7) * 100, 2);
        let amount = (quantity * unit).round_dp(2);
        so_lines.push(SalesOrderLine {
            line: l,
            product: "M365-BP".into(),
            catalog_item: None,
            name: "Microsoft 365 Business Premium".into(),
            bundle: false,
            quantity,
            term: if periods == 1 {
                "one-time".into()
            } else {
                "P2Y".into()
            },
            billing: "monthly".into(),
            coterm: None,
            start,
            term_start: start,
            end: start.checked_add_months(Months::new(periods)).unwrap(),
            unit_price: unit,
            recurring: amount,
            first_charge: amount,
            contract_value: amount * Decimal::from(periods),
            cost: Decimal::ZERO,
        });
        for p in 0..periods {
            let from = start.checked_add_months(Months::new(p)).unwrap();
            charges.push(ScheduledCharge {
                line: l,
                product: product.clone(),
                kind: Cow::Borrowed(if periods == 1 {
                    "one_time"
                } else {
                    "recurring"
                }),
                period_start: from,
                period_end: from.checked_add_months(Months::new(1)).unwrap(),
                bill_date: from,
                timing: if periods == 1 {
                    Timing::Once
                } else {
                    Timing::Advance
                },
                amount,
                cost: (amount * Decimal::new(8, 1)).round_dp(2),
                rule: None,
            });
        }
    }
    charges.sort_by_key(|c| (c.bill_date, c.line));
    let total = charges.iter().map(|c| c.amount).sum();
    let so = SalesOrder {
        schema: SALES_ORDER.into(),
        id: format!("SO-{id}"),
        quote: id.clone(),
        date: start,
        currency: "USD".into(),
        customer: customer.clone(),
        fingerprint: format!("{q:064}"),
        lines: so_lines,
        totals: Totals::default(),
    };
    let sched = InvoiceSchedule {
        schema: INVOICE_SCHEDULE.into(),
        id: format!("SCHED-{id}"),
        sales_order: format!("SO-{id}"),
        currency: "USD".into(),
        customer,
        charges,
        total,
    };
    (so, sched)
}

/// A record at `path` holding the book (made once; kept between runs when complete).
fn book(path: &Path, lines: u32, periods: u32) -> Record {
    let done = path.with_extension("done");
    if path.is_file() && done.is_file() {
        return Record::open(path).unwrap();
    }
    let _ = std::fs::remove_file(path);
    for ext in ["db-wal", "db-shm"] {
        let _ = std::fs::remove_file(path.with_extension(ext));
    }
    let mut record = Record::open(path).unwrap();
    let rules = vec![("rules/book.tenor".to_string(), "currency USD\n".to_string())];
    for q in 0..QUOTES {
        let (so, sched) = documents(q, lines, periods);
        let documents = [
            Document {
                path: format!("SO-{}.json", so.quote),
                owner: "tenor".into(),
                kind: "sales-order".into(),
                body: serde_json::to_vec_pretty(&so).unwrap(),
            },
            Document {
                path: format!("SCHED-{}.json", so.quote),
                owner: "tenor".into(),
                kind: "invoice-schedule".into(),
                body: serde_json::to_vec_pretty(&sched).unwrap(),
            },
        ];
        record
            .accept(
                &NewRevision {
                    quote: &so.quote,
                    quote_file: "quote.yaml",
                    quote_text: "",
                    rules: &rules,
                    rules_git: None,
                    fingerprint: &so.fingerprint,
                    priced: tenor_core::record::PricedBody::Text("{}"),
                    documents: &documents,
                    streamed: &[],
                },
                false,
            )
            .unwrap();
    }
    std::fs::write(done, "").unwrap();
    record
}

/// A charge as the floor reads it.
#[derive(Deserialize)]
struct PlainCharge<'a> {
    #[serde(borrow)]
    bill_date: &'a str,
    amount: Decimal,
}

#[derive(Deserialize)]
struct PlainSchedule<'a> {
    #[serde(borrow)]
    charges: Vec<PlainCharge<'a>>,
}

/// The floor: every schedule in one query, parsed into plain structs, the month's summed.
fn floor(path: &Path, month: &str) -> (u64, Decimal) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT body FROM documents WHERE kind = 'invoice-schedule'")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let (mut n, mut sum) = (0u64, Decimal::ZERO);
    while let Some(r) = rows.next().unwrap() {
        let body = r.get_ref(0).unwrap().as_blob().unwrap();
        let s: PlainSchedule<'_> = serde_json::from_slice(body).unwrap();
        for c in s.charges.iter().filter(|c| c.bill_date.starts_with(month)) {
            n += 1;
            sum += c.amount;
        }
    }
    (n, sum)
}

/// `tenor --db PATH bill --month M --format F`, its output kept in memory.
fn tenor_bill(path: &Path, month: &str, format: &str, out: &mut Vec<u8>) {
    out.clear();
    let argv = [
        "tenor",
        "--db",
        path.to_str().unwrap(),
        "bill",
        "--month",
        month,
        "--format",
        format,
    ];
    let mut err = NoColor::new(Vec::new());
    let exit = tenor_core::cli::run(argv.iter().map(Into::into).collect(), out, &mut err);
    assert_eq!(
        exit,
        tenor_core::cli::Exit::Success,
        "{}",
        String::from_utf8_lossy(err.get_ref())
    );
}

fn target_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-bill");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bench(c: &mut Criterion) {
    // (name, lines per quote, periods per line, month)
    let books = [
        ("spread", 20u32, 25u32, "2027-06"),
        ("one-month", 500, 1, "2027-01"),
    ];
    for (name, lines, periods, month) in books {
        assert_eq!(QUOTES * lines as usize * periods as usize, CHARGES);
        let path = target_dir().join(format!("{name}.db"));
        drop(book(&path, lines, periods));
        let (n, sum) = floor(&path, month);
        let mut out = Vec::new();
        tenor_bill(&path, month, "csv", &mut out);
        // The command bills what the floor counts, to the cent.
        let csv = String::from_utf8_lossy(&out);
        let mut billed = 0u64;
        let mut total = Decimal::ZERO;
        for l in csv.lines().skip(1) {
            billed += 1;
            total += l.split(',').nth(12).unwrap().parse::<Decimal>().unwrap();
        }
        assert_eq!((billed, total), (n, sum), "{name}");
        eprintln!("{name}: {CHARGES} schedule charges, {n} billed in {month}, {sum} USD");
        let mut g = c.benchmark_group(format!("bill/{name}"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(CHARGES as u64));
        g.bench_function("floor: schedules read and summed", |b| {
            b.iter(|| black_box(floor(&path, month)))
        });
        for format in ["csv", "json"] {
            g.bench_function(format!("tenor bill --format {format}"), |b| {
                b.iter(|| tenor_bill(&path, month, format, black_box(&mut out)))
            });
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
