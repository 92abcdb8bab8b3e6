//! `tenor reconcile --apply`: a month's PSA findings turned into the changes that make each
//! line's addition bill what was sold again, one `tenor.psa-fix/1` document per quote; every
//! other finding is left for a person, with its action. Pure over the reconciliation and the
//! recurring templates sold: the command line records the documents and pushes them.
//!
//! A fix takes effect at the start of the line's first billing period on or after the 1st of
//! the month after the one reconciled, as MSPs push approved quantities "from the 1st of next
//! month" (VENDORS.md): that month's invoices are already out, and a PSA does not rebill an
//! invoiced period. What those periods billed wrong stays in the invoice findings, to settle by
//! hand.

use super::Reconciliation;
use crate::engine::calendar::add_months;
use crate::matching::{Class, Finding, Side};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;
use tenor_plugin_sdk::docs::{RecurringLine, RecurringTemplate};
use tenor_plugin_sdk::exchange::PsaFix;

/// Schema of a fix document.
pub const PSA_FIX_SCHEMA: &str = "tenor.psa-fix/1";

/// One quote's fixes from one reconciliation, as recorded and pushed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FixDocument {
    /// Always [`PSA_FIX_SCHEMA`].
    pub schema: &'static str,
    /// `FIX-<quote>-<month>-p<pull>`: the same fixes from the same pull are one document.
    pub id: String,
    /// The quote.
    pub quote: String,
    /// Its revision.
    pub revision: u32,
    /// The customer.
    pub customer: String,
    /// The month reconciled, `YYYY-MM`.
    pub month: String,
    /// The record's row of the latest pull the reconciliation read for the customer.
    pub pull: i64,
    /// The fixes, by quote line.
    pub fixes: Vec<PsaFix>,
}

impl FixDocument {
    /// Its file name in the record and in an export.
    pub fn path(&self) -> String {
        format!("{}.json", self.id)
    }
}

/// What `--apply` would do with a month's findings.
pub struct FixPlan {
    /// The fix documents, by quote.
    pub documents: Vec<FixDocument>,
    /// The findings no PSA change fixes (their index in the report), for a person.
    pub by_hand: Vec<usize>,
}

/// What the plan needs of each quote reconciled: its template and the pull it was matched on.
pub struct QuoteSold<'a> {
    /// The recurring template accepted.
    pub template: &'a RecurringTemplate,
    /// The latest pull's row for its customer and month.
    pub pull: i64,
}

/// The fixes of a month's PSA findings. `sold` gives, by quote, what was sold (a quote it does
/// not know is left by hand).
pub fn plan(done: &Reconciliation, sold: &BTreeMap<String, QuoteSold<'_>>) -> FixPlan {
    let next = next_month(&done.month);
    let mut by_quote: BTreeMap<&str, BTreeMap<u32, PsaFix>> = BTreeMap::new();
    let mut by_hand = Vec::new();
    for (i, f) in done.report.findings.iter().enumerate() {
        let fix = sold
            .get(&f.quote)
            .zip(next)
            .and_then(|(s, next)| fix_of(f, s.template, next));
        match fix {
            Some(x) => merge(
                by_quote
                    .entry(f.quote.as_str())
                    .or_default()
                    .entry(x.line)
                    .or_insert_with(|| x.clone()),
                &x,
            ),
            None => by_hand.push(i),
        }
    }
    let documents = by_quote
        .into_iter()
        .filter_map(|(quote, fixes)| {
            let (customer, _, revision) = done.quotes.iter().find(|(_, q, _)| q == quote)?;
            let pull = sold.get(quote)?.pull;
            Some(FixDocument {
                schema: PSA_FIX_SCHEMA,
                id: format!("FIX-{quote}-{}-p{pull}", done.month),
                quote: quote.to_string(),
                revision: *revision,
                customer: customer.clone(),
                month: done.month.clone(),
                pull,
                fixes: fixes.into_values().collect(),
            })
        })
        .collect();
    FixPlan { documents, by_hand }
}

/// Two findings on one line make one fix: what each found wrong, the sold figures from both.
fn merge(into: &mut PsaFix, other: &PsaFix) {
    into.quantity_found = into.quantity_found.or(other.quantity_found);
    into.unit_price_found = into.unit_price_found.or(other.unit_price_found);
    into.restore |= other.restore;
}

/// The fix a PSA finding calls for, if a change to the line's addition makes it right.
fn fix_of(f: &Finding, t: &RecurringTemplate, next: NaiveDate) -> Option<PsaFix> {
    if f.side != Side::Psa || f.quote.is_empty() {
        return None;
    }
    let l = t.lines.iter().find(|l| Some(l.line) == f.line)?;
    if l.usage.is_some() {
        return None;
    }
    let mut fix = PsaFix {
        line: l.line,
        product: l.product.clone(),
        quantity: l.quantity,
        quantity_found: None,
        unit_price: l.unit_price?,
        unit_price_found: None,
        restore: false,
        effective: next,
    };
    match f.class {
        // From a renewal the rules in force are what was sold: their price, from the renewal's
        // first billing period on or after the day (its periods go on on the line's grid).
        Class::UnitPrice if f.expected.contains(super::drift::RENEWAL) => {
            let renewal = last_date(&f.expected)?;
            fix.unit_price = leading_number(&f.expected)?;
            fix.unit_price_found = Some(leading_number(&f.found)?);
            fix.effective = every_period_from(renewal, l.months, next.max(renewal))?;
            return Some(fix);
        }
        Class::Quantity => fix.quantity_found = Some(leading_number(&f.found)?),
        Class::UnitPrice => fix.unit_price_found = Some(leading_number(&f.found)?),
        // Cancelled before the sold end: billing past it is not what a restore mends.
        Class::CotermDate if ends(&f.found)? < l.end => fix.restore = true,
        // A missing discount step is no addition to add again at the sold price.
        Class::MissingLine if f.found == "no addition" && !f.expected.starts_with("discount") => {
            fix.restore = true;
        }
        _ => return None,
    }
    fix.effective = first_period_from(l, next)?;
    Some(fix)
}

/// The first of the periods starting `start` and every `months` after it on or after `day`.
fn every_period_from(start: NaiveDate, months: u32, day: NaiveDate) -> Option<NaiveDate> {
    let per = i64::from(months.max(1));
    (0..=1200)
        .map_while(|k| add_months(start, k * per))
        .find(|d| *d >= day)
}

/// The date a finding's figure ends with (`3.30 a month from the renewal on 2027-12-01`).
fn last_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.rsplit(' ').next()?, "%Y-%m-%d").ok()
}

/// The start of the line's first billing period on or after `day`, before its end: the stub's
/// pieces, then every `months` from the stub's end (counted from it, so a month-end day holds).
pub fn first_period_from(l: &RecurringLine, day: NaiveDate) -> Option<NaiveDate> {
    if day <= l.start {
        return Some(l.start);
    }
    if let Some(s) = l.stub.iter().find(|s| s.period_start >= day) {
        return Some(s.period_start);
    }
    let base = l.stub.last().map_or(l.start, |s| s.period_end);
    every_period_from(base, l.months, day).filter(|d| *d < l.end)
}

/// The 1st of the month after `YYYY-MM`.
fn next_month(month: &str) -> Option<NaiveDate> {
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    add_months(first, 1)
}

/// The number a finding's figure starts with (`20`, `22.00 a month`).
fn leading_number(s: &str) -> Option<Decimal> {
    Decimal::from_str(s.split_whitespace().next()?).ok()
}

/// The day of a co-term figure (`ends 2027-04-01`).
fn ends(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.strip_prefix("ends ")?, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenor_plugin_sdk::docs::{TemplateCharge, Timing};

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    /// A line from `start` to `end` billed every `months`, with a stub to `stub_end` if any.
    fn line(start: &str, stub_end: Option<&str>, months: u32, end: &str) -> RecurringLine {
        RecurringLine {
            line: 1,
            product: "M365-BP".into(),
            catalog_item: None,
            description: String::new(),
            quantity: Decimal::from(25),
            unit_price: Some(Decimal::from(22)),
            frequency: "monthly".into(),
            months,
            timing: Timing::Advance,
            amount: Decimal::from(550),
            next_bill_date: day(stub_end.unwrap_or(start)),
            billing_day: 1,
            start: day(start),
            end: day(end),
            stub: stub_end
                .map(|e| TemplateCharge {
                    period_start: day(start),
                    period_end: day(e),
                    bill_date: day(start),
                    amount: Decimal::ZERO,
                })
                .into_iter()
                .collect(),
            discounts: Vec::new(),
            usage: None,
        }
    }

    #[test]
    fn a_fix_starts_with_the_first_billing_period_from_the_day() {
        // Q-1001: a stub to 2027-01-01, then monthly on the 1st.
        let l = line("2026-12-07", Some("2027-01-01"), 1, "2028-07-01");
        assert_eq!(
            first_period_from(&l, day("2027-03-01")),
            Some(day("2027-03-01"))
        );
        assert_eq!(
            first_period_from(&l, day("2026-12-20")),
            Some(day("2027-01-01"))
        );
        // Not started yet: from its start.
        assert_eq!(
            first_period_from(&l, day("2026-12-01")),
            Some(day("2026-12-07"))
        );
        // Monthly from a month's last day: the 31st, the 28th, the 31st.
        let l = line("2027-01-31", None, 1, "2028-01-31");
        assert_eq!(
            first_period_from(&l, day("2027-03-01")),
            Some(day("2027-03-31"))
        );
        assert_eq!(
            first_period_from(&l, day("2027-02-01")),
            Some(day("2027-02-28"))
        );
        // Billed yearly: the next year's period; none after the commitment's end.
        let l = line("2026-12-07", None, 12, "2029-12-07");
        assert_eq!(
            first_period_from(&l, day("2027-03-01")),
            Some(day("2027-12-07"))
        );
        assert_eq!(first_period_from(&l, day("2029-12-08")), None);
    }

    #[test]
    fn figures_are_read_from_the_findings_words() {
        assert_eq!(leading_number("20"), Some(Decimal::from(20)));
        assert_eq!(leading_number("22.00 a month"), Some(Decimal::new(2200, 2)));
        assert_eq!(leading_number("no addition"), None);
        assert_eq!(ends("ends 2027-04-01"), Some(day("2027-04-01")));
        assert_eq!(next_month("2027-12"), Some(day("2028-01-01")));
        assert_eq!(
            last_date("3.30 a month from the renewal on 2027-12-01"),
            Some(day("2027-12-01"))
        );
        // A renewal on the 1st, reconciled in December: from January's period.
        assert_eq!(
            every_period_from(day("2027-12-01"), 1, day("2028-01-01")),
            Some(day("2028-01-01"))
        );
    }
}
