//! Figures over the whole quote (core/QUOTES.md, "Figures"): first invoice, contract value and
//! cost summed from rounded charges; MRR and ARR rounded once from the exact recurring sum.

use super::rounding::round_muldiv;
use super::types::{PricedLine, Totals};
use crate::engine::catalogue::Catalogue;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The quote's figures summed as its lines are priced, so that a caller writing the lines as
/// it goes need not keep them: the same sums, in the same order, as over the whole list.
#[derive(Default)]
pub(super) struct Summing {
    contract_value: Decimal,
    cost: Decimal,
    /// The earliest bill date so far and what it bills; the flag is set when that sum
    /// overflowed (a later, earlier date starts a new sum and clears it).
    first: Option<(NaiveDate, Decimal, bool)>,
    /// A sum over every charge overflowed.
    overflow: bool,
    /// Each recurring line's (months per billing period, steady recurring charge).
    recurring: Vec<(u32, Decimal)>,
}

impl Summing {
    /// Adds one priced line's charges and steady charge.
    pub(super) fn add(&mut self, l: &PricedLine) {
        // Checked sums: a total too large for a decimal is an error to report, not a panic.
        let add = |a: &mut Decimal, b: Decimal| match a.checked_add(b) {
            Some(x) => {
                *a = x;
                false
            }
            None => true,
        };
        for c in &l.charges {
            self.overflow |= add(&mut self.contract_value, c.amount);
            self.overflow |= add(&mut self.cost, c.cost);
            match &mut self.first {
                Some((d, _, _)) if c.bill_date > *d => {}
                Some((d, sum, over)) if c.bill_date == *d => *over |= add(sum, c.amount),
                first => *first = Some((c.bill_date, c.amount, false)),
            }
        }
        if l.billing_months > 0 {
            self.recurring.push((l.billing_months, l.recurring));
        }
    }

    /// The quote's figures, or `None` when a sum does not fit in a decimal.
    pub(super) fn totals(self, cat: &Catalogue) -> Option<Totals> {
        let first_invoice = match self.first {
            Some((_, _, true)) => return None,
            Some((_, sum, false)) => sum,
            None => Decimal::ZERO,
        };
        if self.overflow {
            return None;
        }
        let mut t = Totals {
            first_invoice,
            contract_value: self.contract_value,
            cost: self.cost,
            ..Totals::default()
        };
        let monthly = MonthlySum::of(&self.recurring)?;
        t.mrr = round_muldiv(cat, &[monthly.num], &[monthly.den])?;
        t.arr = round_muldiv(cat, &[monthly.num, Decimal::from(12)], &[monthly.den])?;
        t.margin = t.contract_value.checked_sub(t.cost)?;
        for v in [
            &mut t.first_invoice,
            &mut t.mrr,
            &mut t.arr,
            &mut t.contract_value,
            &mut t.cost,
            &mut t.margin,
        ] {
            v.rescale(cat.minor_units);
        }
        Some(t)
    }
}

/// Σ recurring ÷ months over the recurring lines, held exactly as `num ÷ den` (`den` the least
/// common multiple of the lines' billing months), so that a twelfth of an annual charge is not
/// rounded before the total.
struct MonthlySum {
    /// Numerator.
    num: Decimal,
    /// Denominator (at least 1).
    den: Decimal,
}

impl MonthlySum {
    /// The exact monthly sum of the recurring lines' (months per period, steady charge).
    fn of(lines: &[(u32, Decimal)]) -> Option<MonthlySum> {
        let Some(den) = lines
            .iter()
            .try_fold(1u64, |acc, (months, _)| lcm(acc, u64::from(*months)))
        else {
            // Billing periods of many unrelated lengths: 28 significant digits of each
            // twelfth (or n-th) are still far finer than a minor unit.
            let num = lines
                .iter()
                .try_fold(Decimal::ZERO, |s, (months, recurring)| {
                    s.checked_add(recurring.checked_div(Decimal::from(*months))?)
                })?;
            return Some(MonthlySum {
                num,
                den: Decimal::ONE,
            });
        };
        let mut num = Decimal::ZERO;
        for (months, recurring) in lines {
            let share = Decimal::from(den / u64::from(*months));
            num = num.checked_add(recurring.checked_mul(share)?)?;
        }
        Some(MonthlySum {
            num,
            den: Decimal::from(den),
        })
    }
}

/// Least common multiple, `None` on overflow.
fn lcm(a: u64, b: u64) -> Option<u64> {
    let (mut x, mut y) = (a, b);
    while y != 0 {
        (x, y) = (y, x % y);
    }
    (a / x.max(1)).checked_mul(b)
}
