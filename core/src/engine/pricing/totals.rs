//! Figures over the whole quote (core/QUOTES.md, "Figures"): first invoice, contract value and
//! cost summed from rounded charges; MRR and ARR rounded once from the exact recurring sum.

use super::rounding::round_muldiv;
use super::types::{PricedLine, Totals};
use crate::engine::catalogue::Catalogue;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// A running `Decimal` sum, `checked_add` after `checked_add` from zero, held as the parts of
/// the `Decimal` it is (magnitude, sign, scale) so that the common addition — two amounts of
/// one scale, each under 2⁶⁴, the sum under 2⁹⁶ — is an integer addition. rust_decimal adds
/// those exactly too, and gives a zero result the sign of the left operand; `0 + x` is `x` and
/// `x + 0` is `x`, scales and signs kept. Anything else goes through `checked_add` itself.
/// The default is `Decimal::ZERO`'s parts.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Sum {
    mag: u128,
    negative: bool,
    scale: u32,
}

impl Sum {
    /// The parts of a decimal.
    fn of(d: Decimal) -> Sum {
        Sum {
            mag: d.mantissa().unsigned_abs(),
            negative: d.is_sign_negative(),
            scale: d.scale(),
        }
    }

    /// The sum as a `Decimal`.
    pub(super) fn value(self) -> Decimal {
        let mut d =
            Decimal::from_i128_with_scale(i128::try_from(self.mag).unwrap_or_default(), self.scale);
        d.set_sign_negative(self.negative);
        d
    }

    /// Adds `d` as `checked_add` would; false when that overflows (the sum is then unchanged).
    pub(super) fn add(&mut self, d: Decimal) -> bool {
        const LIMIT: u128 = 1 << 96;
        let m = d.mantissa().unsigned_abs();
        if self.mag == 0 {
            *self = Sum::of(d);
            return true;
        }
        if m == 0 {
            return true;
        }
        let small = u64::try_from(self.mag).is_ok() && u64::try_from(m).is_ok();
        if small && d.scale() == self.scale {
            let (mag, negative) = if d.is_sign_negative() == self.negative {
                (self.mag + m, self.negative)
            } else if self.mag >= m {
                (self.mag - m, self.negative)
            } else {
                (m - self.mag, !self.negative)
            };
            if mag < LIMIT {
                self.mag = mag;
                self.negative = negative;
                return true;
            }
        }
        match self.value().checked_add(d) {
            Some(sum) => {
                *self = Sum::of(sum);
                true
            }
            None => false,
        }
    }
}

/// The quote's figures summed as its lines are priced, so that a caller writing the lines as
/// it goes need not keep them: the same sums, in the same order, as over the whole list.
#[derive(Default)]
pub(super) struct Summing {
    contract_value: Sum,
    cost: Sum,
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
            self.overflow |= !self.contract_value.add(c.amount);
            self.overflow |= !self.cost.add(c.cost);
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

    /// Adds the figures of the lines `next` summed, which come after these.
    pub(super) fn append(&mut self, next: Summing) {
        self.overflow |= next.overflow || !self.contract_value.add(next.contract_value.value());
        self.overflow |= !self.cost.add(next.cost.value());
        match (&mut self.first, next.first) {
            (_, None) => {}
            (Some((d, _, _)), Some((n, _, _))) if n > *d => {}
            (Some((d, sum, over)), Some((n, s, o))) if n == *d => {
                *over |= o;
                match sum.checked_add(s) {
                    Some(x) => *sum = x,
                    None => *over = true,
                }
            }
            (first, later) => *first = later,
        }
        self.recurring.extend(next.recurring);
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
            contract_value: self.contract_value.value(),
            cost: self.cost.value(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Amounts as pricing makes them (cents, zeros of either sign, other scales) and beyond.
    fn amount() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (-1_000_000_000i64..1_000_000_000).prop_map(|m| Decimal::new(m, 2)),
            (any::<i64>(), 0u32..=4).prop_map(|(m, s)| Decimal::new(m, s)),
            (0u32..=3, any::<bool>()).prop_map(|(s, neg)| {
                let mut z = Decimal::new(0, s);
                z.set_sign_negative(neg);
                z
            }),
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                any::<bool>(),
                0u32..=28
            )
                .prop_map(|(lo, mid, hi, neg, s)| Decimal::from_parts(lo, mid, hi, neg, s)),
        ]
    }

    /// Every bit of a decimal: value, scale and the sign of a zero.
    fn bits(d: Decimal) -> (i128, u32, bool) {
        (d.mantissa(), d.scale(), d.is_sign_negative())
    }

    proptest! {
        #[test]
        fn a_sum_is_the_decimal_sum_bit_for_bit(xs in proptest::collection::vec(amount(), 0..40)) {
            let mut fast = Sum::default();
            let mut slow = Some(Decimal::ZERO);
            for x in xs {
                let ok = fast.add(x);
                slow = slow.and_then(|s| s.checked_add(x));
                match slow {
                    Some(s) => {
                        prop_assert!(ok);
                        prop_assert_eq!(bits(fast.value()), bits(s));
                    }
                    None => {
                        prop_assert!(!ok);
                        break;
                    }
                }
            }
        }
    }
}
