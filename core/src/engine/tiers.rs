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
