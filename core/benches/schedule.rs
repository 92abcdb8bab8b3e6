//! Scheduling: 100,000 quote lines of P3Y monthly (3.6 million charges) priced and turned into
//! the invoice schedule of `tenor accept`.
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
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{PriceOptions, price};
use tenor_core::engine::quote::{Customer, MonthDay, Quote, QuoteLine};

const LINES: usize = 100_000;

const RULES: &str = r#"
currency USD
vendor microsoft "Microsoft"
distributor pax8 "Pax8"
product E3 "Microsoft 365 E3" {
  vendor microsoft
  bought via pax8 as "MST-NCE-M365E3"
  P3Y monthly  36.00 a month  cost 28.80
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
route everything else via pax8
"#;

fn quote() -> Quote {
    Quote {
        quote: "Q-SCHED".into(),
        date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        currency: "USD".into(),
        customer: Customer {
            id: "C".into(),
            name: "C".into(),
            segment: None,
            segments: Vec::new(),
            new: false,
            // Anchored on the 31st, so month-end clamping is exercised throughout.
            anniversary: Some(MonthDay { month: 1, day: 31 }),
            subscriptions: Vec::new(),
        },
        lines: (0..LINES)
            .map(|i| QuoteLine {
                product: "E3".into(),
                quantity: Decimal::from(1 + i % 300),
                term: "P3Y".into(),
                billing: Some("monthly".into()),
                // Starts on the anchor: exactly 36 monthly charges each.
                start: NaiveDate::from_ymd_opt(2027, 1, 31).unwrap(),
                coterm: None,
                discount: None,
                usage: None,
            })
            .collect(),
    }
}

fn bench(c: &mut Criterion) {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("bench.tenor", RULES);
    let rules = tenor_dsl::check(&sources).unwrap();
    let cat = Catalogue::compile(&rules, &sources);
    let q = quote();
    let mut g = c.benchmark_group("schedule_p3y_monthly");
    g.sample_size(10);
    g.throughput(Throughput::Elements((LINES * 36) as u64));
    g.bench_function("price_and_accept_100k_lines", |b| {
        b.iter(|| {
            let priced = price(&cat, &q, &PriceOptions::default()).unwrap();
            let accepted =
                tenor_core::documents::accept::accept(&cat, &q, &priced, "bench").unwrap();
            assert_eq!(accepted.schedule.charges.len(), LINES * 36);
            black_box(accepted.schedule.total)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
