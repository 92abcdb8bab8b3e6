//! The month's reconciliation (`tenor reconcile --month YYYY-MM`): every accepted quote in the
//! record, at its latest revision, matched against what `tenor pull` stored for its customer
//! that month (quote = purchase order = invoice, DOMAIN.md's three-way match), and every live
//! distributor subscription that no accepted quote of its customer claims reported as bought
//! on no quote, with what it costs to its end. Pure over the record: the command line prints.

pub mod apply;
mod drift;
pub mod recorded;

use crate::matching::{
    Class, Finding, MatchReport, Matcher, PulledInput, PulledItem, Risk, Side, sides,
};
use crate::record::Record;
use crate::record::RevisionInfo;
use chrono::NaiveDate;
use recorded::{RebuildError, Rebuilder, Sold, pulled_inputs};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use tenor_plugin_sdk::exchange::Subscription;

/// Schema of `tenor reconcile --format json`.
pub const RECONCILE: &str = "tenor.reconcile/1";

/// One month reconciled: the findings of every quote and of what no quote claims.
pub struct Reconciliation {
    /// `YYYY-MM`.
    pub month: String,
    /// The quotes reconciled, with their revision, by customer.
    pub quotes: Vec<(String, String, u32)>,
    /// Every finding, with what was checked and the notes.
    pub report: MatchReport,
}

/// What `tenor reconcile` is asked.
pub struct Ask<'a> {
    /// The month, `YYYY-MM`.
    pub month: &'a str,
    /// Only this customer's quotes and subscriptions.
    pub customer: Option<&'a str>,
    /// The rules in force (`--rules DIR`): what renewals are priced and bought at. Without
    /// them, the rules of the latest acceptance in the record.
    pub rules: Option<&'a crate::engine::catalogue::Catalogue>,
}

/// Reconciles one month; see the module. A quote whose customer had nothing pulled that month
/// is noted, not reported. Customers are taken one at a time, in order (those with an accepted
/// quote and those something was pulled for): their latest revisions are rebuilt, matched and
/// dropped before the next customer's are read, so memory holds one customer's quotes.
pub fn month(record: &Record, ask: &Ask<'_>) -> Result<Reconciliation, RebuildError> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", ask.month), "%Y-%m-%d")
        .map_err(|_| RebuildError::Other(format!("--month `{}` is not YYYY-MM", ask.month)))?;
    let mut rebuilder = Rebuilder::new(record);
    // The report's currency is the first quote's (in quote order). The rules in force are
    // those given (`--rules`), else the latest acceptance's: they name the products of what
    // no quote claims and price renewals.
    let head = match record.quote_bounds()? {
        Some((lo, _)) => Some(rebuilder.catalogue(&record.revision(&lo, None)?)?),
        None => None,
    };
    let latest = match record.latest_acceptance()? {
        Some(rev) => Some(rebuilder.catalogue(&rev)?),
        None => None,
    };
    let names = ask.rules.or(latest.as_deref()).map(Matcher::new);
    let mut out = Reconciliation {
        month: ask.month.to_string(),
        quotes: Vec::new(),
        report: head
            .as_deref()
            .map(MatchReport::new)
            .unwrap_or_else(|| MatchReport {
                currency: String::new(),
                minor_units: 2,
                findings: Vec::new(),
                checked: Vec::new(),
                notes: Vec::new(),
            }),
    };
    let customers = union(
        record.quoted_customers()?,
        record.pulled_customers(Some(ask.month))?,
    );
    for customer in customers {
        if ask.customer.is_some_and(|c| c != customer) {
            continue;
        }
        let mut revs: Vec<(RevisionInfo, Sold)> = Vec::new();
        for rev in record.latest_revisions_of(&customer)? {
            let sold = rebuilder.rebuild(&rev)?;
            if sold.file.quote.customer.id != customer {
                return Err(RebuildError::Other(format!(
                    "{} revision {} is recorded for customer {customer} but its quote is for {}: the record is not sound",
                    rev.quote, rev.revision, sold.file.quote.customer.id
                )));
            }
            revs.push((rev, sold));
        }
        let at = Month {
            record,
            month: ask.month,
            first,
            names: names.as_ref(),
        };
        at.customer(&customer, &revs.iter().collect::<Vec<_>>(), &mut out)?;
    }
    Ok(out)
}

/// Two sorted lists of customers merged into one, sorted, each customer once.
fn union(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    let mut all: Vec<String> = a.into_iter().chain(b).collect();
    all.sort_unstable();
    all.dedup();
    all
}

/// What every customer's part of a month's reconciliation shares.
struct Month<'a> {
    record: &'a Record,
    month: &'a str,
    first: NaiveDate,
    /// The rules that name the products of what no quote claims.
    names: Option<&'a Matcher<'a>>,
}

impl Month<'_> {
    /// The customer's rows pulled for the month before, for what a distributor held then.
    fn month_before(&self, customer: &str) -> Result<Vec<PulledInput>, RebuildError> {
        let Some(d) = crate::engine::calendar::add_months(self.first, -1) else {
            return Ok(Vec::new());
        };
        let month = d.format("%Y-%m").to_string();
        pulled_inputs(self.record.pulled(customer, Some(&month))?).map_err(RebuildError::Other)
    }

    /// One customer's quotes matched on the month's pull, then what none of them claims.
    fn customer(
        &self,
        customer: &str,
        revs: &[&(RevisionInfo, Sold)],
        out: &mut Reconciliation,
    ) -> Result<(), RebuildError> {
        let rows = pulled_inputs(self.record.pulled(customer, Some(self.month))?)
            .map_err(RebuildError::Other)?;
        let done = self.record.pulls_done(customer, Some(self.month))?;
        let mut unclaimed: Option<BTreeSet<(String, String)>> = None;
        let mut aside: BTreeMap<(String, String), Subscription> = BTreeMap::new();
        let mut claimed: Vec<(usize, Subscription)> = Vec::new();
        for (k, (rev, sold)) in revs.iter().map(|x| (&x.0, &x.1)).enumerate() {
            out.quotes
                .push((customer.to_string(), rev.quote.clone(), rev.revision));
            if rows.is_empty() && done.is_empty() {
                out.report.notes.push(format!(
                    "{} ({customer}): nothing pulled for {}: run `tenor pull --month {}`",
                    rev.quote, self.month, self.month
                ));
                continue;
            }
            let matcher = Matcher::new(&sold.cat);
            let refs = self.record.pushed_refs(&rev.quote, rev.revision)?;
            let accepted = crate::matching::Accepted {
                quote: &sold.file.quote,
                purchase_orders: &sold.accepted.purchase_orders,
                template: Some(&sold.accepted.template),
                refs: &refs,
            };
            let s = sides(&matcher, &accepted, &rows, &done);
            claimed.extend(s.additions.iter().flatten().map(|a| (k, a.clone())));
            let here: BTreeSet<(String, String)> = s
                .aside_subscriptions
                .iter()
                .map(|(p, x)| (p.clone(), x.id.clone()))
                .collect();
            for (p, x) in &s.aside_subscriptions {
                aside.insert((p.clone(), x.id.clone()), x.clone());
            }
            unclaimed = Some(match unclaimed {
                None => here,
                Some(u) => u.intersection(&here).cloned().collect(),
            });
            if !s.is_empty() {
                out.report.merge(matcher.run_pulled(
                    &sold.file.quote,
                    &sold.priced,
                    &sold.accepted.purchase_orders,
                    Some(&sold.accepted.template),
                    &s,
                ));
            }
        }
        let orphans: Vec<(String, Subscription)> = match unclaimed {
            Some(keys) => keys
                .into_iter()
                .filter_map(|k| aside.remove(&k).map(|x| (k.0, x)))
                .collect(),
            None => live_subscriptions(&rows),
        };
        for (plugin, x) in orphans {
            let sku = self.names.and_then(|m| m.sku_of(&x.part_number));
            out.report
                .findings
                .push(on_no_quote(customer, &plugin, &x, sku, self.first));
        }
        let before = self.month_before(customer)?;
        let cm = drift::CustomerMonth {
            customer,
            first: self.first,
            rows: crate::matching::latest_months(&rows),
            before: crate::matching::latest_months(&before),
            revs,
            claimed: &claimed,
            rules: self.names,
        };
        drift(&cm, &mut out.report.findings);
        Ok(())
    }
}

/// The customer's month's own findings (drift.rs) added to the quotes' findings; the quotes'
/// findings they price better are replaced, those they already count are marked: one amount.
fn drift(cm: &drift::CustomerMonth<'_>, findings: &mut Vec<Finding>) {
    let customer = cm.customer;
    for f in cm.additions_with_no_subscription() {
        // The quote's match saw the addition on its agreement, not in its template, and
        // could not price it: this finding does, in its place.
        findings.retain(|g| {
            !(g.side == Side::Psa
                && g.class == Class::ExtraLine
                && g.money_at_risk.is_none()
                && g.customer == f.customer
                && g.product == f.product
                && g.document == f.document)
        });
        // What the month's invoice billed for it is the first of the charges this one
        // counts: one leak, counted here.
        for g in findings.iter_mut() {
            if g.side == Side::Invoice
                && g.class == Class::ExtraLine
                && g.customer == f.customer
                && g.product == f.product
                && g.direction == f.direction
                && g.counted_with.is_none()
            {
                g.counted_with = Some(Side::Psa);
            }
        }
        findings.push(f);
    }
    // From a renewal the rules in force are what was sold: the match's accepted price is not.
    findings.retain(|g| !(g.customer == customer && cm.billed_at_the_renewal_price(g)));
    findings.extend(cm.renewals_at_another_price());
    // A distributor's renewed subscription costs what the rules in force say.
    let mut kept = Vec::with_capacity(findings.len());
    for f in std::mem::take(findings) {
        let ours = f.customer == customer && f.side == Side::PurchaseOrder;
        if ours && f.class == Class::CotermDate && cm.renewed_at_its_end(&f) {
            continue;
        }
        let renewed = (ours && f.class == Class::UnitPrice)
            .then(|| cm.renewed_cost(&f))
            .flatten();
        match renewed {
            Some(g) => kept.extend(g),
            None => kept.push(f),
        }
    }
    *findings = kept;
    for mut f in cm.reductions_outside_the_window() {
        // The match's quantity finding on the line prices the seats gone (the customer
        // billed for seats not provisioned); this is what they cost if they are not: one gap.
        if findings.iter().any(|g| {
            g.side == Side::PurchaseOrder
                && g.class == Class::Quantity
                && g.quote == f.quote
                && g.line == f.line
                && g.money_at_risk.is_some()
        }) {
            f.counted_with = Some(Side::PurchaseOrder);
        }
        findings.push(f);
    }
    for mut f in cm.seats_committed_not_billed() {
        // The PSA's quantity finding on the line prices the seats it no longer bills as
        // revenue lost; if the reduction stands, this is what they cost instead: one gap,
        // counted there.
        if findings.iter().any(|g| {
            g.side == Side::Psa
                && g.class == Class::Quantity
                && g.quote == f.quote
                && g.line == f.line
                && g.money_at_risk.is_some()
        }) {
            f.counted_with = Some(Side::Psa);
        }
        findings.push(f);
    }
}

/// What to do about a finding of the month starting `first`, in a sentence: where the fix is a
/// change in the PSA, the change itself (what to set, from when). A PSA change takes effect
/// from the line's first billing period on or after the next month's 1st, as `--apply` sends
/// it: the month's invoices are out, and what they billed wrong is settled by hand.
pub fn action(f: &Finding, first: NaiveDate) -> String {
    let p = &f.product;
    let next = crate::engine::calendar::add_months(first, 1).unwrap_or(first);
    let from = format!("from its first billing period on or after {next}");
    match (f.side, f.class) {
        (Side::Psa, Class::Quantity) => format!(
            "PSA: set the {p} addition's quantity from {} to {} {from} (`--apply` sends it)",
            f.found, f.expected
        ),
        (Side::Psa, Class::UnitPrice) if f.expected.contains(drift::RENEWAL) => {
            let price = f.expected.split_whitespace().next().unwrap_or_default();
            let renewal = f
                .expected
                .rsplit(' ')
                .next()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map_or(next, |d| d.max(next));
            format!(
                "PSA: set the {p} addition's unit price to {price} (the rules in force) from its first billing period on or after {renewal} (`--apply` sends it)"
            )
        }
        (Side::Psa, Class::UnitPrice) => format!(
            "PSA: set the {p} addition's unit price to what was sold ({}) {from} (`--apply` sends it)",
            f.expected
        ),
        (Side::Psa, Class::CotermDate) => format!(
            "PSA: add the {p} addition again {from} so it {} (`--apply` sends it)",
            f.expected
        ),
        (Side::Psa, Class::MissingLine) => format!(
            "PSA: add the {p} addition again ({}) {from} (`--apply` sends it)",
            f.expected
        ),
        (Side::Invoice, Class::MissingLine) => format!(
            "PSA: bill {p} again ({}) {from}, and invoice what was not billed before it by hand",
            f.expected
        ),
        (Side::Invoice, Class::Quantity) => format!(
            "PSA: bill {} units of {p}, not {}, {from}, and invoice what was under-billed before it by hand",
            f.expected, f.found
        ),
        (Side::Psa, Class::ExtraLine) if f.expected.starts_with(drift::NO_SUBSCRIPTION) => format!(
            "PSA: cancel the {p} addition effective {first} and credit the customer what it billed since it started; or, if the licence was bought outside the linked account, link that account (`tenor link`)"
        ),
        (Side::PurchaseOrder, Class::ExtraLine) if f.quote.is_empty() => format!(
            "sell the {p} subscription on a quote for {}, or cancel it at the distributor",
            f.customer
        ),
        (Side::PurchaseOrder, Class::Quantity) if f.expected.contains(drift::COMMITTED) => format!(
            "PSA: bill {p} at the {} again, effective {first} (the customer committed for the term and the distributor cannot take seats back after its cancellation window); if the reduction stands, reduce the subscription at its renewal",
            f.expected
        ),
        (Side::PurchaseOrder, Class::Quantity) if f.expected.contains(drift::REDUCED) => format!(
            "distributor: ask why {p} shows {} where {} are committed (NCE refuses a reduction after its window): until it confirms, expect the committed seats on its invoices; bill the customer only for the seats provisioned",
            f.found, f.expected
        ),
        (Side::PurchaseOrder, Class::Quantity) => format!(
            "distributor: bring {p} back to {} seats (a reduction is only allowed within 7 days of the change), or sell the extra seats",
            f.expected
        ),
        (Side::PurchaseOrder, Class::UnitPrice) => format!(
            "distributor: ask why {p} costs {} where the rules say {}, or update the rules' cost",
            f.found, f.expected
        ),
        _ => format!(
            "compare {p}: {} was expected, {} found",
            f.expected, f.found
        ),
    }
}

/// The report's findings tallied per customer and class, as its totals count them (money a
/// finding shares with another is counted once, there).
pub fn tallies(report: &MatchReport) -> Vec<crate::record::reconciled::Tally> {
    let mut by: BTreeMap<(String, String), crate::record::reconciled::Tally> = BTreeMap::new();
    for f in &report.findings {
        let key = (f.customer.clone(), f.class.as_str().to_string());
        let t = by
            .entry(key.clone())
            .or_insert_with(|| crate::record::reconciled::Tally {
                customer: key.0,
                class: key.1,
                findings: 0,
                money_at_risk: Decimal::ZERO,
                unknown: 0,
            });
        t.findings += 1;
        match f.money_at_risk {
            Some(_) if f.counted_with.is_some() => {}
            Some(m) => t.money_at_risk += m,
            None => t.unknown += 1,
        }
    }
    by.into_values()
        .map(|mut t| {
            if t.money_at_risk.scale() < report.minor_units {
                t.money_at_risk.rescale(report.minor_units);
            }
            t
        })
        .collect()
}

/// A customer with no accepted quote: every live subscription a distributor holds for it
/// (not a PSA's agreement addition).
fn live_subscriptions(rows: &[PulledInput]) -> Vec<(String, Subscription)> {
    rows.iter()
        .filter_map(|r| match &r.item {
            PulledItem::Subscription(s) if s.agreement.is_none() && is_live(&s.status) => {
                Some((r.plugin.clone(), s.clone()))
            }
            _ => None,
        })
        .collect()
}

fn is_live(status: &str) -> bool {
    !matches!(
        status.trim().to_ascii_lowercase().as_str(),
        "cancelled" | "canceled" | "deleted" | "terminated" | "inactive" | "expired"
    )
}

/// The charges a subscription billed every `per` months from `start` still makes on or after
/// `first`, before `end`: each period is charged on its first day, counted from the start so a
/// month-end day holds.
fn charges_left(start: NaiveDate, end: NaiveDate, per: i64, first: NaiveDate) -> u32 {
    let mut n = 0;
    for k in 0..=1200 {
        match crate::engine::calendar::add_months(start, k * per) {
            Some(d) if d < end => n += u32::from(d >= first),
            _ => break,
        }
    }
    n
}

/// A distributor subscription no accepted quote claims: the MSP pays for it and Tenor bills
/// nobody for it. Its cost from the month's first day to its end, when its cost, billing and
/// end are known (whole billing periods, as the distributor charges them).
fn on_no_quote(
    customer: &str,
    plugin: &str,
    x: &Subscription,
    sku: Option<String>,
    first: NaiveDate,
) -> Finding {
    let per = match x.billing.as_deref() {
        Some("monthly") => Some(1),
        Some("quarterly") => Some(3),
        Some("annual") => Some(12),
        _ => None,
    };
    let money = match (x.unit_cost, per, x.start, x.end) {
        (Some(cost), Some(per), Some(start), Some(end)) => {
            Some(cost * x.quantity * Decimal::from(charges_left(start, end, per, first)))
        }
        _ => None,
    };
    let what = format!(
        "{} × {}{}{}",
        x.quantity,
        x.part_number,
        x.term
            .as_deref()
            .map(|t| format!(", {t}"))
            .unwrap_or_default(),
        x.billing
            .as_deref()
            .map(|b| format!(" {b}"))
            .unwrap_or_default()
    );
    Finding {
        class: Class::ExtraLine,
        side: Side::PurchaseOrder,
        quote: String::new(),
        customer: customer.to_string(),
        line: None,
        product: sku.unwrap_or_else(|| x.part_number.clone()),
        document: Some(format!("{plugin} subscription {}", x.id)),
        expected: "on an accepted quote".into(),
        found: what.clone(),
        money_at_risk: money.map(|mut m| {
            m.rescale(2);
            m
        }),
        kind: Risk::Cost,
        direction: None,
        explanation: match money {
            Some(m) => format!(
                "{plugin} holds {what} for {customer} on no accepted quote: the MSP pays {} to {} and no quote bills it (sell it, or cancel it)",
                m.round_dp(2),
                x.end.map(|e| e.to_string()).unwrap_or_default()
            ),
            None => format!(
                "{plugin} holds {what} for {customer} on no accepted quote: what it costs to its end is not stated, so the amount is unknown (sell it, or cancel it)"
            ),
        },
        counted_with: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_charges_left_are_the_period_starts_from_the_month_to_the_end() {
        // Monthly from 2026-11-07 to 2027-11-07: November's is before December; 11 are left.
        assert_eq!(
            charges_left(day("2026-11-07"), day("2027-11-07"), 1, day("2026-12-01")),
            11
        );
        // A month-end start keeps its day: 01-31, 02-28, 03-31, 04-30.
        assert_eq!(
            charges_left(day("2027-01-31"), day("2027-05-31"), 1, day("2027-01-01")),
            4
        );
        // Yearly over three years, from January 2027: the 2027 and 2028 charges.
        assert_eq!(
            charges_left(day("2026-12-07"), day("2029-12-07"), 12, day("2027-01-01")),
            2
        );
        // Ended before the month: nothing.
        assert_eq!(
            charges_left(day("2026-01-01"), day("2026-06-01"), 1, day("2026-12-01")),
            0
        );
    }
}
