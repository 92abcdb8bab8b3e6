//! Scheduling: quote lines of P3Y monthly (36 charges each) priced and turned into the
//! documents of `tenor accept`, held in memory and streamed through scratch files, beside a
//! floor that prices the lines and renders the priced quote alone. Then each is run once in a
//! child process at two sizes, to show its peak resident memory (`VmHWM`): held grows with
//! the lines, streamed does not. `TENOR_SCHEDULE_LINES` sets the criterion size (default
//! 100,000); `TENOR_SCHEDULE_PEAKS=0` skips the children.
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
use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group};
use rust_decimal::Decimal;
use std::collections::BTreeSet;
use std::hint::black_box;
use std::process::Command;
use support::peak_kib;
use tenor_core::documents::accept;
use tenor_core::engine::catalogue::Catalogue;
use tenor_core::engine::pricing::{PriceOptions, each_line, price, summarize};
use tenor_core::engine::quote::{Customer, MonthDay, Quote, QuoteLine};

/// The environment variable that makes the bench binary a child measuring one run.
const CHILD: &str = "TENOR_SCHEDULE_CHILD";

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

fn lines() -> usize {
    std::env::var("TENOR_SCHEDULE_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn quote(lines: usize) -> Quote {
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
        lines: (0..lines)
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

fn catalogue() -> Catalogue {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("bench.tenor", RULES);
    let rules = tenor_dsl::check(&sources).unwrap();
    Catalogue::compile(&rules, &sources)
}

/// Accepts in memory: every charge held, then every document rendered; the bytes made.
fn held(cat: &Catalogue, q: &Quote) -> usize {
    let priced = price(cat, q, &PriceOptions::default()).unwrap();
    let accepted = accept::accept(cat, q, &priced, "bench").unwrap();
    let files = accept::files(&accepted, &Default::default()).unwrap();
    let text = serde_json::to_string_pretty(&priced).unwrap();
    files.iter().map(|f| f.bytes.len()).sum::<usize>() + text.len()
}

/// Accepts streaming, as `tenor accept` without plugins: every document written to a sink.
fn streamed(cat: &Catalogue, q: &Quote) -> usize {
    let summary = summarize(cat, q, &PriceOptions::default(), &mut ()).unwrap();
    let (accepted, s) = accept::accept_streamed(cat, q, &summary, "bench", false).unwrap();
    let ids: BTreeSet<&str> = s.documents().map(|d| d.0).collect();
    let files = accept::files(&accepted, &ids).unwrap();
    let mut out = Counting(0);
    for i in 0..ids.len() {
        s.write_document(i, &mut out).unwrap();
    }
    s.write_priced(&mut out).unwrap();
    files.iter().map(|f| f.bytes.len()).sum::<usize>() + out.0
}

/// The floor: each line priced and rendered as the priced quote's pretty JSON, to a sink.
fn floor(cat: &Catalogue, q: &Quote) -> usize {
    let mut out = Counting(0);
    each_line(cat, q, &PriceOptions::default(), |l| {
        serde_json::to_writer_pretty(&mut out, l)
    })
    .unwrap();
    out.0
}

/// A sink that counts what it is given.
struct Counting(usize);

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// In the child: one run of `mode` on `lines` lines, with the peak before and after.
fn child(spec: &str) {
    let (mode, lines) = spec.split_once(':').unwrap();
    let cat = catalogue();
    let q = quote(lines.parse().unwrap());
    let before = peak_kib();
    let made = match mode {
        "held" => held(&cat, &q),
        "streamed" => streamed(&cat, &q),
        _ => floor(&cat, &q),
    };
    println!("{made} {before} {}", peak_kib());
}

/// Each way run once in a child process at two sizes: its peak memory.
fn peaks() {
    for lines in [50_000, 200_000] {
        for mode in ["floor", "held", "streamed"] {
            let out = Command::new(std::env::current_exe().unwrap())
                .env(CHILD, format!("{mode}:{lines}"))
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
                "peak memory, {mode} {lines} lines: {} bytes made; VmHWM {} KiB with the quote built, {} KiB after",
                w[0], w[1], w[2]
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    let cat = catalogue();
    let n = lines();
    let q = quote(n);
    let mut g = c.benchmark_group("schedule_p3y_monthly");
    g.sample_size(10);
    g.throughput(Throughput::Elements((n * 36) as u64));
    g.bench_function("floor_price_and_render_priced_lines", |b| {
        b.iter(|| black_box(floor(&cat, &q)))
    });
    g.bench_function("accept_held", |b| b.iter(|| black_box(held(&cat, &q))));
    g.bench_function("accept_streamed", |b| {
        b.iter(|| black_box(streamed(&cat, &q)))
    });
    g.finish();
    if std::env::var("TENOR_SCHEDULE_PEAKS").as_deref() != Ok("0") {
        peaks();
    }
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
