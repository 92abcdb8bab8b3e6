//! `tenor diff` over a book of 10,000 quotes (50,000 lines) under the example rules and the
//! same rules with one price edited, beside the floor: pricing the same quotes once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::Decimal;
use std::hint::black_box;
use std::path::Path;
use tenor_core::engine::pricing::{self, PriceOptions};
use tenor_core::engine::quote::{Customer, MonthDay, Quote, QuoteLine};
use tenor_core::review::diff::{Input, diff};
use tenor_core::review::rules::{RuleBook, compile};

const QUOTES: usize = 10_000;

/// The example rules, with Business Premium's P1Y monthly price edited when `edit`.
fn book(edit: bool) -> RuleBook {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let loaded = tenor_dsl::load(&[dir]).unwrap();
    let mut sources = tenor_dsl::SourceSet::new();
    for id in loaded.ids() {
        let text = loaded.text(id).to_string();
        let text = match edit {
            true => text.replace(
                "P1Y monthly   22.00 a month  cost  17.60",
                "P1Y monthly   23.00 a month  cost  17.60",
            ),
            false => text,
        };
        sources.add(loaded.name(id).to_string(), text);
    }
    compile(sources, if edit { "new" } else { "old" }.into()).unwrap()
}

fn line(
    product: &str,
    qty: usize,
    term: &str,
    billing: Option<&str>,
    start: NaiveDate,
) -> QuoteLine {
    QuoteLine {
        product: product.into(),
        quantity: Decimal::from(qty),
        term: term.into(),
        billing: billing.map(Into::into),
        start,
        coterm: None,
        discount: None,
        usage: None,
    }
}

/// Five lines a quote; every other quote sells Business Premium (the edited price).
fn quotes() -> Vec<Input> {
    (0..QUOTES)
        .map(|i| {
            let start =
                NaiveDate::from_ymd_opt(2027, 1 + (i % 12) as u32, 1 + (i % 28) as u32).unwrap();
            let seats = 1 + i % 60;
            let licence = if i % 2 == 0 { "M365-BP" } else { "M365-BS" };
            Input {
                source: format!("q{i}"),
                accepted: false,
                quote: Quote {
                    quote: format!("Q-{i}"),
                    date: start,
                    currency: "USD".into(),
                    customer: Customer {
                        id: format!("C-{}", i % 2_000),
                        name: "Customer".into(),
                        segment: None,
                        segments: Vec::new(),
                        new: i % 5 == 0,
                        anniversary: Some(MonthDay { month: 7, day: 1 }),
                        subscriptions: Vec::new(),
                    },
                    lines: vec![
                        line(licence, seats, "P1Y", Some("monthly"), start),
                        line("MDB", seats, "P1Y", Some("monthly"), start),
                        line("MS-DEVICE", seats, "P1Y", Some("monthly"), start),
                        line("EXO-P1", 1 + i % 7, "P1Y", Some("annual"), start),
                        line("LABOUR-HOUR", 1 + i % 9, "one-time", None, start),
                    ],
                },
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let (old, new) = (book(false), book(true));
    let inputs = quotes();
    let mut g = c.benchmark_group("diff");
    g.sample_size(10);
    g.throughput(Throughput::Elements((QUOTES * 5) as u64));
    g.bench_function("floor: price 10,000 quotes once", |b| {
        b.iter(|| {
            for q in &inputs {
                black_box(pricing::price(&new.catalogue, &q.quote, &PriceOptions::default()).ok());
            }
        })
    });
    g.bench_function("diff 10,000 quotes (old vs new rules)", |b| {
        b.iter(|| black_box(diff(&old, &new, &inputs, NaiveDate::MIN)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
