//! The purchase-order side: what was bought against what was sold.

use super::pairing::{Exp, Got, pair_orders};
use super::plan::{self, PlanMeaning};
use super::risk::{at_rate, contract_value, cost_rate, dec, md, months_between};
use super::words::{
    BillWord, mixed_terms, money_text, parse_line_ref, parse_term_word, per_period, shape,
    span_words, term_word, unit_text, units,
};
use super::{At, Check, Checked, Class, Direction, Money, Risk, Run, Side};
use crate::engine::calendar;
use crate::engine::catalogue::{Rate, Sellable};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use tenor_plugin_sdk::OrderLine;
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};

/// An expected line and the order line paired with it, with what every check reads.
struct OrderPair<'p> {
    x: &'p Exp<'p>,
    l: &'p PurchaseOrderLine,
    o: &'p OrderLine,
    item: Option<&'p Sellable>,
    /// The term sold.
    te: Option<u32>,
    /// The term bought (the sold one when the order does not say).
    to: Option<u32>,
    /// The order states a term other than the one sold.
    term_differs: bool,
    bought_billing: Option<crate::engine::catalogue::Billing>,
    /// Months in a billing period bought (on the term bought): `None` when the order does not
    /// say, `Some(None)` for one-time.
    bought_months: Option<Option<u32>>,
    /// Where the customer's commitment ends: the sold line's end, else the order's. A
    /// distributor that takes no co-term date commits past it.
    customer_end: NaiveDate,
}

impl<'p> OrderPair<'p> {
    /// Resolves what the checks share.
    fn new(
        cat: &'p crate::engine::catalogue::Catalogue,
        x: &'p Exp<'p>,
        y: &'p Got<'p>,
        customer_end: Option<NaiveDate>,
    ) -> Self {
        let o = y.o;
        let to = y.term.unwrap_or(x.term);
        OrderPair {
            customer_end: customer_end.unwrap_or(x.l.commitment_end),
            x,
            l: x.l,
            o,
            item: x.item.and_then(|i| cat.items.get(i)),
            te: x.term,
            to,
            term_differs: y.term.is_some_and(|t| t != x.term),
            bought_billing: y.billing.and_then(BillWord::billing),
            bought_months: y.billing.map(|b| b.months(to)),
        }
    }

    /// The rules' cost rate for the product on term `t` at the billing bought.
    fn rate(&self, t: Option<u32>) -> Option<Rate> {
        self.item
            .and_then(|it| cost_rate(it, t, self.bought_billing))
    }

    /// Where the distributor commitment of `to_m` months ends: as the order says, else that
    /// many months from its start.
    fn bought_end(&self, to_m: u32) -> Option<NaiveDate> {
        self.o.end.or_else(|| {
            calendar::add_months(
                self.o.start.unwrap_or(self.l.first_term_start),
                i64::from(to_m),
            )
        })
    }

    /// Whose commitment the order's end is: the customer's, unless the distributor commits
    /// past it (it takes no co-term date), when it is the purchase order's own.
    fn whose(&self) -> &'static str {
        if self.l.commitment_end == self.customer_end {
            "the customer"
        } else {
            "the purchase order"
        }
    }

    /// The cost of the bought units from the customer's end to `end`, at the bought term's
    /// cost rate.
    fn uncovered_cost(&self, end: NaiveDate) -> Option<Decimal> {
        let months = months_between(self.l.commitment_end, end);
        self.rate(self.to)
            .and_then(|r| at_rate(r, self.o.quantity, months))
    }
}

impl Run<'_> {
    /// Pairs the expected purchase-order lines with the order lines read back and reports
    /// every difference, missing line and extra line.
    pub(super) fn orders(
        &mut self,
        expected: &[PurchaseOrder],
        orders: &[OrderLine],
        checked: &mut Checked,
    ) {
        let exp = self.expected_lines(expected);
        let got = self.order_lines(orders, checked);
        let paired = pair_orders(&exp, &got);
        for (i, j) in paired.pairs {
            if let (Some(x), Some(y)) = (exp.get(i), got.get(j)) {
                self.compare_order(x, y);
            }
        }
        for (x, free) in exp.iter().zip(&paired.left_free) {
            if *free {
                self.missing_order(x);
            }
        }
        for (y, free) in got.iter().zip(&paired.right_free) {
            // Lines whose part number the rules do not know were never free to pair.
            if *free || y.item.is_none() {
                self.extra_order(y);
            }
        }
    }

    /// Pairs the expected purchase-order lines with the distributors' invoice lines (at cost)
    /// and reports what the MSP is charged beyond what was sold: more units than sold, a unit
    /// cost above the rules', a line for nothing sold. A line not invoiced is no cost, and a
    /// month's invoice need not bill every line, so nothing is reported missing.
    pub(super) fn cost_invoices(
        &mut self,
        expected: &[PurchaseOrder],
        lines: &[OrderLine],
        checked: &mut Checked,
    ) {
        let exp = self.expected_lines(expected);
        // Counted as invoice lines, not as order lines.
        let orders_before = checked.order_lines;
        let got = self.order_lines(lines, checked);
        checked.order_lines = orders_before;
        checked.distributor_invoice_lines = Some(got.len());
        let paired = pair_orders(&exp, &got);
        for (i, j) in paired.pairs {
            if let (Some(x), Some(y)) = (exp.get(i), got.get(j)) {
                let p = OrderPair::new(self.cat, x, y, self.customer_end(x));
                let at = At {
                    side: Side::DistributorInvoice,
                    line: Some(x.l.quote_line),
                    product: &x.l.product,
                    document: Some(&y.o.document),
                };
                let more = (p.o.quantity > p.l.quantity).then(|| {
                    let (money, why) = self.bought_more(&p);
                    Check {
                        class: Class::Quantity,
                        expected: p.l.quantity.to_string(),
                        found: p.o.quantity.to_string(),
                        kind: Risk::Cost,
                        money,
                        why: format!("the distributor invoices {} units: {why}", p.o.quantity),
                    }
                });
                let cost = self.order_unit_cost(&p);
                for c in more.into_iter().chain(cost) {
                    self.push(&at, c);
                }
            }
        }
        for (y, free) in got.iter().zip(&paired.right_free) {
            if *free || y.item.is_none() {
                let before = self.findings.len();
                self.extra_order(y);
                for f in self.findings.iter_mut().skip(before) {
                    f.side = Side::DistributorInvoice;
                }
            }
        }
    }

    /// Every line of the expected purchase orders, resolved.
    fn expected_lines<'e>(&self, expected: &'e [PurchaseOrder]) -> Vec<Exp<'e>> {
        expected
            .iter()
            .flat_map(|po| po.lines.iter().map(move |l| (po, l)))
            .map(|(po, l)| {
                let term = parse_term_word(&l.term).flatten();
                let billing = BillWord::read(&l.billing);
                Exp {
                    po,
                    l,
                    item: self.m.product_of(&l.product),
                    term,
                    months: billing.and_then(|b| b.months(term)),
                    billing: billing.and_then(BillWord::billing),
                    sold: self.sold_for_line(l.quote_line),
                }
            })
            .collect()
    }

    /// The order lines of this quote's customer, resolved; the others are counted aside.
    fn order_lines<'o>(&self, orders: &'o [OrderLine], checked: &mut Checked) -> Vec<Got<'o>> {
        let mut got: Vec<Got> = Vec::with_capacity(orders.len());
        for o in orders {
            if !self.for_us(o.customer.as_deref()) {
                checked.other_customers += 1;
                continue;
            }
            let item = self.m.product_of(&o.part_number);
            // A line that does not say its term or billing but names the distributor's
            // commitment or plan id gets them from the rules' ids.
            let plan = self.plan_meaning(item, o);
            got.push(Got {
                o,
                item,
                term: o
                    .term
                    .as_deref()
                    .and_then(parse_term_word)
                    .or(plan.map(|p| p.term)),
                billing: o
                    .billing
                    .as_deref()
                    .and_then(BillWord::read)
                    .or(plan.and_then(PlanMeaning::bill_word)),
                line_ref: o.line_ref.as_deref().and_then(parse_line_ref),
            });
        }
        checked.order_lines += got.len();
        got
    }

    /// An expected line nothing was bought for.
    fn missing_order(&mut self, x: &Exp) {
        let l = x.l;
        let sold = x.sold.and_then(|i| self.sold.get(i));
        let (money, why) = match (sold, &l.bundle) {
            (Some(s), None) => {
                let cv = contract_value(s.pl);
                (
                    Money::Known(cv, Some(Direction::OverBilled)),
                    format!(
                        "nothing was bought for it: the customer is billed {} over the commitment for a service that was not provisioned (owed back unless it is bought)",
                        self.money(cv)
                    ),
                )
            }
            (_, Some(b)) => (
                Money::Unknown,
                format!(
                    "nothing was bought for it; it is part of bundle `{b}`, whose price is not split per component here, so the amount is unknown"
                ),
            ),
            (None, None) => (
                Money::Unknown,
                "nothing was bought for it, and its quote line was not priced: amount unknown"
                    .to_string(),
            ),
        };
        let at = At {
            side: Side::PurchaseOrder,
            line: Some(l.quote_line),
            product: &l.product,
            document: Some(&x.po.id),
        };
        let check = Check {
            class: Class::MissingLine,
            expected: format!(
                "{} × {}, {} {}, from {}",
                l.part_number, l.quantity, l.term, l.billing, l.first_term_start
            ),
            found: "not on any order".into(),
            kind: Risk::Billing,
            money,
            why,
        };
        self.push(&at, check);
    }

    /// A bought line that was not sold: its cost for the distributor's commitment.
    fn extra_order(&mut self, y: &Got) {
        let o = y.o;
        let item = y.item.and_then(|i| self.cat.items.get(i));
        let product = item
            .map(|i| i.sku.to_string())
            .unwrap_or_else(|| o.part_number.clone());
        let (money, why) = self.extra_order_cost(y, item);
        let at = At {
            side: Side::PurchaseOrder,
            line: None,
            product: &product,
            document: Some(&o.document),
        };
        let check = Check {
            class: Class::ExtraLine,
            expected: "not sold".into(),
            found: format!(
                "{} × {}{}",
                o.part_number,
                o.quantity,
                o.term
                    .as_deref()
                    .map(|t| format!(", {t}"))
                    .unwrap_or_default()
            ),
            kind: Risk::Cost,
            money,
            why,
        };
        self.push(&at, check);
    }

    /// What a bought line that was not sold costs over the commitment bought, and why.
    fn extra_order_cost(&self, y: &Got, item: Option<&Sellable>) -> (Money, String) {
        let o = y.o;
        let billing = y.billing.and_then(BillWord::billing);
        // The commitment bought: as the order says, else one-time when that is all the
        // product is offered as.
        let term = y.term.or_else(|| {
            item.filter(|it| {
                !it.offers.is_empty() && it.offers.iter().all(|o| o.term_months.is_none())
            })
            .map(|_| None)
        });
        match (item, term) {
            (None, _) => (
                Money::Unknown,
                format!(
                    "`{}` is not a part number, product id or SKU of the rules, so its cost is unknown",
                    o.part_number
                ),
            ),
            (Some(_), None) => (
                Money::Unknown,
                "the order does not say its term, so the cost of the commitment is unknown"
                    .to_string(),
            ),
            (Some(it), Some(t)) => match cost_rate(it, t, billing)
                .and_then(|r| at_rate(r, o.quantity, dec(t.unwrap_or(0))))
            {
                Some(c) => (
                    Money::Known(c, None),
                    format!(
                        "bought but not sold: {} units for the distributor's {} commitment cost {}",
                        o.quantity,
                        term_word(t),
                        self.money(c)
                    ),
                ),
                None => (
                    Money::Unknown,
                    format!(
                        "bought but not sold; the rules give no cost for `{}` on {}, so the amount is unknown",
                        it.sku,
                        term_word(t)
                    ),
                ),
            },
        }
    }

    /// Where the sold line's commitment ends, when the expected line names it.
    fn customer_end(&self, x: &Exp) -> Option<NaiveDate> {
        x.sold.and_then(|i| self.sold.get(i)).map(|s| s.pl.end)
    }

    /// Compares a bought line with the line it was expected as: one finding per disagreement.
    fn compare_order(&mut self, x: &Exp, y: &Got) {
        let p = OrderPair::new(self.cat, x, y, self.customer_end(x));
        let at = At {
            side: Side::PurchaseOrder,
            line: Some(x.l.quote_line),
            product: &x.l.product,
            document: Some(&y.o.document),
        };
        let checks: [fn(&Self, &OrderPair) -> Option<Check>; 7] = [
            Self::order_term,
            Self::order_plan,
            Self::order_billing,
            Self::order_start,
            Self::order_end,
            Self::order_quantity,
            Self::order_unit_cost,
        ];
        for check in checks {
            if let Some(c) = check(self, &p) {
                self.push(&at, c);
            }
        }
    }

    /// Term: the distributor commitment against the customer's.
    fn order_term(&self, p: &OrderPair) -> Option<Check> {
        if !p.term_differs {
            return None;
        }
        let (money, why) = match (p.te, p.to) {
            (Some(te_m), Some(to_m)) if to_m > te_m => self.longer_commitment(p, te_m, to_m),
            (Some(te_m), Some(to_m)) => (
                Money::Unknown,
                format!(
                    "the customer holds a {te_m}-month price (to {}); the MSP bought {to_m} months from the distributor{}: what the distributor charges for the remaining {} months is unknown until renewal",
                    p.customer_end,
                    p.bought_end(to_m)
                        .map(|d| format!(" (to {d})"))
                        .unwrap_or_default(),
                    te_m.saturating_sub(to_m)
                ),
            ),
            _ => (
                Money::Unknown,
                mixed_terms(&term_word(p.te), "bought", &term_word(p.to)),
            ),
        };
        Some(Check {
            class: Class::Term,
            expected: term_word(p.te),
            found: term_word(p.to),
            kind: Risk::Commitment,
            money,
            why,
        })
    }

    /// The MSP committed to the distributor for longer than the customer committed: the
    /// uncovered months at cost.
    fn longer_commitment(&self, p: &OrderPair, te_m: u32, to_m: u32) -> (Money, String) {
        let l = p.l;
        match p.bought_end(to_m) {
            Some(end) if end > l.commitment_end => match p.uncovered_cost(end) {
                Some(c) => (
                    Money::Known(c, None),
                    format!(
                        "the MSP committed to the distributor for {to_m} months (to {end}), {} for {te_m} (to {}): the {} uncovered cost {} if the customer leaves at the end of its term",
                        p.whose(),
                        l.commitment_end,
                        span_words(l.commitment_end, end),
                        self.money(c)
                    ),
                ),
                None => (
                    Money::Unknown,
                    format!(
                        "the MSP committed for {to_m} months, the customer for {te_m}; the rules give no cost for {} on {}, so the uncovered months' cost is unknown",
                        l.product,
                        term_word(p.to)
                    ),
                ),
            },
            _ => (
                Money::Known(Decimal::ZERO, None),
                format!(
                    "the MSP committed for {to_m} months, {} for {te_m}, but the distributor's commitment still ends by {}'s end ({}): nothing uncovered",
                    p.whose(),
                    p.whose(),
                    l.commitment_end
                ),
            ),
        }
    }

    /// Billing frequency. Paying its whole term at the start is one shape whatever the term (a
    /// P1Y annual purchase of a P3Y upfront sale differs in term, not frequency), and the same
    /// period length is the same cadence whatever the term: both must differ.
    fn order_billing(&self, p: &OrderPair) -> Option<Check> {
        let (l, o) = (p.l, p.o);
        let om = p.bought_months?;
        if shape(om, p.to) == shape(p.x.months, p.te) || om == p.x.months {
            return None;
        }
        let first_o = om.unwrap_or(0);
        let first_e = p.x.months.unwrap_or(0);
        let sold_rate = p.item.and_then(|it| cost_rate(it, p.te, p.x.billing));
        let (money, why) = if first_o > first_e {
            match sold_rate.and_then(|r| at_rate(r, l.quantity, dec(first_o - first_e))) {
                Some(c) => (
                    Money::Known(c, None),
                    format!(
                        "the MSP pays the distributor for {first_o} months at a time while the customer is billed for {}: {} of cost is paid before it is billed",
                        if first_e == 1 { "1 month".to_string() } else { format!("{first_e} months") },
                        self.money(c)
                    ),
                ),
                None => (
                    Money::Unknown,
                    "the MSP pays the distributor sooner than the customer is billed; the rules give no cost, so the amount is unknown".to_string(),
                ),
            }
        } else {
            (
                Money::Known(Decimal::ZERO, None),
                "the MSP pays the distributor no sooner than the customer is billed: no money at risk, but the order does not say what was sold".to_string(),
            )
        };
        Some(Check {
            class: Class::BillingFrequency,
            expected: l.billing.clone(),
            found: o
                .billing
                .clone()
                .or_else(|| p.bought_billing.map(|b| b.to_string()))
                .unwrap_or_default(),
            kind: Risk::Timing,
            money,
            why,
        })
    }

    /// Start of provisioning against the sold start.
    fn order_start(&self, p: &OrderPair) -> Option<Check> {
        let sold_start = p.l.first_term_start;
        let os = p.o.start.filter(|d| *d != sold_start)?;
        let sold = p.x.sold.and_then(|i| self.sold.get(i));
        Some(self.start_check(
            sold,
            sold_start,
            os,
            Direction::OverBilled,
            |later, m| {
                if later {
                    format!("service starts {os}, later than billed from {sold_start}: {m} over-billed")
                } else {
                    format!(
                        "service starts {os}, before billing from {sold_start}: {m} of service is never billed"
                    )
                }
            },
            "the quote line cannot be priced from the provisioned start, so the amount is unknown",
        ))
    }

    /// End of the commitment, when not already explained by the term or a start shift. A
    /// distributor that states the end of its current term (the co-term date, or a renewal
    /// after it) agrees: the subscription renews on to the customer's end.
    fn order_end(&self, p: &OrderPair) -> Option<Check> {
        let (l, o) = (p.l, p.o);
        let oe = o
            .end
            .filter(|d| *d != l.commitment_end && !ends_a_term(l, *d))?;
        // A co-termed purchase order keeps its co-term date when provisioning starts late; a
        // distributor that takes no co-term date (its first term a whole term from the start)
        // moves every end with the start.
        let whole_first_term = parse_term_word(&l.term)
            .flatten()
            .and_then(|m| calendar::add_months(l.first_term_start, i64::from(m)))
            == Some(l.first_term_end);
        let cotermed = !whole_first_term
            && p.x
                .sold
                .and_then(|i| self.sold.get(i))
                .is_some_and(|s| s.pl.coterm.is_some());
        let shifted = !cotermed
            && o.start.is_some_and(|os| {
                oe - os == l.commitment_end - l.first_term_start
                    || (whole_first_term && oe - os == l.first_term_end - l.first_term_start)
            });
        if p.term_differs || p.te.is_none() || shifted {
            return None;
        }
        let (money, why) = if oe > l.commitment_end {
            match p.uncovered_cost(oe) {
                Some(c) => (
                    Money::Known(c, None),
                    format!(
                        "the distributor commitment runs to {oe}, {}'s to {}: the {} uncovered cost {}",
                        p.whose(),
                        l.commitment_end,
                        span_words(l.commitment_end, oe),
                        self.money(c)
                    ),
                ),
                None => (
                    Money::Unknown,
                    format!(
                        "the distributor commitment runs past {}'s ({oe} against {}); the rules give no cost, so the amount is unknown",
                        p.whose(),
                        l.commitment_end
                    ),
                ),
            }
        } else {
            (
                Money::Unknown,
                format!(
                    "the distributor commitment ends {oe}, before {}'s {}: the customer holds its price to {}, and what the distributor charges after {oe} is unknown until renewal",
                    p.whose(),
                    l.commitment_end,
                    p.customer_end
                ),
            )
        };
        Some(Check {
            class: Class::CotermDate,
            expected: format!("ends {}", l.commitment_end),
            found: format!("ends {oe}"),
            kind: Risk::Commitment,
            money,
            why,
        })
    }

    /// Quantity: more bought than sold is cost; fewer is billing for nothing provisioned.
    fn order_quantity(&self, p: &OrderPair) -> Option<Check> {
        let (l, o) = (p.l, p.o);
        if o.quantity == l.quantity {
            return None;
        }
        let (kind, (money, why)) = if o.quantity > l.quantity {
            (Risk::Cost, self.bought_more(p))
        } else {
            (Risk::Billing, self.bought_fewer(p))
        };
        Some(Check {
            class: Class::Quantity,
            expected: l.quantity.to_string(),
            found: o.quantity.to_string(),
            kind,
            money,
            why,
        })
    }

    /// The extra units bought, at cost for the distributor's commitment.
    fn bought_more(&self, p: &OrderPair) -> (Money, String) {
        let extra = p.o.quantity.saturating_sub(p.l.quantity);
        let to = p.to;
        match p
            .rate(to)
            .and_then(|r| at_rate(r, extra, dec(to.unwrap_or(0))))
        {
            Some(c) => (
                Money::Known(c, None),
                format!(
                    "{} more bought than sold: at cost for the distributor's {} commitment that is {}",
                    units(extra),
                    term_word(to),
                    self.money(c)
                ),
            ),
            None => (
                Money::Unknown,
                format!(
                    "{} more bought than sold; the rules give no cost for {} on {}, so the amount is unknown",
                    units(extra),
                    p.l.product,
                    term_word(to)
                ),
            ),
        }
    }

    /// The units sold but not bought: billed to the customer for nothing provisioned.
    fn bought_fewer(&self, p: &OrderPair) -> (Money, String) {
        let (l, o) = (p.l, p.o);
        let short = l.quantity.saturating_sub(o.quantity);
        let sold = p.x.sold.and_then(|i| self.sold.get(i));
        match (sold, &l.bundle) {
            (Some(s), None) => match self.quantity_money(s, o.quantity) {
                Some((d, how)) => (
                    Money::Known(d, Some(Direction::OverBilled)),
                    format!(
                        "{} fewer bought than sold: the customer is billed for units that were not provisioned; {how}, so {} is owed back unless they are bought",
                        units(short),
                        self.money(d)
                    ),
                ),
                None => (
                    Money::Unknown,
                    format!("{} fewer bought than sold; amount unknown", units(short)),
                ),
            },
            (_, bundle) => (
                Money::Unknown,
                format!(
                    "{} fewer bought than sold{}: the customer is billed for units that were not provisioned; the amount is unknown",
                    units(short),
                    bundle
                        .as_deref()
                        .map(|b| format!(
                            " (a component of bundle `{b}`, whose price is not split per component)"
                        ))
                        .unwrap_or_default()
                ),
            ),
        }
    }

    /// Unit cost against the rules' cost, per month so a different billing still compares.
    fn order_unit_cost(&self, p: &OrderPair) -> Option<Check> {
        let (l, o) = (p.l, p.o);
        // The period the order's unit cost is for: its own billing, else the sold one.
        let found_period = p.bought_months.unwrap_or(p.x.months);
        // Bought on another term, the line costs what the rules say that term costs (the term
        // finding prices the commitment itself); a term the rules give no cost is not checked.
        let (uo, ue, expected_period) = if p.term_differs {
            let rate = p.rate(p.to)?;
            (o.unit_cost?, rate.for_months(found_period?), found_period)
        } else {
            (o.unit_cost?, l.unit_cost?, p.x.months)
        };
        let me = dec(expected_period.unwrap_or(1));
        let mo = dec(found_period.unwrap_or(1));
        let (lhs, rhs) = (uo.checked_mul(me)?, ue.checked_mul(mo)?);
        if lhs == rhs {
            return None;
        }
        // Per the sold billing period, and per line for the tolerance.
        let diff = lhs.saturating_sub(rhs);
        let unit_diff = md(&[diff], &[mo]).unwrap_or_default();
        let line_diff = self.cat.round(unit_diff.saturating_mul(o.quantity));
        if line_diff.abs() <= self.cat.match_tolerance {
            return None;
        }
        let minor = self.cat.minor_units;
        // On the term bought, the leak is certain for that commitment (what follows it is the
        // term finding's unknown); on the term sold, over the sold commitment's cost.
        let committed = match (p.term_differs, p.to, found_period) {
            (true, Some(t), Some(m)) if m > 0 => {
                md(&[ue, l.quantity, dec(t)], &[dec(m)]).unwrap_or(l.committed_cost)
            }
            _ => l.committed_cost,
        };
        let (money, why) = if lhs > rhs {
            match md(&[committed, o.quantity, diff], &[l.quantity, rhs]) {
                Some(c) => (
                    Money::Known(c, None),
                    format!(
                        "bought at {} a unit {} against the rules' cost {}: over the commitment ({} at the rules' cost) the margin leaks {}",
                        unit_text(uo, minor),
                        per_period(found_period),
                        unit_text(ue, minor),
                        money_text(committed, &self.cat.currency),
                        self.money(c)
                    ),
                ),
                None => (
                    Money::Unknown,
                    "bought above the rules' cost; the rules' cost is zero, so the leak cannot be scaled".to_string(),
                ),
            }
        } else {
            (
                Money::Known(Decimal::ZERO, None),
                format!(
                    "bought at {} a unit, below the rules' cost {}: no money at risk (the rules' cost may be out of date)",
                    unit_text(uo, minor),
                    unit_text(ue, minor)
                ),
            )
        };
        Some(Check {
            class: Class::UnitPrice,
            expected: format!(
                "cost {} {}",
                unit_text(ue, minor),
                per_period(expected_period)
            ),
            found: format!("cost {} {}", unit_text(uo, minor), per_period(found_period)),
            kind: Risk::Cost,
            money,
            why,
        })
    }
}

impl Run<'_> {
    /// What the order line's commitment or plan id stands for in the rules, when it names one
    /// the rules give for its product.
    fn plan_meaning(&self, item: Option<usize>, o: &OrderLine) -> Option<PlanMeaning> {
        let it = item.and_then(|i| self.cat.items.get(i))?;
        plan::meaning(&it.parts, o.plan.as_deref()?)
    }

    /// Commitment or plan id: the distributor's id against the one the purchase order names.
    /// An id the rules give for another term or billing is already priced by the term and
    /// billing checks (the line's term and billing are read from it when it states none); what
    /// is left is an id the rules do not know, or one that contradicts the term the line
    /// states, and neither says what was committed to.
    fn order_plan(&self, p: &OrderPair) -> Option<Check> {
        let id = p.o.plan.as_deref()?;
        let named: Vec<&str> = [&p.l.commitment_term_id, &p.l.plan_id]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let parts = &p.item?.parts;
        if plan::names(&named, id) || !plan::has_ids(parts) {
            return None;
        }
        let expected = match named.first() {
            Some(n) => format!("{} (id `{n}`)", term_word(p.te)),
            None => term_word(p.te),
        };
        let why = match plan::meaning(parts, id) {
            // Read as the line's term, or agreeing with it: the term check has it.
            Some(m) if m.term == p.to => return None,
            Some(m) => format!(
                "the distributor states {} but its id `{id}` is the rules' id for {} of {}: which commitment was bought is unknown, so the amount is unknown",
                term_word(p.to),
                m.words(),
                p.l.product
            ),
            None => format!(
                "`{id}` is not a commitment or plan id the rules give for {}{}: what the distributor committed to is unknown, so the amount is unknown",
                p.l.product,
                named
                    .first()
                    .map(|n| format!(" (the purchase order names `{n}`)"))
                    .unwrap_or_default()
            ),
        };
        Some(Check {
            class: Class::Term,
            expected,
            found: format!("id `{id}`"),
            kind: Risk::Commitment,
            money: Money::Unknown,
            why,
        })
    }
}

/// True when `d` ends one of a line's distributor terms inside the customer's commitment: the
/// first term (at the co-term date), or a renewal of `renewal_term` after it.
fn ends_a_term(l: &PurchaseOrderLine, d: NaiveDate) -> bool {
    if d == l.first_term_end {
        return true;
    }
    let Some(Some(m)) = l
        .renewal_term
        .as_deref()
        .filter(|_| l.renews)
        .and_then(parse_term_word)
    else {
        return false;
    };
    if d < l.first_term_end || d > l.commitment_end || m == 0 {
        return false;
    }
    (1..)
        .map(|k: i64| calendar::add_months(l.first_term_end, k * i64::from(m)))
        .take_while(|e| e.is_some_and(|e| e <= l.commitment_end))
        .any(|e| e == Some(d))
}
