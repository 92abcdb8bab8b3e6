//! The month's drift that no single quote's match sees: a PSA addition billing a licence no
//! distributor holds for the customer, seats the distributor cannot take back that the PSA
//! no longer bills (NCE's cancellation window), and a renewal billed at the old price where the
//! rules in force carry a new one. Each is priced as DOMAIN.md's three-way match prices its
//! side (core/MATCH.md, "Reconciliation's own findings").

use super::{charges_left, is_live};
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::parse_term;
use crate::matching::{Class, Direction, Finding, Matcher, PulledInput, PulledItem, Risk, Side};
use crate::record::RevisionInfo;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use tenor_plugin_sdk::exchange::Subscription;

use super::recorded::Sold;

/// How an addition with no subscription's `expected` starts (its action is chosen by it).
pub(super) const NO_SUBSCRIPTION: &str = "a distributor subscription";

/// What a committed-seats finding's `expected` says after the seat count (its action is chosen
/// by it).
pub(super) const COMMITTED: &str = "seats committed at";

/// The first day of the month after `first`'s.
fn next_month(first: NaiveDate) -> NaiveDate {
    crate::engine::calendar::add_months(first, 1).unwrap_or(first)
}

/// How many months a distributor's billing word bills at a time.
fn billing_months(billing: Option<&str>) -> Option<i64> {
    match billing? {
        "monthly" => Some(1),
        "quarterly" => Some(3),
        "annual" => Some(12),
        _ => None,
    }
}

/// One customer's month, as the checks here read it.
pub(super) struct CustomerMonth<'a> {
    /// The customer's id.
    pub customer: &'a str,
    /// The month's first day.
    pub first: NaiveDate,
    /// The customer's rows pulled for the month (the latest month's of each plugin).
    pub rows: Vec<&'a PulledInput>,
    /// The customer's accepted quotes at their latest revision.
    pub revs: &'a [&'a (RevisionInfo, Sold)],
    /// The additions each quote's match claimed, by the quote's index in `revs`.
    pub claimed: &'a [(usize, Subscription)],
    /// The rules in force: what a renewal is priced at and what names products.
    pub rules: Option<&'a Matcher<'a>>,
}

/// Rounds once, in the rule set's mode, to its minor units (kept at that scale: `90.00`).
fn money(v: Decimal, cat: &Catalogue) -> Decimal {
    let minor = cat.minor_units;
    let mut m = v.round_dp_with_strategy(minor, cat.rounding);
    if m.scale() < minor {
        m.rescale(minor);
    }
    m
}

impl<'a> CustomerMonth<'a> {
    /// PSA additions still billing on or after the month's first day (discount additions,
    /// negative, left out: they bill nothing of their own).
    fn additions(&self) -> Vec<&'a Subscription> {
        self.rows
            .iter()
            .filter_map(|r| match &r.item {
                PulledItem::Subscription(s) if s.agreement.is_some() => Some(s),
                _ => None,
            })
            .filter(|s| s.start.zip(s.end).is_none_or(|(a, e)| e > a))
            .filter(|s| s.end.is_none_or(|e| e > self.first))
            .filter(|s| s.unit_price.is_none_or(|u| u >= Decimal::ZERO))
            .collect()
    }

    /// Distributor subscriptions live on or after the month's first day.
    fn subscriptions(&self) -> Vec<(&'a str, &'a Subscription)> {
        self.rows
            .iter()
            .filter_map(|r| match &r.item {
                PulledItem::Subscription(s) if s.agreement.is_none() && is_live(&s.status) => {
                    Some((r.plugin.as_str(), s))
                }
                _ => None,
            })
            .filter(|(_, s)| s.end.is_none_or(|e| e > self.first))
            .collect()
    }

    /// The catalogue item a part names, in the rules in force.
    fn item(&self, part: &str) -> Option<usize> {
        self.rules.and_then(|m| m.product_of(part))
    }

    fn cat(&self) -> Option<&'a Catalogue> {
        self.rules.map(|m| m.catalogue())
    }

    /// True when an accepted quote of the customer sells the item (a line or its template).
    fn sold(&self, item: usize) -> bool {
        self.revs.iter().any(|x| {
            let s = &x.1;
            s.file
                .quote
                .lines
                .iter()
                .any(|l| self.item(&l.product) == Some(item))
                || s.accepted
                    .template
                    .lines
                    .iter()
                    .any(|l| self.item(&l.product) == Some(item))
        })
    }

    /// PSA additions for a licence no distributor holds for the customer, of a product no
    /// accepted quote of the customer sells (a product a quote sells is the three-way match's:
    /// nothing bought for it is its purchase-order `missing_line`). The customer pays for a
    /// licence nobody bought: over-billed, from the month on, to the addition's end (its
    /// cancelled date, else the end of the quote's agreement it sits on).
    // Long: the addition's product, what holds or sells it, its end, then its amount and its
    // sentence, read in that order; split, each piece would need the others' values.
    pub(super) fn additions_with_no_subscription(&self) -> Vec<Finding> {
        let Some(cat) = self.cat() else {
            return Vec::new();
        };
        let held: Vec<usize> = self
            .subscriptions()
            .iter()
            .filter_map(|(_, s)| self.item(&s.part_number))
            .collect();
        let mut out = Vec::new();
        for a in self.additions() {
            let Some(item) = self.item(&a.part_number) else {
                continue;
            };
            let Some(it) = cat.items.get(item) else {
                continue;
            };
            // Only a licence bought through a distributor has a subscription to look for.
            if !it.bought || it.parts.is_empty() || held.contains(&item) || self.sold(item) {
                continue;
            }
            let quote = self
                .claimed
                .iter()
                .find(|(_, c)| c.agreement == a.agreement && c.id == a.id)
                .and_then(|(i, _)| self.revs.get(*i));
            // The agreement a quote's push made ends where the quote's recurring lines end.
            let agreement_end =
                quote.and_then(|x| x.1.accepted.template.lines.iter().map(|l| l.end).max());
            let end = a.end.or(agreement_end);
            let from = a.start.map_or(self.first, |s| s.max(self.first));
            let start_month = from.with_day(1).unwrap_or(from);
            let months = end.map(|e| charges_left(start_month, e, 1, from));
            let per = a.unit_price.and_then(|u| u.checked_mul(a.quantity));
            let amount = per
                .zip(months)
                .and_then(|(p, n)| p.checked_mul(Decimal::from(n)))
                .map(|v| money(v, cat));
            let agreement = a.agreement.clone().unwrap_or_default();
            let what = format!(
                "{} × {} at {} a month",
                a.quantity,
                a.part_number,
                a.unit_price
                    .map(|u| money(u, cat).to_string())
                    .unwrap_or_else(|| "an unstated price".into())
            );
            let explanation = match (amount, end, months) {
                (Some(m), Some(e), Some(n)) => format!(
                    "the PSA's agreement {agreement} bills {what} for {}, and no distributor holds a {} subscription for it: {} × {} a unit × {n} monthly charges from {from} to {e} = {m} billed for a licence nobody bought (a refund is owed), unless it was bought outside the linked distributor account",
                    self.customer,
                    it.sku,
                    a.quantity,
                    a.unit_price.map(|u| money(u, cat)).unwrap_or_default(),
                ),
                _ => format!(
                    "the PSA's agreement {agreement} bills {what} for {}, and no distributor holds a {} subscription for it: how long it bills (its agreement's end) is not known, so the amount is unknown",
                    self.customer, it.sku
                ),
            };
            out.push(Finding {
                class: Class::ExtraLine,
                side: Side::Psa,
                quote: quote.map(|x| x.0.quote.clone()).unwrap_or_default(),
                customer: self.customer.to_string(),
                line: None,
                product: it.sku.to_string(),
                document: Some(agreement),
                expected: format!("{NO_SUBSCRIPTION} for {}", it.sku),
                found: format!("addition {} ({what}), no subscription", a.id),
                money_at_risk: amount,
                kind: Risk::Billing,
                direction: Some(Direction::OverBilled),
                explanation,
                counted_with: None,
            });
        }
        out
    }

    /// Seats a distributor holds, within what was sold, that the PSA no longer bills, once
    /// the product's cancellation window (`cancel within N days`, NCE's 7) has closed on the
    /// subscription's current term: the distributor cannot take them back until it renews, so
    /// the MSP pays them at cost to the commitment's end and bills nobody for them. A
    /// cancelled addition is not a reduction (it is the match's `missing_line`), nor are seats
    /// bought beyond the sale (the match's `quantity`).
    // Long: sold, held and billed seats, then the window, then the money and the sentence:
    // one reading of the customer's month per product, in the order the rule states it.
    pub(super) fn seats_committed_not_billed(&self) -> Vec<Finding> {
        let Some(cat) = self.cat() else {
            return Vec::new();
        };
        let additions = self.additions();
        let month_end = next_month(self.first);
        let mut seen: Vec<usize> = Vec::new();
        let mut out = Vec::new();
        for (plugin, s) in self.subscriptions() {
            let Some(item) = self.item(&s.part_number) else {
                continue;
            };
            let (Some(it), Some(days), Some(start)) = (
                cat.items.get(item),
                cat.items.get(item).and_then(|i| i.cancel_days),
                s.start,
            ) else {
                continue;
            };
            if seen.contains(&item) {
                continue;
            }
            seen.push(item);
            let lines: Vec<(&RevisionInfo, &tenor_plugin_sdk::docs::RecurringLine)> = self
                .revs
                .iter()
                .flat_map(|x| {
                    x.1.accepted
                        .template
                        .lines
                        .iter()
                        .filter(|l| l.start < month_end && l.end > self.first)
                        .map(move |l| (&x.0, l))
                })
                .filter(|(_, l)| self.item(&l.product) == Some(item))
                .collect();
            let Some((rev, line)) = lines.first() else {
                continue;
            };
            let sold: Decimal = lines.iter().map(|(_, l)| l.quantity).sum();
            let held: Decimal = self
                .subscriptions()
                .iter()
                .filter(|(p, x)| *p == plugin && self.item(&x.part_number) == Some(item))
                .map(|(_, x)| x.quantity)
                .sum();
            let billed: Decimal = additions
                .iter()
                .filter(|a| self.item(&a.part_number) == Some(item))
                .filter(|a| a.start.is_none_or(|d| d < month_end))
                .map(|a| a.quantity)
                .sum();
            let committed = sold.min(held);
            if billed.is_zero() || billed >= committed {
                continue;
            }
            // The current term starts a commitment before its end (a renewal moves the end,
            // not the first start), and the window runs from there.
            let term_start = s
                .term
                .as_deref()
                .and_then(|t| parse_term(t).ok().flatten())
                .zip(s.end)
                .and_then(|(m, e)| crate::engine::calendar::add_months(e, -i64::from(m)))
                .filter(|d| *d >= start)
                .unwrap_or(start);
            let closes = term_start + chrono::Days::new(u64::from(days));
            if self.first <= closes {
                continue;
            }
            let gap = committed - billed;
            let charges = s
                .end
                .zip(billing_months(s.billing.as_deref()))
                .map(|(e, per)| charges_left(term_start, e, per, self.first));
            let amount = s
                .unit_cost
                .zip(charges)
                .and_then(|(c, n)| gap.checked_mul(c)?.checked_mul(Decimal::from(n)))
                .map(|v| money(v, cat));
            let end = s
                .end
                .map(|e| e.to_string())
                .unwrap_or_else(|| "its renewal".into());
            let explanation = match (amount, charges, s.unit_cost) {
                (Some(m), Some(n), Some(c)) => format!(
                    "the PSA bills {billed} {sku} where {committed} were sold and {plugin} holds {held}; its window to reduce ({days} days from {term_start}) closed on {closes}, so the {gap} seats run to {end}: {gap} × {} × {n} charges = {m} paid at cost and billed to nobody (unless the customer is billed them again to the renewal)",
                    money(c, cat),
                    sku = it.sku,
                ),
                _ => format!(
                    "the PSA bills {billed} {sku} where {committed} were sold and {plugin} holds {held}; its window to reduce closed on {closes}, so the {gap} seats run to {end}; their cost or billing is not stated, so the amount is unknown",
                    sku = it.sku,
                ),
            };
            out.push(Finding {
                class: Class::Quantity,
                side: Side::PurchaseOrder,
                quote: rev.quote.clone(),
                customer: self.customer.to_string(),
                line: Some(line.line),
                product: it.sku.to_string(),
                document: Some(format!("{plugin} subscription {}", s.id)),
                expected: format!("{committed} {COMMITTED} {plugin} to {end}"),
                found: format!("{billed} billed in the PSA"),
                money_at_risk: amount,
                kind: Risk::Cost,
                direction: None,
                explanation,
                counted_with: None,
            });
        }
        out
    }
}
