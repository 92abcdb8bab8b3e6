//! Three-way match throughput: a million quote lines (100,000 quotes of ten lines) against their
//! purchase-order lines read back and their first invoices, about one line in a hundred made to
//! disagree so the findings path (re-pricing, explanations) is exercised; and one quote of
//! 200,000 lines, where pairing works within a single huge quote.
//!
//! Everything is generated in memory before timing. Run once outside criterion, for a peak
//! memory figure, with `TENOR_MATCH_DRIVER=1` (add `TENOR_MATCH_SINGLE=1` for the one-quote
//! case, `TENOR_MATCH_CLEAN=1` for documents that all agree, `TENOR_MATCH_REPEAT=n` to match n
//! times), for example under `/usr/bin/time -v`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

use chrono::NaiveDate;
use criterion::{Criterion, Throughput};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::time::Instant;
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{PriceOptions, PricedQuote};
use tenor_core::engine::quote::{Customer, MonthDay, Quote, QuoteLine};
use tenor_core::matching::{MatchReport, Matcher};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

const RULES: &str = r#"
currency USD
rounding half_up
vendor microsoft "Microsoft"
vendor dell "Dell"
vendor contoso "Contoso"
distributor pax8 "Pax8"
distributor ingram "Ingram Micro"
category hardware "Hardware"
product BP "Business Premium" {
  vendor microsoft
  bought via pax8 as "MST-NCE-M365BP" id "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33"
  commitment P1Y via pax8 id "bea4256e-36c2-44c7-9885-bbac88043e5f"
  commitment P3Y via pax8 id "2054fa81-6e7c-4c6a-87ac-5fed4b6ea010"
  P1Y monthly  22.00 a month  cost 17.60 a month
  P1Y annual  264.00 a year   cost 211.20 a year
  P3Y upfront 792.00 a term   cost 633.60 a term
}
product E3 "Microsoft 365 E3" {
  vendor microsoft
  bought via pax8 as "MST-NCE-M365E3"
  P1Y annual  432.00 a year  cost 345.60 a year
}
product EXO "Exchange Online" {
  vendor microsoft
  bought via pax8 as "MST-NCE-EXOP1"
  P1M monthly  4.80 a month  cost 3.84 a month
}
product MDB "Defender for Business" {
  vendor microsoft
  bought via pax8 as "MST-NCE-MDB"
  P1Y annual  36.00 a year  cost 28.80 a year
}
product LAPTOP "Latitude" {
  vendor dell
  category hardware
  bought via ingram as "DL-LAT5450"
  one-time  1,049.00 once  cost 900.00 once
}
product HELPDESK "Helpdesk" {
  vendor contoso
  not bought
  P1Y annual  480.00 a year
}
bundle MWS "Managed Workstation" {
  includes 1 HELPDESK
  includes 1 MDB
  P1Y annual  516.00 a year
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
route category hardware via ingram
route everything else via pax8
match tolerance 0.05 per line
"#;

const QUOTES: usize = 100_000;
const LINES_PER_QUOTE: usize = 10;
const SINGLE_LINES: usize = 200_000;

/// The line mix of a quote: (product, term, billing).
const OFFERS: [(&str, &str, Option<&str>); 8] = [
    ("BP", "P1Y", Some("monthly")),
    ("BP", "P1Y", Some("annual")),
    ("BP", "P3Y", Some("upfront")),
    ("E3", "P1Y", Some("annual")),
    ("EXO", "P1M", Some("monthly")),
    ("MDB", "P1Y", Some("annual")),
    ("LAPTOP", "one-time", None),
    ("MWS", "P1Y", Some("annual")),
];

fn catalogue() -> Catalogue {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("bench.tenor", RULES);
    let rules = tenor_dsl::check(&sources).unwrap();
    Catalogue::compile(&rules, &sources)
}

/// One quote with what matching takes: the priced quote, its purchase orders, the order lines
/// and invoice lines read back.
struct Case {
    quote: Quote,
    priced: PricedQuote,
    pos: Vec<PurchaseOrder>,
    orders: Vec<OrderLine>,
    invoices: Vec<InvoiceLine>,
}

/// A deterministic quote (`lines` lines) with its purchase orders, order lines and invoices.
fn case(cat: &Catalogue, n: usize, lines: usize) -> Case {
    let quote = quote(n, lines);
    let priced = tenor_core::engine::pricing::price(cat, &quote, &PriceOptions::default()).unwrap();
    let accepted = tenor_core::documents::accept::accept(cat, &quote, &priced, "bench").unwrap();
    let pos = accepted.purchase_orders;
    let orders = order_lines(&pos, n);
    let invoices = invoice_lines(&quote, &priced, n);
    Case {
        quote,
        priced,
        pos,
        orders,
        invoices,
    }
}

/// Quote `n`: `lines` lines cycling through the offers, on the anniversary (no stub) or a few
/// days before it (a short stub).
fn quote(n: usize, lines: usize) -> Quote {
    let start =
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap() - chrono::Duration::days((n % 5) as i64);
    Quote {
        quote: format!("Q-{n:06}"),
        date: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
        currency: "USD".into(),
        customer: Customer {
            id: format!("C-{n:06}"),
            name: format!("Customer {n}"),
            segment: None,
            segments: Vec::new(),
            new: false,
            anniversary: Some(MonthDay { month: 7, day: 1 }),
            subscriptions: Vec::new(),
        },
        lines: (0..lines)
            .map(|i| {
                let (p, t, b) = OFFERS[(n + i) % OFFERS.len()];
                QuoteLine {
                    product: p.into(),
                    quantity: Decimal::from(1 + (n * 7 + i * 13) % 60),
                    term: t.into(),
                    billing: b.map(str::to_string),
                    start,
                    coterm: None,
                    discount: None,
                    usage: None,
                }
            })
            .collect(),
    }
}

/// The purchase-order lines as read back; about one line in a hundred bought one unit more
/// than sold.
fn order_lines(pos: &[PurchaseOrder], n: usize) -> Vec<OrderLine> {
    let mut orders = Vec::new();
    for po in pos {
        for l in &po.lines {
            let k = n + l.line as usize;
            orders.push(OrderLine {
                document: format!("ORD-{}", po.id),
                reference: Some(po.id.clone()),
                line_ref: (k % 3 != 0).then(|| l.line.to_string()),
                customer: Some(po.customer.id.clone()),
                part_number: l
                    .distributor_product_id
                    .clone()
                    .unwrap_or_else(|| l.part_number.clone()),
                quantity: if k % 97 == 0 && !clean() {
                    l.quantity + Decimal::ONE
                } else {
                    l.quantity
                },
                term: Some(l.term.clone()),
                billing: Some(l.billing.clone()),
                start: Some(l.first_term_start),
                end: Some(l.commitment_end),
                unit_cost: l.unit_cost,
                plan: None,
            });
        }
    }
    orders
}

/// Each line's first invoice; about one line in a hundred billed one unit fewer than sold.
fn invoice_lines(quote: &Quote, priced: &PricedQuote, n: usize) -> Vec<InvoiceLine> {
    priced
        .lines
        .iter()
        .map(|l| {
            let first = &l.charges[0];
            let one_time = &*l.term == "one-time";
            let k = n + l.line;
            InvoiceLine {
                serial_numbers: Vec::new(),
                document: format!("INV-{}", quote.quote),
                reference: None,
                customer: Some(quote.customer.id.clone()),
                part_number: l.product.to_string(),
                description: String::new(),
                quantity: if k % 101 == 0 && l.quantity > Decimal::ONE && !clean() {
                    l.quantity - Decimal::ONE
                } else {
                    l.quantity
                },
                unit_price: None,
                amount: first.amount,
                period_start: (!one_time).then_some(first.period_start),
                period_end: (!one_time).then_some(first.period_end),
                term: Some(l.term.to_string()),
                billing: None,
                date: Some(first.bill_date),
            }
        })
        .collect()
}

/// `TENOR_MATCH_CLEAN=1` (driver only): documents that all agree, to time matching without
/// findings.
fn clean() -> bool {
    static CLEAN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *CLEAN.get_or_init(|| std::env::var_os("TENOR_MATCH_CLEAN").is_some())
}

fn cases(cat: &Catalogue) -> Vec<Case> {
    (0..QUOTES).map(|n| case(cat, n, LINES_PER_QUOTE)).collect()
}

/// Matches every case, merging the reports in quote order.
fn match_all(m: &Matcher, cases: &[Case]) -> MatchReport {
    let mut report: Option<MatchReport> = None;
    for c in cases {
        let r = m.run(&c.quote, &c.priced, &c.pos, &c.orders, &c.invoices);
        match &mut report {
            Some(all) => all.merge(r),
            None => report = Some(r),
        }
    }
    report.unwrap()
}

fn bench(c: &mut Criterion) {
    let cat = catalogue();
    let m = Matcher::new(&cat);
    let many = cases(&cat);
    let mut g = c.benchmark_group("match");
    g.sample_size(10);
    g.throughput(Throughput::Elements((QUOTES * LINES_PER_QUOTE) as u64));
    g.bench_function("1m_lines_in_100k_quotes", |b| {
        b.iter(|| black_box(match_all(&m, &many).findings.len()))
    });
    drop(many);
    let one = case(&cat, 0, SINGLE_LINES);
    g.throughput(Throughput::Elements(SINGLE_LINES as u64));
    g.bench_function("one_quote_of_200k_lines", |b| {
        b.iter(|| {
            black_box(
                m.run(
                    &one.quote,
                    &one.priced,
                    &one.pos,
                    &one.orders,
                    &one.invoices,
                )
                .findings
                .len(),
            )
        })
    });
    g.finish();
}

/// One timed run outside criterion, for `/usr/bin/time -v`.
fn driver() {
    let cat = catalogue();
    let m = Matcher::new(&cat);
    let t = Instant::now();
    let single = std::env::var_os("TENOR_MATCH_SINGLE").is_some();
    let cases = if single {
        vec![case(&cat, 0, SINGLE_LINES)]
    } else {
        cases(&cat)
    };
    let lines: usize = cases.iter().map(|c| c.priced.lines.len()).sum();
    let orders: usize = cases.iter().map(|c| c.orders.len()).sum();
    let invoices: usize = cases.iter().map(|c| c.invoices.len()).sum();
    eprintln!(
        "generated {} quotes, {lines} lines, {orders} order lines, {invoices} invoice lines in {:.2?}",
        cases.len(),
        t.elapsed()
    );
    // `TENOR_MATCH_REPEAT=n` matches n times (for a profile dominated by matching).
    let repeat: usize = std::env::var("TENOR_MATCH_REPEAT")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1);
    for _ in 0..repeat {
        let t = Instant::now();
        let report = match_all(&m, &cases);
        let took = t.elapsed();
        let totals = report.totals();
        eprintln!(
            "matched in {took:.2?}: {} findings, money at risk {} ({} unknown)",
            totals.findings, totals.money_at_risk, totals.unknown
        );
    }
}

fn main() {
    if std::env::var_os("TENOR_MATCH_DRIVER").is_some() {
        driver();
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
