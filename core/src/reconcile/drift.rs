//! The month's drift that no single quote's match sees: a PSA addition billing a licence no
//! distributor holds for the customer; seats the distributor cannot take back that the PSA
//! no longer bills, and a distributor showing a reduction it should have refused (NCE's
//! cancellation window); a renewal billed at another price than the rules in force, and a
//! renewed subscription's cost checked against them. Each is priced as DOMAIN.md's three-way
//! match prices its side (core/MATCH.md, "Reconciliation's own findings").

use super::{charges_left, is_live};
use crate::engine::catalogue::{Billing, Catalogue, Price};
use crate::engine::pricing::{parse_billing, parse_term};
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

/// What a renewal price finding's `expected` says before the renewal's first day (its action
/// is chosen by it).
pub(super) const RENEWAL: &str = "from the renewal on";

/// What a reduction-outside-the-window finding's `expected` says before the day the window
/// closed (its action is chosen by it).
pub(super) const REDUCED: &str = "no reduction after";

/// The first day of the month after `first`'s.
fn next_month(first: NaiveDate) -> NaiveDate {
    crate::engine::calendar::add_months(first, 1).unwrap_or(first)
}

/// The renewal term of a line sold to `end` for `term` months that holds the month starting
/// `first`, once one has begun by that month's end: (its first day, its end).
fn renewal_term(first: NaiveDate, end: NaiveDate, term: u32) -> Option<(NaiveDate, NaiveDate)> {
    let month_end = next_month(first);
    let mut from = end;
    for _ in 0..1200 {
        if from >= month_end {
            return None;
        }
        let to = crate::engine::calendar::add_months(from, i64::from(term))?;
        if to > first {
            return Some((from, to));
        }
        from = to;
    }
    None
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

/// A sold line whose renewal term holds the month.
struct Renewing<'a> {
    /// Its quote's index in the customer's quotes.
    k: usize,
    rev: &'a RevisionInfo,
    l: &'a tenor_plugin_sdk::docs::RecurringLine,
    /// The term, in months.
    term: u32,
    /// The renewal term's first day and end.
    from: NaiveDate,
    to: NaiveDate,
    /// The product, in the rules in force.
    item: usize,
    /// The unit price a billing period the rules in force give it.
    new: Decimal,
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
    /// The customer's rows pulled for the month before (the latest month's of each plugin).
    pub before: Vec<&'a PulledInput>,
    /// The additions each quote's match claimed, by the quote's index in `revs`.
    pub claimed: &'a [(usize, Subscription)],
    /// The rules in force: what a renewal is priced at and what names products.
    pub rules: Option<&'a Matcher<'a>>,
}

/// What `gap` seats of subscription `s` cost from `first` to its end: the charges left (its
/// term started `term_start`), their amount at its unit cost, and its end in words.
fn gap_at_cost(
    s: &Subscription,
    gap: Decimal,
    term_start: NaiveDate,
    first: NaiveDate,
    cat: &Catalogue,
) -> (Option<u32>, Option<Decimal>, String) {
    let charges = s
        .end
        .zip(billing_months(s.billing.as_deref()))
        .map(|(e, per)| charges_left(term_start, e, per, first));
    let amount = s
        .unit_cost
        .zip(charges)
        .and_then(|(c, n)| gap.checked_mul(c)?.checked_mul(Decimal::from(n)))
        .map(|v| money(v, cat));
    let end = s
        .end
        .map(|e| e.to_string())
        .unwrap_or_else(|| "its renewal".into());
    (charges, amount, end)
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

    /// The rules in force.
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
            // The window runs from the current term's start.
            let term_start = Self::term_start(s).unwrap_or(start);
            let Some(closes) = term_start.checked_add_days(chrono::Days::new(u64::from(days)))
            else {
                continue;
            };
            if self.first <= closes {
                continue;
            }
            let Some(gap) = committed.checked_sub(billed) else {
                continue;
            };
            let (charges, amount, end) = gap_at_cost(s, gap, term_start, self.first, cat);
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

    /// A rule's per-unit amount for `months` months, when the offer for the term and billing
    /// gives one flat price (or cost).
    fn offer_rate(
        &self,
        item: usize,
        term: u32,
        billing: Billing,
        cost: bool,
        months: u32,
    ) -> Option<Decimal> {
        let it = self.cat()?.items.get(item)?;
        let o = it
            .offers
            .iter()
            .find(|o| o.term_months == Some(term) && o.billing == billing)?;
        let rate = if cost {
            o.cost?
        } else {
            match &o.price {
                Price::Flat(r) => *r,
                Price::Tiered(_) => return None,
            }
        };
        Some(rate.for_months(months))
    }

    /// Sold lines whose renewal has begun by the month's end that the PSA bills at a unit
    /// price other than the rules in force give the renewal: a price is locked for the term and
    /// a new one applies at the next renewal (DOMAIN.md), so from the renewal the rules in
    /// force are what was sold. The difference over the renewal term: (price in force − price
    /// billed) × quantity × the term's billing periods; more is under-billed, less over-billed.
    /// The sold lines whose renewal term holds the month, with the unit price the rules in
    /// force give each a billing period (flat prices only; metered lines left out).
    fn renewing(&self) -> Vec<Renewing<'a>> {
        let Some(cat) = self.cat() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, x) in self.revs.iter().enumerate() {
            let sold = &x.1;
            for l in &sold.accepted.template.lines {
                if l.usage.is_some() || l.months == 0 {
                    continue;
                }
                let Some(ql) = usize::try_from(l.line)
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|n| sold.file.quote.lines.get(n))
                else {
                    continue;
                };
                let (Ok(Some(term)), Some(Ok(billing))) = (
                    parse_term(&ql.term),
                    ql.billing.as_deref().map(parse_billing),
                ) else {
                    continue;
                };
                let Some((from, to)) = renewal_term(self.first, l.end, term) else {
                    continue;
                };
                let Some(item) = self.item(&l.product) else {
                    continue;
                };
                if let Some(new) = self
                    .offer_rate(item, term, billing, false, l.months)
                    .map(|v| money(v, cat))
                {
                    out.push(Renewing {
                        k,
                        rev: &x.0,
                        l,
                        term,
                        from,
                        to,
                        item,
                        new,
                    });
                }
            }
        }
        out
    }

    /// True for the quote's match's unit-price finding (invoice or PSA side) on a line whose
    /// renewal began by the month's first day, when what is billed is the price the rules in
    /// force give the renewal: the match compares with the accepted price, locked only to the
    /// sold end.
    pub(super) fn billed_at_the_renewal_price(&self, f: &Finding) -> bool {
        let found = f
            .found
            .split_whitespace()
            .next()
            .and_then(|p| p.parse::<Decimal>().ok());
        f.class == Class::UnitPrice
            && matches!(f.side, Side::Invoice | Side::Psa)
            && !f.expected.contains(RENEWAL)
            && self.renewing().iter().any(|r| {
                r.rev.quote == f.quote
                    && Some(r.l.line) == f.line
                    && r.from <= self.first
                    && found == Some(r.new)
            })
    }

    /// Sold lines whose renewal has begun by the month's end that the PSA bills at a unit
    /// price other than the rules in force give the renewal: a price is locked for the term and
    /// a new one applies at the next renewal (DOMAIN.md), so from the renewal the rules in
    /// force are what was sold. The difference over the renewal term: (price in force − price
    /// billed) × quantity × the term's billing periods; more is under-billed, less over-billed.
    // Long: for each renewing line, what the PSA bills it, then the money and the sentence.
    pub(super) fn renewals_at_another_price(&self) -> Vec<Finding> {
        let Some(cat) = self.cat() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for r in self.renewing() {
            let Renewing {
                k,
                rev,
                l,
                term,
                from,
                to,
                item,
                new,
            } = r;
            // The addition of this quote billing the line when the renewal starts, or on the
            // month's first day when later: a fix (or a seat change) cancels the old addition
            // and adds one from a later period.
            let at = from.max(self.first);
            let Some(a) = self
                .claimed
                .iter()
                .filter(|(i, _)| *i == k)
                .map(|(_, a)| a)
                .filter(|a| self.item(&a.part_number) == Some(item))
                .filter(|a| a.end.is_none_or(|e| e > at))
                .find(|a| a.unit_price.is_some_and(|u| u >= Decimal::ZERO))
            else {
                continue;
            };
            let billed = a.unit_price.unwrap_or_default();
            if billed == new {
                continue;
            }
            let periods = Decimal::from(term / l.months.max(1));
            let Some(diff) = new.checked_sub(billed) else {
                continue;
            };
            let amount = diff
                .abs()
                .checked_mul(l.quantity)
                .and_then(|v| v.checked_mul(periods))
                .map(|v| money(v, cat));
            let (direction, effect) = if diff > Decimal::ZERO {
                (Direction::UnderBilled, "never billed")
            } else {
                (
                    Direction::OverBilled,
                    "charged for nothing (a refund is owed)",
                )
            };
            let period = if l.months == 1 { "month" } else { "period" };
            let old = l
                .unit_price
                .map(|u| format!(" (accepted at {})", money(u, cat)))
                .unwrap_or_default();
            out.push(Finding {
                class: Class::UnitPrice,
                side: Side::Psa,
                quote: rev.quote.clone(),
                customer: self.customer.to_string(),
                line: Some(l.line),
                product: l.product.clone(),
                document: a.agreement.clone(),
                expected: format!("{new} a {period} {RENEWAL} {from}"),
                found: format!("{billed} a {period}"),
                money_at_risk: amount,
                kind: Risk::Billing,
                direction: Some(direction),
                explanation: format!(
                    "the line renewed on {from} for {term} months, to {to}, and the rules in force price it at {new} a unit a {period}{old}; the PSA still bills {billed}: {} × {} × {periods} periods = {} {effect}",
                    diff.abs(),
                    l.quantity,
                    amount.map(|m| m.to_string()).unwrap_or_default()
                ),
                counted_with: None,
            });
        }
        out
    }

    /// The match's unit-cost finding on a distributor subscription that has renewed since it
    /// was bought (its current term starts after its first start) is checked against the cost
    /// the rules in force give, not the accepted rules' (the distributor's price changes at
    /// renewal, as the rules' may): the same cost is no finding (`None`); another is priced
    /// over the renewed term, (cost − the rules' cost) × quantity × the term's charges.
    pub(super) fn renewed_cost(&self, f: &Finding) -> Option<Option<Finding>> {
        let cat = self.cat()?;
        let doc = f.document.as_deref()?;
        let (_, s) = self
            .subscriptions()
            .into_iter()
            .find(|(_, s)| s.id == doc)?;
        let term = parse_term(s.term.as_deref()?).ok()??;
        let (start, end) = (s.start?, s.end?);
        let term_start = crate::engine::calendar::add_months(end, -i64::from(term))?;
        if term_start <= start {
            return None;
        }
        let billing = parse_billing(s.billing.as_deref()?).ok()?;
        let per = billing_months(s.billing.as_deref())?;
        let item = self.item(&s.part_number)?;
        let rule = money(
            self.offer_rate(item, term, billing, true, u32::try_from(per).ok()?)?,
            cat,
        );
        let found = s.unit_cost?;
        if found == rule {
            return Some(None);
        }
        let charges = charges_left(term_start, end, per, term_start);
        let diff = found.checked_sub(rule)?.abs();
        let amount = diff
            .checked_mul(s.quantity)?
            .checked_mul(Decimal::from(charges))
            .map(|v| money(v, cat));
        let mut g = f.clone();
        g.expected = format!("{rule} a seat (the rules in force, renewed {term_start})");
        g.found = format!("{} a seat", money(found, cat));
        g.money_at_risk = amount;
        g.explanation = format!(
            "the subscription renewed on {term_start} for {term} months, to {end}, at {} a seat where the rules in force say {rule}: {} × {} × {charges} charges = {} {}",
            money(found, cat),
            diff,
            s.quantity,
            amount.map(|m| m.to_string()).unwrap_or_default(),
            if found > rule {
                "paid above the rules' cost over the renewed term (a margin leak)"
            } else {
                "below the rules' cost (no money at risk beyond it; the rules may be out of date)"
            }
        );
        if found < rule {
            g.money_at_risk = Some(money(Decimal::ZERO, cat));
        }
        Some(Some(g))
    }

    /// The match's commitment-end finding on a distributor subscription that renewed when the
    /// commitment bought ended: its current term starts on or after the end the purchase order
    /// states (`expected`, `ends YYYY-MM-DD`). That is a renewal, as the sold line's own past
    /// its end (the month's invoices bill it as one), not a longer commitment: no finding.
    pub(super) fn renewed_at_its_end(&self, f: &Finding) -> bool {
        let bought_end = f
            .expected
            .strip_prefix("ends ")
            .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
        let Some(doc) = f.document.as_deref() else {
            return false;
        };
        self.subscriptions()
            .into_iter()
            .find(|(_, s)| s.id == doc)
            .and_then(|(_, s)| {
                let term = parse_term(s.term.as_deref()?).ok()??;
                let term_start = crate::engine::calendar::add_months(s.end?, -i64::from(term))?;
                Some(term_start > s.start? && bought_end.is_some_and(|e| term_start >= e))
            })
            .unwrap_or(false)
    }

    /// The first day of a subscription's current term: a commitment before its end (a
    /// renewal moves the end, not the first start), never before its first start.
    fn term_start(s: &Subscription) -> Option<NaiveDate> {
        let start = s.start?;
        Some(
            s.term
                .as_deref()
                .and_then(|t| parse_term(t).ok().flatten())
                .zip(s.end)
                .and_then(|(m, e)| crate::engine::calendar::add_months(e, -i64::from(m)))
                .filter(|d| *d >= start)
                .unwrap_or(start),
        )
    }

    /// Distributor subscriptions holding fewer seats than the month before, after the
    /// product's cancellation window on their current term had closed: NCE refuses such a
    /// reduction, so either the distributor still charges the seats (their cost to the
    /// commitment's end, the amount here) or it let them go and the customer is billed for
    /// seats not provisioned (the match's purchase-order `quantity`, which counts the gap).
    // Long: the subscription before and now, the window, the quote line, then the money and
    // the sentence; one reading per subscription, in the order the rule states it.
    pub(super) fn reductions_outside_the_window(&self) -> Vec<Finding> {
        let Some(cat) = self.cat() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (plugin, s) in self.subscriptions() {
            let Some(was) = self.before.iter().find_map(|r| match &r.item {
                PulledItem::Subscription(x)
                    if x.agreement.is_none() && r.plugin == plugin && x.id == s.id =>
                {
                    Some(x)
                }
                _ => None,
            }) else {
                continue;
            };
            let Some(gap) = was
                .quantity
                .checked_sub(s.quantity)
                .filter(|g| *g > Decimal::ZERO)
            else {
                continue;
            };
            let Some(item) = self.item(&s.part_number) else {
                continue;
            };
            let (Some(it), Some(term_start)) = (cat.items.get(item), Self::term_start(s)) else {
                continue;
            };
            let Some(days) = it.cancel_days else {
                continue;
            };
            let Some(closes) = term_start.checked_add_days(chrono::Days::new(u64::from(days)))
            else {
                continue;
            };
            if self.first <= closes {
                continue;
            }
            let line = self.revs.iter().find_map(|x| {
                x.1.accepted
                    .template
                    .lines
                    .iter()
                    .find(|l| self.item(&l.product) == Some(item))
                    .map(|l| (x.0.quote.clone(), l.line))
            });
            let (charges, amount, end) = gap_at_cost(s, gap, term_start, self.first, cat);
            let explanation = match (amount, charges, s.unit_cost) {
                (Some(m), Some(n), Some(c)) => format!(
                    "{plugin} shows {} {sku} where it held {} last month, but its window to reduce ({days} days from {term_start}) closed on {closes}, and NCE refuses a reduction after it: if {plugin} still charges the {gap} seats to {end}, {gap} × {} × {n} charges = {m} is paid for seats nobody is billed (if the reduction went through, the customer is billed for seats not provisioned instead)",
                    s.quantity,
                    was.quantity,
                    money(c, cat),
                    sku = it.sku,
                ),
                _ => format!(
                    "{plugin} shows {} {sku} where it held {} last month, after its window to reduce closed on {closes} (NCE refuses the reduction); its cost or billing is not stated, so the amount is unknown",
                    s.quantity,
                    was.quantity,
                    sku = it.sku,
                ),
            };
            out.push(Finding {
                class: Class::Quantity,
                side: Side::PurchaseOrder,
                quote: line.as_ref().map(|l| l.0.clone()).unwrap_or_default(),
                customer: self.customer.to_string(),
                line: line.map(|l| l.1),
                product: it.sku.to_string(),
                document: Some(format!("{plugin} subscription {}", s.id)),
                expected: format!("{} seats to {end} ({REDUCED} {closes})", was.quantity),
                found: format!("{} seats", s.quantity),
                money_at_risk: amount,
                kind: Risk::Commitment,
                direction: None,
                explanation,
                counted_with: None,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn a_renewal_term_holds_the_month_once_it_has_begun() {
        let end = day("2027-12-01");
        // Mid-term: no renewal yet.
        assert_eq!(renewal_term(day("2027-11-01"), end, 12), None);
        // The month it begins, and a month of it.
        let first = Some((day("2027-12-01"), day("2028-12-01")));
        assert_eq!(renewal_term(day("2027-12-01"), end, 12), first);
        assert_eq!(renewal_term(day("2028-11-01"), end, 12), first);
        // The next one.
        assert_eq!(
            renewal_term(day("2028-12-01"), end, 12),
            Some((day("2028-12-01"), day("2029-12-01")))
        );
        // Beginning mid-month, it holds that month.
        assert_eq!(
            renewal_term(day("2027-12-01"), day("2027-12-15"), 12),
            Some((day("2027-12-15"), day("2028-12-15")))
        );
        // A month-to-month line renews every month.
        assert_eq!(
            renewal_term(day("2027-03-01"), day("2027-01-01"), 1),
            Some((day("2027-03-01"), day("2027-04-01")))
        );
    }

    fn sub(start: &str, end: Option<&str>, term: Option<&str>) -> Subscription {
        Subscription {
            start: Some(day(start)),
            end: end.map(day),
            term: term.map(str::to_string),
            ..Subscription::default()
        }
    }

    #[test]
    fn a_current_term_starts_a_commitment_before_its_end() {
        // Renewed once: the term from 2027-12-07.
        let s = sub("2026-12-07", Some("2028-12-07"), Some("P1Y"));
        assert_eq!(CustomerMonth::term_start(&s), Some(day("2027-12-07")));
        // The first term.
        let s = sub("2026-12-07", Some("2027-12-07"), Some("P1Y"));
        assert_eq!(CustomerMonth::term_start(&s), Some(day("2026-12-07")));
        // Co-termed short, no term stated, a nonsense term: the first start.
        for s in [
            sub("2026-12-07", Some("2027-07-01"), Some("P1Y")),
            sub("2026-12-07", Some("2027-12-07"), None),
            sub("2026-12-07", Some("2027-12-07"), Some("P0Y")),
        ] {
            assert_eq!(CustomerMonth::term_start(&s), Some(day("2026-12-07")));
        }
    }
}
