//! Figures over the whole quote (core/QUOTES.md, "Figures"): first invoice, contract value and
//! cost summed from rounded charges; MRR and ARR rounded once from the exact recurring sum.

use super::rounding::round_muldiv;
use super::types::{PricedLine, Totals};
use crate::engine::catalogue::Catalogue;
use rust_decimal::Decimal;

/// The quote's figures, or `None` when a sum does not fit in a decimal.
pub(super) fn totals(lines: &[PricedLine], cat: &Catalogue) -> Option<Totals> {
    let mut t = Totals::default();
    let first_date = lines
        .iter()
        .flat_map(|l| l.charges.iter().map(|c| c.bill_date))
        .min();
    // Checked sums: a total too large for a decimal is an error to report, not a panic.
    let add = |a: &mut Decimal, b: Decimal| -> Option<()> {
        *a = a.checked_add(b)?;
        Some(())
    };
    for l in lines {
        for c in &l.charges {
            add(&mut t.contract_value, c.amount)?;
            add(&mut t.cost, c.cost)?;
            if Some(c.bill_date) == first_date {
                add(&mut t.first_invoice, c.amount)?;
            }
        }
    }
    let monthly = MonthlySum::of(lines)?;
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
    /// The exact monthly sum of the lines' steady recurring charges.
    fn of(lines: &[PricedLine]) -> Option<MonthlySum> {
        let mut recurring = lines.iter().filter(|l| l.billing_months > 0);
        let Some(den) = recurring
            .clone()
            .try_fold(1u64, |acc, l| lcm(acc, u64::from(l.billing_months)))
        else {
            // Billing periods of many unrelated lengths: 28 significant digits of each
            // twelfth (or n-th) are still far finer than a minor unit.
            let num = recurring.try_fold(Decimal::ZERO, |s, l| {
                s.checked_add(l.recurring.checked_div(Decimal::from(l.billing_months))?)
            })?;
            return Some(MonthlySum {
                num,
                den: Decimal::ONE,
            });
        };
        let mut num = Decimal::ZERO;
        for l in lines.iter().filter(|l| l.billing_months > 0) {
            let share = Decimal::from(den / u64::from(l.billing_months));
            num = num.checked_add(l.recurring.checked_mul(share)?)?;
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
