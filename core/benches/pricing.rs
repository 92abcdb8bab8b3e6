//! Pricing throughput: quote lines through the compiled rule set, beside a hand-written loop
//! doing only the tier, discount and rounding arithmetic for the same lines (the floor).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

use chrono::NaiveDate;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rust_decimal::{Decimal, RoundingStrategy};
use std::hint::black_box;
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{PriceOptions, Pricer};
use tenor_core::engine::quote::{Customer, MonthDay, Quote, QuoteLine};

const RULES: &str = r#"
currency USD
rounding half_up
vendor microsoft "Microsoft"
vendor contoso "Contoso"
product BP "Business Premium" {
  vendor microsoft
  P1Y monthly  22.00 a month  cost 17.60
  P1Y annual  264.00 a year   cost 211.20
}
tiers devices graduated per device a month {
  up to 10  45.00
  up to 50  40.00
  above     35.00
}
product DEV "Managed device" {
  vendor contoso
  not bought
  P1Y annual  tiers devices
}
coterm default { anchor customer anniversary; mode stub; prorate daily }
segment nonprofit "Nonprofit organisations"
discount nonprofit: 15% off vendor microsoft when customer segment is nonprofit and quantity at least 5
"#;

const LINES: usize = 100_000;

fn catalogue() -> Catalogue {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("bench.tenor", RULES);
    let rules = tenor_dsl::check(&sources).unwrap();
    Catalogue::compile(&rules, &sources)
}

/// The bench's lines. Quantities cycle through 1 to 60, so lines repeat an offer and quantity
/// (as a real quote's do) and pricing finds their recipes; with `TENOR_PRICE_UNIQUE=1` every
/// line has a quantity of its own, so every recipe is worked out afresh.
fn lines() -> Vec<QuoteLine> {
    let unique = std::env::var("TENOR_PRICE_UNIQUE").is_ok_and(|v| v == "1");
    (0..LINES)
        .map(|i| {
            let seat = i % 3 != 0;
            QuoteLine {
                product: if seat { "BP" } else { "DEV" }.to_string(),
                quantity: Decimal::from(1 + if unique { i } else { i % 60 }),
                term: "P1Y".into(),
                billing: Some("annual".into()),
                start: NaiveDate::from_ymd_opt(2026, 1 + (i % 12) as u32, 1 + (i % 28) as u32)
                    .unwrap(),
                coterm: None,
                discount: None,
                usage: None,
            }
        })
        .collect()
}

fn quote() -> Quote {
    Quote {
        quote: "Q-BENCH".into(),
        date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        currency: "USD".into(),
        customer: Customer {
            id: "C".into(),
            name: "C".into(),
            segment: Some("nonprofit".into()),
            segments: Vec::new(),
            new: false,
            anniversary: Some(MonthDay { month: 7, day: 1 }),
            subscriptions: Vec::new(),
        },
        lines: Vec::new(),
    }
}

/// The floor: the same lines' stub and term arithmetic by hand, no rules layer.
fn floor(lines: &[(bool, Decimal, i64)]) -> Decimal {
    let mode = RoundingStrategy::MidpointAwayFromZero;
    let mut total = Decimal::ZERO;
    let price = Decimal::new(26400, 2);
    let (t1, t2) = (Decimal::from(10), Decimal::from(50));
    let (p1, p2, p3) = (Decimal::from(45), Decimal::from(40), Decimal::from(35));
    let twelve = Decimal::from(12);
    let days_in_year = Decimal::from(365);
    for &(seat, q, stub_days) in lines {
        let full = if seat {
            q * price
        } else {
            // graduated tiers per month, times twelve months
            let a = q.min(t1) * p1
                + (q.min(t2) - t1).max(Decimal::ZERO) * p2
                + (q - t2).max(Decimal::ZERO) * p3;
            a * twelve
        };
        let stub = (full * Decimal::from(stub_days) / days_in_year).round_dp_with_strategy(2, mode);
        let full = full.round_dp_with_strategy(2, mode);
        let (stub, full) = if seat && q >= Decimal::from(5) {
            let f = Decimal::new(15, 2);
            (
                stub - (stub * f).round_dp_with_strategy(2, mode),
                full - (full * f).round_dp_with_strategy(2, mode),
            )
        } else {
            (stub, full)
        };
        total += stub + full;
    }
    total
}

fn bench(c: &mut Criterion) {
    let cat = catalogue();
    let q = quote();
    let ls = lines();
    let mut g = c.benchmark_group("price");
    g.throughput(Throughput::Elements(LINES as u64));
    g.sample_size(10);
    g.bench_function("engine_lines", |b| {
        b.iter(|| {
            let mut p = Pricer::new(&cat, &q, PriceOptions::default());
            let mut cv = Decimal::ZERO;
            for (i, l) in ls.iter().enumerate() {
                let pl = p.line(i, l).unwrap();
                cv += pl.charges.iter().map(|c| c.amount).sum::<Decimal>();
            }
            black_box(cv)
        })
    });
    let mut whole = q.clone();
    whole.lines = ls.clone();
    g.bench_function("engine_each_line", |b| {
        b.iter(|| {
            let mut cv = Decimal::ZERO;
            tenor_core::engine::pricing::each_line(&cat, &whole, &PriceOptions::default(), |pl| {
                cv += pl.charges.iter().map(|c| c.amount).sum::<Decimal>();
                Ok::<(), ()>(())
            })
            .unwrap();
            black_box(cv)
        })
    });
    let raw: Vec<(bool, Decimal, i64)> = ls
        .iter()
        .map(|l| {
            let anchor = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
            let next = if l.start <= anchor {
                anchor
            } else {
                NaiveDate::from_ymd_opt(2027, 7, 1).unwrap()
            };
            (l.product == "BP", l.quantity, (next - l.start).num_days())
        })
        .collect();
    g.bench_function("hand_written_floor", |b| {
        b.iter_batched(
            || raw.clone(),
            |r| black_box(floor(&r)),
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

/// A 100,000-line quote for the example rules, as YAML text.
fn big_quote_text() -> String {
    let offers = [
        ("M365-BP", "P1Y", Some("monthly")),
        ("M365-BP", "P1Y", Some("annual")),
        ("M365-E3", "P3Y", Some("upfront")),
        ("MS-DEVICE", "P1Y", Some("monthly")),
        ("MDB", "P1Y", Some("monthly")),
        ("EXO-P1", "P1M", Some("monthly")),
        ("DELL-LAT5550", "one-time", None),
    ];
    let mut s = String::from(
        "quote: Q-BIG\ndate: 2026-11-20\ncurrency: USD\ncustomer:\n  id: CUST-1\n  name: Big Co\n  segment: nonprofit\n  anniversary: 07-01\nlines:\n",
    );
    for i in 0..100_000usize {
        let (p, t, b) = offers[i % offers.len()];
        s.push_str(&format!(
            "  - product: {p}\n    quantity: {}\n    term: {t}\n",
            1 + i % 200
        ));
        if let Some(b) = b {
            s.push_str(&format!("    billing: {b}\n"));
        }
        s.push_str(&format!(
            "    start: 2026-{:02}-{:02}\n",
            1 + i % 12,
            1 + i % 28
        ));
    }
    s
}

/// The same quote as JSON, one line a line, as a program would write it.
fn big_quote_json() -> String {
    let q: serde_json::Value = serde_yaml::from_str(&big_quote_text()).unwrap();
    serde_json::to_string(&q).unwrap()
}

/// The floor of reading a JSON quote: serde_json into plain structs, no checks.
mod plain {
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "read, never used: the floor is the reading")]
    pub struct Quote {
        quote: String,
        date: String,
        currency: String,
        customer: Customer,
        pub lines: Vec<Line>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "read, never used: the floor is the reading")]
    struct Customer {
        id: String,
        name: String,
        segment: Option<String>,
        anniversary: Option<String>,
    }

    #[derive(Deserialize)]
    #[allow(dead_code, reason = "read, never used: the floor is the reading")]
    pub struct Line {
        product: String,
        quantity: u64,
        term: String,
        billing: Option<String>,
        start: String,
    }
}

fn end_to_end_json(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");
    let sources = tenor_dsl::load(&[std::path::PathBuf::from(dir)]).unwrap();
    let rules = tenor_dsl::check(&sources).unwrap();
    let text = big_quote_json();
    let mut g = c.benchmark_group("quote_100k_lines_json");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("plain_structs_floor", |b| {
        b.iter(|| {
            black_box(
                serde_json::from_str::<plain::Quote>(&text)
                    .unwrap()
                    .lines
                    .len(),
            )
        })
    });
    g.bench_function("read_price_and_write_compact_json", |b| {
        b.iter(|| {
            let cat = Catalogue::compile(&rules, &sources);
            let q = tenor_core::engine::quote::QuoteFile::parse("big.json", &text).unwrap();
            let priced =
                tenor_core::engine::pricing::price(&cat, &q.quote, &PriceOptions::default())
                    .unwrap();
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::sink());
            serde_json::to_writer(&mut w, &priced).unwrap();
            black_box(priced.totals.contract_value)
        })
    });
    // What `tenor price --format json` does: a pass for the figures keeping no line, then the
    // lines priced again and written one at a time.
    g.bench_function("read_price_and_stream_compact_json", |b| {
        b.iter(|| {
            use tenor_core::cli::render::priced_json::Stream;
            use tenor_core::engine::pricing::{each_line, summarize};
            let cat = Catalogue::compile(&rules, &sources);
            let q = tenor_core::engine::quote::QuoteFile::parse("big.json", &text).unwrap();
            let opts = PriceOptions::default();
            let s = summarize(&cat, &q.quote, &opts, &mut ()).unwrap();
            let mut w = std::io::BufWriter::with_capacity(1 << 16, std::io::sink());
            let mut doc = Stream::of_summary(&mut w, &s).unwrap();
            each_line(&cat, &q.quote, &opts, |l| doc.line(l)).unwrap();
            doc.finish(&s.totals, &s.warnings).unwrap();
            black_box(s.totals.contract_value)
        })
    });
    g.finish();
}

fn end_to_end(c: &mut Criterion) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");
    let sources = tenor_dsl::load(&[std::path::PathBuf::from(dir)]).unwrap();
    let rules = tenor_dsl::check(&sources).unwrap();
    let text = big_quote_text();
    let mut g = c.benchmark_group("quote_100k_lines");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100_000));
    g.bench_function("deserialize_only", |b| {
        b.iter(|| {
            black_box(
                tenor_core::engine::quote::QuoteFile::parse("big.yaml", &text)
                    .unwrap()
                    .quote
                    .lines
                    .len(),
            )
        })
    });
    g.bench_function("compile_price_and_write_json", |b| {
        b.iter(|| {
            let cat = Catalogue::compile(&rules, &sources);
            let q = tenor_core::engine::quote::QuoteFile::parse("big.yaml", &text).unwrap();
            let priced =
                tenor_core::engine::pricing::price(&cat, &q.quote, &PriceOptions::default())
                    .unwrap();
            let mut w = std::io::BufWriter::new(std::io::sink());
            serde_json::to_writer_pretty(&mut w, &priced).unwrap();
            black_box(priced.totals.contract_value)
        })
    });
    g.finish();
}

criterion_group!(benches, bench, end_to_end, end_to_end_json);
criterion_main!(benches);
