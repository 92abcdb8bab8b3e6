//! The three-way match (`tenor match`): what was sold (the quote), what was bought (purchase
//! orders read back from the distributors) and what was billed (invoices) must agree. Every
//! disagreement is a [`Finding`] with its class, the expected and found values, and the money at
//! risk, worked out from the quote's own schedule against the schedule the other document
//! implies. `core/MATCH.md` states the rules in words; this module follows it.
//!
//! Lines are paired in stages, each a hash lookup, so a million lines match in linear time:
//! first on the line reference the document carries, then on every attribute, then on all but
//! one (so a single disagreement still pairs the right lines), then on the product alone.

use crate::engine::calendar::{self, Anchor};
use crate::engine::catalogue::{Billing, Catalogue, Price, Rate, Sellable};
use crate::engine::pricing::{self, ChargeKind, PriceOptions, PricedLine, PricedQuote, Pricer};
use crate::engine::quote::{Quote, QuoteLine};
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;
use std::path::Path;
use tenor_plugin_sdk::docs::{self, PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

/// Schema of the match report.
pub const MATCH_REPORT: &str = "tenor.match/1";
/// Schema of a file of normalised order lines: `{"schema": …, "lines": [OrderLine…]}`.
pub const ORDER_LINES: &str = "tenor.order-lines/1";
/// Schema of a file of normalised invoice lines: `{"schema": …, "lines": [InvoiceLine…]}`.
pub const INVOICE_LINES: &str = "tenor.invoice-lines/1";

/// A class of discrepancy, spelt as in the rules' `match ignore CLASS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Sold but not bought, or sold but not billed.
    MissingLine,
    /// Bought or billed but not sold (or billed twice).
    ExtraLine,
    /// Units differ.
    Quantity,
    /// Commitment term differs.
    Term,
    /// Billing frequency differs.
    BillingFrequency,
    /// Start of service or of billing differs.
    StartDate,
    /// End of the commitment, or the co-term boundaries, differ.
    CotermDate,
    /// Unit price (invoice) or unit cost (purchase order) differs.
    UnitPrice,
    /// The amount of one billed period differs.
    Amount,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 9] = [
        Class::MissingLine,
        Class::ExtraLine,
        Class::Quantity,
        Class::Term,
        Class::BillingFrequency,
        Class::StartDate,
        Class::CotermDate,
        Class::UnitPrice,
        Class::Amount,
    ];

    /// The spelling in rules and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::MissingLine => "missing_line",
            Class::ExtraLine => "extra_line",
            Class::Quantity => "quantity",
            Class::Term => "term",
            Class::BillingFrequency => "billing_frequency",
            Class::StartDate => "start_date",
            Class::CotermDate => "coterm_date",
            Class::UnitPrice => "unit_price",
            Class::Amount => "amount",
        }
    }
}

/// Which document disagrees with the quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// What was bought.
    PurchaseOrder,
    /// What was billed.
    Invoice,
}

impl Side {
    /// The spelling in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::PurchaseOrder => "purchase order",
            Side::Invoice => "invoice",
        }
    }
}

/// What kind of money is at risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Revenue never billed, or billed for nothing (a refund owed).
    Billing,
    /// Cash billed (or paid) at a different time than sold.
    Timing,
    /// Cost the MSP carries that the sale does not cover.
    Cost,
    /// The distributor commitment does not match the customer's.
    Commitment,
    /// The stub changed because service started on another day.
    StartDate,
}

/// Which way the money goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Revenue that will never be billed.
    UnderBilled,
    /// The customer is (or will be) charged for nothing: a refund is owed.
    OverBilled,
    /// Billed later than sold.
    BilledLate,
    /// Billed earlier than sold.
    BilledEarly,
}

/// One disagreement between the quote and a purchase order or invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What differs.
    pub class: Class,
    /// Purchase order or invoice.
    pub side: Side,
    /// The quote id.
    pub quote: String,
    /// The customer's id.
    pub customer: String,
    /// The quote line (from 1); `None` for a line that was not sold.
    pub line: Option<u32>,
    /// The product's SKU (or the part number as written, when the rules do not know it).
    pub product: String,
    /// The document the line was found in; for a missing line, the document it should be in.
    pub document: Option<String>,
    /// What the quote says.
    pub expected: String,
    /// What the document says.
    pub found: String,
    /// Money at risk (never negative), rounded once; `None` when it cannot be known.
    pub money_at_risk: Option<Decimal>,
    /// What kind of money is at risk.
    pub kind: Risk,
    /// Which way the money goes, when that means something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Why, in a sentence or two, with the arithmetic.
    pub explanation: String,
}

/// What one quote was matched against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The quote id.
    pub quote: String,
    /// The customer's id.
    pub customer: String,
    /// The customer's name.
    pub customer_name: String,
    /// Lines of the quote.
    pub quote_lines: usize,
    /// Purchase-order lines expected.
    pub expected_order_lines: usize,
    /// Order lines of this customer read back.
    pub order_lines: usize,
    /// Invoice lines of this customer read back.
    pub invoice_lines: usize,
    /// Lines naming another customer, set aside.
    pub other_customers: usize,
}

/// The result of a match: findings in a deterministic order, and what was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchReport {
    /// ISO 4217 code.
    pub currency: String,
    /// Decimals of the currency's minor unit.
    pub minor_units: u32,
    /// Every finding, sorted by quote, line, side and class.
    pub findings: Vec<Finding>,
    /// One entry per quote matched.
    pub checked: Vec<Checked>,
    /// Things the reader should know that are not findings.
    pub notes: Vec<String>,
}

/// A count and sum of findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Findings.
    pub findings: usize,
    /// The sum of the known amounts.
    pub money_at_risk: Decimal,
    /// Findings whose amount cannot be known.
    pub unknown: usize,
}

/// Totals of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Findings.
    pub findings: usize,
    /// The sum of every known amount.
    pub money_at_risk: Decimal,
    /// Findings whose amount cannot be known.
    pub unknown: usize,
    /// By class name.
    pub by_class: BTreeMap<String, Tally>,
    /// By customer id.
    pub by_customer: BTreeMap<String, Tally>,
}

impl Tally {
    fn add(&mut self, f: &Finding) {
        self.findings += 1;
        match f.money_at_risk {
            Some(m) => self.money_at_risk = self.money_at_risk.saturating_add(m),
            None => self.unknown += 1,
        }
    }
}

impl MatchReport {
    /// An empty report in the rule set's currency.
    pub fn new(cat: &Catalogue) -> Self {
        MatchReport {
            currency: cat.currency.clone(),
            minor_units: cat.minor_units,
            findings: Vec::new(),
            checked: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// True when nothing disagrees.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Adds another quote's report (same rules), keeping the order deterministic. Reports
    /// merged in quote order append without sorting.
    pub fn merge(&mut self, other: MatchReport) {
        let in_order = match (self.findings.last(), other.findings.first()) {
            (Some(a), Some(b)) => finding_order(a, b) != std::cmp::Ordering::Greater,
            _ => true,
        };
        self.findings.extend(other.findings);
        self.checked.extend(other.checked);
        self.notes.extend(other.notes);
        if !in_order {
            sort_findings(&mut self.findings);
        }
    }

    /// Totals overall, per class and per customer.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        let mut all = Tally::default();
        for f in &self.findings {
            all.add(f);
            t.by_class
                .entry(f.class.as_str().to_string())
                .or_default()
                .add(f);
            t.by_customer.entry(f.customer.clone()).or_default().add(f);
        }
        let minor = self.minor_units;
        let scale = |d: &mut Decimal| {
            if d.scale() < minor {
                d.rescale(minor);
            }
        };
        scale(&mut all.money_at_risk);
        for v in t.by_class.values_mut().chain(t.by_customer.values_mut()) {
            scale(&mut v.money_at_risk);
        }
        t.findings = all.findings;
        t.money_at_risk = all.money_at_risk;
        t.unknown = all.unknown;
        t
    }

    /// The `tenor.match/1` document.
    pub fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Doc<'a> {
            schema: &'static str,
            currency: &'a str,
            checked: &'a [Checked],
            findings: &'a [Finding],
            totals: Totals,
            notes: &'a [String],
        }
        serde_json::to_value(Doc {
            schema: MATCH_REPORT,
            currency: &self.currency,
            checked: &self.checked,
            findings: &self.findings,
            totals: self.totals(),
            notes: &self.notes,
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

fn units(n: Decimal) -> String {
    if n.abs() == Decimal::ONE {
        format!("{n} unit")
    } else {
        format!("{n} units")
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}

/// Quote, customer, line (lines not sold last), side, class, then the document's words.
fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (
        &a.quote,
        &a.customer,
        a.line.unwrap_or(u32::MAX),
        a.side,
        a.class,
        &a.document,
        &a.product,
        &a.found,
        &a.expected,
    )
        .cmp(&(
            &b.quote,
            &b.customer,
            b.line.unwrap_or(u32::MAX),
            b.side,
            b.class,
            &b.document,
            &b.product,
            &b.found,
            &b.expected,
        ))
}

fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

// ---------------------------------------------------------------------------------------------
// Small exact arithmetic
// ---------------------------------------------------------------------------------------------

/// `a × b × … ÷ (c × d × …)`, multiplied out before dividing so one division is the only
/// inexact step; `None` on overflow or a zero divisor. Amounts read from documents can be
/// anything, and Decimal's operators panic on overflow.
fn md(num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    let mut n = Decimal::ONE;
    for x in num {
        n = n.checked_mul(*x)?;
    }
    let mut d = Decimal::ONE;
    for x in den {
        d = d.checked_mul(*x)?;
    }
    if d.is_zero() {
        return None;
    }
    if d == Decimal::ONE {
        return Some(n);
    }
    n.checked_div(d)
}

fn dec(n: impl Into<i64>) -> Decimal {
    Decimal::from(n.into())
}

/// Every charge of a line: what the customer is billed over the commitment.
fn contract_value(pl: &PricedLine) -> Decimal {
    pl.charges.iter().map(|c| c.amount).sum()
}

/// The stub: everything billed for days before the full term starts.
fn stub_value(pl: &PricedLine) -> Decimal {
    pl.charges
        .iter()
        .filter(|c| c.period_start < pl.term_start)
        .map(|c| c.amount)
        .sum()
}

/// True when `d` is a billing boundary of the line (a period starts there, or the commitment
/// ends there).
fn is_boundary(pl: &PricedLine, d: NaiveDate) -> bool {
    if d == pl.end {
        return true;
    }
    let i = pl.charges.partition_point(|c| c.period_start < d);
    pl.charges.get(i).is_some_and(|c| c.period_start == d)
}

/// The net amount billed for exactly `[s, e)` (a charge with its discounts), and whether that
/// period is a prorated piece; `None` when the line bills no such period.
fn period_net(pl: &PricedLine, s: NaiveDate, e: NaiveDate) -> Option<(Decimal, bool)> {
    let from = pl.charges.partition_point(|c| c.period_start < s);
    let mut sum: Option<Decimal> = None;
    let mut partial = false;
    for c in pl
        .charges
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|c| c.period_start == s)
    {
        if c.period_end == e {
            *sum.get_or_insert(Decimal::ZERO) += c.amount;
            if c.kind != ChargeKind::Discount {
                partial |= c.share.is_partial();
            }
        }
    }
    sum.map(|s| (s, partial))
}

/// Net amounts of every period the line bills (a charge with its discounts).
fn period_nets(pl: &PricedLine) -> Vec<Decimal> {
    let mut out: Vec<Decimal> = Vec::new();
    let mut last: Option<(NaiveDate, NaiveDate)> = None;
    for c in &pl.charges {
        let key = (c.period_start, c.period_end);
        match (last == Some(key), out.last_mut()) {
            (true, Some(v)) => *v += c.amount,
            _ => out.push(c.amount),
        }
        last = Some(key);
    }
    out
}

/// `n` when `[s, e)` is exactly `n` whole anchored months.
fn whole_months(s: NaiveDate, e: NaiveDate) -> Option<u32> {
    let k = (i64::from(e.year()) - i64::from(s.year())) * 12 + i64::from(e.month())
        - i64::from(s.month());
    [k, k - 1]
        .into_iter()
        .filter(|k| *k > 0)
        .find(|k| calendar::add_months(s, *k) == Some(e))
        .and_then(|k| u32::try_from(k).ok())
}

/// Months in `[a, b)`: whole anchored months, then the remaining days as a share of the next
/// month. Zero when `b` is not after `a`.
fn months_between(a: NaiveDate, b: NaiveDate) -> Decimal {
    if b <= a {
        return Decimal::ZERO;
    }
    let mut k: i64 = 0;
    while calendar::add_months(a, k + 1).is_some_and(|d| d <= b) && k < 12_000 {
        k += 1;
    }
    let (Some(from), Some(next)) = (calendar::add_months(a, k), calendar::add_months(a, k + 1))
    else {
        return dec(k);
    };
    let rest = calendar::actual_days(from, b);
    let month = calendar::actual_days(from, next);
    dec(k) + md(&[dec(rest)], &[dec(month)]).unwrap_or_default()
}

/// Months in one billing period for a billing word (`upfront` is the whole term); the outer
/// `None` when the word is not a billing frequency, the inner `None` for one-time.
fn billing_months(word: &str, term: Option<u32>) -> Option<Option<u32>> {
    // Tenor's own spellings first, without allocating: this runs for every line.
    match word {
        "monthly" => return Some(Some(1)),
        "quarterly" => return Some(Some(3)),
        "annual" => return Some(Some(12)),
        "upfront" => return Some(term),
        "once" => return Some(None),
        _ => {}
    }
    match word.trim().to_ascii_lowercase().as_str() {
        "once" | "one-time" | "one_time" | "onetime" => Some(None),
        w => {
            let b = pricing::parse_billing(w).ok()?;
            match b.months() {
                Some(m) => Some(Some(m)),
                None => Some(term),
            }
        }
    }
}

fn parse_billing_word(word: &str) -> Option<Billing> {
    pricing::parse_billing(&word.trim().to_ascii_lowercase()).ok()
}

/// A term as a document writes it; `None` when unreadable, `Some(None)` for one-time.
fn parse_term_word(word: &str) -> Option<Option<u32>> {
    match word {
        "P1M" => return Some(Some(1)),
        "P1Y" => return Some(Some(12)),
        "P3Y" => return Some(Some(36)),
        "one-time" => return Some(None),
        _ => {}
    }
    let w = word.trim();
    // `pricing::parse_term` splits off the last byte: hand it only ASCII.
    if !w.is_ascii() {
        return None;
    }
    match w.to_ascii_lowercase().as_str() {
        "one-time" | "once" | "one_time" => Some(None),
        _ => pricing::parse_term(&w.to_ascii_uppercase()).ok(),
    }
}

/// What a billing period of `months` looks like relative to its term: the whole term at its
/// start (upfront, or annual on a one-year term) is one shape, whatever it is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Once,
    WholeTerm,
    Every(u32),
}

fn shape(months: Option<u32>, term: Option<u32>) -> Shape {
    match (months, term) {
        (None, _) | (_, None) => Shape::Once,
        (Some(m), Some(t)) if m >= t => Shape::WholeTerm,
        (Some(m), _) => Shape::Every(m),
    }
}

fn billing_word(months: Option<u32>, term: Option<u32>) -> String {
    match months {
        None => "once".into(),
        Some(1) => "monthly".into(),
        Some(3) => "quarterly".into(),
        Some(12) => "annual".into(),
        Some(m) if Some(m) == term => "upfront".into(),
        Some(m) => format!("every {m} months"),
    }
}

/// `24 months`, or `14 days` when the span is not whole months.
fn span_words(a: NaiveDate, b: NaiveDate) -> String {
    match whole_months(a, b) {
        Some(1) => "1 month".into(),
        Some(m) => format!("{m} months"),
        None => {
            let d = calendar::actual_days(a, b);
            if d == 1 {
                "1 day".into()
            } else {
                format!("{d} days")
            }
        }
    }
}

fn per_period(months: Option<u32>) -> String {
    match months {
        None => "once".into(),
        Some(1) => "a month".into(),
        Some(3) => "a quarter".into(),
        Some(12) => "a year".into(),
        Some(m) => format!("per {m} months"),
    }
}

fn term_word(t: Option<u32>) -> String {
    crate::engine::catalogue::term_text(t)
}

/// A unit price as people read it: at least the minor unit, at most six decimals.
fn unit_text(v: Decimal, minor: u32) -> String {
    let mut p = v.round_dp(6).normalize();
    if p.scale() < minor {
        p.rescale(minor);
    }
    p.to_string()
}

fn money_text(v: Decimal, currency: &str) -> String {
    format!("{} {currency}", crate::engine::money::money(v))
}

/// The cost rate of a product bought on a term and billing: the matching price line, else any
/// price line on that term that states a cost.
fn cost_rate(item: &Sellable, term: Option<u32>, billing: Option<Billing>) -> Option<Rate> {
    if let Some(b) = billing {
        if let Some(c) = item.offer(term, b).and_then(|o| o.cost) {
            return Some(c);
        }
    }
    item.offers
        .iter()
        .filter(|o| o.term_months == term)
        .find_map(|o| o.cost)
}

/// `units` at a rate for `months` months (the rate itself when it is one-time), exact.
fn at_rate(rate: Rate, units: Decimal, months: Decimal) -> Option<Decimal> {
    match rate.per_months {
        None => units.checked_mul(rate.amount),
        Some(p) => md(&[units, rate.amount, months], &[dec(p)]),
    }
}

// ---------------------------------------------------------------------------------------------
// Pairing
// ---------------------------------------------------------------------------------------------

/// A small multiply-rotate hash (the rustc "Fx" scheme) for the matcher's own tables: keys are
/// part numbers and small tuples, read from the MSP's own files, so SipHash's resistance to
/// chosen keys buys nothing and costs a third of the pairing time.
#[derive(Clone, Copy, Default)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let mut w = [0u8; 8];
        let rest = chunks.remainder();
        if let Some(dst) = w.get_mut(..rest.len()) {
            dst.copy_from_slice(rest);
        }
        self.add(u64::from_le_bytes(w) ^ (rest.len() as u64));
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

type FxBuild = std::hash::BuildHasherDefault<Fx>;
type FxMap<K, V> = HashMap<K, V, FxBuild>;

/// One pairing stage: every free left entry is filed under its key (first come, first out),
/// then each free right entry takes the first left entry filed under its own key.
fn pair_stage<K: Hash + Eq>(
    left_free: &mut [bool],
    right_free: &mut [bool],
    left_key: impl Fn(usize) -> Option<K>,
    right_key: impl Fn(usize) -> Option<K>,
    pairs: &mut Vec<(usize, usize)>,
) {
    let free_left = left_free.iter().filter(|f| **f).count();
    let free_right = right_free.iter().filter(|f| **f).count();
    if free_left == 0 || free_right == 0 {
        return;
    }
    // A typical quote pairs a handful of lines: scanning beats building a table. Same result:
    // each right entry, in order, takes the first free left entry with its key.
    if free_left.saturating_mul(free_right) <= 256 {
        let mut keys: Vec<(usize, Option<K>)> = left_free
            .iter()
            .enumerate()
            .filter(|(_, f)| **f)
            .map(|(i, _)| (i, left_key(i)))
            .collect();
        for (j, free) in right_free.iter_mut().enumerate() {
            if !*free {
                continue;
            }
            let Some(k) = right_key(j) else { continue };
            if let Some(slot) = keys.iter_mut().find(|(_, lk)| lk.as_ref() == Some(&k)) {
                let i = slot.0;
                slot.1 = None;
                if let Some(l) = left_free.get_mut(i) {
                    *l = false;
                }
                *free = false;
                pairs.push((i, j));
            }
        }
        return;
    }
    const NONE: usize = usize::MAX;
    // Key → (head, tail) of a queue threaded through `next`: no allocation per key.
    let mut heads: FxMap<K, (usize, usize)> = FxMap::default();
    let mut next = vec![NONE; left_free.len()];
    for (i, free) in left_free.iter().enumerate() {
        if !*free {
            continue;
        }
        let Some(k) = left_key(i) else { continue };
        match heads.get_mut(&k) {
            Some((_, tail)) => {
                if let Some(n) = next.get_mut(*tail) {
                    *n = i;
                }
                *tail = i;
            }
            None => {
                heads.insert(k, (i, i));
            }
        }
    }
    for (j, free) in right_free.iter_mut().enumerate() {
        if !*free {
            continue;
        }
        let Some(k) = right_key(j) else { continue };
        let Some(slot) = heads.get_mut(&k) else {
            continue;
        };
        let i = slot.0;
        if i == NONE {
            continue;
        }
        slot.0 = next.get(i).copied().unwrap_or(NONE);
        if let Some(l) = left_free.get_mut(i) {
            *l = false;
        }
        *free = false;
        pairs.push((i, j));
    }
}

// ---------------------------------------------------------------------------------------------
// The matcher
// ---------------------------------------------------------------------------------------------

/// A compiled rule set's part numbers, ready to match many quotes.
pub struct Matcher<'c> {
    cat: &'c Catalogue,
    parts: FxMap<String, usize>,
}

/// What a part number is filed under: trimmed, upper case (distributors differ in case).
fn part_key(s: &str) -> String {
    s.trim().to_ascii_uppercase()
}

impl<'c> Matcher<'c> {
    /// Indexes every SKU, distributor part number, distributor product id and catalogue id.
    pub fn new(cat: &'c Catalogue) -> Self {
        let mut parts = FxMap::default();
        // A SKU always means itself, whatever a distributor numbers its parts.
        for (i, it) in cat.items.iter().enumerate() {
            parts.entry(part_key(&it.sku)).or_insert(i);
        }
        for (i, it) in cat.items.iter().enumerate() {
            for p in &it.parts {
                parts.entry(part_key(&p.number)).or_insert(i);
                if let Some(id) = &p.id {
                    parts.entry(part_key(id)).or_insert(i);
                }
            }
            if let Some(c) = &it.catalog_id {
                parts.entry(part_key(c)).or_insert(i);
            }
        }
        Matcher { cat, parts }
    }

    /// The product (index into the catalogue's items) a part number, product id or SKU names.
    pub fn product_of(&self, part: &str) -> Option<usize> {
        if let Some(i) = self.parts.get(part) {
            return Some(*i);
        }
        let t = part.trim();
        // Most part numbers are already upper case: look them up without allocating.
        if !t.bytes().any(|b| b.is_ascii_lowercase()) {
            return self.parts.get(t).copied();
        }
        self.parts.get(&part_key(t)).copied()
    }

    /// Matches one priced quote against its expected purchase orders (from
    /// [`crate::documents::accept::accept`]) and the order and invoice lines read back. An empty `orders`
    /// (or `invoices`) means that side was not given and is not checked.
    pub fn run(
        &self,
        quote: &Quote,
        priced: &PricedQuote,
        expected: &[PurchaseOrder],
        orders: &[OrderLine],
        invoices: &[InvoiceLine],
    ) -> MatchReport {
        self.run_sides(
            quote,
            priced,
            expected,
            (!orders.is_empty()).then_some(orders),
            (!invoices.is_empty()).then_some(invoices),
        )
    }

    /// As [`Matcher::run`], with `None` for a side that was not given: an empty slice then
    /// means documents were given that hold no lines, so every line is missing from them.
    pub fn run_sides(
        &self,
        quote: &Quote,
        priced: &PricedQuote,
        expected: &[PurchaseOrder],
        orders: Option<&[OrderLine]>,
        invoices: Option<&[InvoiceLine]>,
    ) -> MatchReport {
        let mut run = Run::new(self, quote, priced);
        let mut checked = Checked {
            quote: quote.quote.clone(),
            customer: quote.customer.id.clone(),
            customer_name: quote.customer.name.clone(),
            quote_lines: priced.lines.len(),
            expected_order_lines: expected.iter().map(|p| p.lines.len()).sum(),
            order_lines: 0,
            invoice_lines: 0,
            other_customers: 0,
        };
        if let Some(orders) = orders {
            run.orders(expected, orders, &mut checked);
        }
        if let Some(invoices) = invoices {
            run.invoices(invoices, &mut checked);
        }
        let mut report = MatchReport::new(self.cat);
        if checked.other_customers > 0 {
            report.notes.push(format!(
                "{} {} naming another customer than `{}` ({}) set aside",
                checked.other_customers,
                plural(checked.other_customers, "line"),
                quote.customer.id,
                quote.customer.name
            ));
        }
        let ignore = &self.cat.match_ignore;
        let mut findings: Vec<Finding> = run
            .findings
            .into_iter()
            .filter(|f| !ignore.iter().any(|c| c == f.class.as_str()))
            .collect();
        sort_findings(&mut findings);
        report.findings = findings;
        report.checked.push(checked);
        report
    }
}

/// Matches one quote; see [`Matcher::run`]. Build a [`Matcher`] once to match many quotes.
pub fn three_way(
    cat: &Catalogue,
    quote: &Quote,
    priced: &PricedQuote,
    expected: &[PurchaseOrder],
    orders: &[OrderLine],
    invoices: &[InvoiceLine],
) -> MatchReport {
    Matcher::new(cat).run(quote, priced, expected, orders, invoices)
}

/// A sold line with what matching needs resolved once.
struct Sold<'a> {
    pl: &'a PricedLine,
    /// 0-based position in the quote.
    index: usize,
    qline: Option<&'a QuoteLine>,
    item: Option<usize>,
    /// Term in months; `None` for one-time.
    term: Option<u32>,
    /// Months in one billing period (the whole term when upfront); `None` for one-time.
    months: Option<u32>,
    /// The billing frequency sold (upfront for one-time lines).
    billing: Billing,
    metered: bool,
}

impl Sold<'_> {
    /// List price of one unit for one billing period (the unit price once, for one-time);
    /// `None` for prices through tiers.
    fn list(&self, cat: &Catalogue) -> Option<Decimal> {
        let offer = cat.items.get(self.item?)?.offer(self.term, self.billing)?;
        match &offer.price {
            Price::Flat(rate) => Some(match (self.term, self.months) {
                (Some(_), Some(m)) => rate.for_months(m),
                _ => rate.amount,
            }),
            Price::Tiered(_) => None,
        }
    }

    fn line_no(&self) -> u32 {
        u32::try_from(self.pl.line).unwrap_or(u32::MAX)
    }

    /// A full period's net charge (the net one-time amount for one-time lines).
    fn period_amount(&self) -> Decimal {
        if self.term.is_none() {
            contract_value(self.pl)
        } else {
            self.pl.recurring
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} × {}, {} {}, from {}",
            self.pl.product, self.pl.quantity, self.pl.term, self.pl.billing, self.pl.start
        )
    }
}

/// An expected purchase-order line.
struct Exp<'a> {
    po: &'a PurchaseOrder,
    l: &'a PurchaseOrderLine,
    item: Option<usize>,
    term: Option<u32>,
    months: Option<u32>,
    sold: Option<usize>,
}

/// An order line read back.
struct Got<'a> {
    o: &'a OrderLine,
    item: Option<usize>,
    /// `None` when the document does not say (or says something unreadable).
    term: Option<Option<u32>>,
    line_ref: Option<u32>,
}

/// An invoice line read back, with credits for the same period folded in.
struct Inv<'a> {
    i: &'a InvoiceLine,
    amount: Decimal,
    item: Option<usize>,
    term: Option<Option<u32>>,
}

/// Money at risk with its direction, or unknown (the explanation says why).
enum Money {
    Known(Decimal, Option<Direction>),
    Unknown,
}

struct Run<'a> {
    m: &'a Matcher<'a>,
    cat: &'a Catalogue,
    quote: &'a Quote,
    sold: Vec<Sold<'a>>,
    findings: Vec<Finding>,
}

impl<'a> Run<'a> {
    fn new(m: &'a Matcher<'a>, quote: &'a Quote, priced: &'a PricedQuote) -> Self {
        let cat = m.cat;
        let sold = priced
            .lines
            .iter()
            .enumerate()
            .map(|(index, pl)| {
                let item = m.product_of(&pl.product);
                let term = parse_term_word(&pl.term).flatten();
                let billing = if term.is_none() {
                    Billing::Upfront
                } else {
                    parse_billing_word(pl.billing).unwrap_or(Billing::Upfront)
                };
                let months = term.map(|t| billing.months().unwrap_or(t));
                Sold {
                    pl,
                    index,
                    qline: quote.lines.get(pl.line.saturating_sub(1)),
                    item,
                    term,
                    months,
                    billing,
                    metered: item
                        .and_then(|i| cat.items.get(i))
                        .is_some_and(|it| it.usage.is_some()),
                }
            })
            .collect();
        Run {
            m,
            cat,
            quote,
            sold,
            findings: Vec::new(),
        }
    }

    fn round(&self, v: Decimal) -> Decimal {
        self.cat.round(v.abs())
    }

    fn for_us(&self, customer: Option<&str>) -> bool {
        let c = &self.quote.customer;
        customer.is_none_or(|x| {
            if x == c.id {
                return true;
            }
            let x = x.trim();
            x.eq_ignore_ascii_case(c.id.trim()) || x.eq_ignore_ascii_case(c.name.trim())
        })
    }

    fn sold_for_line(&self, line: u32) -> Option<usize> {
        let i = usize::try_from(line).ok()?.checked_sub(1)?;
        self.sold
            .get(i)
            .filter(|s| s.pl.line == i + 1)
            .map(|_| i)
            .or_else(|| {
                self.sold
                    .iter()
                    .position(|s| u32::try_from(s.pl.line).ok() == Some(line))
            })
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "a finding has this many facts; one builder keeps them in one place"
    )]
    fn push(
        &mut self,
        side: Side,
        class: Class,
        line: Option<u32>,
        product: &str,
        document: Option<&str>,
        expected: String,
        found: String,
        kind: Risk,
        money: Money,
        explanation: String,
    ) {
        let (money_at_risk, direction) = match money {
            Money::Known(v, d) => (Some(self.round(v)), d),
            Money::Unknown => (None, None),
        };
        self.findings.push(Finding {
            class,
            side,
            quote: self.quote.quote.clone(),
            customer: self.quote.customer.id.clone(),
            line,
            product: product.to_string(),
            document: document.map(str::to_string),
            expected,
            found,
            money_at_risk,
            kind,
            direction,
            explanation,
        });
    }

    /// An amount in words' company: rounded, without its sign (the sentence says which way).
    fn money(&self, v: Decimal) -> String {
        money_text(self.cat.round(v.abs()), &self.cat.currency)
    }

    /// The line priced again from the quote with one thing changed, beside the line priced
    /// again unchanged: both through a fresh pricer, so a once-per-quote discount treats them
    /// alike and the difference is only the change.
    fn reprice(
        &self,
        s: &Sold,
        change: impl FnOnce(&mut QuoteLine),
    ) -> Option<(PricedLine, PricedLine)> {
        let ql = s.qline?;
        let mut changed = ql.clone();
        change(&mut changed);
        let base = Pricer::new(self.cat, self.quote, PriceOptions::default())
            .line(s.index, ql)
            .ok()?;
        let new = Pricer::new(self.cat, self.quote, PriceOptions::default())
            .line(s.index, &changed)
            .ok()?;
        Some((base, new))
    }

    /// The sold commitment carried at another quantity: (difference, how).
    fn quantity_money(&self, s: &Sold, q: Decimal) -> Option<(Decimal, String)> {
        let sold_q = s.pl.quantity;
        if let Some((base, new)) = self.reprice(s, |l| l.quantity = q) {
            let (a, b) = (contract_value(&base), contract_value(&new));
            return Some((
                a.checked_sub(b)?,
                format!(
                    "the commitment bills {} at {sold_q} and {} at {q}",
                    self.money(a),
                    self.money(b)
                ),
            ));
        }
        // A quantity the pricer refuses (zero) is carried linearly.
        let cv = contract_value(s.pl);
        let diff = md(&[cv, sold_q.checked_sub(q)?], &[sold_q])?;
        Some((
            diff,
            format!(
                "the commitment bills {} at {sold_q}, so {} units are {}",
                self.money(cv),
                sold_q.checked_sub(q)?.abs(),
                self.money(diff)
            ),
        ))
    }

    /// What a start on `new_start` instead of the sold start changes: the difference of the two
    /// stubs, positive when the new start bills less. (difference, how)
    fn start_money(&self, s: &Sold, new_start: NaiveDate) -> Option<(Decimal, String)> {
        let pl = s.pl;
        if pl.coterm.is_none() {
            return Some((
                Decimal::ZERO,
                format!(
                    "the line is not co-termed, so the whole term moves by {} days and the same periods are billed",
                    (new_start - pl.start).num_days().abs()
                ),
            ));
        }
        if new_start <= pl.term_start {
            if let Some((base, new)) = self.reprice(s, |l| l.start = new_start) {
                let (a, b) = (stub_value(&base), stub_value(&new));
                return Some((
                    a.checked_sub(b)?,
                    format!(
                        "the stub from {} to {} bills {}; from {new_start} to {} it bills {}",
                        pl.start,
                        base.term_start,
                        self.money(a),
                        new.term_start,
                        self.money(b)
                    ),
                ));
            }
        }
        // Past the anchor (or when the line cannot be priced again), the days between the two
        // starts at the sold charges' own rates, as a daily-prorated stub would bill them.
        let (from, to) = if new_start > pl.start {
            (pl.start, new_start)
        } else {
            (new_start, pl.start)
        };
        let mut sum = Decimal::ZERO;
        for c in &pl.charges {
            let lo = c.period_start.max(from);
            let hi = c.period_end.min(to);
            if hi <= lo {
                continue;
            }
            let part = md(
                &[c.amount, dec(calendar::actual_days(lo, hi))],
                &[dec(calendar::actual_days(c.period_start, c.period_end))],
            )?;
            sum = sum.checked_add(part)?;
        }
        let sign = if new_start > pl.start {
            Decimal::ONE
        } else {
            Decimal::NEGATIVE_ONE
        };
        Some((
            sum * sign,
            format!(
                "the {} days between {from} and {to} bill {} at the sold rates",
                calendar::actual_days(from, to),
                self.money(sum)
            ),
        ))
    }

    // -----------------------------------------------------------------------------------------
    // Purchase-order side
    // -----------------------------------------------------------------------------------------

    fn orders(&mut self, expected: &[PurchaseOrder], orders: &[OrderLine], checked: &mut Checked) {
        let exp: Vec<Exp> = expected
            .iter()
            .flat_map(|po| po.lines.iter().map(move |l| (po, l)))
            .map(|(po, l)| {
                let term = parse_term_word(&l.term).flatten();
                Exp {
                    po,
                    l,
                    item: self.m.product_of(&l.product),
                    term,
                    months: billing_months(&l.billing, term).flatten(),
                    sold: self.sold_for_line(l.quote_line),
                }
            })
            .collect();
        let mut got: Vec<Got> = Vec::with_capacity(orders.len());
        for o in orders {
            if !self.for_us(o.customer.as_deref()) {
                checked.other_customers += 1;
                continue;
            }
            got.push(Got {
                o,
                item: self.m.product_of(&o.part_number),
                term: o.term.as_deref().and_then(parse_term_word),
                line_ref: o.line_ref.as_deref().and_then(|r| r.trim().parse().ok()),
            });
        }
        checked.order_lines += got.len();

        let mut ef = vec![true; exp.len()];
        let mut gf: Vec<bool> = got.iter().map(|g| g.item.is_some()).collect();
        let mut pairs = Vec::new();
        let e = |i: usize| exp.get(i);
        let g = |j: usize| got.get(j);
        // The document's own line reference first, then every attribute, then all but one.
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.l.line))),
            |j| g(j).and_then(|x| Some((x.item?, x.line_ref?))),
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.term, x.months, x.l.start))),
            |j| {
                g(j).and_then(|x| {
                    let t = x.term?;
                    let m = billing_months(x.o.billing.as_deref()?, t)?;
                    Some((x.item?, x.o.quantity, t, m, x.o.start?))
                })
            },
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.term, x.l.start))),
            |j| g(j).and_then(|x| Some((x.item?, x.o.quantity, x.term?, x.o.start?))),
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.term, x.l.start))),
            |j| g(j).and_then(|x| Some((x.item?, x.term?, x.o.start?))),
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.l.start))),
            |j| g(j).and_then(|x| Some((x.item?, x.o.quantity, x.o.start?))),
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.l.quantity, x.term))),
            |j| g(j).and_then(|x| Some((x.item?, x.o.quantity, x.term?))),
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| Some((x.item?, x.l.quantity))),
            |j| g(j).and_then(|x| Some((x.item?, x.o.quantity))),
            &mut pairs,
        );
        pair_stage(
            &mut ef,
            &mut gf,
            |i| e(i).and_then(|x| x.item),
            |j| g(j).and_then(|x| x.item),
            &mut pairs,
        );
        for (i, j) in pairs {
            if let (Some(x), Some(y)) = (exp.get(i), got.get(j)) {
                self.compare_order(x, y);
            }
        }
        for (x, free) in exp.iter().zip(&ef) {
            if *free {
                self.missing_order(x);
            }
        }
        for (y, free) in got.iter().zip(&gf) {
            // Lines whose part number the rules do not know were never free to pair.
            if *free || y.item.is_none() {
                self.extra_order(y);
            }
        }
    }

    fn missing_order(&mut self, x: &Exp) {
        let l = x.l;
        let sold = x.sold.and_then(|i| self.sold.get(i));
        let (money, why) = match (sold, &l.bundle) {
            (Some(s), None) => {
                let cv = contract_value(s.pl);
                (
                    Money::Known(cv, Some(Direction::OverBilled)),
                    format!(
                        "nothing was bought for it: the customer is billed {} over the commitment for a service that was not provisioned (owed back unless it is bought)",
                        self.money(cv)
                    ),
                )
            }
            (_, Some(b)) => (
                Money::Unknown,
                format!(
                    "nothing was bought for it; it is part of bundle `{b}`, whose price is not split per component here, so the amount is unknown"
                ),
            ),
            (None, None) => (
                Money::Unknown,
                "nothing was bought for it, and its quote line was not priced: amount unknown"
                    .to_string(),
            ),
        };
        self.push(
            Side::PurchaseOrder,
            Class::MissingLine,
            Some(l.quote_line),
            &l.product,
            Some(&x.po.id),
            format!(
                "{} × {}, {} {}, from {}",
                l.part_number, l.quantity, l.term, l.billing, l.start
            ),
            "not on any order".into(),
            Risk::Billing,
            money,
            why,
        );
    }

    fn extra_order(&mut self, y: &Got) {
        let o = y.o;
        let item = y.item.and_then(|i| self.cat.items.get(i));
        let product = item
            .map(|i| i.sku.to_string())
            .unwrap_or_else(|| o.part_number.clone());
        let billing = o.billing.as_deref().and_then(parse_billing_word);
        // The commitment bought: as the order says, else one-time when that is all the
        // product is offered as.
        let term = y.term.or_else(|| {
            item.filter(|it| {
                !it.offers.is_empty() && it.offers.iter().all(|o| o.term_months.is_none())
            })
            .map(|_| None)
        });
        let (money, why) = match (item, term) {
            (None, _) => (
                Money::Unknown,
                format!(
                    "`{}` is not a part number, product id or SKU of the rules, so its cost is unknown",
                    o.part_number
                ),
            ),
            (Some(_), None) => (
                Money::Unknown,
                "the order does not say its term, so the cost of the commitment is unknown"
                    .to_string(),
            ),
            (Some(it), Some(t)) => match cost_rate(it, t, billing)
                .and_then(|r| at_rate(r, o.quantity, dec(t.unwrap_or(0))))
            {
                Some(c) => (
                    Money::Known(c, None),
                    format!(
                        "bought but not sold: {} units for the distributor's {} commitment cost {}",
                        o.quantity,
                        term_word(t),
                        self.money(c)
                    ),
                ),
                None => (
                    Money::Unknown,
                    format!(
                        "bought but not sold; the rules give no cost for `{}` on {}, so the amount is unknown",
                        it.sku,
                        term_word(t)
                    ),
                ),
            },
        };
        self.push(
            Side::PurchaseOrder,
            Class::ExtraLine,
            None,
            &product,
            Some(&o.document),
            "not sold".into(),
            format!(
                "{} × {}{}",
                o.part_number,
                o.quantity,
                o.term
                    .as_deref()
                    .map(|t| format!(", {t}"))
                    .unwrap_or_default()
            ),
            Risk::Cost,
            money,
            why,
        );
    }

    fn compare_order(&mut self, x: &Exp, y: &Got) {
        let (l, o) = (x.l, y.o);
        let line = Some(l.quote_line);
        let doc = Some(o.document.as_str());
        let product = l.product.as_str();
        let item = x.item.and_then(|i| self.cat.items.get(i));
        let sold_ix = x.sold;
        let te = x.term;
        let to = y.term.unwrap_or(te);
        let bought_billing = o.billing.as_deref().and_then(parse_billing_word);
        let rate = |t: Option<u32>| item.and_then(|it| cost_rate(it, t, bought_billing));

        // Term: the distributor commitment against the customer's.
        let term_differs = y.term.is_some_and(|t| t != te);
        if term_differs {
            let (money, why) = match (te, to) {
                (Some(te_m), Some(to_m)) if to_m > te_m => {
                    let msp_end = o.end.or_else(|| {
                        calendar::add_months(o.start.unwrap_or(l.start), i64::from(to_m))
                    });
                    match msp_end {
                        Some(end) if end > l.end => {
                            let months = months_between(l.end, end);
                            match rate(to).and_then(|r| at_rate(r, o.quantity, months)) {
                                Some(c) => (
                                    Money::Known(c, None),
                                    format!(
                                        "the MSP committed to the distributor for {to_m} months (to {end}), the customer for {te_m} (to {}): the {} uncovered cost {} if the customer leaves at the end of its term",
                                        l.end,
                                        span_words(l.end, end),
                                        self.money(c)
                                    ),
                                ),
                                None => (
                                    Money::Unknown,
                                    format!(
                                        "the MSP committed for {to_m} months, the customer for {te_m}; the rules give no cost for {} on {}, so the uncovered months' cost is unknown",
                                        product,
                                        term_word(to)
                                    ),
                                ),
                            }
                        }
                        _ => (
                            Money::Known(Decimal::ZERO, None),
                            format!(
                                "the MSP committed for {to_m} months, the customer for {te_m}, but the distributor's commitment still ends by the customer's end ({}): nothing uncovered",
                                l.end
                            ),
                        ),
                    }
                }
                (Some(te_m), Some(to_m)) => (
                    Money::Unknown,
                    format!(
                        "the customer holds a {te_m}-month price (to {}); the MSP bought {to_m} months from the distributor{}: what the distributor charges for the remaining {} months is unknown until renewal",
                        l.end,
                        o.end
                            .or_else(|| calendar::add_months(
                                o.start.unwrap_or(l.start),
                                i64::from(to_m)
                            ))
                            .map(|d| format!(" (to {d})"))
                            .unwrap_or_default(),
                        te_m.saturating_sub(to_m)
                    ),
                ),
                _ => (
                    Money::Unknown,
                    format!(
                        "sold {}, bought {}: a one-time item and a subscription cannot be priced against each other",
                        term_word(te),
                        term_word(to)
                    ),
                ),
            };
            self.push(
                Side::PurchaseOrder,
                Class::Term,
                line,
                product,
                doc,
                term_word(te),
                term_word(to),
                Risk::Commitment,
                money,
                why,
            );
        }

        // Billing frequency. Paying its whole term at the start is one shape whatever the
        // term (a P1Y annual purchase of a P3Y upfront sale differs in term, not frequency), and
        // the same period length is the same cadence whatever the term: both must differ.
        if let Some(om) = o.billing.as_deref().and_then(|b| billing_months(b, to)) {
            if shape(om, to) != shape(x.months, te) && om != x.months {
                let first_o = om.unwrap_or(0);
                let first_e = x.months.unwrap_or(0);
                let sold_rate = item.and_then(|it| {
                    let b = parse_billing_word(&l.billing);
                    cost_rate(it, te, b)
                });
                let (money, why) = if first_o > first_e {
                    match sold_rate
                        .and_then(|r| at_rate(r, l.quantity, dec(first_o - first_e)))
                    {
                        Some(c) => (
                            Money::Known(c, None),
                            format!(
                                "the MSP pays the distributor for {first_o} months at a time while the customer is billed for {}: {} of cost is paid before it is billed",
                                if first_e == 1 { "1 month".to_string() } else { format!("{first_e} months") },
                                self.money(c)
                            ),
                        ),
                        None => (
                            Money::Unknown,
                            "the MSP pays the distributor sooner than the customer is billed; the rules give no cost, so the amount is unknown".to_string(),
                        ),
                    }
                } else {
                    (
                        Money::Known(Decimal::ZERO, None),
                        "the MSP pays the distributor no sooner than the customer is billed: no money at risk, but the order does not say what was sold".to_string(),
                    )
                };
                self.push(
                    Side::PurchaseOrder,
                    Class::BillingFrequency,
                    line,
                    product,
                    doc,
                    l.billing.clone(),
                    o.billing.clone().unwrap_or_default(),
                    Risk::Timing,
                    money,
                    why,
                );
            }
        }

        // Start of provisioning.
        if let Some(os) = o.start.filter(|d| *d != l.start) {
            let (money, why) = match sold_ix
                .and_then(|i| self.sold.get(i))
                .and_then(|s| self.start_money(s, os))
            {
                Some((d, how)) => {
                    let dir = if d.is_zero() {
                        None
                    } else if os > l.start {
                        Some(Direction::OverBilled)
                    } else {
                        Some(Direction::UnderBilled)
                    };
                    let effect = match dir {
                        Some(Direction::OverBilled) => format!(
                            "service starts {os}, later than billed from {}: {} over-billed",
                            l.start,
                            self.money(d)
                        ),
                        Some(_) => format!(
                            "service starts {os}, before billing from {}: {} of service is never billed",
                            l.start,
                            self.money(d)
                        ),
                        None => "no money at risk".to_string(),
                    };
                    (Money::Known(d, dir), format!("{how}; {effect}"))
                }
                None => (
                    Money::Unknown,
                    "the quote line cannot be priced from the provisioned start, so the amount is unknown".to_string(),
                ),
            };
            self.push(
                Side::PurchaseOrder,
                Class::StartDate,
                line,
                product,
                doc,
                l.start.to_string(),
                os.to_string(),
                Risk::StartDate,
                money,
                why,
            );
        }

        // End of the commitment, when not already explained by the term or a start shift.
        if let Some(oe) = o.end.filter(|d| *d != l.end) {
            let cotermed = sold_ix
                .and_then(|i| self.sold.get(i))
                .is_some_and(|s| s.pl.coterm.is_some());
            let shifted = !cotermed && o.start.is_some_and(|os| oe - os == l.end - l.start);
            if !term_differs && te.is_some() && !shifted {
                let (money, why) = if oe > l.end {
                    let months = months_between(l.end, oe);
                    match rate(to).and_then(|r| at_rate(r, o.quantity, months)) {
                        Some(c) => (
                            Money::Known(c, None),
                            format!(
                                "the distributor commitment runs to {oe}, the customer's to {}: the {} uncovered cost {}",
                                l.end,
                                span_words(l.end, oe),
                                self.money(c)
                            ),
                        ),
                        None => (
                            Money::Unknown,
                            format!(
                                "the distributor commitment runs past the customer's ({oe} against {}); the rules give no cost, so the amount is unknown",
                                l.end
                            ),
                        ),
                    }
                } else {
                    (
                        Money::Unknown,
                        format!(
                            "the distributor commitment ends {oe}, before the customer's {}: the customer holds its price to the end, and what the distributor charges after {oe} is unknown until renewal",
                            l.end
                        ),
                    )
                };
                self.push(
                    Side::PurchaseOrder,
                    Class::CotermDate,
                    line,
                    product,
                    doc,
                    format!("ends {}", l.end),
                    format!("ends {oe}"),
                    Risk::Commitment,
                    money,
                    why,
                );
            }
        }

        // Quantity.
        if o.quantity != l.quantity {
            let (kind, money, why) = if o.quantity > l.quantity {
                let extra = o.quantity.saturating_sub(l.quantity);
                match rate(to).and_then(|r| at_rate(r, extra, dec(to.unwrap_or(0)))) {
                    Some(c) => (
                        Risk::Cost,
                        Money::Known(c, None),
                        format!(
                            "{} more bought than sold: at cost for the distributor's {} commitment that is {}",
                            units(extra),
                            term_word(to),
                            self.money(c)
                        ),
                    ),
                    None => (
                        Risk::Cost,
                        Money::Unknown,
                        format!(
                            "{} more bought than sold; the rules give no cost for {product} on {}, so the amount is unknown",
                            units(extra),
                            term_word(to)
                        ),
                    ),
                }
            } else {
                let short = l.quantity.saturating_sub(o.quantity);
                let sold = sold_ix.and_then(|i| self.sold.get(i));
                match (sold, &l.bundle) {
                    (Some(s), None) => match self.quantity_money(s, o.quantity) {
                        Some((d, how)) => (
                            Risk::Billing,
                            Money::Known(d, Some(Direction::OverBilled)),
                            format!(
                                "{} fewer bought than sold: the customer is billed for units that were not provisioned; {how}, so {} is owed back unless they are bought",
                                units(short),
                                self.money(d)
                            ),
                        ),
                        None => (
                            Risk::Billing,
                            Money::Unknown,
                            format!("{} fewer bought than sold; amount unknown", units(short)),
                        ),
                    },
                    (_, bundle) => (
                        Risk::Billing,
                        Money::Unknown,
                        format!(
                            "{} fewer bought than sold{}: the customer is billed for units that were not provisioned; the amount is unknown",
                            units(short),
                            bundle
                                .as_deref()
                                .map(|b| format!(" (a component of bundle `{b}`, whose price is not split per component)"))
                                .unwrap_or_default()
                        ),
                    ),
                }
            };
            self.push(
                Side::PurchaseOrder,
                Class::Quantity,
                line,
                product,
                doc,
                l.quantity.to_string(),
                o.quantity.to_string(),
                kind,
                money,
                why,
            );
        }

        // Unit cost against the rules' cost, per month so a different billing still compares.
        if let (Some(uo), Some(ue)) = (o.unit_cost, l.unit_cost) {
            let me = dec(x.months.unwrap_or(1));
            // The period the order's unit cost is for: its own billing, else the sold one.
            let found_period = o
                .billing
                .as_deref()
                .and_then(|b| billing_months(b, to))
                .unwrap_or(x.months);
            let mo = dec(found_period.unwrap_or(1));
            let (lhs, rhs) = (uo.checked_mul(me), ue.checked_mul(mo));
            if let (Some(lhs), Some(rhs)) = (lhs, rhs) {
                if lhs != rhs {
                    // Per the sold billing period, and per line for the tolerance.
                    let diff = lhs.saturating_sub(rhs);
                    let unit_diff = md(&[diff], &[mo]).unwrap_or_default();
                    let line_diff = self.cat.round(unit_diff.saturating_mul(o.quantity));
                    if line_diff.abs() > self.cat.match_tolerance {
                        let (money, why) = if lhs > rhs {
                            match md(
                                &[l.committed_cost, o.quantity, diff],
                                &[l.quantity, rhs],
                            ) {
                                Some(c) => (
                                    Money::Known(c, None),
                                    format!(
                                        "bought at {} a unit {} against the rules' cost {}: over the commitment ({} at the rules' cost) the margin leaks {}",
                                        unit_text(uo, self.cat.minor_units),
                                        per_period(found_period),
                                        unit_text(ue, self.cat.minor_units),
                                        money_text(l.committed_cost, &self.cat.currency),
                                        self.money(c)
                                    ),
                                ),
                                None => (
                                    Money::Unknown,
                                    "bought above the rules' cost; the rules' cost is zero, so the leak cannot be scaled".to_string(),
                                ),
                            }
                        } else {
                            (
                                Money::Known(Decimal::ZERO, None),
                                format!(
                                    "bought at {} a unit, below the rules' cost {}: no money at risk (the rules' cost may be out of date)",
                                    unit_text(uo, self.cat.minor_units),
                                    unit_text(ue, self.cat.minor_units)
                                ),
                            )
                        };
                        self.push(
                            Side::PurchaseOrder,
                            Class::UnitPrice,
                            line,
                            product,
                            doc,
                            format!(
                                "cost {} {}",
                                unit_text(ue, self.cat.minor_units),
                                per_period(x.months)
                            ),
                            format!(
                                "cost {} {}",
                                unit_text(uo, self.cat.minor_units),
                                per_period(found_period)
                            ),
                            Risk::Cost,
                            money,
                            why,
                        );
                    }
                }
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Invoice side
    // -----------------------------------------------------------------------------------------

    fn invoices(&mut self, invoices: &[InvoiceLine], checked: &mut Checked) {
        // The window the invoices cover: a sold line that bills nothing inside it is not
        // expected on them.
        let mut lo: Option<NaiveDate> = None;
        let mut hi: Option<NaiveDate> = None;
        // Both the periods billed and the invoices' own dates (the billing runs) count.
        for i in invoices {
            for d in [i.period_start, i.date].into_iter().flatten() {
                lo = Some(lo.map_or(d, |l| l.min(d)));
            }
            let after = i.date.and_then(|d| d.succ_opt());
            for d in [i.period_end, after].into_iter().flatten() {
                hi = Some(hi.map_or(d, |h| h.max(d)));
            }
        }
        let window = lo.zip(hi);

        let merged = fold_credits(invoices);
        let mut inv: Vec<Inv> = Vec::with_capacity(invoices.len());
        for (i, amount) in merged {
            if !self.for_us(i.customer.as_deref()) {
                checked.other_customers += 1;
                continue;
            }
            inv.push(Inv {
                i,
                amount,
                item: self.m.product_of(&i.part_number),
                term: i.term.as_deref().and_then(parse_term_word),
            });
        }
        checked.invoice_lines += inv.len();

        let mut sf = vec![true; self.sold.len()];
        let mut jf: Vec<bool> = inv.iter().map(|x| x.item.is_some()).collect();
        let mut pairs = Vec::new();
        {
            let s = |i: usize| self.sold.get(i);
            let v = |j: usize| inv.get(j);
            // The first period exactly, then its start, then the quantity, then the product.
            pair_stage(
                &mut sf,
                &mut jf,
                |i| {
                    s(i).and_then(|x| {
                        let first = x.pl.charges.first()?;
                        Some((x.item?, x.pl.quantity, first.period_start, first.period_end))
                    })
                },
                |j| {
                    v(j).and_then(|x| {
                        Some((x.item?, x.i.quantity, x.i.period_start?, x.i.period_end?))
                    })
                },
                &mut pairs,
            );
            pair_stage(
                &mut sf,
                &mut jf,
                |i| s(i).and_then(|x| Some((x.item?, x.pl.quantity, x.pl.start))),
                |j| v(j).and_then(|x| Some((x.item?, x.i.quantity, x.i.period_start?))),
                &mut pairs,
            );
            pair_stage(
                &mut sf,
                &mut jf,
                |i| s(i).and_then(|x| Some((x.item?, x.pl.start))),
                |j| v(j).and_then(|x| Some((x.item?, x.i.period_start?))),
                &mut pairs,
            );
            pair_stage(
                &mut sf,
                &mut jf,
                |i| s(i).and_then(|x| Some((x.item?, x.pl.quantity))),
                |j| v(j).and_then(|x| Some((x.item?, x.i.quantity))),
                &mut pairs,
            );
            pair_stage(
                &mut sf,
                &mut jf,
                |i| s(i).and_then(|x| x.item),
                |j| v(j).and_then(|x| x.item),
                &mut pairs,
            );
        }
        // Later invoices of a line already paired (the next month, a credit, a duplicate)
        // join its stream: by product, preferring the sold line whose commitment covers the
        // period and whose quantity agrees.
        if jf.iter().any(|f| *f) {
            let mut by_item: FxMap<usize, Vec<usize>> = FxMap::default();
            for (k, s) in self.sold.iter().enumerate() {
                if let Some(it) = s.item {
                    by_item.entry(it).or_default().push(k);
                }
            }
            for (j, free) in jf.iter_mut().enumerate() {
                let Some(x) = inv.get(j) else { continue };
                if !*free {
                    continue;
                }
                let Some(cands) = x.item.and_then(|it| by_item.get(&it)) else {
                    continue;
                };
                let covers = |s: &Sold| {
                    x.i.period_start
                        .is_some_and(|d| d >= s.pl.start && d < s.pl.end.max(s.pl.start))
                };
                let score = |k: &usize| {
                    self.sold.get(*k).map_or(0, |s| {
                        u8::from(covers(s)) * 2 + u8::from(s.pl.quantity == x.i.quantity)
                    })
                };
                // The first of the best; a product sold on very many lines is not scanned whole.
                let best = cands
                    .iter()
                    .take(64)
                    .copied()
                    .fold(None::<(usize, u8)>, |acc, k| {
                        let sc = score(&k);
                        match acc {
                            Some((_, b)) if b >= sc => acc,
                            _ => Some((k, sc)),
                        }
                    });
                if let Some((k, _)) = best {
                    pairs.push((k, j));
                    *free = false;
                }
            }
        }

        // Each sold line's invoice lines (its stream), pairs first so a stable sort keeps the
        // best-paired line first among lines billing the same period.
        pairs.sort_by_key(|(k, _)| *k);
        let mut next_pair = pairs.iter().peekable();
        let mut stream: Vec<usize> = Vec::new();
        for k in 0..self.sold.len() {
            stream.clear();
            while let Some((_, j)) = next_pair.next_if(|(kk, _)| *kk == k) {
                stream.push(*j);
            }
            if stream.is_empty() {
                let expected_now = self.sold.get(k).is_some_and(|s| match window {
                    None => true,
                    Some((lo, hi)) => {
                        s.pl.charges
                            .iter()
                            .any(|c| c.bill_date >= lo && c.bill_date < hi)
                    }
                });
                if expected_now {
                    self.missing_invoice(k);
                }
                continue;
            }
            if stream.len() > 1 {
                stream.sort_by(|a, b| {
                    let key = |j: &usize| {
                        inv.get(*j)
                            .map(|x| (x.i.period_start, x.i.period_end, x.i.date, &x.i.document))
                    };
                    key(a).cmp(&key(b))
                });
            }
            self.invoice_stream(k, &stream, &inv);
        }
        for (x, free) in inv.iter().zip(&jf) {
            if *free || x.item.is_none() {
                self.extra_invoice(x, None);
            }
        }
    }

    fn missing_invoice(&mut self, k: usize) {
        let Some(s) = self.sold.get(k) else { return };
        let cv = contract_value(s.pl);
        let (line, product, expected) = (Some(s.line_no()), s.pl.product.to_string(), s.describe());
        let why = format!(
            "sold but on none of the invoices given: {} over the commitment is never billed",
            self.money(cv)
        );
        self.push(
            Side::Invoice,
            Class::MissingLine,
            line,
            &product,
            None,
            expected,
            "not on any invoice".into(),
            Risk::Billing,
            Money::Known(cv, Some(Direction::UnderBilled)),
            why,
        );
    }

    fn extra_invoice(&mut self, x: &Inv, duplicate_of: Option<(u32, &str)>) {
        let item = x.item.and_then(|i| self.cat.items.get(i));
        let product = match (duplicate_of, item) {
            (Some((_, p)), _) => p.to_string(),
            (None, Some(it)) => it.sku.to_string(),
            (None, None) => x.i.part_number.clone(),
        };
        let dir = if x.amount < Decimal::ZERO {
            Direction::UnderBilled
        } else {
            Direction::OverBilled
        };
        let period = match (x.i.period_start, x.i.period_end) {
            (Some(a), Some(b)) => format!(" for {a} to {b}"),
            _ => String::new(),
        };
        let why = match (duplicate_of, dir) {
            (Some(_), Direction::OverBilled) => format!(
                "the period{period} is billed a second time: {} charged for nothing, a refund is owed",
                self.money(x.amount)
            ),
            (None, Direction::OverBilled) => format!(
                "billed but not sold: {} charged for nothing, a refund is owed",
                self.money(x.amount)
            ),
            (_, _) => format!(
                "a credit of {} for nothing that was sold: revenue given away",
                self.money(x.amount)
            ),
        };
        self.push(
            Side::Invoice,
            Class::ExtraLine,
            duplicate_of.map(|d| d.0),
            &product,
            Some(&x.i.document),
            if duplicate_of.is_some() {
                "billed once".into()
            } else {
                "not sold".into()
            },
            format!(
                "{} × {}{period}: {}",
                x.i.part_number,
                x.i.quantity,
                unit_text(x.amount, self.cat.minor_units)
            ),
            Risk::Billing,
            Money::Known(x.amount, Some(dir)),
            why,
        );
    }

    /// The invoice lines of one sold line, in period order: each compared, a period billed
    /// twice reported as an extra line, and each class reported once per line (the first
    /// invoice line showing it), since its money is already carried over the whole term.
    fn invoice_stream(&mut self, k: usize, stream: &[usize], inv: &[Inv]) {
        if let [j] = stream {
            if let Some(x) = inv.get(*j) {
                self.compare_invoice(k, x);
            }
            return;
        }
        let mut kept: Vec<(Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>)> = Vec::new();
        let mut seen: HashMap<Class, (usize, usize)> = HashMap::new();
        let (line, product) = match self.sold.get(k) {
            Some(s) => (s.line_no(), s.pl.product.to_string()),
            None => return,
        };
        for j in stream {
            let Some(x) = inv.get(*j) else { continue };
            let (ps, pe, date) = (x.i.period_start, x.i.period_end, x.i.date);
            let dup = kept.iter().any(|(a, b, d)| match (ps, pe, *a, *b) {
                (Some(s1), Some(e1), Some(s2), Some(e2)) => s1 < e2 && s2 < e1,
                (None, _, None, _) => *d == date,
                _ => false,
            });
            if dup {
                self.extra_invoice(x, Some((line, &product)));
                continue;
            }
            kept.push((ps, pe, date));
            let before = self.findings.len();
            self.compare_invoice(k, x);
            // Keep the first finding of each class (amounts are per period: keep them all).
            let mut i = before;
            while i < self.findings.len() {
                let class = self.findings.get(i).map(|f| f.class);
                match class {
                    Some(c) if c != Class::Amount => match seen.get_mut(&c) {
                        Some((_, more)) => {
                            *more += 1;
                            self.findings.remove(i);
                            continue;
                        }
                        None => {
                            seen.insert(c, (i, 0));
                        }
                    },
                    _ => {}
                }
                i += 1;
            }
        }
        for (at, more) in seen.into_values() {
            if more > 0 {
                if let Some(f) = self.findings.get_mut(at) {
                    f.explanation.push_str(&format!(
                        " (also on {more} later invoice {})",
                        plural(more, "line")
                    ));
                }
            }
        }
    }

    fn compare_invoice(&mut self, k: usize, x: &Inv) {
        let Some(s) = self.sold.get(k) else { return };
        let pl = s.pl;
        let i = x.i;
        let cat = self.cat;
        let minor = cat.minor_units;
        let line = Some(s.line_no());
        let product: &str = &pl.product;
        let doc = Some(i.document.as_str());
        let one_time = s.term.is_none();
        let (ps, pe) = (i.period_start, i.period_end);
        let s_in = ps.is_some_and(|d| is_boundary(pl, d));
        let e_in = pe.is_some_and(|d| is_boundary(pl, d));
        // The sold period this invoice line bills exactly, if any: (net amount, partial).
        let aligned: Option<(Decimal, bool)> = if one_time {
            ps.is_none_or(|d| d == pl.start)
                .then(|| (contract_value(pl), false))
        } else {
            match (ps, pe) {
                (Some(a), Some(b)) => period_net(pl, a, b),
                _ => None,
            }
        };
        // A piece that ends on a sold boundary but starts off one is a first piece from
        // another start: its length says nothing about the frequency.
        let partial_start = !s_in && e_in;
        let stated = i
            .billing
            .as_deref()
            .and_then(|b| billing_months(b, x.term.flatten().or(s.term)))
            .flatten();
        let found_months = if one_time || aligned.is_some() {
            None
        } else if partial_start {
            stated
        } else {
            ps.zip(pe).and_then(|(a, b)| whole_months(a, b)).or(stated)
        };
        let mut out: Vec<(Class, String, String, Risk, Money, String)> = Vec::new();

        // Term.
        if let Some(t) = x.term.filter(|t| *t != s.term) {
            let (money, why) = match (s.term, t) {
                (Some(tt), Some(ti)) if ti < tt => {
                    let implied_end = calendar::add_months(pl.term_start, i64::from(ti));
                    let lost: Decimal = pl
                        .charges
                        .iter()
                        .filter(|c| implied_end.is_some_and(|e| c.period_start >= e))
                        .map(|c| c.amount)
                        .sum();
                    (
                        Money::Known(lost, Some(Direction::UnderBilled)),
                        format!(
                            "the invoice bills a {ti}-month term; the customer committed to {tt} months: the {} billed from {} on is never billed",
                            self.money(lost),
                            implied_end.map(|d| d.to_string()).unwrap_or_default()
                        ),
                    )
                }
                (Some(tt), Some(ti)) => {
                    let extra = s
                        .months
                        .and_then(|m| md(&[pl.recurring, dec(ti - tt)], &[dec(m)]));
                    match extra {
                        Some(v) => (
                            Money::Known(v, Some(Direction::OverBilled)),
                            format!(
                                "the invoice bills a {ti}-month term; the customer committed to {tt} months (to {}): {} months billed past the commitment are {}",
                                pl.end,
                                ti - tt,
                                self.money(v)
                            ),
                        ),
                        None => (Money::Unknown, "amount unknown".to_string()),
                    }
                }
                _ => (
                    Money::Unknown,
                    format!(
                        "sold {}, billed as {}: a one-time item and a subscription cannot be priced against each other",
                        pl.term,
                        term_word(t)
                    ),
                ),
            };
            out.push((
                Class::Term,
                pl.term.to_string(),
                term_word(t),
                Risk::Billing,
                money,
                why,
            ));
        }

        // Billing frequency: the cash at the first bill date, at the sold rate.
        let mut freq_differs = false;
        if let (Some(fm), Some(m)) = (found_months, s.months) {
            let found_term = x.term.flatten().or(s.term);
            if shape(Some(fm), found_term) != shape(Some(m), s.term) && fm != m {
                freq_differs = true;
                let first = pl.first_charge;
                let implied = self.implied_first(s, fm);
                let (money, why) = match implied {
                    Some(f2) => {
                        let diff = first - f2;
                        let dir = if diff > Decimal::ZERO {
                            Some(Direction::BilledLate)
                        } else if diff < Decimal::ZERO {
                            Some(Direction::BilledEarly)
                        } else {
                            None
                        };
                        let words = match dir {
                            Some(Direction::BilledLate) => {
                                "of the first charge is not billed when sold"
                            }
                            Some(_) => "is billed ahead of the sold schedule",
                            None => "differs at the first bill date",
                        };
                        (
                            Money::Known(diff, dir),
                            format!(
                                "sold {} ({} billed {}); billed {}, which bills {} then: {} {words}",
                                pl.billing,
                                self.money(first),
                                pl.start,
                                billing_word(Some(fm), s.term),
                                self.money(f2),
                                self.money(diff)
                            ),
                        )
                    }
                    None => (Money::Unknown, "amount unknown".to_string()),
                };
                out.push((
                    Class::BillingFrequency,
                    pl.billing.to_string(),
                    billing_word(Some(fm), s.term),
                    Risk::Timing,
                    money,
                    why,
                ));
            }
        }

        // Start of billing, or billing periods off the co-term boundaries.
        if let (false, None, Some(a)) = (one_time, aligned, ps) {
            if !s_in {
                let start_class =
                    partial_start || a < pl.start || (pl.coterm.is_none() && !freq_differs);
                if start_class {
                    let (money, why) = match self.start_money(s, a) {
                        Some((d, how)) => {
                            let dir = if d.is_zero() {
                                None
                            } else if a > pl.start {
                                Some(Direction::UnderBilled)
                            } else {
                                Some(Direction::OverBilled)
                            };
                            let effect = match dir {
                                Some(Direction::UnderBilled) => format!(
                                    "billing starts {a}, later than sold from {}: {} is never billed",
                                    pl.start,
                                    self.money(d)
                                ),
                                Some(_) => format!(
                                    "billing starts {a}, before the sold start {}: {} over-billed",
                                    pl.start,
                                    self.money(d)
                                ),
                                None => "no money at risk".into(),
                            };
                            (Money::Known(d, dir), format!("{how}; {effect}"))
                        }
                        None => (Money::Unknown, "amount unknown".into()),
                    };
                    out.push((
                        Class::StartDate,
                        pl.start.to_string(),
                        a.to_string(),
                        Risk::StartDate,
                        money,
                        why,
                    ));
                } else if !freq_differs {
                    let near = pl
                        .charges
                        .get(
                            pl.charges
                                .partition_point(|c| c.period_start <= a)
                                .saturating_sub(1),
                        )
                        .map(|c| format!("[{}, {})", c.period_start, c.period_end))
                        .unwrap_or_default();
                    out.push((
                        Class::CotermDate,
                        format!("period {near}"),
                        format!(
                            "period [{a}, {})",
                            pe.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
                        ),
                        Risk::Billing,
                        Money::Unknown,
                        format!(
                            "the invoice's billing periods do not fall on the sold co-term boundaries (renewal {}): the billing is not co-termed, and what it bills over the commitment depends on when that is corrected, so the amount is unknown",
                            pl.end
                        ),
                    ));
                }
            }
        }

        if !s.metered {
            // Quantity: the sold commitment at the billed quantity.
            let mut valued_at: Option<Decimal> = None;
            if i.quantity != pl.quantity {
                let (money, why) = match self.quantity_money(s, i.quantity) {
                    Some((d, how)) => {
                        valued_at = contract_value(pl).checked_sub(d);
                        if d >= Decimal::ZERO {
                            (
                                Money::Known(d, Some(Direction::UnderBilled)),
                                format!(
                                    "billed {} units where {} were sold: {how}, so {} is never billed",
                                    i.quantity,
                                    pl.quantity,
                                    self.money(d)
                                ),
                            )
                        } else {
                            (
                                Money::Known(d, Some(Direction::OverBilled)),
                                format!(
                                    "billed {} units where {} were sold: {how}, so {} is charged for nothing (a refund is owed)",
                                    i.quantity,
                                    pl.quantity,
                                    self.money(d)
                                ),
                            )
                        }
                    }
                    None => (Money::Unknown, "amount unknown".into()),
                };
                out.push((
                    Class::Quantity,
                    pl.quantity.to_string(),
                    i.quantity.to_string(),
                    Risk::Billing,
                    money,
                    why,
                ));
            }

            // Unit price, per month so another billing frequency still compares.
            let price_months: Option<Option<u32>> = if one_time {
                Some(None)
            } else {
                match aligned {
                    Some((_, true)) => None,
                    Some((_, false)) => Some(s.months),
                    None if ps.is_none() => Some(found_months.or(s.months)),
                    None => found_months.map(Some),
                }
            };
            let mut price_finding = false;
            if let (Some(p), Some(pm)) = (i.unit_price, price_months) {
                let m = dec(s.months.unwrap_or(1));
                let m2 = dec(pm.unwrap_or(1));
                let r = s.period_amount();
                let q = pl.quantity;
                let list_ok = s.list(cat).is_some_and(|lp| {
                    p.checked_mul(m)
                        .is_some_and(|a| Some(a) == lp.checked_mul(m2))
                });
                let net_lhs = md(&[p, q, m], &[]);
                let net_rhs = r.checked_mul(m2);
                let net_ok = net_lhs.is_some() && net_lhs == net_rhs;
                if !list_ok && !net_ok && !r.is_zero() && !q.is_zero() {
                    let expected_unit = md(&[r, m2], &[q, m]);
                    let line_diff = expected_unit
                        .and_then(|e| p.checked_sub(e))
                        .and_then(|d| d.checked_mul(i.quantity))
                        .map(|d| cat.round(d.abs()));
                    if line_diff.is_none_or(|d| d > cat.match_tolerance) {
                        price_finding = true;
                        let base = valued_at.unwrap_or_else(|| contract_value(pl));
                        let diff = net_lhs
                            .zip(net_rhs)
                            .and_then(|(a, b)| a.checked_sub(b))
                            .and_then(|d| md(&[base, d], &[r, m2]));
                        let (money, why) = match diff {
                            Some(d) => {
                                let dir = if d < Decimal::ZERO {
                                    Direction::UnderBilled
                                } else {
                                    Direction::OverBilled
                                };
                                let effect = if dir == Direction::UnderBilled {
                                    "never billed"
                                } else {
                                    "charged for nothing (a refund is owed)"
                                };
                                (
                                    Money::Known(d, Some(dir)),
                                    format!(
                                        "billed {} a unit {} where {} was sold: carried over the commitment ({} at the sold price) {} is {effect}",
                                        unit_text(p, minor),
                                        per_period(pm),
                                        expected_unit
                                            .map(|e| unit_text(e, minor))
                                            .unwrap_or_default(),
                                        self.money(base),
                                        self.money(d)
                                    ),
                                )
                            }
                            None => (Money::Unknown, "amount unknown".into()),
                        };
                        out.push((
                            Class::UnitPrice,
                            format!(
                                "{} {}",
                                expected_unit
                                    .map(|e| unit_text(e, minor))
                                    .unwrap_or_default(),
                                per_period(pm)
                            ),
                            format!("{} {}", unit_text(p, minor), per_period(pm)),
                            Risk::Billing,
                            money,
                            why,
                        ));
                    }
                }
            }

            // Amount of the period billed, when nothing above already explains it.
            if i.quantity == pl.quantity && !price_finding {
                let expected = match aligned {
                    Some((net, _)) => Some(net),
                    None if ps.is_none() => {
                        let nets = period_nets(pl);
                        (!nets.contains(&x.amount)).then_some(s.period_amount())
                    }
                    None => None,
                };
                if let Some(e) = expected {
                    if let Some(diff) = x.amount.checked_sub(e).filter(|d| !d.is_zero()) {
                        if cat.round(diff.abs()) > cat.match_tolerance {
                            let dir = if diff < Decimal::ZERO {
                                Direction::UnderBilled
                            } else {
                                Direction::OverBilled
                            };
                            let period = match (ps, pe) {
                                (Some(a), Some(b)) => format!("{a} to {b}"),
                                _ => "the period".into(),
                            };
                            out.push((
                                Class::Amount,
                                unit_text(e, minor),
                                unit_text(x.amount, minor),
                                Risk::Billing,
                                Money::Known(diff, Some(dir)),
                                format!(
                                    "{period} should bill {}; the invoice bills {}: {} {}",
                                    self.money(e),
                                    self.money(x.amount),
                                    self.money(diff),
                                    if dir == Direction::UnderBilled {
                                        "under-billed"
                                    } else {
                                        "over-billed (a refund is owed)"
                                    }
                                ),
                            ));
                        }
                    }
                }
            }
        }

        for (class, expected, found, kind, money, why) in out {
            self.push(
                Side::Invoice,
                class,
                line,
                product,
                doc,
                expected,
                found,
                kind,
                money,
                why,
            );
        }
    }

    /// What the sold line would bill on its first bill date at another billing frequency:
    /// the sold net rate for one period of `fm` months, prorated by days when the line starts
    /// with a stub off that frequency's boundaries.
    fn implied_first(&self, s: &Sold, fm: u32) -> Option<Decimal> {
        let pl = s.pl;
        let m = s.months?;
        let (num, den) = if pl.term_start > pl.start {
            let anchor = Anchor::at(pl.term_start);
            let b = anchor.next_on_or_after(fm, pl.start)?;
            if b == pl.start {
                (1, 1)
            } else {
                let prev = anchor.step_from(b, fm, -1)?;
                (
                    calendar::actual_days(pl.start, b),
                    calendar::actual_days(prev, b),
                )
            }
        } else {
            (1, 1)
        };
        let v = md(
            &[pl.recurring, dec(fm), dec(num)],
            &[dec(m), dec(den.max(1))],
        )?;
        // No frequency bills more at once than the whole commitment.
        Some(self.cat.round(v.min(contract_value(pl))))
    }
}

/// Invoice lines with each credit (a negative line) folded into the line it credits: same
/// document, customer, part and period. Credits with nothing to fold into stay lines.
fn fold_credits(lines: &[InvoiceLine]) -> Vec<(&InvoiceLine, Decimal)> {
    let mut out: Vec<(&InvoiceLine, Decimal)> = lines.iter().map(|l| (l, l.amount)).collect();
    if !lines.iter().any(|l| l.amount < Decimal::ZERO) {
        return out;
    }
    type Key<'k> = (
        &'k str,
        Option<&'k str>,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
    );
    let key = |l: &'_ InvoiceLine| -> (String, Option<NaiveDate>, Option<NaiveDate>) {
        (part_key(&l.part_number), l.period_start, l.period_end)
    };
    let mut first: HashMap<Key, usize> = HashMap::new();
    for (n, l) in lines.iter().enumerate() {
        if l.amount >= Decimal::ZERO {
            let (p, a, b) = key(l);
            first
                .entry((l.document.as_str(), l.customer.as_deref(), p, a, b))
                .or_insert(n);
        }
    }
    let mut folded = vec![false; lines.len()];
    for (n, l) in lines.iter().enumerate() {
        if l.amount >= Decimal::ZERO {
            continue;
        }
        let (p, a, b) = key(l);
        if let Some(&t) = first.get(&(l.document.as_str(), l.customer.as_deref(), p, a, b)) {
            if let Some((_, amount)) = out.get_mut(t) {
                *amount = amount.saturating_add(l.amount);
            }
            if let Some(f) = folded.get_mut(n) {
                *f = true;
            }
        }
    }
    out.into_iter()
        .zip(folded)
        .filter(|(_, f)| !f)
        .map(|(x, _)| x)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Reading documents
// ---------------------------------------------------------------------------------------------

#[derive(serde::Deserialize)]
struct LinesFile {
    #[serde(default)]
    document: Option<String>,
    lines: Vec<serde_json::Value>,
}

/// Fills a missing `document` of each line (the file's own, else the file name).
fn with_document(lines: Vec<serde_json::Value>, default: &str) -> Vec<serde_json::Value> {
    lines
        .into_iter()
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                if !o.contains_key("document") {
                    o.insert("document".into(), default.into());
                }
            }
            v
        })
        .collect()
}

fn base_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string())
}

/// Reads order lines in one of Tenor's own formats: a purchase order (`tenor.purchase-order/1`),
/// a file of order lines (`tenor.order-lines/1`) or a JSON array of them. `Ok(None)` when the
/// text is in none of them (a vendor's document, for a plugin to read).
pub fn parse_orders(name: &str, text: &str) -> Result<Option<Vec<OrderLine>>, String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let bad = |e: serde_json::Error| format!("{name}: {e}");
    let default = base_name(name);
    match &v {
        serde_json::Value::Array(a) => {
            // Only an array of order lines is ours; a vendor's array goes to the plugins.
            if !a.iter().all(|x| x.get("part_number").is_some()) {
                return Ok(None);
            }
            let lines = with_document(a.clone(), &default);
            serde_json::from_value(serde_json::Value::Array(lines))
                .map(Some)
                .map_err(bad)
        }
        serde_json::Value::Object(o) => match o.get("schema").and_then(|s| s.as_str()) {
            Some(docs::PURCHASE_ORDER) => {
                let po: PurchaseOrder = serde_json::from_value(v).map_err(bad)?;
                Ok(Some(
                    po.lines
                        .iter()
                        .map(|l| OrderLine {
                            document: po.id.clone(),
                            reference: Some(po.id.clone()),
                            line_ref: Some(l.line.to_string()),
                            customer: Some(po.customer.id.clone()),
                            part_number: l
                                .distributor_product_id
                                .clone()
                                .unwrap_or_else(|| l.part_number.clone()),
                            quantity: l.quantity,
                            term: Some(l.term.clone()),
                            billing: Some(l.billing.clone()),
                            start: Some(l.start),
                            end: Some(l.end),
                            unit_cost: l.unit_cost,
                        })
                        .collect(),
                ))
            }
            Some(ORDER_LINES) => {
                let f: LinesFile = serde_json::from_value(v).map_err(bad)?;
                let doc = f.document.unwrap_or(default);
                serde_json::from_value(serde_json::Value::Array(with_document(f.lines, &doc)))
                    .map(Some)
                    .map_err(bad)
            }
            Some(other) if other.starts_with("tenor.") => Err(format!(
                "{name} is a `{other}` document, not a purchase order or order lines"
            )),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Reads invoice lines in one of Tenor's own formats: an invoice schedule
/// (`tenor.invoice-schedule/1`, its quantities taken from the quote's lines), a file of invoice
/// lines (`tenor.invoice-lines/1`) or a JSON array of them. `Ok(None)` when the text is in none
/// of them.
pub fn parse_invoices(
    name: &str,
    text: &str,
    quote: &Quote,
) -> Result<Option<Vec<InvoiceLine>>, String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let bad = |e: serde_json::Error| format!("{name}: {e}");
    let default = base_name(name);
    match &v {
        serde_json::Value::Array(a) => {
            if !a
                .iter()
                .all(|x| x.get("part_number").is_some() && x.get("amount").is_some())
            {
                return Ok(None);
            }
            let lines = with_document(a.clone(), &default);
            serde_json::from_value(serde_json::Value::Array(lines))
                .map(Some)
                .map_err(bad)
        }
        serde_json::Value::Object(o) => match o.get("schema").and_then(|s| s.as_str()) {
            Some(docs::INVOICE_SCHEDULE) => {
                let sched: docs::InvoiceSchedule = serde_json::from_value(v).map_err(bad)?;
                Ok(Some(schedule_lines(&sched, quote)))
            }
            Some(INVOICE_LINES) => {
                let f: LinesFile = serde_json::from_value(v).map_err(bad)?;
                let doc = f.document.unwrap_or(default);
                serde_json::from_value(serde_json::Value::Array(with_document(f.lines, &doc)))
                    .map(Some)
                    .map_err(bad)
            }
            Some(other) if other.starts_with("tenor.") => Err(format!(
                "{name} is a `{other}` document, not an invoice schedule or invoice lines"
            )),
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

/// Tenor's own schedule as invoice lines: one per line and period (a charge with its
/// discounts), quantity, term and billing from the quote line it names.
fn schedule_lines(sched: &docs::InvoiceSchedule, quote: &Quote) -> Vec<InvoiceLine> {
    let mut out: Vec<InvoiceLine> = Vec::new();
    let mut last: Option<(u32, NaiveDate, NaiveDate)> = None;
    let mut sorted: Vec<&docs::ScheduledCharge> = sched.charges.iter().collect();
    sorted.sort_by_key(|c| (c.line, c.period_start, c.period_end));
    for c in sorted {
        let key = (c.line, c.period_start, c.period_end);
        if last == Some(key) {
            if let Some(l) = out.last_mut() {
                l.amount = l.amount.saturating_add(c.amount);
            }
            continue;
        }
        last = Some(key);
        let ql = usize::try_from(c.line)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| quote.lines.get(n))
            .filter(|l| l.product.as_str() == &*c.product);
        let once = c.kind == "one_time";
        out.push(InvoiceLine {
            document: sched.id.clone(),
            reference: Some(sched.sales_order.clone()),
            customer: Some(sched.customer.id.clone()),
            part_number: c.product.to_string(),
            description: String::new(),
            quantity: ql.map(|l| l.quantity).unwrap_or_default(),
            unit_price: None,
            amount: c.amount,
            period_start: Some(c.period_start),
            period_end: (!once).then_some(c.period_end),
            term: ql.map(|l| l.term.clone()),
            billing: ql.and_then(|l| l.billing.clone()),
            date: Some(c.bill_date),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_the_rules_classes() {
        let ours: Vec<&str> = Class::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(ours, tenor_dsl::ast::FINDING_CLASSES);
    }

    #[test]
    fn month_arithmetic() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap_or_default();
        assert_eq!(whole_months(d(2026, 7, 1), d(2026, 8, 1)), Some(1));
        assert_eq!(whole_months(d(2026, 1, 31), d(2026, 2, 28)), Some(1));
        assert_eq!(whole_months(d(2026, 7, 1), d(2029, 7, 1)), Some(36));
        assert_eq!(whole_months(d(2026, 3, 20), d(2026, 4, 1)), None);
        assert_eq!(months_between(d(2027, 7, 1), d(2029, 7, 1)), dec(24));
        assert_eq!(
            months_between(d(2027, 7, 1), d(2027, 7, 16)),
            md(&[dec(15)], &[dec(31)]).unwrap_or_default()
        );
        assert_eq!(shape(Some(12), Some(12)), shape(Some(36), Some(36)));
        assert_ne!(shape(Some(1), Some(36)), shape(Some(36), Some(36)));
    }

    #[test]
    fn decimal_keys_ignore_scale() {
        let mut free_l = vec![true];
        let mut free_r = vec![true];
        let mut pairs = Vec::new();
        let l = [Decimal::new(500, 1)];
        let r = [Decimal::new(50, 0)];
        pair_stage(
            &mut free_l,
            &mut free_r,
            |i| l.get(i).copied(),
            |j| r.get(j).copied(),
            &mut pairs,
        );
        assert_eq!(pairs, vec![(0, 0)]);
    }
}
