//! The PSA side: the recurring template's lines (what the PSA was told to bill) against the
//! agreement additions the PSA holds. Each difference is priced as the billing class of
//! DOMAIN.md over the committed term: a missing addition never bills the line's commitment,
//! a quantity or unit price off bills the commitment at another figure, an addition effective
//! later than the sold start bills a shorter stub, one cancelled before the commitment's end
//! never bills the charges after it. Dated discounts are additions of their own (a negative
//! unit price with a cancelled date), matched against the template's discount steps.

use super::pairing::{Paired, pair_stage, part_key};
use super::risk::{contract_value, dec, md, months_between, quantity_effect};
use super::words::unit_text;
use super::{At, Check, Checked, Class, Direction, Money, Risk, Run, Side, Sold};
use crate::engine::pricing::ChargeKind;
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use tenor_plugin_sdk::docs::{RecurringLine, RecurringTemplate, TemplateDiscount, Timing};
use tenor_plugin_sdk::exchange::Subscription;

/// A template line expected as an addition.
struct Want<'a> {
    l: &'a RecurringLine,
    item: Option<usize>,
}

/// A template discount step expected as an addition.
struct Step<'a> {
    l: &'a RecurringLine,
    d: &'a TemplateDiscount,
    item: Option<usize>,
}

/// An addition read back.
struct Held<'a> {
    a: &'a Subscription,
    item: Option<usize>,
    /// The quote line a push stored it for.
    line: Option<u32>,
    /// What it bills a period: quantity × unit price.
    amount: Option<Decimal>,
}

/// The template and the additions for [`Run::psa`].
pub(super) struct PsaInput<'a> {
    pub(super) template: &'a RecurringTemplate,
    pub(super) additions: &'a [Subscription],
    /// The quote line each addition was pushed for, by `agreement/addition` key.
    pub(super) lines: &'a BTreeMap<String, u32>,
    /// The first day the invoices pulled cover, if any: successive additions of a line are
    /// matched at the figures in force then ([`super::chain`]).
    pub(super) from: Option<chrono::NaiveDate>,
}

impl Run<'_> {
    /// Pairs the template's lines and discount steps with the additions and reports every
    /// difference, missing addition and extra addition.
    pub(super) fn psa(&mut self, input: &PsaInput<'_>, checked: &mut Checked) {
        let psa_items = self.psa_items();
        let item_of = |part: &str| {
            psa_items
                .get(&part_key(part))
                .copied()
                .or_else(|| self.m.product_of(part))
        };
        let want: Vec<Want> = input
            .template
            .lines
            .iter()
            .map(|l| Want {
                l,
                item: self.m.product_of(&l.product),
            })
            .collect();
        let steps: Vec<Step> = want
            .iter()
            .flat_map(|w| {
                w.l.discounts.iter().map(move |d| Step {
                    l: w.l,
                    d,
                    item: w.item,
                })
            })
            .collect();
        // An addition cancelled before it takes effect never bills: it is no addition.
        let billing: Vec<Subscription> = input
            .additions
            .iter()
            .filter(|a| a.start.zip(a.end).is_none_or(|(s, e)| e > s))
            .cloned()
            .collect();
        let chained = super::chain::chained(&billing, input.lines, input.from);
        let held: Vec<Held> = chained
            .iter()
            .map(|a| Held {
                a,
                item: item_of(&a.part_number),
                line: input.lines.get(&super::pulled::addition_key(a)).copied(),
                amount: a.unit_price.and_then(|u| u.checked_mul(a.quantity)),
            })
            .collect();
        checked.template_lines = Some(want.len());
        checked.additions = Some(held.len());
        let (regular, discounts): (Vec<&Held>, Vec<&Held>) = held
            .iter()
            .partition(|h| h.amount.is_none_or(|a| a >= Decimal::ZERO));
        let paired = pair_additions(&want, &regular);
        for (i, j) in &paired.pairs {
            if let (Some(w), Some(h)) = (want.get(*i), regular.get(*j)) {
                self.compare_addition(w, h);
            }
        }
        for (w, free) in want.iter().zip(&paired.left_free) {
            if *free {
                self.missing_addition(w);
            }
        }
        for (h, free) in regular.iter().zip(&paired.right_free) {
            if *free || h.item.is_none() {
                self.extra_addition(h, false);
            }
        }
        self.psa_discounts(&steps, &discounts);
    }

    /// The rules' PSA catalogue items, by part key.
    fn psa_items(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for (i, it) in self.cat.items.iter().enumerate() {
            if let Some(c) = &it.catalog_item {
                out.entry(part_key(c)).or_insert(i);
            }
        }
        out
    }

    /// The discount steps against the discount additions: by product and first day, then by
    /// product and amount.
    fn psa_discounts(&mut self, steps: &[Step], held: &[&Held]) {
        let mut sf = vec![true; steps.len()];
        let mut hf: Vec<bool> = held.iter().map(|h| h.item.is_some()).collect();
        let mut pairs = Vec::new();
        let s = |i: usize| steps.get(i);
        let h = |j: usize| held.get(j);
        pair_stage(
            &mut sf,
            &mut hf,
            |i| s(i).and_then(|x| Some((x.item?, x.d.effective))),
            |j| h(j).and_then(|x| Some((x.item?, x.a.start?))),
            &mut pairs,
        );
        pair_stage(
            &mut sf,
            &mut hf,
            |i| s(i).and_then(|x| Some((x.item?, x.d.amount))),
            |j| h(j).and_then(|x| Some((x.item?, x.amount?))),
            &mut pairs,
        );
        for (i, j) in pairs {
            if let (Some(x), Some(y)) = (steps.get(i), held.get(j)) {
                self.compare_discount(x, y);
            }
        }
        for (x, free) in steps.iter().zip(&sf) {
            if *free {
                self.missing_discount(x);
            }
        }
        for (y, free) in held.iter().zip(&hf) {
            if *free {
                self.extra_addition(y, true);
            }
        }
    }

    /// The sold line a template line bills.
    fn sold_of(&self, l: &RecurringLine) -> Option<&Sold<'_>> {
        self.sold_for_line(l.line).and_then(|k| self.sold.get(k))
    }

    /// Where a finding about a template line is.
    fn psa_at<'p>(l: &'p RecurringLine, h: Option<&'p Held>) -> At<'p> {
        At {
            side: Side::Psa,
            line: Some(l.line),
            product: &l.product,
            document: h.map(|h| h.a.agreement.as_deref().unwrap_or(&h.a.id)),
        }
    }

    /// A template line the PSA holds no addition for: its commitment is never billed.
    fn missing_addition(&mut self, w: &Want) {
        let l = w.l;
        let (money, why) = match self.sold_of(l) {
            Some(s) => {
                let cv = contract_value(s.pl);
                (
                    Money::Known(cv, Some(Direction::UnderBilled)),
                    format!(
                        "the PSA holds no addition for it: the {} the commitment bills ({} × {} a {}, {} to {}) is never billed",
                        self.money(cv),
                        l.quantity,
                        l.unit_price.map(|u| unit_text(u, self.cat.minor_units)).unwrap_or_else(|| unit_text(l.amount, self.cat.minor_units)),
                        period_noun(l.months),
                        l.start,
                        l.end
                    ),
                )
            }
            None => (
                Money::Unknown,
                "the PSA holds no addition for it, and its quote line was not priced: amount unknown".into(),
            ),
        };
        let check = Check {
            class: Class::MissingLine,
            expected: format!(
                "{} × {}, {}, from {}",
                l.product, l.quantity, l.frequency, l.start
            ),
            found: "no addition".into(),
            kind: Risk::Billing,
            money,
            why,
        };
        self.push(&Self::psa_at(l, None), check);
    }

    /// An addition the template does not hold: billed for nothing sold (or, for a discount,
    /// taken off for nothing).
    fn extra_addition(&mut self, h: &Held, discount: bool) {
        let a = h.a;
        let product = h
            .item
            .and_then(|i| self.cat.items.get(i))
            .map(|it| it.sku.to_string())
            .unwrap_or_else(|| a.part_number.clone());
        let per = h
            .amount
            .map(|v| self.money(v))
            .unwrap_or_else(|| "an unstated amount".into());
        let (money, why) = match (discount, h.amount, a.start, a.end) {
            (true, Some(v), Some(s), Some(e)) => {
                let months = months_between(s, e);
                // A dated discount bills once a month at most: its amount over its months.
                let lost = md(&[v, months], &[]).map(|x| x.abs());
                match lost {
                    Some(x) => (
                        Money::Known(x, Some(Direction::UnderBilled)),
                        format!(
                            "a discount addition the template does not hold: {per} taken off each charge from {s} to {e}, up to {} never billed",
                            self.money(x)
                        ),
                    ),
                    None => (Money::Unknown, "amount unknown".into()),
                }
            }
            (true, _, _, _) => (
                Money::Unknown,
                format!(
                    "a discount addition the template does not hold ({per} a charge), with no end date: amount unknown"
                ),
            ),
            (false, _, _, _) => (
                Money::Unknown,
                format!(
                    "an addition the template does not hold: {per} a period billed for nothing sold (a refund is owed); the total depends on how long the PSA bills it, so it is unknown"
                ),
            ),
        };
        let at = At {
            side: Side::Psa,
            line: h.line,
            product: &product,
            document: Some(a.agreement.as_deref().unwrap_or(&a.id)),
        };
        let check = Check {
            class: Class::ExtraLine,
            expected: "not in the recurring template".into(),
            found: format!(
                "{} × {}{}",
                a.part_number,
                a.quantity,
                a.start.map(|d| format!(" from {d}")).unwrap_or_default()
            ),
            kind: Risk::Billing,
            money,
            why,
        };
        self.push(&at, check);
    }

    /// Compares an addition with the template line it bills: one finding per difference.
    fn compare_addition(&mut self, w: &Want, h: &Held) {
        let l = w.l;
        let mut found: Vec<Check> = Vec::new();
        let metered = l.usage.is_some();
        if !metered && h.amount != Some(l.amount) {
            let (quantity, valued_at) = self.addition_quantity(l, h);
            found.extend(quantity);
            found.extend(self.addition_price(l, h, valued_at));
        }
        found.extend(self.addition_start(l, h));
        found.extend(self.addition_end(l, h));
        let at = Self::psa_at(l, Some(h));
        for c in found {
            self.push(&at, c);
        }
    }

    /// Quantity: the commitment carried at the addition's quantity; also what the commitment
    /// is worth at it, for the unit price check.
    fn addition_quantity(&self, l: &RecurringLine, h: &Held) -> (Option<Check>, Option<Decimal>) {
        let q = h.a.quantity;
        if q == l.quantity {
            return (None, None);
        }
        let mut valued_at = None;
        let (money, why) = match self.sold_of(l).and_then(|s| {
            let cv = contract_value(s.pl);
            self.quantity_money(s, q).map(|m| (m, cv))
        }) {
            Some(((d, how), cv)) => {
                valued_at = cv.checked_sub(d);
                let (dir, effect) = quantity_effect(d);
                (
                    Money::Known(d, Some(dir)),
                    format!(
                        "the PSA bills {q} units where {} were sold: {how}, so {} {effect}",
                        l.quantity,
                        self.money(d)
                    ),
                )
            }
            None => (Money::Unknown, "amount unknown".into()),
        };
        let check = Check {
            class: Class::Quantity,
            expected: l.quantity.to_string(),
            found: q.to_string(),
            kind: Risk::Billing,
            money,
            why,
        };
        (Some(check), valued_at)
    }

    /// Unit price against the template's, carried over the commitment (at the addition's
    /// quantity when that differs too).
    fn addition_price(
        &self,
        l: &RecurringLine,
        h: &Held,
        valued_at: Option<Decimal>,
    ) -> Option<Check> {
        let found = h.a.unit_price?;
        let expected = l.unit_price.or_else(|| {
            (!l.quantity.is_zero())
                .then(|| md(&[l.amount], &[l.quantity]))
                .flatten()
        })?;
        // A line the connector lumped (one unit at the period's amount) agrees in total.
        if found == expected || (h.a.quantity == Decimal::ONE && found == l.amount) {
            return None;
        }
        let minor = self.cat.minor_units;
        let sold = self.sold_of(l);
        let base = valued_at.or_else(|| sold.map(|s| contract_value(s.pl)));
        let diff = found.checked_sub(expected)?;
        let (money, why) = match base.and_then(|b| md(&[b, diff], &[expected])) {
            Some(d) if !expected.is_zero() => {
                let (dir, effect) = if d < Decimal::ZERO {
                    (Direction::UnderBilled, "never billed")
                } else {
                    (
                        Direction::OverBilled,
                        "charged for nothing (a refund is owed)",
                    )
                };
                (
                    Money::Known(d, Some(dir)),
                    format!(
                        "the PSA bills {} a unit a {} where {} was sold: carried over the commitment ({} at the sold price) {} is {effect}",
                        unit_text(found, minor),
                        period_noun(l.months),
                        unit_text(expected, minor),
                        self.money(base.unwrap_or_default()),
                        self.money(d)
                    ),
                )
            }
            _ => (Money::Unknown, "amount unknown".into()),
        };
        Some(Check {
            class: Class::UnitPrice,
            expected: format!("{} a {}", unit_text(expected, minor), period_noun(l.months)),
            found: format!("{} a {}", unit_text(found, minor), period_noun(l.months)),
            kind: Risk::Billing,
            money,
            why,
        })
    }

    /// Effective date against the sold start, for a line billed in advance (a metered line's
    /// addition starts when the PSA's cycle first bills it in arrears, which it decides).
    fn addition_start(&self, l: &RecurringLine, h: &Held) -> Option<Check> {
        if l.timing == Timing::Arrears {
            return None;
        }
        let found = h.a.start.filter(|d| *d != l.start)?;
        let sold_start = l.start;
        Some(self.start_check(
            self.sold_of(l),
            sold_start,
            found,
            Direction::UnderBilled,
            |later, m| {
                if later {
                    format!("the PSA bills from {found}, later than sold from {sold_start}: {m} is never billed")
                } else {
                    format!("the PSA bills from {found}, before the sold start {sold_start}: {m} over-billed")
                }
            },
            "the quote line cannot be priced from the PSA's date, so the amount is unknown",
        ))
    }

    /// Cancelled date against the commitment's end: charges after a cancellation are never
    /// billed; billing past the end charges for months not sold.
    fn addition_end(&self, l: &RecurringLine, h: &Held) -> Option<Check> {
        let e = h.a.end.filter(|e| *e != l.end)?;
        let (money, why) = if e < l.end {
            match self.sold_of(l) {
                Some(s) => {
                    let lost: Decimal =
                        s.pl.charges
                            .iter()
                            .filter(|c| c.period_start >= e)
                            .map(|c| c.amount)
                            .sum();
                    (
                        Money::Known(lost, Some(Direction::UnderBilled)),
                        format!(
                            "the PSA's addition is cancelled from {e}, before the commitment ends {}: the {} billed from {e} on is never billed",
                            l.end,
                            self.money(lost)
                        ),
                    )
                }
                None => (Money::Unknown, "amount unknown".into()),
            }
        } else {
            let per = h.amount.unwrap_or(l.amount);
            match md(&[per, months_between(l.end, e)], &[dec(l.months.max(1))]) {
                Some(v) => (
                    Money::Known(v, Some(Direction::OverBilled)),
                    format!(
                        "the PSA bills to {e}, past the commitment's end {}: {} billed for months not sold (a refund is owed)",
                        l.end,
                        self.money(v)
                    ),
                ),
                None => (Money::Unknown, "amount unknown".into()),
            }
        };
        Some(Check {
            class: Class::CotermDate,
            expected: format!("ends {}", l.end),
            found: format!("ends {e}"),
            kind: Risk::Billing,
            money,
            why,
        })
    }

    /// A discount step the PSA does not hold: the customer is charged the discounted amount
    /// in full, a refund owed.
    fn missing_discount(&mut self, x: &Step) {
        let (l, d) = (x.l, x.d);
        let taken: Option<Decimal> = self.sold_of(l).map(|s| {
            s.pl.charges
                .iter()
                .filter(|c| {
                    c.kind == ChargeKind::Discount
                        && c.period_start >= d.effective
                        && c.period_start < d.end
                })
                .map(|c| c.amount.abs())
                .sum()
        });
        let (money, why) = match taken {
            Some(v) => (
                Money::Known(v, Some(Direction::OverBilled)),
                format!(
                    "the PSA holds no addition for discount `{}` ({} a charge, {} to {}): the customer is charged {} that the quote took off (a refund is owed)",
                    d.rule,
                    unit_text(d.amount, self.cat.minor_units),
                    d.effective,
                    d.end,
                    self.money(v)
                ),
            ),
            None => (Money::Unknown, "amount unknown".into()),
        };
        let check = Check {
            class: Class::MissingLine,
            expected: format!(
                "discount `{}` {} a charge, {} to {}",
                d.rule,
                unit_text(d.amount, self.cat.minor_units),
                d.effective,
                d.end
            ),
            found: "no addition".into(),
            kind: Risk::Billing,
            money,
            why,
        };
        self.push(&Self::psa_at(l, None), check);
    }

    /// A discount addition against its template step: the amount and the dates.
    fn compare_discount(&mut self, x: &Step, y: &Held) {
        let (l, d) = (x.l, x.d);
        let same_amount = y.amount == Some(d.amount);
        let same_days = y.a.start == Some(d.effective) && y.a.end == Some(d.end);
        if same_amount && same_days {
            return;
        }
        let found_amount = y.amount.unwrap_or_default();
        let months = months_between(d.effective, d.end);
        // Per charge, over the step's months (a dated discount is a monthly step at most).
        let diff = found_amount
            .checked_sub(d.amount)
            .and_then(|v| md(&[v, months], &[]));
        let (money, why) = match (same_amount, diff) {
            (false, Some(v)) => (
                Money::Known(
                    v,
                    Some(if v > Decimal::ZERO {
                        Direction::OverBilled
                    } else {
                        Direction::UnderBilled
                    }),
                ),
                format!(
                    "the PSA takes {} a charge off where the quote takes {} ({} to {}): {} over the step",
                    unit_text(found_amount, self.cat.minor_units),
                    unit_text(d.amount, self.cat.minor_units),
                    d.effective,
                    d.end,
                    self.money(v)
                ),
            ),
            _ => (
                Money::Unknown,
                format!(
                    "the PSA's discount runs {} to {}, the quote's {} to {}: what it takes off depends on the charges in between, so the amount is unknown",
                    y.a.start
                        .map(|d| d.to_string())
                        .unwrap_or_else(|| "?".into()),
                    y.a.end.map(|d| d.to_string()).unwrap_or_else(|| "?".into()),
                    d.effective,
                    d.end
                ),
            ),
        };
        let check = Check {
            class: Class::Amount,
            expected: format!(
                "discount {} a charge, {} to {}",
                unit_text(d.amount, self.cat.minor_units),
                d.effective,
                d.end
            ),
            found: format!(
                "discount {} a charge, {} to {}",
                unit_text(found_amount, self.cat.minor_units),
                y.a.start
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "?".into()),
                y.a.end.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
            ),
            kind: Risk::Billing,
            money,
            why,
        };
        self.push(&Self::psa_at(l, Some(y)), check);
    }
}

/// A billing period in words.
fn period_noun(months: u32) -> String {
    match months {
        1 => "month".into(),
        3 => "quarter".into(),
        12 => "year".into(),
        m => format!("{m}-month period"),
    }
}

/// Pairs template lines with additions: the line a push stored the addition for first, then
/// product, quantity and start, product and start, product and quantity, the product alone.
fn pair_additions(want: &[Want], held: &[&Held]) -> Paired {
    let mut wf = vec![true; want.len()];
    let mut hf: Vec<bool> = held.iter().map(|h| h.item.is_some()).collect();
    let mut pairs = Vec::new();
    let w = |i: usize| want.get(i);
    let h = |j: usize| held.get(j);
    pair_stage(
        &mut wf,
        &mut hf,
        |i| w(i).and_then(|x| Some((x.item?, x.l.line))),
        |j| h(j).and_then(|x| Some((x.item?, x.line?))),
        &mut pairs,
    );
    pair_stage(
        &mut wf,
        &mut hf,
        |i| w(i).and_then(|x| Some((x.item?, x.l.quantity, x.l.start))),
        |j| h(j).and_then(|x| Some((x.item?, x.a.quantity, x.a.start?))),
        &mut pairs,
    );
    pair_stage(
        &mut wf,
        &mut hf,
        |i| w(i).and_then(|x| Some((x.item?, x.l.start))),
        |j| h(j).and_then(|x| Some((x.item?, x.a.start?))),
        &mut pairs,
    );
    pair_stage(
        &mut wf,
        &mut hf,
        |i| w(i).and_then(|x| Some((x.item?, x.l.quantity))),
        |j| h(j).and_then(|x| Some((x.item?, x.a.quantity))),
        &mut pairs,
    );
    pair_stage(
        &mut wf,
        &mut hf,
        |i| w(i).and_then(|x| x.item),
        |j| h(j).and_then(|x| x.item),
        &mut pairs,
    );
    Paired {
        pairs,
        left_free: wf,
        right_free: hf,
    }
}
