//! Replaying a recurring template over its commitment, and comparing what it bills with the
//! invoice schedule's recurring part (issue 10: a PSA that follows the template must bill
//! exactly what was sold). Only the template is read to replay it: nothing here looks at the
//! schedule the template was made from.

use crate::engine::calendar::Anchor;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tenor_plugin_sdk::docs::{InvoiceSchedule, RecurringLine, RecurringTemplate, Timing};

/// What is billed, per (bill date, quote line): the sum of that line's charges on that date.
pub type Billing = BTreeMap<(NaiveDate, u32), Decimal>;

/// One charge a template line bills when replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Replayed {
    /// First day covered.
    pub period_start: NaiveDate,
    /// Day after the last day covered.
    pub period_end: NaiveDate,
    /// When it is billed.
    pub bill_date: NaiveDate,
    /// Amount, discounts taken off.
    pub amount: Decimal,
}

/// Where the template and the schedule first disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The quote line.
    pub line: u32,
    /// The bill date.
    pub bill_date: NaiveDate,
    /// What the schedule bills the line on that date.
    pub expected: Decimal,
    /// What the replayed template bills it.
    pub got: Decimal,
}

/// The regular periods of a line: `[d + k × months, d + (k + 1) × months)` on its billing day,
/// from `from` (the stub's end, or the start of service) while they end by the line's end.
pub fn regular_periods(
    from: NaiveDate,
    months: u32,
    billing_day: u32,
    end: NaiveDate,
) -> impl Iterator<Item = (NaiveDate, NaiveDate)> {
    let anchor = Anchor::intending(from.year(), from.month(), billing_day);
    let step = i64::from(months.max(1));
    let at = move |k: i64| anchor.and_then(|a| a.plus_months(k * step));
    (0i64..)
        .map(move |k| (at(k), at(k + 1)))
        .take_while(move |p| matches!(p, (Some(_), Some(e)) if *e <= end))
        .filter_map(|(s, e)| Some((s?, e?)))
}

/// Where a line's regular periods start: the end of its stub, or the start of service.
pub fn regular_start(l: &RecurringLine) -> NaiveDate {
    l.stub.iter().map(|c| c.period_end).max().unwrap_or(l.start)
}

/// Every charge a template line bills over its commitment, in period order.
pub fn replay_line(l: &RecurringLine) -> Vec<Replayed> {
    let stub = l
        .stub
        .iter()
        .map(|c| (c.period_start, c.period_end, c.bill_date, c.amount));
    let regular =
        regular_periods(regular_start(l), l.months, l.billing_day, l.end).map(|(s, e)| {
            let bill = match l.timing {
                Timing::Arrears => e,
                Timing::Advance | Timing::Once => s,
            };
            (s, e, bill, l.amount)
        });
    stub.chain(regular)
        .map(|(period_start, period_end, bill_date, gross)| {
            let off: Decimal = l
                .discounts
                .iter()
                .filter(|d| d.effective <= period_start && period_end <= d.end)
                .map(|d| d.amount)
                .sum();
            Replayed {
                period_start,
                period_end,
                bill_date,
                amount: gross + off,
            }
        })
        .collect()
}

/// What the template bills, per bill date and line.
pub fn replay(t: &RecurringTemplate) -> Billing {
    let mut out = Billing::new();
    for l in &t.lines {
        for c in replay_line(l) {
            *out.entry((c.bill_date, l.line)).or_default() += c.amount;
        }
    }
    out
}

/// The schedule's recurring part, per bill date and line: every charge of the lines that are
/// not one-time (their discounts included).
pub fn recurring_part(s: &InvoiceSchedule) -> Billing {
    let one_time: std::collections::HashSet<u32> = s
        .charges
        .iter()
        .filter(|c| c.timing == Timing::Once)
        .map(|c| c.line)
        .collect();
    let mut out = Billing::new();
    for c in s.charges.iter().filter(|c| !one_time.contains(&c.line)) {
        *out.entry((c.bill_date, c.line)).or_default() += c.amount;
    }
    out
}

/// The first (bill date, line) where the replayed template does not bill what the schedule
/// does, or `None` when they agree to the cent on every date.
pub fn first_difference(t: &RecurringTemplate, s: &InvoiceSchedule) -> Option<Difference> {
    let (expected, got) = (recurring_part(s), replay(t));
    let mut keys: Vec<&(NaiveDate, u32)> = expected.keys().chain(got.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter().find_map(|k| {
        let e = expected.get(k).copied().unwrap_or_default();
        let g = got.get(k).copied().unwrap_or_default();
        (e != g).then_some(Difference {
            line: k.1,
            bill_date: k.0,
            expected: e,
            got: g,
        })
    })
}

/// [`first_difference`] for one quote line: what its template line (if it has one) bills
/// against its charges as (bill date, amount, timing). A line with a one-time charge is not
/// recurring and expects nothing of the template, as in [`recurring_part`].
pub fn line_difference(
    line: u32,
    template: Option<&RecurringLine>,
    charges: impl Iterator<Item = (NaiveDate, Decimal, Timing)>,
) -> Option<Difference> {
    let mut expected: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    let mut one_time = false;
    for (bill_date, amount, timing) in charges {
        one_time |= timing == Timing::Once;
        *expected.entry(bill_date).or_default() += amount;
    }
    if one_time {
        expected.clear();
    }
    let mut got: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for c in template.map(replay_line).unwrap_or_default() {
        *got.entry(c.bill_date).or_default() += c.amount;
    }
    let dates: std::collections::BTreeSet<&NaiveDate> = expected.keys().chain(got.keys()).collect();
    dates.into_iter().find_map(|d| {
        let e = expected.get(d).copied().unwrap_or_default();
        let g = got.get(d).copied().unwrap_or_default();
        (e != g).then_some(Difference {
            line,
            bill_date: *d,
            expected: e,
            got: g,
        })
    })
}
