//! The invoice side: what was billed against what was sold.

use super::pairing::{Inv, join_streams, pair_invoices, part_key};
use super::risk::{
    billed_direction, charges_from, contract_value, dec, is_boundary, is_boundary_from, md,
    period_net, period_nets, quantity_effect, whole_months,
};
use super::words::{
    BillWord, billing_word, mixed_terms, parse_term_word, per_period, plural, shape, term_word,
    unit_text,
};
use super::{At, Check, Checked, Class, Direction, Money, Risk, Run, Side, Sold};
use crate::engine::calendar;
use crate::engine::pricing::PricedLine;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use tenor_plugin_sdk::InvoiceLine;

/// A sold line and one invoice line of its stream, with what every check reads.
struct InvoicePair<'p> {
    s: &'p Sold<'p>,
    x: &'p Inv<'p>,
    i: &'p InvoiceLine,
    pl: &'p PricedLine,
    one_time: bool,
    ps: Option<NaiveDate>,
    pe: Option<NaiveDate>,
    /// The invoice period starts on a sold billing boundary.
    s_in: bool,
    /// The sold period this invoice line bills exactly, if any: (net amount, partial).
    aligned: Option<(Decimal, bool)>,
    /// A piece that ends on a sold boundary but starts off one is a first piece from another
    /// start: its length says nothing about the frequency.
    partial_start: bool,
    /// Months in the period the invoice bills, when that says something about its frequency.
    found_months: Option<u32>,
}

impl<'p> InvoicePair<'p> {
    /// Resolves what the checks share: where the billed period falls on the sold schedule.
    fn new(s: &'p Sold<'p>, x: &'p Inv<'p>) -> Self {
        let (pl, i) = (s.pl, x.i);
        let one_time = s.term.is_none();
        let (ps, pe) = (i.period_start, i.period_end);
        // One search of the charges for the period's start serves both questions about it.
        let from = ps.map(|d| (d, charges_from(pl, d)));
        let s_in = from.is_some_and(|(d, f)| is_boundary_from(pl, d, f));
        let aligned: Option<(Decimal, bool)> = if one_time {
            ps.is_none_or(|d| d == pl.start)
                .then(|| (contract_value(pl), false))
        } else {
            match (from, pe) {
                (Some((a, f)), Some(b)) => period_net(pl, f, a, b),
                _ => None,
            }
        };
        let partial_start = !s_in && pe.is_some_and(|d| is_boundary(pl, d));
        let stated = x
            .billing
            .and_then(|b| b.months(x.term.flatten().or(s.term)));
        let found_months = if one_time || aligned.is_some() {
            None
        } else if partial_start {
            stated
        } else {
            ps.zip(pe).and_then(|(a, b)| whole_months(a, b)).or(stated)
        };
        InvoicePair {
            s,
            x,
            i,
            pl,
            one_time,
            ps,
            pe,
            s_in,
            aligned,
            partial_start,
            found_months,
        }
    }

    /// The months the invoice's unit price is for: the outer `None` when it cannot be told
    /// (a prorated piece, or a period of no whole months), the inner `None` for one-time.
    fn price_months(&self) -> Option<Option<u32>> {
        if self.one_time {
            return Some(None);
        }
        match self.aligned {
            Some((_, true)) => None,
            Some((_, false)) => Some(self.s.months),
            None if self.ps.is_none() => Some(self.found_months.or(self.s.months)),
            None => self.found_months.map(Some),
        }
    }
}

impl Run<'_> {
    /// Pairs the sold lines with the invoice lines read back, follows each sold line's stream
    /// of invoices, and reports every difference, missing line and extra line.
    pub(super) fn invoices(&mut self, invoices: &[InvoiceLine], checked: &mut Checked) {
        let window = billing_window(invoices);
        let inv = self.invoice_lines(invoices, checked);
        let mut paired = pair_invoices(&self.sold, &inv);
        join_streams(&self.sold, &inv, &mut paired);
        self.match_streams(paired.pairs, window, &inv);
        for (x, free) in inv.iter().zip(&paired.right_free) {
            if *free || x.item.is_none() {
                self.extra_invoice(x, None);
            }
        }
    }

    /// The invoice lines of this quote's customer, credits folded in, resolved; the others
    /// are counted aside.
    fn invoice_lines<'i>(
        &self,
        invoices: &'i [InvoiceLine],
        checked: &mut Checked,
    ) -> Vec<Inv<'i>> {
        let mut inv: Vec<Inv> = Vec::with_capacity(invoices.len());
        let mut take = |i: &'i InvoiceLine, amount: Decimal| {
            if !self.for_us(i.customer.as_deref()) {
                checked.other_customers += 1;
                return;
            }
            inv.push(Inv {
                i,
                amount,
                item: self.m.product_of(&i.part_number),
                term: i.term.as_deref().and_then(parse_term_word),
                billing: i.billing.as_deref().and_then(BillWord::read),
            });
        };
        match fold_credits(invoices) {
            Some(merged) => merged.into_iter().for_each(|(i, a)| take(i, a)),
            None => invoices.iter().for_each(|i| take(i, i.amount)),
        }
        checked.invoice_lines += inv.len();
        inv
    }

    /// Each sold line's invoice lines (its stream) compared in period order; a sold line
    /// with none is missing when it bills inside the window the invoices cover.
    fn match_streams(
        &mut self,
        mut pairs: Vec<(usize, usize)>,
        window: Option<(NaiveDate, NaiveDate)>,
        inv: &[Inv],
    ) {
        // Pairs first, so a stable sort keeps the best-paired line first among lines billing
        // the same period.
        pairs.sort_by_key(|(k, _)| *k);
        let mut next_pair = pairs.iter().peekable();
        let mut stream: Vec<usize> = Vec::new();
        for k in 0..self.sold.len() {
            stream.clear();
            while let Some((_, j)) = next_pair.next_if(|(kk, _)| *kk == k) {
                stream.push(*j);
            }
            if stream.is_empty() {
                if self.sold.get(k).is_some_and(|s| bills_within(s, window)) {
                    self.missing_invoice(k, window.map(|(lo, _)| lo));
                }
                continue;
            }
            if stream.len() > 1 {
                stream.sort_by(|a, b| {
                    let key = |j: &usize| {
                        inv.get(*j)
                            .map(|x| (x.i.period_start, x.i.period_end, x.i.date, &x.i.document))
                    };
                    key(a).cmp(&key(b))
                });
            }
            self.invoice_stream(k, &stream, inv);
        }
    }

    /// A sold line on none of the invoices: everything it bills over the commitment.
    /// What it bills from `from` on (the first day the invoices cover; what was billed before
    /// them is not theirs to say), everything with no window.
    fn missing_invoice(&mut self, k: usize, from: Option<NaiveDate>) {
        let Some(s) = self.sold.get(k) else { return };
        let pl = s.pl;
        let (cv, why) = match from {
            Some(d) if pl.charges.first().is_some_and(|c| c.bill_date < d) => {
                let left: Decimal = pl
                    .charges
                    .iter()
                    .filter(|c| c.bill_date >= d)
                    .map(|c| c.amount)
                    .sum();
                let why = format!(
                    "sold but on none of the invoices given: the {} it bills from {d} to the commitment's end is never billed",
                    self.money(left)
                );
                (left, why)
            }
            _ => (
                contract_value(pl),
                format!(
                    "sold but on none of the invoices given: {} over the commitment is never billed",
                    self.money(contract_value(pl))
                ),
            ),
        };
        let check = Check {
            class: Class::MissingLine,
            expected: s.describe(),
            found: "not on any invoice".into(),
            kind: Risk::Billing,
            money: Money::Known(cv, Some(Direction::UnderBilled)),
            why,
        };
        let at = At {
            side: Side::Invoice,
            line: Some(s.line_no()),
            product: &pl.product,
            document: None,
        };
        self.push(&at, check);
    }

    /// An invoice line billing nothing that was sold, or a period billed a second time
    /// (`duplicate_of` the sold line number and product).
    fn extra_invoice(&mut self, x: &Inv, duplicate_of: Option<(u32, &str)>) {
        let item = x.item.and_then(|i| self.cat.items.get(i));
        let product = match (duplicate_of, item) {
            (Some((_, p)), _) => p.to_string(),
            (None, Some(it)) => it.sku.to_string(),
            (None, None) => x.i.part_number.clone(),
        };
        let dir = billed_direction(x.amount);
        let period = match (x.i.period_start, x.i.period_end) {
            (Some(a), Some(b)) => format!(" for {a} to {b}"),
            _ => String::new(),
        };
        let why = match (duplicate_of, dir) {
            (Some(_), Direction::OverBilled) => format!(
                "the period{period} is billed a second time: {} charged for nothing, a refund is owed",
                self.money(x.amount)
            ),
            (None, Direction::OverBilled) => format!(
                "billed but not sold: {} charged for nothing, a refund is owed",
                self.money(x.amount)
            ),
            (_, _) => format!(
                "a credit of {} for nothing that was sold: revenue given away",
                self.money(x.amount)
            ),
        };
        let check = Check {
            class: Class::ExtraLine,
            expected: if duplicate_of.is_some() {
                "billed once".into()
            } else {
                "not sold".into()
            },
            found: format!(
                "{} × {}{period}: {}",
                x.i.part_number,
                x.i.quantity,
                unit_text(x.amount, self.cat.minor_units)
            ),
            kind: Risk::Billing,
            money: Money::Known(x.amount, Some(dir)),
            why,
        };
        let at = At {
            side: Side::Invoice,
            line: duplicate_of.map(|d| d.0),
            product: &product,
            document: Some(&x.i.document),
        };
        self.push(&at, check);
    }

    /// The invoice lines of one sold line, in period order: each compared, a period billed
    /// twice reported as an extra line, and each class reported once per line (the first
    /// invoice line showing it), since its money is already carried over the whole term.
    fn invoice_stream(&mut self, k: usize, stream: &[usize], inv: &[Inv]) {
        if let [j] = stream {
            if let Some(x) = inv.get(*j) {
                self.compare_invoice(k, x);
            }
            return;
        }
        let mut kept: Vec<(Option<NaiveDate>, Option<NaiveDate>, Option<NaiveDate>)> = Vec::new();
        let mut seen: HashMap<Class, (usize, usize)> = HashMap::new();
        let (line, product) = match self.sold.get(k) {
            Some(s) => (s.line_no(), s.pl.product.to_string()),
            None => return,
        };
        for j in stream {
            let Some(x) = inv.get(*j) else { continue };
            let (ps, pe, date) = (x.i.period_start, x.i.period_end, x.i.date);
            let dup = kept.iter().any(|(a, b, d)| match (ps, pe, *a, *b) {
                (Some(s1), Some(e1), Some(s2), Some(e2)) => s1 < e2 && s2 < e1,
                (None, _, None, _) => *d == date,
                _ => false,
            });
            if dup {
                self.extra_invoice(x, Some((line, &product)));
                continue;
            }
            kept.push((ps, pe, date));
            let before = self.findings.len();
            self.compare_invoice(k, x);
            self.keep_first_of_class(before, &mut seen);
        }
        for (at, more) in seen.into_values() {
            if more > 0 {
                if let Some(f) = self.findings.get_mut(at) {
                    f.explanation.push_str(&format!(
                        " (also on {more} later invoice {})",
                        plural(more, "line")
                    ));
                }
            }
        }
    }

    /// Of the findings from `before` on, drops each whose class `seen` already holds (and
    /// counts it there), and files the others; amounts are per period, so all are kept.
    fn keep_first_of_class(&mut self, before: usize, seen: &mut HashMap<Class, (usize, usize)>) {
        let mut i = before;
        while i < self.findings.len() {
            let class = self.findings.get(i).map(|f| f.class);
            match class {
                Some(c) if c != Class::Amount => match seen.get_mut(&c) {
                    Some((_, more)) => {
                        *more += 1;
                        self.findings.remove(i);
                        continue;
                    }
                    None => {
                        seen.insert(c, (i, 0));
                    }
                },
                _ => {}
            }
            i += 1;
        }
    }

    /// Compares one invoice line with the sold line it bills: one finding per disagreement.
    fn compare_invoice(&mut self, k: usize, x: &Inv) {
        let Some(s) = self.sold.get(k) else { return };
        let pl = s.pl;
        let line = Some(s.line_no());
        // Allocates only when a check finds something, which few lines do.
        let mut found: Vec<Check> = Vec::new();
        self.invoice_checks(s, x, &mut found);
        let at = At {
            side: Side::Invoice,
            line,
            product: &pl.product,
            document: Some(&x.i.document),
        };
        for c in found {
            self.push(&at, c);
        }
    }

    /// Every check of an invoice line, in report order, into `found`; some read what an
    /// earlier one found.
    fn invoice_checks(&self, s: &Sold, x: &Inv, found: &mut Vec<Check>) {
        let p = InvoicePair::new(s, x);
        found.extend(self.invoice_term(&p));
        let billing = self.invoice_billing(&p);
        let freq_differs = billing.is_some();
        found.extend(billing);
        found.extend(self.invoice_start(&p, freq_differs));
        if s.metered {
            return;
        }
        let (quantity, valued_at) = self.invoice_quantity(&p);
        found.extend(quantity);
        let price = self.invoice_unit_price(&p, valued_at);
        let priced = price.is_some();
        found.extend(price);
        if !priced {
            found.extend(self.invoice_amount(&p));
        }
    }

    /// Term: a shorter billed term loses the sold charges past its end; a longer one bills
    /// months past the commitment.
    fn invoice_term(&self, p: &InvoicePair) -> Option<Check> {
        let (s, pl) = (p.s, p.pl);
        let t = p.x.term.filter(|t| *t != s.term)?;
        let (money, why) = match (s.term, t) {
            (Some(tt), Some(ti)) if ti < tt => {
                let implied_end = calendar::add_months(pl.term_start, i64::from(ti));
                let lost: Decimal = pl
                    .charges
                    .iter()
                    .filter(|c| implied_end.is_some_and(|e| c.period_start >= e))
                    .map(|c| c.amount)
                    .sum();
                (
                    Money::Known(lost, Some(Direction::UnderBilled)),
                    format!(
                        "the invoice bills a {ti}-month term; the customer committed to {tt} months: the {} billed from {} on is never billed",
                        self.money(lost),
                        implied_end.map(|d| d.to_string()).unwrap_or_default()
                    ),
                )
            }
            (Some(tt), Some(ti)) => {
                let extra = s
                    .months
                    .and_then(|m| md(&[pl.recurring, dec(ti - tt)], &[dec(m)]));
                match extra {
                    Some(v) => (
                        Money::Known(v, Some(Direction::OverBilled)),
                        format!(
                            "the invoice bills a {ti}-month term; the customer committed to {tt} months (to {}): {} months billed past the commitment are {}",
                            pl.end,
                            ti - tt,
                            self.money(v)
                        ),
                    ),
                    None => (Money::Unknown, "amount unknown".to_string()),
                }
            }
            _ => (
                Money::Unknown,
                mixed_terms(&pl.term, "billed as", &term_word(t)),
            ),
        };
        Some(Check {
            class: Class::Term,
            expected: pl.term.to_string(),
            found: term_word(t),
            kind: Risk::Billing,
            money,
            why,
        })
    }

    /// Billing frequency: the cash at the first bill date, at the sold rate.
    fn invoice_billing(&self, p: &InvoicePair) -> Option<Check> {
        let (s, pl) = (p.s, p.pl);
        let (fm, m) = (p.found_months?, s.months?);
        let found_term = p.x.term.flatten().or(s.term);
        if shape(Some(fm), found_term) == shape(Some(m), s.term) || fm == m {
            return None;
        }
        let first = pl.first_charge;
        let (money, why) = match self.implied_first(s, fm) {
            Some(f2) => {
                let diff = first - f2;
                let dir = if diff > Decimal::ZERO {
                    Some(Direction::BilledLate)
                } else if diff < Decimal::ZERO {
                    Some(Direction::BilledEarly)
                } else {
                    None
                };
                let words = match dir {
                    Some(Direction::BilledLate) => "of the first charge is not billed when sold",
                    Some(_) => "is billed ahead of the sold schedule",
                    None => "differs at the first bill date",
                };
                (
                    Money::Known(diff, dir),
                    format!(
                        "sold {} ({} billed {}); billed {}, which bills {} then: {} {words}",
                        pl.billing,
                        self.money(first),
                        pl.start,
                        billing_word(Some(fm), s.term),
                        self.money(f2),
                        self.money(diff)
                    ),
                )
            }
            None => (Money::Unknown, "amount unknown".to_string()),
        };
        Some(Check {
            class: Class::BillingFrequency,
            expected: pl.billing.to_string(),
            found: billing_word(Some(fm), s.term),
            kind: Risk::Timing,
            money,
            why,
        })
    }

    /// Start of billing, or billing periods off the co-term boundaries; a frequency already
    /// found different explains periods off the sold ones.
    fn invoice_start(&self, p: &InvoicePair, freq_differs: bool) -> Option<Check> {
        if p.one_time || p.aligned.is_some() || p.s_in {
            return None;
        }
        let a = p.ps?;
        let pl = p.pl;
        if renewal_period(pl, p.s.months, a) {
            return None;
        }
        let sold_start = pl.start;
        if p.partial_start || a < sold_start || (pl.coterm.is_none() && !freq_differs) {
            return Some(self.start_check(
                Some(p.s),
                sold_start,
                a,
                Direction::UnderBilled,
                |later, m| {
                    if later {
                        format!("billing starts {a}, later than sold from {sold_start}: {m} is never billed")
                    } else {
                        format!("billing starts {a}, before the sold start {sold_start}: {m} over-billed")
                    }
                },
                "amount unknown",
            ));
        }
        (!freq_differs).then(|| off_coterm(p, a))
    }

    /// Quantity: the sold commitment at the billed quantity; also what the commitment is
    /// worth at that quantity, for the unit price check.
    fn invoice_quantity(&self, p: &InvoicePair) -> (Option<Check>, Option<Decimal>) {
        let (i, pl) = (p.i, p.pl);
        if i.quantity == pl.quantity {
            return (None, None);
        }
        let mut valued_at = None;
        let (money, why) = match self.quantity_money(p.s, i.quantity) {
            Some((d, how)) => {
                valued_at = contract_value(pl).checked_sub(d);
                let (dir, effect) = quantity_effect(d);
                (
                    Money::Known(d, Some(dir)),
                    format!(
                        "billed {} units where {} were sold: {how}, so {} {effect}",
                        i.quantity,
                        pl.quantity,
                        self.money(d)
                    ),
                )
            }
            None => (Money::Unknown, "amount unknown".into()),
        };
        let check = Check {
            class: Class::Quantity,
            expected: pl.quantity.to_string(),
            found: i.quantity.to_string(),
            kind: Risk::Billing,
            money,
            why,
        };
        (Some(check), valued_at)
    }

    /// Unit price, per month so another billing frequency still compares; carried over the
    /// commitment (`valued_at`, when the quantity differs too).
    fn invoice_unit_price(&self, p: &InvoicePair, valued_at: Option<Decimal>) -> Option<Check> {
        let (s, pl, cat) = (p.s, p.pl, self.cat);
        // A credit on the same invoice (a discount addition) was folded into the line: its
        // stated unit price is the gross one, and the amount check weighs the net.
        if p.x.amount != p.i.amount {
            return None;
        }
        let (price, pm) = (p.i.unit_price?, p.price_months()?);
        let m = dec(s.months.unwrap_or(1));
        let m2 = dec(pm.unwrap_or(1));
        let r = s.period_amount();
        let q = pl.quantity;
        let list_ok = s.list(cat).is_some_and(|lp| {
            price
                .checked_mul(m)
                .is_some_and(|a| Some(a) == lp.checked_mul(m2))
        });
        let net_lhs = md(&[price, q, m], &[]);
        let net_rhs = r.checked_mul(m2);
        let net_ok = net_lhs.is_some() && net_lhs == net_rhs;
        if list_ok || net_ok || r.is_zero() || q.is_zero() {
            return None;
        }
        let expected_unit = md(&[r, m2], &[q, m]);
        let line_diff = expected_unit
            .and_then(|e| price.checked_sub(e))
            .and_then(|d| d.checked_mul(p.i.quantity))
            .map(|d| cat.round(d.abs()));
        if line_diff.is_some_and(|d| d <= cat.match_tolerance) {
            return None;
        }
        let base = valued_at.unwrap_or_else(|| contract_value(pl));
        let diff = net_lhs
            .zip(net_rhs)
            .and_then(|(a, b)| a.checked_sub(b))
            .and_then(|d| md(&[base, d], &[r, m2]));
        let minor = cat.minor_units;
        let expected_text = expected_unit
            .map(|e| unit_text(e, minor))
            .unwrap_or_default();
        let (money, why) = match diff {
            Some(d) => {
                let dir = billed_direction(d);
                let effect = if dir == Direction::UnderBilled {
                    "never billed"
                } else {
                    "charged for nothing (a refund is owed)"
                };
                (
                    Money::Known(d, Some(dir)),
                    format!(
                        "billed {} a unit {} where {expected_text} was sold: carried over the commitment ({} at the sold price) {} is {effect}",
                        unit_text(price, minor),
                        per_period(pm),
                        self.money(base),
                        self.money(d)
                    ),
                )
            }
            None => (Money::Unknown, "amount unknown".into()),
        };
        Some(Check {
            class: Class::UnitPrice,
            expected: format!("{expected_text} {}", per_period(pm)),
            found: format!("{} {}", unit_text(price, minor), per_period(pm)),
            kind: Risk::Billing,
            money,
            why,
        })
    }

    /// Amount of the period billed, when the quantity and unit price do not already explain it.
    fn invoice_amount(&self, p: &InvoicePair) -> Option<Check> {
        let (x, pl, cat) = (p.x, p.pl, self.cat);
        if p.i.quantity != pl.quantity {
            return None;
        }
        let expected = match p.aligned {
            Some((net, _)) => net,
            None if p.ps.is_none() => {
                let nets = period_nets(pl);
                if nets.contains(&x.amount) {
                    return None;
                }
                p.s.period_amount()
            }
            None => return None,
        };
        let diff = x.amount.checked_sub(expected).filter(|d| !d.is_zero())?;
        if cat.round(diff.abs()) <= cat.match_tolerance {
            return None;
        }
        let dir = billed_direction(diff);
        let period = match (p.ps, p.pe) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "the period".into(),
        };
        let minor = cat.minor_units;
        Some(Check {
            class: Class::Amount,
            expected: unit_text(expected, minor),
            found: unit_text(x.amount, minor),
            kind: Risk::Billing,
            money: Money::Known(diff, Some(dir)),
            why: format!(
                "{period} should bill {}; the invoice bills {}: {} {}",
                self.money(expected),
                self.money(x.amount),
                self.money(diff),
                if dir == Direction::UnderBilled {
                    "under-billed"
                } else {
                    "over-billed (a refund is owed)"
                }
            ),
        })
    }
}

/// True when `a` starts a period of the line's renewal: on or after the sold commitment's end,
/// whole billing periods from it (a month-to-month line renews each month; every line renews
/// for its term unless cancelled), so the sold schedule, which ends there, has no period for it.
fn renewal_period(pl: &PricedLine, months: Option<u32>, a: NaiveDate) -> bool {
    let Some(m) = months.filter(|m| *m > 0) else {
        return false;
    };
    if a < pl.end {
        return false;
    }
    (0..=1200_i64)
        .map(|k| calendar::add_months(pl.end, k * i64::from(m)))
        .take_while(|d| d.is_some_and(|d| d <= a))
        .any(|d| d == Some(a))
}

/// Billing periods that start off the sold co-term boundaries: the amount depends on when the
/// billing is corrected, so it is unknown.
fn off_coterm(p: &InvoicePair, a: NaiveDate) -> Check {
    let pl = p.pl;
    let near = pl
        .charges
        .get(
            pl.charges
                .partition_point(|c| c.period_start <= a)
                .saturating_sub(1),
        )
        .map(|c| format!("[{}, {})", c.period_start, c.period_end))
        .unwrap_or_default();
    Check {
        class: Class::CotermDate,
        expected: format!("period {near}"),
        found: format!(
            "period [{a}, {})",
            p.pe.map(|d| d.to_string()).unwrap_or_else(|| "?".into())
        ),
        kind: Risk::Billing,
        money: Money::Unknown,
        why: format!(
            "the invoice's billing periods do not fall on the sold co-term boundaries (renewal {}): the billing is not co-termed, and what it bills over the commitment depends on when that is corrected, so the amount is unknown",
            pl.end
        ),
    }
}

/// The window the invoices cover, from the first to just past the last of both the periods
/// billed and the invoices' own dates (the billing runs).
pub(super) fn billing_window(invoices: &[InvoiceLine]) -> Option<(NaiveDate, NaiveDate)> {
    let mut lo: Option<NaiveDate> = None;
    let mut hi: Option<NaiveDate> = None;
    for i in invoices {
        for d in [i.period_start, i.date].into_iter().flatten() {
            lo = Some(lo.map_or(d, |l| l.min(d)));
        }
        let after = i.date.and_then(|d| d.succ_opt());
        for d in [i.period_end, after].into_iter().flatten() {
            hi = Some(hi.map_or(d, |h| h.max(d)));
        }
    }
    lo.zip(hi)
}

/// True when the sold line bills something inside the window (always, with no window): a sold
/// line that bills nothing inside it is not expected on the invoices.
fn bills_within(s: &Sold, window: Option<(NaiveDate, NaiveDate)>) -> bool {
    match window {
        None => true,
        Some((lo, hi)) => {
            s.pl.charges
                .iter()
                .any(|c| c.bill_date >= lo && c.bill_date < hi)
        }
    }
}

/// Invoice lines with each credit (a negative line) folded into the line it credits: same
/// document, customer, part and period. Credits with nothing to fold into stay lines. `None`
/// when there is no credit: the lines stand as they are.
fn fold_credits(lines: &[InvoiceLine]) -> Option<Vec<(&InvoiceLine, Decimal)>> {
    if !lines.iter().any(|l| l.amount < Decimal::ZERO) {
        return None;
    }
    let mut out: Vec<(&InvoiceLine, Decimal)> = lines.iter().map(|l| (l, l.amount)).collect();
    type Key<'k> = (
        &'k str,
        Option<&'k str>,
        String,
        Option<NaiveDate>,
        Option<NaiveDate>,
    );
    let key = |l: &'_ InvoiceLine| -> (String, Option<NaiveDate>, Option<NaiveDate>) {
        (part_key(&l.part_number), l.period_start, l.period_end)
    };
    let mut first: HashMap<Key, usize> = HashMap::new();
    for (n, l) in lines.iter().enumerate() {
        if l.amount >= Decimal::ZERO {
            let (p, a, b) = key(l);
            first
                .entry((l.document.as_str(), l.customer.as_deref(), p, a, b))
                .or_insert(n);
        }
    }
    let mut folded = vec![false; lines.len()];
    for (n, l) in lines.iter().enumerate() {
        if l.amount >= Decimal::ZERO {
            continue;
        }
        let (p, a, b) = key(l);
        if let Some(&t) = first.get(&(l.document.as_str(), l.customer.as_deref(), p, a, b)) {
            if let Some((_, amount)) = out.get_mut(t) {
                *amount = amount.saturating_add(l.amount);
            }
            if let Some(f) = folded.get_mut(n) {
                *f = true;
            }
        }
    }
    Some(
        out.into_iter()
            .zip(folded)
            .filter(|(_, f)| !f)
            .map(|(x, _)| x)
            .collect(),
    )
}
