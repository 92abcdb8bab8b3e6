//! The month's reconciliation (`tenor reconcile --month YYYY-MM`): every accepted quote in the
//! record, at its latest revision, matched against what `tenor pull` stored for its customer
//! that month (quote = purchase order = invoice, DOMAIN.md's three-way match), and every live
//! distributor subscription that no accepted quote of its customer claims reported as bought
//! on no quote, with what it costs to its end. Pure over the record: the command line prints.

pub mod recorded;

use crate::matching::{
    Class, Finding, MatchReport, Matcher, PulledInput, PulledItem, Risk, Side, sides,
};
use crate::record::Record;
use crate::record::RevisionInfo;
use chrono::{Datelike, NaiveDate};
use recorded::{RebuildError, Sold, pulled_inputs, rebuild};
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
}

/// Reconciles one month; see the module. A quote whose customer had nothing pulled that month
/// is noted, not reported.
pub fn month(record: &Record, ask: &Ask<'_>) -> Result<Reconciliation, RebuildError> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", ask.month), "%Y-%m-%d")
        .map_err(|_| RebuildError::Other(format!("--month `{}` is not YYYY-MM", ask.month)))?;
    let mut all: Vec<(RevisionInfo, Sold)> = Vec::new();
    for (quote, n) in record.latest_revisions()? {
        let rev = record.revision(&quote, Some(n))?;
        let sold = rebuild(record, &rev)?;
        all.push((rev, sold));
    }
    let mut by_customer: BTreeMap<String, Vec<&(RevisionInfo, Sold)>> = BTreeMap::new();
    for x in &all {
        by_customer
            .entry(x.1.file.quote.customer.id.clone())
            .or_default()
            .push(x);
    }
    // The products of what no quote claims are named by the rules of the latest acceptance.
    let names = all.last().map(|(_, s)| Matcher::new(&s.cat));
    let report = all.first().map(|(_, s)| MatchReport::new(&s.cat));
    let mut pulled_for: BTreeSet<String> = record
        .pulled_customers(Some(ask.month))?
        .into_iter()
        .collect();
    pulled_for.extend(by_customer.keys().cloned());
    let mut out = Reconciliation {
        month: ask.month.to_string(),
        quotes: Vec::new(),
        report: report.unwrap_or_else(|| MatchReport {
            currency: String::new(),
            minor_units: 2,
            findings: Vec::new(),
            checked: Vec::new(),
            notes: Vec::new(),
        }),
    };
    for customer in pulled_for {
        if ask.customer.is_some_and(|c| c != customer) {
            continue;
        }
        let revs = by_customer.remove(&customer).unwrap_or_default();
        let rows = pulled_inputs(record.pulled(&customer, Some(ask.month))?)
            .map_err(RebuildError::Other)?;
        let done = record.pulls_done(&customer, Some(ask.month))?;
        let mut unclaimed: Option<BTreeSet<(String, String)>> = None;
        let mut aside: BTreeMap<(String, String), Subscription> = BTreeMap::new();
        for (rev, sold) in revs.iter().map(|x| (&x.0, &x.1)) {
            out.quotes
                .push((customer.clone(), rev.quote.clone(), rev.revision));
            if rows.is_empty() && done.is_empty() {
                out.report.notes.push(format!(
                    "{} ({customer}): nothing pulled for {}: run `tenor pull --month {}`",
                    rev.quote, ask.month, ask.month
                ));
                continue;
            }
            let matcher = Matcher::new(&sold.cat);
            let refs = record.pushed_refs(&rev.quote, rev.revision)?;
            let accepted = crate::matching::Accepted {
                quote: &sold.file.quote,
                purchase_orders: &sold.accepted.purchase_orders,
                template: Some(&sold.accepted.template),
                refs: &refs,
            };
            let s = sides(&matcher, &accepted, &rows, &done);
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
            if s.is_empty() {
                continue;
            }
            let report = matcher.run_pulled(
                &sold.file.quote,
                &sold.priced,
                &sold.accepted.purchase_orders,
                Some(&sold.accepted.template),
                &s,
            );
            out.report.merge(report);
        }
        let orphans: Vec<(String, Subscription)> = match unclaimed {
            Some(keys) => keys
                .into_iter()
                .filter_map(|k| aside.remove(&k).map(|x| (k.0, x)))
                .collect(),
            None => live_subscriptions(&rows),
        };
        for (plugin, x) in orphans {
            let sku = names.as_ref().and_then(|m| m.sku_of(&x.part_number));
            out.report
                .findings
                .push(on_no_quote(&customer, &plugin, &x, sku, first));
        }
    }
    Ok(out)
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
    let from = x.start.map_or(first, |s| s.max(first));
    let money = match (x.unit_cost, per, x.end) {
        (Some(cost), Some(per), Some(end)) if end > from => {
            let months = (end.year() - from.year()) * 12 + end.month() as i32 - from.month() as i32
                + i32::from(end.day() > from.day());
            let periods = (months.max(0) + per - 1) / per;
            Some(cost * x.quantity * Decimal::from(periods))
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
