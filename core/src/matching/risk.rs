//! Money at risk: the quote's own schedule against the schedule another document implies,
//! in exact arithmetic (DOMAIN.md, three-way match).

use super::{Check, Class, Direction, Money, Risk, Run, Sold};
use crate::engine::calendar::{self, Anchor};
use crate::engine::catalogue::{Billing, Rate, Sellable};
use crate::engine::pricing::{ChargeKind, PriceOptions, PricedLine, Pricer};
use crate::engine::quote::QuoteLine;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;

/// Exact multiply-then-divide, shared with pricing.
pub(super) use crate::engine::pricing::muldiv as md;

pub(super) fn dec(n: impl Into<i64>) -> Decimal {
    Decimal::from(n.into())
}

/// Every charge of a line: what the customer is billed over the commitment.
pub(super) fn contract_value(pl: &PricedLine) -> Decimal {
    pl.charges.iter().map(|c| c.amount).sum()
}

/// The stub: everything billed for days before the full term starts.
pub(super) fn stub_value(pl: &PricedLine) -> Decimal {
    pl.charges
        .iter()
        .filter(|c| c.period_start < pl.term_start)
        .map(|c| c.amount)
        .sum()
}

/// Where the line's charges that start on or after `d` begin (charges are in date order).
pub(super) fn charges_from(pl: &PricedLine, d: NaiveDate) -> usize {
    pl.charges.partition_point(|c| c.period_start < d)
}

/// True when `d` is a billing boundary of the line (a period starts there, or the commitment
/// ends there).
pub(super) fn is_boundary(pl: &PricedLine, d: NaiveDate) -> bool {
    d == pl.end || is_boundary_from(pl, d, charges_from(pl, d))
}

/// [`is_boundary`] with `from = charges_from(pl, d)` already found.
pub(super) fn is_boundary_from(pl: &PricedLine, d: NaiveDate, from: usize) -> bool {
    d == pl.end || pl.charges.get(from).is_some_and(|c| c.period_start == d)
}

/// The net amount billed for exactly `[s, e)` (a charge with its discounts), and whether that
/// period is a prorated piece; `None` when the line bills no such period. `from` is
/// `charges_from(pl, s)`.
pub(super) fn period_net(
    pl: &PricedLine,
    from: usize,
    s: NaiveDate,
    e: NaiveDate,
) -> Option<(Decimal, bool)> {
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
pub(super) fn period_nets(pl: &PricedLine) -> Vec<Decimal> {
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
pub(super) fn whole_months(s: NaiveDate, e: NaiveDate) -> Option<u32> {
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
pub(super) fn months_between(a: NaiveDate, b: NaiveDate) -> Decimal {
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

/// The cost rate of a product bought on a term and billing: the matching price line, else any
/// price line on that term that states a cost.
pub(super) fn cost_rate(
    item: &Sellable,
    term: Option<u32>,
    billing: Option<Billing>,
) -> Option<Rate> {
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
pub(super) fn at_rate(rate: Rate, units: Decimal, months: Decimal) -> Option<Decimal> {
    match rate.per_months {
        None => units.checked_mul(rate.amount),
        Some(p) => md(&[units, rate.amount, months], &[dec(p)]),
    }
}

impl Run<'_> {
    /// The line priced again from the quote with one thing changed, beside the line priced
    /// again unchanged: both through a fresh pricer, so a once-per-quote discount treats them
    /// alike and the difference is only the change.
    pub(super) fn reprice(
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
    pub(super) fn quantity_money(&self, s: &Sold, q: Decimal) -> Option<(Decimal, String)> {
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
    pub(super) fn start_money(&self, s: &Sold, new_start: NaiveDate) -> Option<(Decimal, String)> {
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
        // A coterminous line's whole first term is the prorated stub (DOMAIN.md, Co-term): moved,
        // it still ends on the co-term date, so the line priced again from the new start bills
        // the difference, each charge rounded as the schedule rounds it.
        if pl.term_start <= pl.start
            && new_start < pl.end
            && let Some((base, new)) = self.reprice(s, |l| l.start = new_start)
            && base.end == new.end
        {
            let total = |l: &PricedLine| -> Decimal { l.charges.iter().map(|c| c.amount).sum() };
            let (a, b) = (total(&base), total(&new));
            return Some((
                (a - b).abs(),
                format!(
                    "the commitment from {} to {} bills {}; from {new_start} it bills {}",
                    pl.start,
                    base.end,
                    self.money(a),
                    self.money(b)
                ),
            ));
        }
        // Past the anchor (or when the line cannot be priced again), the days between the two
        // starts at the sold charges' own rates, as a daily-prorated stub would bill them.
        self.days_between_money(pl, new_start)
    }

    /// The days between the sold start and `new_start` at the sold charges' own rates, by day:
    /// positive when the new start is later (it bills less). (difference, how)
    fn days_between_money(
        &self,
        pl: &PricedLine,
        new_start: NaiveDate,
    ) -> Option<(Decimal, String)> {
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

    /// What the sold line would bill on its first bill date at another billing frequency:
    /// the sold net rate for one period of `fm` months, prorated by days when the line starts
    /// with a stub off that frequency's boundaries.
    pub(super) fn implied_first(&self, s: &Sold, fm: u32) -> Option<Decimal> {
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

/// Which way the commitment carried at another quantity goes (`d`: sold less found), and
/// what that does, in words.
pub(super) fn quantity_effect(d: Decimal) -> (Direction, &'static str) {
    if d >= Decimal::ZERO {
        (Direction::UnderBilled, "is never billed")
    } else {
        (
            Direction::OverBilled,
            "is charged for nothing (a refund is owed)",
        )
    }
}

/// Which way a billed difference goes: less billed than sold is revenue never billed, more
/// is a refund owed.
pub(super) fn billed_direction(diff: Decimal) -> Direction {
    if diff < Decimal::ZERO {
        Direction::UnderBilled
    } else {
        Direction::OverBilled
    }
}

impl Run<'_> {
    /// A start-date finding, either side: the difference of the stubs from the sold start and
    /// from `found`, going `later` when `found` is after the sold start and the other way when
    /// before; `effect` words it (`true` for later) with the amount, `unknown` says why the
    /// amount cannot be known.
    pub(super) fn start_check(
        &self,
        sold: Option<&Sold>,
        sold_start: NaiveDate,
        found: NaiveDate,
        later: Direction,
        effect: impl Fn(bool, &str) -> String,
        unknown: &str,
    ) -> Check {
        let earlier = if later == Direction::OverBilled {
            Direction::UnderBilled
        } else {
            Direction::OverBilled
        };
        let (money, why) = match sold.and_then(|s| self.start_money(s, found)) {
            Some((d, how)) => {
                let dir = if d.is_zero() {
                    None
                } else if found > sold_start {
                    Some(later)
                } else {
                    Some(earlier)
                };
                let effect = match dir {
                    Some(dir) => effect(dir == later, &self.money(d)),
                    None => "no money at risk".to_string(),
                };
                (Money::Known(d, dir), format!("{how}; {effect}"))
            }
            None => (Money::Unknown, unknown.to_string()),
        };
        Check {
            class: Class::StartDate,
            expected: sold_start.to_string(),
            found: found.to_string(),
            kind: Risk::StartDate,
            money,
            why,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::words::shape;

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
}
