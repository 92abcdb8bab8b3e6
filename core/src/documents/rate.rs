//! Usage rating: metered records of one month aggregated per customer and product, rated through
//! the product's monthly offer, with minimum-commitment true-ups, billed in arrears.
//!
//! The usage file is streamed: whatever its length, only one running aggregate per (customer,
//! product) is held, and at most [`MAX_KEPT_ERRORS`] bad-row messages. The rules are in
//! `core/USAGE.md`.

use crate::engine::catalogue::{Aggregation, Billing, Catalogue, Offer, Price, Rate, TierMode};
use crate::engine::tiers;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::io::Read;

/// The JSON document's schema name.
pub const SCHEMA: &str = "tenor.usage-rating/1";

/// The columns a usage file must start with, in order.
pub const HEADER: [&str; 5] = ["customer", "product", "metric", "quantity", "timestamp"];

/// At most this many bad-row messages are kept; the rest are only counted.
pub const MAX_KEPT_ERRORS: usize = 100;

/// A calendar month to rate: `2026-12`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period {
    year: i32,
    month: u32,
}

impl Period {
    /// The month, if `month` is 1 to 12 and the year has four digits (1 to 9999), as in
    /// RFC 3339 timestamps.
    pub fn new(year: i32, month: u32) -> Option<Period> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        let p = Period { year, month };
        NaiveDate::from_ymd_opt(year, month, 1)?;
        p.next_start()?;
        Some(p)
    }

    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<Period, PeriodError> {
        let bad = || PeriodError(text.to_string());
        let b = text.as_bytes();
        let (Some(y), Some(b'-'), Some(m), 7) = (b.get(..4), b.get(4), b.get(5..7), b.len()) else {
            return Err(bad());
        };
        let (Some(year), Some(month)) = (digits(y), digits(m)) else {
            return Err(bad());
        };
        let year = i32::try_from(year).map_err(|_| bad())?;
        Period::new(year, month).ok_or_else(bad)
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u32 {
        self.month
    }

    /// The first day of the month.
    pub fn start(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The first day of the next month: the period's (exclusive) end and its bill date.
    pub fn end(&self) -> NaiveDate {
        self.next_start().unwrap_or(NaiveDate::MAX)
    }

    fn next_start(&self) -> Option<NaiveDate> {
        if self.month == 12 {
            NaiveDate::from_ymd_opt(self.year.checked_add(1)?, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(self.year, self.month + 1, 1)
        }
    }
}

/// Text that is not a month to rate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month; expected YYYY-MM, such as 2026-12")]
pub struct PeriodError(pub String);

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// How to read a usage file.
#[derive(Clone, Debug, Default)]
pub struct RateOptions {
    /// The file's name in messages (`usage.csv`).
    pub source: String,
    /// Rate the good rows and hand the bad ones back with the rating, instead of failing.
    pub skip_bad: bool,
}

/// A bad row of the usage file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file the record starts on (1-based; the header is line 1).
    pub line: u64,
    /// The column at fault, if one is.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{}: field {field}: {}", self.line, self.message),
            None => write!(f, "{}: {}", self.line, self.message),
        }
    }
}

impl std::error::Error for RowError {}

/// Counts of what a run read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Data rows read (the header not counted).
    pub rows: u64,
    /// Good records inside the period, aggregated and rated.
    pub rated: u64,
    /// Good records outside the period, ignored.
    pub outside: u64,
    /// Bad rows.
    pub bad: u64,
}

/// Why a usage file could not be rated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RateError {
    /// The file could not be read.
    #[error("{0}")]
    Io(String),
    /// The header is missing or not the expected one.
    #[error("{0}")]
    Header(String),
    /// Bad rows, and no `skip_bad`: the first [`MAX_KEPT_ERRORS`] of them, and the counts.
    #[error("{} bad row(s)", .1.bad)]
    BadRows(Vec<RowError>, Stats),
    /// An aggregate too large to rate exactly.
    #[error("{0}")]
    Overflow(String),
}

/// What kind of charge a usage line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UsageKind {
    /// The aggregate rated through the offer's price.
    Usage,
    /// The difference up to the product's minimum commitment.
    MinimumTrueUp,
}

impl UsageKind {
    /// `usage`, `minimum_true_up`.
    pub fn as_str(self) -> &'static str {
        match self {
            UsageKind::Usage => "usage",
            UsageKind::MinimumTrueUp => "minimum_true_up",
        }
    }
}

/// How one tier contributed to a usage charge, in the tier table's own period.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TierLine {
    /// The tier's number in its table, from 1.
    pub tier: usize,
    /// Units (blocks, for package tables) priced in it.
    pub units: Decimal,
    /// Price per unit (or block).
    pub price: Decimal,
    /// Flat fee.
    pub flat: Decimal,
    /// `units × price + flat`, exact.
    pub amount: Decimal,
}

/// One charge of the rating.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageCharge {
    /// The customer as written in the usage file.
    pub customer: String,
    /// The product's SKU.
    pub product: String,
    /// The metric it is metered by.
    pub metric: String,
    /// `sum`, `max` or `last`.
    pub aggregation: &'static str,
    /// Records aggregated.
    pub records: u64,
    /// The aggregate quantity.
    pub quantity: Decimal,
    /// Usage or minimum true-up.
    pub kind: UsageKind,
    /// The month's first day.
    pub period_start: NaiveDate,
    /// The next month's first day (exclusive).
    pub period_end: NaiveDate,
    /// Billed in arrears: the next month's first day.
    pub bill_date: NaiveDate,
    /// The amount, rounded once to the currency's minor unit.
    pub amount: Decimal,
    /// The cost, rounded once (zero for a true-up).
    pub cost: Decimal,
    /// The tiers the quantity was rated through (empty for a flat price and a true-up).
    pub tiers: Vec<TierLine>,
}

/// Sums of the rounded charges.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    /// Sum of the amounts.
    pub amount: Decimal,
    /// Sum of the costs.
    pub cost: Decimal,
}

/// A rated month: the `tenor.usage-rating/1` document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageRating {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// `2026-12`.
    pub period: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Charges by customer, then product, usage before its true-up.
    pub charges: Vec<UsageCharge>,
    /// Sums of the charges.
    pub totals: UsageTotals,
    /// What was read.
    #[serde(skip)]
    pub stats: Stats,
    /// Bad rows skipped (with `skip_bad`), at most [`MAX_KEPT_ERRORS`] of them.
    #[serde(skip)]
    pub skipped: Vec<RowError>,
}

/// A map keyed by names read from the file. The Fx hash is fast on short keys and not resistant
/// to crafted collisions, which would only slow a run down: usage files come from the MSP's own
/// systems.
type KeyMap<V> = HashMap<Box<[u8]>, V, rustc_hash::FxBuildHasher>;

/// A metered product, resolved once for all its rows.
struct Metered<'c> {
    sku: &'c str,
    metric: &'c str,
    aggregation: Aggregation,
    minimum: Option<Rate>,
    offer: &'c Offer,
}

/// What a product name in the file resolves to.
enum Slot<'c> {
    Metered(Box<Metered<'c>>),
    /// Why rows naming it are bad.
    Bad(String),
}

/// An instant: seconds since 0001-01-01T00:00:00Z, and nanoseconds.
type Stamp = (i64, u32);

/// A running aggregate of one customer's use of one product.
struct Acc {
    customer: Box<str>,
    slot: usize,
    records: u64,
    value: Decimal,
    /// When `value` was recorded (for `last`).
    at: Stamp,
}

impl Acc {
    /// Takes one record's quantity, recorded at `at`, into the aggregate.
    fn add(&mut self, aggregation: Aggregation, q: Decimal, at: Stamp) -> Result<(), FieldError> {
        if self.records == 0 {
            self.value = q;
            self.at = at;
        } else {
            match aggregation {
                Aggregation::Sum => {
                    self.value = self.value.checked_add(q).ok_or_else(|| {
                        field_err(
                            "quantity",
                            "the sum for this customer and product is too large to hold".into(),
                        )
                    })?;
                }
                Aggregation::Max => {
                    if q > self.value {
                        self.value = q;
                    }
                }
                Aggregation::Last => {
                    // Ties go to the later row.
                    if at >= self.at {
                        self.value = q;
                        self.at = at;
                    }
                }
            }
        }
        self.records += 1;
        Ok(())
    }
}

/// The state of one run.
struct Run<'c> {
    cat: &'c Catalogue,
    slots: Vec<Slot<'c>>,
    slot_of: KeyMap<usize>,
    accs: Vec<Acc>,
    /// Aggregates by (product, customer) as written: the product's length (4 bytes), the
    /// product, the customer.
    acc_of: KeyMap<usize>,
    key: Vec<u8>,
    start: i64,
    end: i64,
    stats: Stats,
    errors: Vec<RowError>,
    /// `2026-12-`: dates of the period are read without the calendar.
    month_prefix: [u8; 8],
    /// Days in the period's month.
    month_days: u32,
    /// The last other date read and its midnight, UTC.
    last_date: [u8; 10],
    last_day: i64,
}

/// The offer that rates a product's monthly usage: a monthly-billed offer, P1M first, then the
/// shortest term, then the first written.
pub fn usage_offer(offers: &[Offer]) -> Option<&Offer> {
    offers
        .iter()
        .enumerate()
        .filter(|(_, o)| o.billing == Billing::Monthly && o.term_months.is_some())
        .min_by_key(|(i, o)| (o.term_months != Some(1), o.term_months, *i))
        .map(|(_, o)| o)
}

/// Rates one month of usage records read from `reader` (CSV with the [`HEADER`]).
///
/// Fails on an unreadable file, a bad header, or (without `skip_bad`) any bad row; every bad
/// row is found first, so one run reports them all (the first [`MAX_KEPT_ERRORS`] in full).
pub fn rate_usage(
    cat: &Catalogue,
    reader: impl Read,
    period: Period,
    opts: &RateOptions,
) -> Result<UsageRating, RateError> {
    let source = if opts.source.is_empty() {
        "usage"
    } else {
        opts.source.as_str()
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let mut rec = csv::ByteRecord::new();
    let io = |e: csv::Error| RateError::Io(format!("cannot read {source}: {e}"));
    let expected = HEADER.join(",");
    if !rdr.read_byte_record(&mut rec).map_err(io)? {
        return Err(RateError::Header(format!(
            "{source} is empty; a usage file starts with the header `{expected}`"
        )));
    }
    let found: Vec<String> = rec
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = if i == 0 {
                f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
            } else {
                f
            };
            String::from_utf8_lossy(f.trim_ascii()).into_owned()
        })
        .collect();
    if found.len() != HEADER.len() || found.iter().zip(HEADER).any(|(f, h)| f != h) {
        return Err(RateError::Header(format!(
            "{source}:1: the header must be `{expected}`; found `{}`",
            found.join(",")
        )));
    }
    let mut run = Run::new(cat, period);
    while rdr.read_byte_record(&mut rec).map_err(io)? {
        let line = rec.position().map_or(0, |p| p.line());
        run.stats.rows += 1;
        if let Err((field, message)) = run.record(&rec) {
            run.stats.bad += 1;
            if run.errors.len() < MAX_KEPT_ERRORS {
                run.errors.push(RowError {
                    line,
                    field,
                    message,
                });
            }
        }
    }
    if run.stats.bad > 0 && !opts.skip_bad {
        return Err(RateError::BadRows(run.errors, run.stats));
    }
    run.finish(period)
}

/// A field's problem: the field, and what is wrong.
type FieldError = (Option<&'static str>, String);

fn field_err(field: &'static str, message: String) -> FieldError {
    (Some(field), message)
}

/// The five fields of a record (customer and product trimmed), or why it has not five.
fn fields(rec: &csv::ByteRecord) -> Result<[&[u8]; 5], FieldError> {
    let (Some(customer), Some(product), Some(metric), Some(quantity), Some(timestamp), 5) = (
        rec.get(0),
        rec.get(1),
        rec.get(2),
        rec.get(3),
        rec.get(4),
        rec.len(),
    ) else {
        return Err((
            None,
            format!(
                "expected 5 fields ({}), found {}",
                HEADER.join(","),
                rec.len()
            ),
        ));
    };
    Ok([
        customer.trim_ascii(),
        product.trim_ascii(),
        metric,
        quantity,
        timestamp,
    ])
}

/// A record's quantity field, read exactly.
fn quantity_of(quantity: &[u8]) -> Result<Decimal, FieldError> {
    let quantity = quantity.trim_ascii();
    parse_quantity(quantity).map_err(|e| {
        field_err(
            "quantity",
            match e {
                QtyError::NotANumber => format!("`{}` is not a number", shown(quantity)),
                QtyError::Negative => format!("`{}` is negative", shown(quantity)),
                QtyError::TooPrecise => format!(
                    "`{}` has more digits than can be held exactly (28 at most)",
                    shown(quantity)
                ),
            },
        )
    })
}

/// Bytes of the file as text, for a message.
fn shown(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

impl<'c> Run<'c> {
    fn new(cat: &'c Catalogue, period: Period) -> Self {
        Run {
            cat,
            slots: Vec::new(),
            slot_of: KeyMap::default(),
            accs: Vec::new(),
            acc_of: KeyMap::default(),
            key: Vec::new(),
            start: day_seconds(period.start()),
            end: day_seconds(period.end()),
            stats: Stats::default(),
            errors: Vec::new(),
            month_prefix: {
                let mut p = [0u8; 8];
                let text = format!("{period}-");
                if let Some(src) = text.as_bytes().get(..8) {
                    p.copy_from_slice(src);
                }
                p
            },
            month_days: u32::try_from((period.end() - period.start()).num_days()).unwrap_or(0),
            last_date: [0; 10],
            last_day: 0,
        }
    }

    /// The slot of a product name, resolving it the first time it is seen.
    fn slot(&mut self, product: &[u8]) -> usize {
        match self.slot_of.get(product) {
            Some(&i) => i,
            None => {
                let i = self.slots.len();
                self.slots.push(self.resolve(product));
                self.slot_of.insert(product.into(), i);
                i
            }
        }
    }

    fn resolve(&self, product: &[u8]) -> Slot<'c> {
        let cat = self.cat;
        let Ok(sku) = std::str::from_utf8(product) else {
            return Slot::Bad(format!("`{}` is not valid UTF-8", shown(product)));
        };
        if sku.is_empty() {
            return Slot::Bad("empty; every record names a product".into());
        }
        let Some((_, item)) = cat.item(sku) else {
            let hint = tenor_dsl::diagnostic::did_you_mean(sku, cat.skus())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            return Slot::Bad(format!("unknown product `{sku}`{hint}"));
        };
        let Some((metric, aggregation)) = &item.usage else {
            return Slot::Bad(format!(
                "`{sku}` is not metered (its rules have no `usage METRIC by …` line)"
            ));
        };
        let Some(offer) = usage_offer(&item.offers) else {
            return Slot::Bad(format!(
                "`{sku}` has no monthly offer to rate its usage through"
            ));
        };
        Slot::Metered(Box::new(Metered {
            sku: &item.sku,
            metric,
            aggregation: *aggregation,
            minimum: item.minimum,
            offer,
        }))
    }

    /// Reads one record into its aggregate.
    fn record(&mut self, rec: &csv::ByteRecord) -> Result<(), FieldError> {
        let [customer, product, metric, quantity, timestamp] = fields(rec)?;
        let i = self.acc(customer, product)?;
        let aggregation = self.check_metric(i, metric)?;
        let q = quantity_of(quantity)?;
        let timestamp = timestamp.trim_ascii();
        let at = self.timestamp(timestamp).ok_or_else(|| {
            field_err(
                "timestamp",
                format!(
                    "`{}` is not an RFC 3339 timestamp (2026-12-03T14:00:00Z) or a date (2026-12-03)",
                    shown(timestamp)
                ),
            )
        })?;
        if at.0 < self.start || at.0 >= self.end {
            self.stats.outside += 1;
            return Ok(());
        }
        let Some(acc) = self.accs.get_mut(i) else {
            return Err(field_err("customer", "not found".into()));
        };
        acc.add(aggregation, q, at)?;
        self.stats.rated += 1;
        Ok(())
    }

    /// The aggregation of aggregate `i`'s product, once the record's metric is found to be the
    /// product's.
    fn check_metric(&self, i: usize, metric: &[u8]) -> Result<Aggregation, FieldError> {
        let Some(acc) = self.accs.get(i) else {
            return Err(field_err("customer", "not found".into()));
        };
        let Some(Slot::Metered(m)) = self.slots.get(acc.slot) else {
            return Err(field_err("product", "not metered".into()));
        };
        let metric = metric.trim_ascii();
        if metric != m.metric.as_bytes() {
            return Err(field_err(
                "metric",
                format!(
                    "`{}` is not the metric of `{}`, which is metered by `{}`",
                    shown(metric),
                    m.sku,
                    m.metric
                ),
            ));
        }
        Ok(m.aggregation)
    }

    /// A timestamp's instant, the date's day looked up once per run of the same date.
    fn timestamp(&mut self, b: &[u8]) -> Option<Stamp> {
        let date = b.get(..10)?;
        let in_month = match (date.get(..8), date.get(8..).and_then(digits)) {
            (Some(prefix), Some(d)) if prefix == self.month_prefix => Some(d),
            _ => None,
        };
        let day = if let Some(d) = in_month {
            if d == 0 || d > self.month_days {
                return None;
            }
            self.start + i64::from(d - 1) * 86_400
        } else if date == self.last_date {
            self.last_day
        } else {
            let day = parse_date(date)?;
            self.last_date.copy_from_slice(date);
            self.last_day = day;
            day
        };
        parse_time(day, b.get(10..)?)
    }

    /// The aggregate of a customer's use of a product, made on first sight once both are
    /// found good; its product is metered.
    fn acc(&mut self, customer: &[u8], product: &[u8]) -> Result<usize, FieldError> {
        self.key.clear();
        self.key.extend_from_slice(
            &u32::try_from(product.len())
                .unwrap_or(u32::MAX)
                .to_le_bytes(),
        );
        self.key.extend_from_slice(product);
        self.key.extend_from_slice(customer);
        if let Some(&i) = self.acc_of.get(self.key.as_slice()) {
            return Ok(i);
        }
        let text = std::str::from_utf8(customer).map_err(|_| {
            field_err(
                "customer",
                format!("`{}` is not valid UTF-8", shown(customer)),
            )
        })?;
        if text.is_empty() {
            return Err(field_err(
                "customer",
                "empty; every record names a customer".into(),
            ));
        }
        let slot = self.slot(product);
        if let Some(Slot::Bad(why)) = self.slots.get(slot) {
            return Err(field_err("product", why.clone()));
        }
        let i = self.accs.len();
        self.accs.push(Acc {
            customer: text.into(),
            slot,
            records: 0,
            value: Decimal::ZERO,
            at: (i64::MIN, 0),
        });
        self.acc_of.insert(self.key.as_slice().into(), i);
        Ok(i)
    }

    /// Rates every aggregate, in (customer, product) order.
    fn finish(self, period: Period) -> Result<UsageRating, RateError> {
        let cat = self.cat;
        let mut order: Vec<(&str, &Metered<'_>, &Acc)> = self
            .accs
            .iter()
            .filter_map(|a| match self.slots.get(a.slot) {
                // Keys seen only outside the period have no records.
                Some(Slot::Metered(m)) if a.records > 0 => Some((&*a.customer, &**m, a)),
                _ => None,
            })
            .collect();
        order.sort_unstable_by(|a, b| (a.0, a.1.sku).cmp(&(b.0, b.1.sku)));
        let mut charges = Vec::with_capacity(order.len());
        for (customer, m, acc) in order {
            rate_acc(cat, period, customer, m, acc, &mut charges)?;
        }
        let totals = totals(cat, &charges)?;
        Ok(UsageRating {
            schema: SCHEMA,
            period: period.to_string(),
            currency: cat.currency.clone(),
            charges,
            totals,
            stats: self.stats,
            skipped: self.errors,
        })
    }
}

/// Rates one customer's aggregate of a metered product: its usage charge, then the true-up to
/// the product's minimum if it falls short.
fn rate_acc(
    cat: &Catalogue,
    period: Period,
    customer: &str,
    m: &Metered<'_>,
    acc: &Acc,
    charges: &mut Vec<UsageCharge>,
) -> Result<(), RateError> {
    let zero = cat.round(Decimal::ZERO);
    let (start, end) = (period.start(), period.end());
    let too_large = || {
        RateError::Overflow(format!(
            "the {} usage of `{}` by customer `{customer}` ({}) is too large to rate",
            m.metric, m.sku, acc.value
        ))
    };
    let (exact, tier_lines) = rate_month(cat, m.offer, acc.value).ok_or_else(too_large)?;
    let amount = cat.round(exact);
    let cost = match m.offer.cost {
        Some(c) => cat
            .round(per_month(acc.value.checked_mul(c.amount), c.per_months).ok_or_else(too_large)?),
        None => zero,
    };
    let charge = |kind, amount, cost, tiers| UsageCharge {
        customer: customer.to_string(),
        product: m.sku.to_string(),
        metric: m.metric.to_string(),
        aggregation: m.aggregation.keyword(),
        records: acc.records,
        quantity: acc.value,
        kind,
        period_start: start,
        period_end: end,
        bill_date: end,
        amount,
        cost,
        tiers,
    };
    charges.push(charge(UsageKind::Usage, amount, cost, tier_lines));
    if let Some(min) = m.minimum {
        let min_amount =
            cat.round(per_month(Some(min.amount), min.per_months).ok_or_else(too_large)?);
        if min_amount > amount {
            charges.push(charge(
                UsageKind::MinimumTrueUp,
                min_amount - amount,
                zero,
                Vec::new(),
            ));
        }
    }
    Ok(())
}

/// Sums of the rounded charges.
fn totals(cat: &Catalogue, charges: &[UsageCharge]) -> Result<UsageTotals, RateError> {
    let zero = cat.round(Decimal::ZERO);
    let mut totals = UsageTotals {
        amount: zero,
        cost: zero,
    };
    for c in charges {
        totals.amount = totals
            .amount
            .checked_add(c.amount)
            .ok_or_else(|| RateError::Overflow("the total amount is too large to hold".into()))?;
        totals.cost = totals
            .cost
            .checked_add(c.cost)
            .ok_or_else(|| RateError::Overflow("the total cost is too large to hold".into()))?;
    }
    Ok(totals)
}

/// An amount stated per `per_months` months (per billing period when `None`) for one month.
fn per_month(amount: Option<Decimal>, per_months: Option<u32>) -> Option<Decimal> {
    let amount = amount?;
    match per_months {
        None | Some(1) => Some(amount),
        Some(0) => None,
        Some(p) => amount.checked_div(Decimal::from(p)),
    }
}

/// The exact amount for one month's aggregate through an offer, and the tiers used.
fn rate_month(
    cat: &Catalogue,
    offer: &Offer,
    quantity: Decimal,
) -> Option<(Decimal, Vec<TierLine>)> {
    match &offer.price {
        Price::Flat(rate) => Some((
            per_month(quantity.checked_mul(rate.amount), rate.per_months)?,
            Vec::new(),
        )),
        Price::Tiered(t) => {
            let table = cat.tiers.get(*t)?;
            // `tiers::breakdown` uses plain arithmetic: make sure it cannot overflow. Every
            // tier's units are at most the quantity (or its started blocks), so the amount is
            // at most units × the highest price + every flat fee.
            let top = table
                .rows
                .iter()
                .map(|r| r.price.abs())
                .max()
                .unwrap_or(Decimal::ZERO);
            let flats = table
                .rows
                .iter()
                .try_fold(Decimal::ZERO, |s, r| s.checked_add(r.flat.abs()))?;
            let units = if table.mode == TierMode::Package && table.block > Decimal::ZERO {
                quantity.checked_div(table.block)?.ceil()
            } else {
                quantity
            };
            units
                .checked_add(Decimal::ONE)?
                .checked_mul(top.checked_add(Decimal::ONE)?)?
                .checked_add(flats)?;
            let lines: Vec<TierLine> = tiers::breakdown(table, quantity)
                .into_iter()
                .map(|u| TierLine {
                    tier: u.row + 1,
                    units: u.units,
                    price: u.price,
                    flat: u.flat,
                    amount: u.amount(),
                })
                .collect();
            let amount = lines
                .iter()
                .try_fold(Decimal::ZERO, |s, l| s.checked_add(l.amount))?;
            let per = if table.once { None } else { table.per_months };
            Some((per_month(Some(amount), per)?, lines))
        }
    }
}

/// Seconds from 0001-01-01 to a day's midnight, UTC.
fn day_seconds(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) * 86_400
}

/// The value of a run of ASCII digits (at most 9).
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut n = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

/// Why a quantity was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum QtyError {
    NotANumber,
    Negative,
    TooPrecise,
}

/// Parses a plain decimal (`12`, `12.5`, `+0.25`, `-0`): digits with at most one point, exactly.
fn parse_quantity(b: &[u8]) -> Result<Decimal, QtyError> {
    let (negative, body) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let mut mantissa: u128 = 0;
    let mut scale = 0u32;
    let mut point = false;
    let mut count = 0u32;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                count += 1;
                if count > 28 {
                    return Err(QtyError::TooPrecise);
                }
                mantissa = mantissa * 10 + u128::from(c - b'0');
                if point {
                    scale += 1;
                }
            }
            b'.' if !point => point = true,
            _ => return Err(QtyError::NotANumber),
        }
    }
    if count == 0 {
        return Err(QtyError::NotANumber);
    }
    if negative && mantissa != 0 {
        return Err(QtyError::Negative);
    }
    let m = i128::try_from(mantissa).map_err(|_| QtyError::TooPrecise)?;
    Decimal::try_from_i128_with_scale(m, scale).map_err(|_| QtyError::TooPrecise)
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 date-time
/// (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `t`, `z` and a space for `T` are accepted too).
#[cfg(test)]
fn parse_timestamp(b: &[u8]) -> Option<Stamp> {
    parse_time(parse_date(b.get(..10)?)?, b.get(10..)?)
}

/// Midnight UTC of `YYYY-MM-DD`, in seconds from 0001-01-01.
fn parse_date(b: &[u8]) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| b.get(r).and_then(digits);
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    Some(day_seconds(NaiveDate::from_ymd_opt(
        year,
        num(5..7)?,
        num(8..10)?,
    )?))
}

/// The instant of what follows a date: nothing (midnight UTC), or `THH:MM:SS[.frac]` and an
/// offset.
fn parse_time(day: i64, b: &[u8]) -> Option<Stamp> {
    if b.is_empty() {
        return Some((day, 0));
    }
    let num = |r: std::ops::Range<usize>| b.get(r).and_then(digits);
    if !matches!(b.first(), Some(b'T' | b't' | b' '))
        || b.get(3) != Some(&b':')
        || b.get(6) != Some(&b':')
    {
        return None;
    }
    let (h, mi, s) = (num(1..3)?, num(4..6)?, num(7..9)?);
    // A leap second (`:60`) counts as the last instant of its minute.
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut nanos = 0u32;
    let mut rest = b.get(9..)?;
    if let Some((b'.', frac)) = rest.split_first() {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, &c) in frac.iter().take(n).enumerate() {
            if i < 9 {
                nanos = nanos * 10 + u32::from(c - b'0');
            }
        }
        for _ in n..9 {
            nanos *= 10;
        }
        rest = frac.get(n..)?;
    }
    let (s, nanos) = if s == 60 {
        (59, 999_999_999)
    } else {
        (s, nanos)
    };
    let offset = match rest {
        [b'Z' | b'z'] => 0i64,
        [sign @ (b'+' | b'-'), oh @ .., b':', om1, om2] if oh.len() == 2 => {
            let oh = digits(oh)?;
            let om = digits(&[*om1, *om2])?;
            if oh > 23 || om > 59 {
                return None;
            }
            let o = i64::from(oh * 3600 + om * 60);
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    Some((day + i64::from(h * 3600 + mi * 60 + s) - offset, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn quantities_are_exact_and_plain() {
        assert_eq!(parse_quantity(b"12.50"), Ok(dec("12.50")));
        assert_eq!(parse_quantity(b"+7"), Ok(dec("7")));
        assert_eq!(parse_quantity(b"-0"), Ok(dec("0")));
        assert_eq!(parse_quantity(b"0.1"), Ok(dec("0.1")));
        assert_eq!(parse_quantity(b"-3"), Err(QtyError::Negative));
        for bad in [
            &b"12,5"[..],
            b"",
            b".",
            b"1e5",
            b"1.2.3",
            b"1_000",
            b" 1",
            b"NaN",
            b"-",
        ] {
            assert_eq!(parse_quantity(bad), Err(QtyError::NotANumber), "{bad:?}");
        }
        assert_eq!(
            parse_quantity(b"12345678901234567890123456789"),
            Err(QtyError::TooPrecise)
        );
        assert_eq!(
            parse_quantity(b"1234567890123456789012345678"),
            Ok(dec("1234567890123456789012345678"))
        );
    }

    #[test]
    fn timestamps_read_as_utc_instants() {
        let day = |y, m, d| day_seconds(NaiveDate::from_ymd_opt(y, m, d).unwrap());
        assert_eq!(parse_timestamp(b"2026-12-03"), Some((day(2026, 12, 3), 0)));
        assert_eq!(
            parse_timestamp(b"2026-12-03T14:00:00Z"),
            Some((day(2026, 12, 3) + 14 * 3600, 0))
        );
        // 23:30 at UTC−05:00 is 04:30 the next day in UTC.
        assert_eq!(
            parse_timestamp(b"2026-11-30T23:30:00-05:00"),
            Some((day(2026, 12, 1) + 4 * 3600 + 1800, 0))
        );
        assert_eq!(
            parse_timestamp(b"2026-12-01T00:30:00.25+01:00"),
            Some((day(2026, 11, 30) + 23 * 3600 + 1800, 250_000_000))
        );
        assert_eq!(
            parse_timestamp(b"2026-12-31t23:59:60z"),
            Some((day(2027, 1, 1) - 1, 999_999_999))
        );
        for bad in [
            &b"2026-13-01"[..],
            b"2026-02-30",
            b"2026-12-03T24:00:00Z",
            b"2026-12-03T14:00:00",
            b"2026-12-03T14:00Z",
            b"2026-12-03T14:00:00+0100",
            b"03/12/2026",
            b"2026-12-03T14:00:00.Z",
            b"",
        ] {
            assert_eq!(
                parse_timestamp(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn periods() {
        let p = Period::parse("2026-12").unwrap();
        assert_eq!(p.start(), NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert_eq!(p.end(), NaiveDate::from_ymd_opt(2027, 1, 1).unwrap());
        assert_eq!(p.to_string(), "2026-12");
        for bad in [
            "2026-13",
            "2026-00",
            "2026-1",
            "26-12",
            "2026/12",
            "2026-12-01",
            "",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
