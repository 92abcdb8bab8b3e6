//! Rating a quantity through a tier table (exact, before rounding).
//!
//! - graduated: each unit at the price of the tier it falls in, plus the flat fee of every
//!   tier that has at least one unit;
//! - volume: every unit at the price of the tier the total falls in, plus that tier's flat fee;
//! - package: started blocks at the per-block price of the tier the quantity falls in, plus its
//!   flat fee. An allowance (a first row priced zero, `first N free`) is taken off first: the
//!   blocks are `ceil((quantity − N) / block)`, so 201 units with 100 free in blocks of 100 are
//!   2 blocks, not 3 (DOMAIN.md, Tiers). Inside the allowance the quantity uses the free row.
//!
//! Bounds are inclusive upper bounds: "up to 1,000" covers unit 1,000. A quantity of zero uses
//! no tier and rates to zero (a minimum commitment is the way to charge for nothing used).

use crate::engine::catalogue::{TierMode, TierTable};
use rust_decimal::Decimal;

/// How one tier contributed to an amount, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierUse {
    /// Index of the row in the table.
    pub row: usize,
    /// Units (or blocks, for package tables) priced in this tier.
    pub units: Decimal,
    /// Price per unit (or block).
    pub price: Decimal,
    /// Flat fee added.
    pub flat: Decimal,
}

impl TierUse {
    /// `units × price + flat` (zero if it overflows; pricing uses [`checked_amount`]).
    pub fn amount(&self) -> Decimal {
        self.units
            .checked_mul(self.price)
            .and_then(|a| a.checked_add(self.flat))
            .unwrap_or(Decimal::ZERO)
    }
}

/// The exact amount for a quantity (zero if it cannot be computed; see [`checked_amount`]).
pub fn amount(table: &TierTable, quantity: Decimal) -> Decimal {
    checked_amount(table, quantity).unwrap_or(Decimal::ZERO)
}

/// The exact amount for a quantity, or `None` when it does not fit in a decimal (an absurd
/// quantity or price): bad input is reported, never a panic.
pub fn checked_amount(table: &TierTable, quantity: Decimal) -> Option<Decimal> {
    if let Some(fast) = fast::amount(table, quantity) {
        return Some(fast);
    }
    decimal_amount(table, quantity)
}

/// [`checked_amount`] in `Decimal` arithmetic throughout: the reference the integer path
/// is held to, and the path taken whenever the integers cannot show they agree.
fn decimal_amount(table: &TierTable, quantity: Decimal) -> Option<Decimal> {
    let mut total = Some(Decimal::ZERO);
    visit(table, quantity, |u| {
        total = total.and_then(|t| {
            let a = u.units.checked_mul(u.price)?.checked_add(u.flat)?;
            t.checked_add(a)
        });
    });
    total
}

/// The tiers used for a quantity, lowest first.
pub fn breakdown(table: &TierTable, quantity: Decimal) -> Vec<TierUse> {
    let mut out = Vec::new();
    visit(table, quantity, |u| out.push(u));
    out
}

fn visit(table: &TierTable, quantity: Decimal, mut f: impl FnMut(TierUse)) {
    if quantity <= Decimal::ZERO {
        return;
    }
    match table.mode {
        TierMode::Graduated => {
            let mut lower = Decimal::ZERO;
            for (i, row) in table.rows.iter().enumerate() {
                let top = match row.upper {
                    Some(u) => quantity.min(u),
                    None => quantity,
                };
                let units = top - lower;
                if units > Decimal::ZERO {
                    f(TierUse {
                        row: i,
                        units,
                        price: row.price,
                        flat: row.flat,
                    });
                }
                match row.upper {
                    Some(u) if u < quantity => lower = u,
                    _ => break,
                }
            }
        }
        TierMode::Volume | TierMode::Package => {
            let found = table
                .rows
                .iter()
                .enumerate()
                .find(|(_, r)| r.upper.is_none_or(|u| quantity <= u));
            if let Some((i, row)) = found {
                let units = if table.mode == TierMode::Package && table.block > Decimal::ZERO {
                    // A block finer than the quantity's precision could overflow the quotient.
                    match (quantity - package_allowance(table, i)).checked_div(table.block) {
                        Some(q) => q.ceil(),
                        None => return,
                    }
                } else {
                    quantity
                };
                f(TierUse {
                    row: i,
                    units,
                    price: row.price,
                    flat: row.flat,
                });
            }
        }
    }
}

/// The allowance a package quantity in row `used` is billed above: the bound of a free first
/// row (`first N free`) once the quantity has passed it, else zero. The free row itself counts
/// its own blocks from zero (at price zero, so only its flat fee can bill).
fn package_allowance(table: &TierTable, used: usize) -> Decimal {
    match table.rows.first() {
        Some(first) if used > 0 && first.price.is_zero() => first.upper.unwrap_or(Decimal::ZERO),
        _ => Decimal::ZERO,
    }
}

/// Graduated and volume rating in scaled integers: `Decimal`'s own rules for each operation
/// (a sum takes the larger scale, a product the sum of the scales, `min` keeps its receiver
/// when equal), so value and scale come out exactly as the decimal path's. Every step is
/// checked; a mantissa reaching 2⁹⁶ or a scale past 28 (where `Decimal` would start rounding),
/// a negative zero, or a package table hands the work back to the decimal path.
mod fast {
    use crate::engine::catalogue::{TierMode, TierTable};
    use rust_decimal::Decimal;
    use std::cmp::Ordering;

    /// Largest mantissa a `Decimal` holds, plus one.
    const LIMIT: i128 = 1 << 96;

    /// A decimal as mantissa and scale, within what a `Decimal` holds exactly.
    #[derive(Clone, Copy, Debug)]
    struct Fx {
        m: i128,
        s: u32,
    }

    impl Fx {
        const ZERO: Fx = Fx { m: 0, s: 0 };

        /// A non-negative decimal (with no negative input, no sum is ever a negative zero).
        fn of(d: Decimal) -> Option<Fx> {
            if d.is_sign_negative() {
                return None;
            }
            Some(Fx {
                m: d.mantissa(),
                s: d.scale(),
            })
        }

        fn checked(m: i128, s: u32) -> Option<Fx> {
            (m.unsigned_abs() < LIMIT.unsigned_abs() && s <= 28).then_some(Fx { m, s })
        }

        /// Both mantissas at the larger scale.
        fn aligned(self, o: Fx) -> Option<(i128, i128, u32)> {
            let s = self.s.max(o.s);
            // `Decimal` rescales an operand before adding; past 2⁹⁶ it would round instead.
            let up = |x: Fx| {
                let m = x.m.checked_mul(10i128.checked_pow(s - x.s)?)?;
                (m.unsigned_abs() < LIMIT.unsigned_abs()).then_some(m)
            };
            Some((up(self)?, up(o)?, s))
        }

        /// `Decimal` adds a zero by returning the other operand as it is, scale and all.
        fn add(self, o: Fx) -> Option<Fx> {
            match (self.m, o.m) {
                (0, _) => Some(o),
                (_, 0) => Some(self),
                _ => {
                    let (a, b, s) = self.aligned(o)?;
                    Fx::checked(a.checked_add(b)?, s)
                }
            }
        }

        /// As [`Fx::add`]: `0 − x` is `x` negated at its own scale.
        fn sub(self, o: Fx) -> Option<Fx> {
            match (self.m, o.m) {
                (0, m) => Some(Fx { m: -m, s: o.s }),
                (_, 0) => Some(self),
                _ => {
                    let (a, b, s) = self.aligned(o)?;
                    Fx::checked(a.checked_sub(b)?, s)
                }
            }
        }

        /// `Decimal` gives a product with a zero factor as a plain `0`, scale 0.
        fn mul(self, o: Fx) -> Option<Fx> {
            if self.m == 0 || o.m == 0 {
                return Some(Fx::ZERO);
            }
            Fx::checked(self.m.checked_mul(o.m)?, self.s.checked_add(o.s)?)
        }

        fn cmp(self, o: Fx) -> Option<Ordering> {
            let (a, b, _) = self.aligned(o)?;
            Some(a.cmp(&b))
        }

        /// `Decimal::min`: the receiver unless the other is smaller.
        fn min(self, o: Fx) -> Option<Fx> {
            Some(if self.cmp(o)? == Ordering::Greater {
                o
            } else {
                self
            })
        }

        fn decimal(self) -> Option<Decimal> {
            Decimal::try_from_i128_with_scale(self.m, self.s).ok()
        }
    }

    /// The exact amount, or `None` when the decimal path must decide.
    pub(super) fn amount(table: &TierTable, quantity: Decimal) -> Option<Decimal> {
        let q = Fx::of(quantity)?;
        if q.m <= 0 {
            return Some(Decimal::ZERO);
        }
        let total = match table.mode {
            TierMode::Graduated => graduated(table, q)?,
            TierMode::Volume => volume(table, q)?,
            TierMode::Package => return None,
        };
        total.decimal()
    }

    /// Each unit at its tier's price, plus the flat fee of every tier used.
    fn graduated(table: &TierTable, q: Fx) -> Option<Fx> {
        let (mut total, mut lower) = (Fx::ZERO, Fx::ZERO);
        for row in &table.rows {
            let upper = row.upper.map(Fx::of);
            let top = match upper {
                Some(u) => q.min(u?)?,
                None => q,
            };
            let units = top.sub(lower)?;
            if units.m > 0 {
                let a = units.mul(Fx::of(row.price)?)?.add(Fx::of(row.flat)?)?;
                total = total.add(a)?;
            }
            match upper {
                Some(u) if u?.cmp(q)? == Ordering::Less => lower = u?,
                _ => break,
            }
        }
        Some(total)
    }

    /// Every unit at the price of the tier the quantity falls in, plus its flat fee.
    fn volume(table: &TierTable, q: Fx) -> Option<Fx> {
        for row in &table.rows {
            let fits = match row.upper {
                Some(u) => q.cmp(Fx::of(u)?)? != Ordering::Greater,
                None => true,
            };
            if fits {
                let a = q.mul(Fx::of(row.price)?)?.add(Fx::of(row.flat)?)?;
                return Fx::ZERO.add(a);
            }
        }
        Some(Fx::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::catalogue::TierRow;
    use proptest::prelude::*;

    fn dec(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn table(mode: TierMode, rows: &[(Option<&str>, &str, &str)]) -> TierTable {
        TierTable {
            name: "t".into(),
            mode,
            block: Decimal::ONE,
            per_months: Some(1),
            once: false,
            rows: rows
                .iter()
                .map(|(u, p, f)| TierRow {
                    upper: u.map(dec),
                    price: dec(p),
                    flat: dec(f),
                    origin: String::new(),
                })
                .collect(),
            origin: String::new(),
        }
    }

    fn storage(mode: TierMode) -> TierTable {
        table(
            mode,
            &[
                (Some("1000"), "0.05", "0"),
                (Some("10000"), "0.04", "0"),
                (None, "0.03", "0"),
            ],
        )
    }

    #[test]
    fn domain_example_4_storage() {
        // 1,000 × 0.05 + 9,000 × 0.04 + 2,500 × 0.03 = 50 + 360 + 75
        assert_eq!(
            amount(&storage(TierMode::Graduated), dec("12500")),
            dec("485.00")
        );
        // 12,500 × 0.03
        assert_eq!(
            amount(&storage(TierMode::Volume), dec("12500")),
            dec("375.00")
        );
    }

    #[test]
    fn domain_example_5_units() {
        let rows = [
            (Some("5"), "7.00", "0"),
            (Some("10"), "6.50", "0"),
            (None, "6.00", "0"),
        ];
        // 5 × 7 + 5 × 6.50 + 2 × 6 = 35 + 32.50 + 12
        assert_eq!(
            amount(&table(TierMode::Graduated, &rows), dec("12")),
            dec("79.50")
        );
        assert_eq!(
            amount(&table(TierMode::Volume, &rows), dec("12")),
            dec("72.00")
        );
    }

    #[test]
    fn domain_example_6_package() {
        let mut t = table(TierMode::Package, &[(None, "40.00", "0")]);
        t.block = dec("1000");
        assert_eq!(amount(&t, dec("2300")), dec("120.00"));
        assert_eq!(amount(&t, dec("2000")), dec("80.00"));
        assert_eq!(amount(&t, dec("2000.01")), dec("120.00"));
    }

    fn package_with_allowance() -> TierTable {
        let mut t = table(
            TierMode::Package,
            &[(Some("100"), "0", "0"), (None, "5.00", "0")],
        );
        t.block = dec("100");
        t
    }

    #[test]
    fn package_allowance_is_taken_off_before_the_blocks() {
        let t = package_with_allowance();
        // Inside the allowance nothing is billed.
        assert_eq!(amount(&t, dec("0")), dec("0"));
        assert_eq!(amount(&t, dec("100")), dec("0"));
        // 100.5 − 100 = 0.5 → ceil(0.5 / 100) = 1 block × 5.00
        assert_eq!(amount(&t, dec("100.5")), dec("5.00"));
        // 101 − 100 = 1 → 1 block
        assert_eq!(amount(&t, dec("101")), dec("5.00"));
        // 200 − 100 = 100 → exactly 1 block
        assert_eq!(amount(&t, dec("200")), dec("5.00"));
        // 201 − 100 = 101 → ceil(1.01) = 2 blocks × 5.00 = 10.00 (DOMAIN.md; 15.00 before)
        assert_eq!(amount(&t, dec("201")), dec("10.00"));
        // 300 − 100 = 200 → 2 blocks
        assert_eq!(amount(&t, dec("300")), dec("10.00"));
        let parts = breakdown(&t, dec("201"));
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].row, parts[0].units), (1, dec("2")));
    }

    #[test]
    fn package_allowance_with_several_block_prices() {
        // first 100 free, up to 1,000 at 5.00 per 100, above at 4.00 per 100.
        let mut t = table(
            TierMode::Package,
            &[
                (Some("100"), "0", "0"),
                (Some("1000"), "5.00", "0"),
                (None, "4.00", "0"),
            ],
        );
        t.block = dec("100");
        // 1,000 − 100 = 900 → 9 blocks × 5.00 = 45.00
        assert_eq!(amount(&t, dec("1000")), dec("45.00"));
        // 1,500 falls in the last row: 1,400 / 100 = 14 blocks × 4.00 = 56.00
        assert_eq!(amount(&t, dec("1500")), dec("56.00"));
        // A priced first row is a tier, not an allowance: 150 → ceil(1.5) = 2 blocks × 3.00
        let mut p = table(
            TierMode::Package,
            &[(Some("100"), "3.00", "0"), (None, "2.00", "0")],
        );
        p.block = dec("100");
        assert_eq!(amount(&p, dec("150")), dec("4.00"));
    }

    #[test]
    fn bounds_are_inclusive_and_fractions_cross_them() {
        let t = storage(TierMode::Volume);
        assert_eq!(amount(&t, dec("1000")), dec("50.00"));
        assert_eq!(amount(&t, dec("1000.5")), dec("40.020"));
        let g = storage(TierMode::Graduated);
        assert_eq!(amount(&g, dec("1000.5")), dec("50.02"));
    }

    #[test]
    fn allowance_and_flat_fees() {
        // 500 free, then 0.05 up to 10,000 with a 10.00 flat fee, then 0.03.
        let t = table(
            TierMode::Graduated,
            &[
                (Some("500"), "0", "0"),
                (Some("10000"), "0.05", "10"),
                (None, "0.03", "0"),
            ],
        );
        assert_eq!(amount(&t, dec("400")), dec("0"));
        assert_eq!(amount(&t, dec("500")), dec("0"));
        assert_eq!(amount(&t, dec("600")), dec("15.00"));
        let v = table(
            TierMode::Volume,
            &[
                (Some("10"), "45", "0"),
                (Some("50"), "40", "25"),
                (None, "35", "0"),
            ],
        );
        assert_eq!(amount(&v, dec("12")), dec("505"));
        assert_eq!(amount(&v, dec("0")), dec("0"));
    }

    /// A decimal of the sizes and scales tier tables are written with, and beyond.
    fn tier_decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            4 => (0i64..100_000, 0u32..5).prop_map(|(m, s)| Decimal::new(m, s)),
            1 => (0i64..i64::MAX, 0u32..29).prop_map(|(m, s)| Decimal::new(m, s)),
            1 => (0u32..=u32::MAX, 0u32..=u32::MAX, 0u32..=u32::MAX, 0u32..29)
                .prop_map(|(lo, mid, hi, s)| Decimal::from_parts(lo, mid, hi, false, s)),
            1 => (-10_000i64..10_000, 0u32..3).prop_map(|(m, s)| Decimal::new(m, s)),
            1 => Just(Decimal::from_parts(0, 0, 0, true, 2)),
        ]
    }

    /// A table of 1 to 5 rows with rising bounds (the last open or not), and quantities on
    /// each bound, a hair either side of it and midway between bounds, besides random ones.
    fn table_and_quantities() -> impl Strategy<Value = (TierTable, Vec<Decimal>)> {
        let row = (tier_decimal(), tier_decimal(), tier_decimal());
        (
            prop::collection::vec(row, 1..6),
            any::<bool>(),
            prop::sample::select(vec![TierMode::Graduated, TierMode::Volume]),
            prop::collection::vec(tier_decimal(), 0..4),
        )
            .prop_map(|(rows, open, mode, extra)| {
                let mut bound = Decimal::ZERO;
                let n = rows.len();
                let mut quantities = extra;
                let mut table_rows = Vec::new();
                for (k, (step, price, flat)) in rows.into_iter().enumerate() {
                    let upper = if open && k + 1 == n {
                        None
                    } else {
                        let next = bound.checked_add(step.abs()).unwrap_or(bound);
                        let hair = Decimal::new(1, next.scale().max(2));
                        let near = [
                            Some(next),
                            bound
                                .checked_add(next)
                                .and_then(|s| s.checked_div(Decimal::TWO)),
                            next.checked_add(hair),
                            next.checked_sub(hair).map(|x| x.max(bound)),
                        ];
                        quantities.extend(near.into_iter().flatten());
                        bound = next;
                        Some(next)
                    };
                    table_rows.push(TierRow {
                        upper,
                        price,
                        flat,
                        origin: String::new(),
                    });
                }
                let t = TierTable {
                    name: "t".into(),
                    mode,
                    block: Decimal::ONE,
                    per_months: Some(1),
                    once: false,
                    rows: table_rows,
                    origin: String::new(),
                };
                (t, quantities)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

        /// The integer path gives what the decimal path gives, value, scale and sign, on every
        /// quantity it answers for; and it answers for the everyday tables.
        #[test]
        fn integer_rating_equals_decimal_rating((t, qs) in table_and_quantities()) {
            for q in qs {
                let slow = decimal_amount(&t, q);
                if let Some(fast) = fast::amount(&t, q) {
                    prop_assert_eq!(Some(fast), slow, "q = {}", q);
                    let slow = slow.unwrap_or_default();
                    prop_assert_eq!(fast.to_string(), slow.to_string(), "q = {}", q);
                    prop_assert_eq!(fast.is_sign_negative(), slow.is_sign_negative());
                }
                prop_assert_eq!(checked_amount(&t, q), slow);
            }
        }
    }

    #[test]
    fn integer_rating_takes_the_everyday_tables() {
        let g = storage(TierMode::Graduated);
        assert_eq!(fast::amount(&g, dec("12500")), Some(dec("485.00")));
        assert_eq!(
            fast::amount(&g, dec("1000.5")).map(|a| a.to_string()),
            Some("50.020".into())
        );
        let v = storage(TierMode::Volume);
        assert_eq!(fast::amount(&v, dec("12500")), Some(dec("375.00")));
        // Beyond a decimal's 96 bits, and package tables, go the decimal way.
        let huge = table(
            TierMode::Graduated,
            &[(None, "79228162514264337593543950335", "0")],
        );
        assert_eq!(fast::amount(&huge, dec("2")), None);
        assert_eq!(fast::amount(&package_with_allowance(), dec("201")), None);
    }

    proptest! {
        #[test]
        fn graduated_never_falls_as_quantity_rises(a in 0u32..50_000, b in 0u32..50_000, cents in 0u32..100) {
            let t = storage(TierMode::Graduated);
            let lo = Decimal::from(a.min(b)) + Decimal::new(i64::from(cents), 2);
            let hi = Decimal::from(a.max(b)) + Decimal::new(i64::from(cents), 2);
            prop_assert!(amount(&t, lo) <= amount(&t, hi));
        }

        #[test]
        fn package_allowance_never_falls_and_bills_blocks_above_it(a in 0u32..5_000, b in 0u32..5_000) {
            let t = package_with_allowance();
            let (lo, hi) = (Decimal::from(a.min(b)), Decimal::from(a.max(b)));
            prop_assert!(amount(&t, lo) <= amount(&t, hi));
            let above = (hi - dec("100")).max(Decimal::ZERO);
            prop_assert_eq!(amount(&t, hi), (above / dec("100")).ceil() * dec("5.00"));
        }

        #[test]
        fn graduated_equals_sum_of_its_tiers(q in 0u32..50_000) {
            let t = storage(TierMode::Graduated);
            let parts = breakdown(&t, Decimal::from(q));
            let units: Decimal = parts.iter().map(|p| p.units).sum();
            prop_assert_eq!(units, Decimal::from(q));
            prop_assert_eq!(parts.iter().map(TierUse::amount).sum::<Decimal>(), amount(&t, Decimal::from(q)));
        }
    }
}
