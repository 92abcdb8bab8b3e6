//! Usage-rating throughput: 10,000,000 CSV records, made on the fly by a reader (a cycle of
//! 10,007 distinct lines served over and over, so the records are never held), streamed through
//! `rate::rate_usage` for 200 customers × 3 metered products (one each of sum, max and last).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    reason = "benchmark"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::io::Read;
use std::time::Duration;
use tenor_core::documents::rate::{Period, RateOptions, rate_usage};
use tenor_core::engine::catalogue::Catalogue;

const RULES: &str = r#"
currency USD
rounding half_up
vendor datto "Datto"
tiers backup-storage graduated per GB a month {
  first    500  free
  up to 10,000  0.05
  above         0.03
}
product DATTO-CLOUD "Datto Cloud Backup Storage" {
  vendor datto
  unit   GB
  not bought
  usage  storage-gb by max
  minimum 25.00 a month
  P1M monthly  tiers backup-storage  cost 0.02 a month
}
product EGRESS "Outbound data" {
  vendor datto
  unit   GB
  not bought
  usage  egress-gb by sum
  P1M monthly  0.09 a month  cost 0.05 a month
}
product DEVICES "Managed devices" {
  vendor datto
  unit   device
  not bought
  usage  devices by last
  P1M monthly  3.50 a month
}
"#;

const RECORDS: u64 = 10_000_000;
const CUSTOMERS: u64 = 200;
const PRODUCTS: [(&str, &str); 3] = [
    ("DATTO-CLOUD", "storage-gb"),
    ("EGRESS", "egress-gb"),
    ("DEVICES", "devices"),
];

/// Distinct lines in the generator's cycle (a prime, so no pattern lines up with buffer sizes).
const CYCLE: usize = 10_007;

/// CSV usage records made as they are read: a cycle of [`CYCLE`] distinct lines (about 600 KB)
/// is built once and served again and again until `rows` records have been read, so the
/// generator costs a memory copy and the records are never held.
struct Generated<'a> {
    /// The header, then the cycle's text.
    header: &'static [u8],
    cycle: &'a [u8],
    /// Bytes of records still to serve, and the read position in the cycle.
    left: u64,
    pos: usize,
}

/// The cycle's text, and where each of its lines starts.
struct Cycle {
    text: Vec<u8>,
    starts: Vec<usize>,
}

impl Cycle {
    fn new() -> Self {
        let mut text = Vec::new();
        let mut starts = Vec::with_capacity(CYCLE);
        for i in 0..CYCLE as u64 {
            starts.push(text.len());
            // A cheap scramble so customers and products interleave.
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
            let (sku, metric) = PRODUCTS[(h % 3) as usize];
            let line = format!(
                "C-{:04},{sku},{metric},{}.{:02},2026-12-{:02}T{:02}:00:00Z\n",
                h % CUSTOMERS,
                h % 20_000,
                h % 100,
                1 + h % 28,
                h % 24
            );
            text.extend_from_slice(line.as_bytes());
        }
        Cycle { text, starts }
    }

    /// A reader of `rows` records.
    fn reader(&self, rows: u64) -> Generated<'_> {
        // Whole cycles, then the first lines of one more.
        let left = rows / CYCLE as u64 * self.text.len() as u64
            + self.starts[(rows % CYCLE as u64) as usize] as u64;
        Generated {
            header: b"customer,product,metric,quantity,timestamp\n",
            cycle: &self.text,
            left,
            pos: 0,
        }
    }
}

impl Read for Generated<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if !self.header.is_empty() {
            let n = out.len().min(self.header.len());
            out[..n].copy_from_slice(&self.header[..n]);
            self.header = &self.header[n..];
            return Ok(n);
        }
        if self.pos == self.cycle.len() {
            self.pos = 0;
        }
        let n = out
            .len()
            .min(self.cycle.len() - self.pos)
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        out[..n].copy_from_slice(&self.cycle[self.pos..self.pos + n]);
        self.pos += n;
        self.left -= n as u64;
        Ok(n)
    }
}

fn catalogue() -> Catalogue {
    let mut sources = tenor_dsl::SourceSet::new();
    sources.add("bench.tenor", RULES);
    let rules = tenor_dsl::check(&sources).unwrap();
    Catalogue::compile(&rules, &sources)
}

fn bench(c: &mut Criterion) {
    let cat = catalogue();
    let period = Period::parse("2026-12").unwrap();
    let opts = RateOptions::default();
    let cycle = Cycle::new();
    let mut g = c.benchmark_group("rating");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(RECORDS));
    g.bench_function("rate 10M records", |b| {
        b.iter(|| {
            let r = rate_usage(&cat, cycle.reader(RECORDS), period, &opts).unwrap();
            assert_eq!(r.stats.rated, RECORDS);
            black_box(r)
        })
    });
    g.finish();
    // The generator alone, to tell its share of the time from rating's.
    let mut g = c.benchmark_group("rating-generator");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(RECORDS));
    g.bench_function("generate 10M records", |b| {
        b.iter(|| {
            let mut g = cycle.reader(RECORDS);
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0usize;
            loop {
                let n = g.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                total += n;
                black_box(&buf);
            }
            black_box(total)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
