//! Figures over the whole quote, summed from rounded charges.

use super::types::{PricedLine, Totals};
use rust_decimal::Decimal;

pub(super) fn totals(lines: &[PricedLine], minor_units: u32) -> Option<Totals> {
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
        add(&mut t.mrr, l.mrr)?;
        for c in &l.charges {
            add(&mut t.contract_value, c.amount)?;
            add(&mut t.cost, c.cost)?;
            if Some(c.bill_date) == first_date {
                add(&mut t.first_invoice, c.amount)?;
            }
        }
    }
    t.arr = t.mrr.checked_mul(Decimal::from(12))?;
    t.margin = t.contract_value.checked_sub(t.cost)?;
    for v in [
        &mut t.first_invoice,
        &mut t.mrr,
        &mut t.arr,
        &mut t.contract_value,
        &mut t.cost,
        &mut t.margin,
    ] {
        v.rescale(minor_units);
    }
    Some(t)
}
