//! Discounts: whether a rule applies to a line (scope, conditions), how much it takes off
//! each charge (durations, fixed and percentage amounts), and why not when it takes nothing.

use super::offer::Resolved;
use super::rounding::{Exact, muldiv, percent_of, round_muldiv, round_ratio};
use super::types::{Charge, ChargeKind, Explained, PriceError, Share, Step, Verdict, perr};
use crate::engine::calendar::{self};
use crate::engine::catalogue::{
    Billing, Catalogue, Condition, DiscountAmount, DiscountRule, DiscountScope, Sellable,
};
use crate::engine::quote::{ManualDiscount, Quote, QuoteLine};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::sync::Arc;
use tenor_dsl::ast::{Comparison, DateOp, DateSubject};
use tenor_dsl::diagnostic::did_you_mean;

/// Discounts a line's gross charges one at a time, in bill-date order.
pub(super) struct Discounter<'c, 's> {
    pub(super) ctx: &'s LineCtx<'c>,
    /// Whether each rule applies to the line (the reason when not).
    pub(super) verdicts: &'s [Result<(), String>],
    /// Whole periods may reuse the discounts of the first whole period (see `price_line`).
    pub(super) uniform: bool,
    /// A charge other than a true-up has been discounted.
    pub(super) first_charge_done: bool,
    /// The whole period whose discounts are in `memo`: its amount and share.
    pub(super) memo_key: Option<(Decimal, Share)>,
    pub(super) memo: &'s mut Vec<(Option<usize>, Decimal)>,
    pub(super) fired: &'s mut Vec<(Option<usize>, Decimal)>,
    /// The charges of the line priced before, whose rule names are taken rather than counted
    /// again where they are the same (see [`rule_name`]).
    pub(super) spare: &'s mut [Charge],
    pub(super) quote_discount_used: &'s mut [bool],
    pub(super) manual: &'s Arc<str>,
    pub(super) zero: Decimal,
    pub(super) explain: bool,
}

impl Discounter<'_, '_> {
    /// Adds a gross charge (`c` with its cost and, for `explain`, its steps and detail) to
    /// `charges`, each of its discounts right after it. The charge is built in its place
    /// rather than passed whole: copying it in and reading it back stalled on every line.
    pub(super) fn push(
        &mut self,
        c: Gross,
        cost: Decimal,
        explained: Option<Box<Explained>>,
        charges: &mut Vec<Charge>,
    ) {
        // The gross charge goes in first; its discounts follow, and `explain` adds to its steps
        // and verdicts through `gi`.
        let gi = charges.len();
        charges.push(Charge {
            kind: c.kind,
            period_start: c.period_start,
            period_end: c.period_end,
            bill_date: c.bill_date,
            amount: c.amount,
            cost,
            rule: None,
            share: c.share,
            explained,
        });
        if self.replay_memo(&c, charges) {
            // The memo may come from an earlier line with the same recipe, so this can be the
            // line's first charge.
            self.first_charge_done = true;
            return;
        }
        let mut running = c.amount;
        self.fired.clear();
        for (k, rule) in self.ctx.cat.discounts.iter().enumerate() {
            running = self.apply_rule(k, rule, &c, running, gi, charges);
        }
        self.apply_manual(&c, running, gi, charges);
        if c.kind != ChargeKind::MinimumTrueUp {
            self.first_charge_done = true;
            if self.uniform && !c.share.is_partial() && !matches!(c.kind, ChargeKind::OneTime) {
                self.memo_key = Some((c.amount, c.share));
                std::mem::swap(self.memo, self.fired);
            }
        }
    }

    /// Repeats the remembered discounts of an identical whole period; false when `c` is not one.
    fn replay_memo(&mut self, c: &Gross, charges: &mut Vec<Charge>) -> bool {
        let Some((amount, share)) = self.memo_key else {
            return false;
        };
        if c.amount != amount || c.share != share || c.kind == ChargeKind::MinimumTrueUp {
            return false;
        }
        for &(rule, d) in self.memo.iter() {
            let rule = match rule {
                Some(k) => self.ctx.cat.discounts.get(k).map(|r| &r.name),
                None => Some(self.manual),
            };
            let rule = rule.map(|r| rule_name(self.spare, charges.len(), r));
            charges.push(c.discount(rule, d, None, self.zero));
        }
        true
    }

    /// Records, for `explain`, a rule's verdict (and a step when it fired) on the gross charge.
    fn note(&self, charges: &mut [Charge], gi: usize, verdict: Verdict, step: Option<Step>) {
        if let Some(g) = charges.get_mut(gi) {
            let e = g.explained.get_or_insert_with(Default::default);
            if let Some(s) = step {
                e.steps.push(s);
            }
            e.detail
                .get_or_insert_with(Default::default)
                .verdicts
                .push(verdict);
        }
    }

    /// Records that `rule` took nothing off the gross charge, and why.
    fn skipped(&self, rule: &DiscountRule, why: String, gi: usize, charges: &mut [Charge]) {
        let verdict = Verdict {
            rule: rule.name.clone(),
            applied: false,
            why,
            amount: self.zero,
            at: Some(rule.origin.clone()),
        };
        self.note(charges, gi, verdict, None);
    }

    /// Applies discount rule `k` to what the rules before it left (`running`); returns what
    /// this one leaves.
    fn apply_rule(
        &mut self,
        k: usize,
        rule: &DiscountRule,
        c: &Gross,
        running: Decimal,
        gi: usize,
        charges: &mut Vec<Charge>,
    ) -> Decimal {
        let explain = self.explain;
        let no_reason = Err(String::new());
        if let Err(why) = self.verdicts.get(k).unwrap_or(&no_reason) {
            if explain {
                self.skipped(rule, why.clone(), gi, charges);
            }
            return running;
        }
        let quote_once = matches!(rule.scope, DiscountScope::Quote)
            && matches!(rule.amount, DiscountAmount::Fixed { .. });
        if quote_once && self.quote_discount_used.get(k).copied().unwrap_or(true) {
            if explain {
                let why = "a fixed amount off the quote applies once, already used".to_string();
                self.skipped(rule, why, gi, charges);
            }
            return running;
        }
        match self.ctx.discount(rule, c, running, self.first_charge_done) {
            Ok(amount) if !amount.is_zero() => {
                if quote_once {
                    if let Some(u) = self.quote_discount_used.get_mut(k) {
                        *u = true;
                    }
                }
                self.fired.push((Some(k), amount));
                let steps = if explain {
                    let how = self.ctx.discount_how(rule, c, running, amount);
                    self.fired_note(rule, &how, amount, gi, charges);
                    let step = Step {
                        text: how,
                        at: Some(rule.origin.clone()),
                    };
                    Explained::of(vec![step], None)
                } else {
                    None
                };
                let name = rule_name(self.spare, charges.len(), &rule.name);
                charges.push(c.discount(Some(name), amount, steps, self.zero));
                running - amount
            }
            _ if !explain => running,
            outcome => {
                let how = match outcome {
                    Ok(amount) => self.ctx.discount_how(rule, c, running, amount),
                    Err(skip) => skip.why(rule, self.ctx.line.start),
                };
                self.skipped(rule, how, gi, charges);
                running
            }
        }
    }

    /// Records, for `explain`, that `rule` took `amount` off the gross charge.
    fn fired_note(
        &self,
        rule: &DiscountRule,
        how: &str,
        amount: Decimal,
        gi: usize,
        charges: &mut [Charge],
    ) {
        let at = Some(rule.origin.clone());
        let step = Step {
            text: format!("discount `{}` fired: {how}", rule.name),
            at: at.clone(),
        };
        let verdict = Verdict {
            rule: rule.name.clone(),
            applied: true,
            why: how.to_string(),
            amount,
            at,
        };
        self.note(charges, gi, verdict, Some(step));
    }

    /// Applies the quote line's own discount, after the rules, to what they left.
    fn apply_manual(&mut self, c: &Gross, running: Decimal, gi: usize, charges: &mut Vec<Charge>) {
        let cat = self.ctx.cat;
        let (Some(m), false) = (self.ctx.line.discount, c.kind == ChargeKind::MinimumTrueUp) else {
            return;
        };
        let (amount, how) = match m {
            ManualDiscount::Percent(p) => {
                let a = percent_of(cat, running, p);
                (a, format!("manual {p}% of {running} = {a}"))
            }
            ManualDiscount::Amount(a) if !self.first_charge_done => {
                let a = cat.round(a.min(running.max(Decimal::ZERO)));
                (a, format!("manual {a} off the line's first charge"))
            }
            ManualDiscount::Amount(_) => (Decimal::ZERO, String::new()),
        };
        if amount.is_zero() {
            return;
        }
        self.fired.push((None, amount));
        let steps = if self.explain {
            let verdict = Verdict {
                rule: self.manual.clone(),
                applied: true,
                why: how.clone(),
                amount,
                at: None,
            };
            self.note(charges, gi, verdict, None);
            let step = Step {
                text: how,
                at: None,
            };
            Explained::of(vec![step], None)
        } else {
            None
        };
        let name = rule_name(self.spare, charges.len(), self.manual);
        charges.push(c.discount(Some(name), amount, steps, self.zero));
    }
}

/// `name` for the discount charge at `at`: taken from the charge of the line before in that
/// place (`spare`) when it names the same rule. Counting a reference, and dropping it with the
/// line, is a locked instruction each; a quote's lines mostly have their discounts in the same
/// places.
fn rule_name(spare: &mut [Charge], at: usize, name: &Arc<str>) -> Arc<str> {
    let held = spare
        .get_mut(at)
        .and_then(|c| c.rule.take_if(|r| Arc::ptr_eq(r, name)));
    held.unwrap_or_else(|| name.clone())
}

/// What discounting reads of a gross charge.
#[derive(Clone, Copy, Debug)]
pub(super) struct Gross {
    pub(super) kind: ChargeKind,
    pub(super) period_start: NaiveDate,
    pub(super) period_end: NaiveDate,
    pub(super) bill_date: NaiveDate,
    pub(super) amount: Decimal,
    pub(super) share: Share,
}

impl Gross {
    /// The discount charge taking `amount` off this charge.
    fn discount(
        &self,
        rule: Option<Arc<str>>,
        amount: Decimal,
        explained: Option<Box<Explained>>,
        zero: Decimal,
    ) -> Charge {
        Charge {
            kind: ChargeKind::Discount,
            period_start: self.period_start,
            period_end: self.period_end,
            bill_date: self.bill_date,
            amount: -amount,
            cost: zero,
            rule,
            share: self.share,
            explained,
        }
    }
}

/// A line's facts for evaluating discount rules.
pub(super) struct LineCtx<'a> {
    pub(super) cat: &'a Catalogue,
    pub(super) quote: &'a Quote,
    pub(super) line: &'a QuoteLine,
    pub(super) item: &'a Sellable,
    pub(super) term: Option<u32>,
    pub(super) billing: Billing,
    /// Build the words of reasons only when someone will read them.
    pub(super) explain: bool,
}

impl<'a> LineCtx<'a> {
    /// The facts of a resolved line.
    pub(super) fn new(
        cat: &'a Catalogue,
        quote: &'a Quote,
        line: &'a QuoteLine,
        r: &Resolved<'a>,
        explain: bool,
    ) -> Self {
        LineCtx {
            cat,
            quote,
            line,
            item: r.item,
            term: r.term,
            billing: r.billing,
            explain,
        }
    }

    pub(super) fn why(&self, f: impl FnOnce() -> String) -> String {
        if self.explain { f() } else { String::new() }
    }

    /// Whether a rule's scope and conditions hold for this line; the reason when not.
    pub(super) fn applies(&self, rule: &DiscountRule) -> Result<(), String> {
        self.in_scope(&rule.scope)?;
        rule.conditions.iter().try_for_each(|c| self.holds(c))
    }

    /// Whether the line is in the rule's scope (SKU, vendor, category).
    fn in_scope(&self, scope: &DiscountScope) -> Result<(), String> {
        let item = self.item;
        match scope {
            DiscountScope::Sku(s) if &*item.sku != s.as_str() => {
                Err(self.why(|| format!("applies to `{s}`, this line is `{}`", item.sku)))
            }
            DiscountScope::Vendor(v) if item.vendor.as_deref() != Some(v) => Err(self.why(|| {
                format!(
                    "applies to vendor `{v}`, this line's vendor is {}",
                    quoted_or_not_set(item.vendor.as_deref())
                )
            })),
            DiscountScope::Category(c) if item.category.as_deref() != Some(c) => {
                Err(self.why(|| {
                    format!(
                        "applies to category `{c}`, this line's category is {}",
                        quoted_or_not_set(item.category.as_deref())
                    )
                }))
            }
            _ => Ok(()),
        }
    }

    /// Whether one condition of a rule holds for the line.
    fn holds(&self, cond: &Condition) -> Result<(), String> {
        match cond {
            Condition::Segment(list) => {
                let customer = &self.quote.customer;
                if list.iter().any(|x| customer.holds_segment(x)) {
                    return Ok(());
                }
                Err(self.why(|| {
                    let held = match (&customer.segment, customer.segments.as_slice()) {
                        (Some(one), []) | (None, [one]) => format!("the customer's is `{one}`"),
                        (None, []) => "the customer's is not set".to_string(),
                        _ => format!("the customer's are {}", customer.segments_text()),
                    };
                    format!("needs customer segment {}, {held}", list.join(" or "))
                }))
            }
            Condition::NewCustomer => {
                if self.quote.customer.new {
                    return Ok(());
                }
                Err(self.why(|| {
                    format!(
                        "needs a new customer, {} is not new",
                        self.quote.customer.id
                    )
                }))
            }
            Condition::Term(list) => {
                if list.contains(&self.term) {
                    return Ok(());
                }
                // The names are made only when `explain` reads them.
                Err(self.why(|| {
                    let names: Vec<String> = list
                        .iter()
                        .map(|t| crate::engine::catalogue::term_text(*t))
                        .collect();
                    format!(
                        "needs term {}, the line is {}",
                        names.join(" or "),
                        crate::engine::catalogue::term_text(self.term)
                    )
                }))
            }
            Condition::Billing(list) => {
                if self.term.is_some() && list.contains(&self.billing) {
                    return Ok(());
                }
                Err(self.why(|| {
                    let names: Vec<&str> = list.iter().map(|b| b.keyword()).collect();
                    format!(
                        "needs billing {}, the line is billed {}",
                        names.join(" or "),
                        if self.term.is_none() {
                            "once"
                        } else {
                            self.billing.keyword()
                        }
                    )
                }))
            }
            Condition::Quantity(op, n) => self.quantity_holds(*op, *n),
            Condition::Date(subject, op, date) => self.date_holds(*subject, *op, *date),
        }
    }

    /// Whether the line's quantity compares with `n` as the rule says.
    fn quantity_holds(&self, op: Comparison, n: Decimal) -> Result<(), String> {
        let q = self.line.quantity;
        let ok = match op {
            Comparison::AtLeast => q >= n,
            Comparison::AtMost => q <= n,
            Comparison::Above => q > n,
            Comparison::Below => q < n,
            Comparison::Is => q == n,
        };
        if ok {
            return Ok(());
        }
        Err(self.why(|| format!("needs quantity {} {n}, the line has {q}", op.words())))
    }

    /// Whether the line's start (or the quote's date) is before or from `date`.
    fn date_holds(&self, subject: DateSubject, op: DateOp, date: NaiveDate) -> Result<(), String> {
        let (what, d) = match subject {
            DateSubject::Start => ("start", self.line.start),
            DateSubject::QuoteDate => ("quote date", self.quote.date),
        };
        let ok = match op {
            DateOp::Before => d < date,
            DateOp::From => d >= date,
        };
        if ok {
            return Ok(());
        }
        Err(self.why(|| {
            format!(
                "needs {what} {} {date}, it is {d}",
                if op == DateOp::Before {
                    "before"
                } else {
                    "from"
                }
            )
        }))
    }

    /// The share of a charge's period inside the rule's duration, as days inside over days in
    /// the charge (kept as integers so the discount stays exact); `None` when outside.
    pub(super) fn overlap(&self, rule: &DiscountRule, c: &Gross) -> Option<(i64, i64)> {
        let Some(months) = rule.duration_months else {
            return Some((1, 1));
        };
        let window_end = calendar::add_months(self.line.start, i64::from(months))?;
        if c.period_start == c.period_end {
            return (c.period_start < window_end).then_some((1, 1));
        }
        let from = c.period_start.max(self.line.start);
        let to = c.period_end.min(window_end);
        if to <= from {
            return None;
        }
        let inside = calendar::actual_days(from, to);
        let all = calendar::actual_days(c.period_start, c.period_end);
        if inside >= all {
            return Some((1, 1));
        }
        Some((inside, all))
    }

    /// How [`LineCtx::overlap`] shares a charge, in words (empty for the whole charge).
    pub(super) fn overlap_text(&self, rule: &DiscountRule, c: &Gross) -> String {
        let (Some(months), Some((inside, all))) = (rule.duration_months, self.overlap(rule, c))
        else {
            return String::new();
        };
        if inside == 1 && all == 1 {
            return String::new();
        }
        let window_end = calendar::add_months(self.line.start, i64::from(months))
            .map(|d| d.to_string())
            .unwrap_or_default();
        format!(" × {inside}/{all} days inside the first {months} months (to {window_end})")
    }

    /// The discount amount (positive, rounded once) for one charge, or why it takes nothing.
    /// The words for `explain` are made apart, by [`LineCtx::discount_how`] and [`Skip::why`],
    /// so pricing without `explain` never builds them.
    pub(super) fn discount(
        &self,
        rule: &DiscountRule,
        c: &Gross,
        running: Decimal,
        first_done: bool,
    ) -> Result<Decimal, Skip> {
        if c.kind == ChargeKind::MinimumTrueUp {
            return Err(Skip::TrueUp);
        }
        let (inside_days, all_days) = self.overlap(rule, c).ok_or(Skip::Outside)?;
        let (inside, all) = (Decimal::from(inside_days), Decimal::from(all_days));
        let cat = self.cat;
        match rule.amount {
            DiscountAmount::Percent(_) => {
                let quick = Exact::of(running)
                    .and_then(|r| {
                        r.times(Exact::of(rule.factor)?)?
                            .times(Exact::int(inside_days)?)
                    })
                    .and_then(|n| round_ratio(cat, n, Exact::int(all_days)?));
                match quick {
                    Some(a) => Ok(a),
                    None => round_muldiv(cat, &[running, rule.factor, inside], &[all])
                        .ok_or(Skip::TooLarge),
                }
            }
            DiscountAmount::Fixed {
                value,
                per_unit,
                monthly,
            } => {
                let units = if per_unit {
                    self.line.quantity
                } else {
                    Decimal::ONE
                };
                if monthly {
                    if c.period_start == c.period_end {
                        return Err(Skip::MonthlyOnOneTime);
                    }
                    let sh = c.share;
                    Ok(round_muldiv(
                        cat,
                        &[
                            value,
                            units,
                            Decimal::from(sh.months),
                            Decimal::from(sh.num),
                            inside,
                        ],
                        &[Decimal::from(sh.den), all],
                    )
                    .ok_or(Skip::TooLarge)?
                    .min(running.max(Decimal::ZERO)))
                } else {
                    if first_done && !matches!(rule.scope, DiscountScope::Quote) {
                        return Err(Skip::OnceOnly);
                    }
                    Ok(cat.round(value * units).min(running.max(Decimal::ZERO)))
                }
            }
        }
    }

    /// How [`LineCtx::discount`] reached `a` from `running`, for `explain`.
    pub(super) fn discount_how(
        &self,
        rule: &DiscountRule,
        c: &Gross,
        running: Decimal,
        a: Decimal,
    ) -> String {
        let share_text = self.overlap_text(rule, c);
        match rule.amount {
            DiscountAmount::Percent(p) => {
                let (inside, all) = self.overlap(rule, c).unwrap_or((1, 1));
                let (inside, all) = (Decimal::from(inside), Decimal::from(all));
                let exact = muldiv(&[running, rule.factor, inside], &[all]).unwrap_or_default();
                format!(
                    "{p}% of {running}{share_text} = {} → {a}",
                    exact.round_dp(6).normalize()
                )
            }
            DiscountAmount::Fixed {
                value,
                per_unit,
                monthly,
            } => {
                let unit_text = if per_unit {
                    format!(" × {} units", self.line.quantity)
                } else {
                    String::new()
                };
                if monthly {
                    format!(
                        "{value} a month{unit_text} × {} months{share_text} = {a}",
                        c.share.months().round_dp(4).normalize()
                    )
                } else {
                    format!("{value} once{unit_text} = {a}")
                }
            }
        }
    }
}

/// Checks the quote's customer against the rule set: every segment it names is declared,
/// and it names them one way (`segment` or `segments`), so that a misspelt segment is an error
/// rather than a discount silently lost.
pub(super) fn check_customer(cat: &Catalogue, quote: &Quote, errors: &mut Vec<PriceError>) {
    let customer = &quote.customer;
    if customer.segment.is_some() && !customer.segments.is_empty() {
        errors.push(perr(
            "customer.segment".into(),
            "the customer gives both `segment` and `segments`",
            Some("list every segment under `segments:`, for example `segments: [nonprofit, education]`".into()),
        ));
    }
    for (field, name) in customer.segment_fields() {
        if cat.segments.iter().any(|s| s == name) {
            continue;
        }
        let help = match did_you_mean(name, cat.segments.iter().map(String::as_str)) {
            Some(s) => format!("did you mean `{s}`?"),
            None if cat.segments.is_empty() => {
                format!("the rules declare no segments; declare it with `segment {name} \"…\"`")
            }
            None => format!("the rules declare {}", declared_list(&cat.segments)),
        };
        errors.push(perr(field, format!("unknown segment `{name}`"), Some(help)));
    }
}

/// `` `a`, `b` and `c` `` for the declared segments.
fn declared_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, init)) if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        _ => quoted.join(""),
    }
}

/// `` `x` `` for a value, `not set` for none.
fn quoted_or_not_set(v: Option<&str>) -> String {
    v.map(|x| format!("`{x}`"))
        .unwrap_or_else(|| "not set".into())
}

/// Why a discount rule that applies to a line takes nothing off one of its charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Skip {
    /// Minimum true-ups are never discounted.
    TrueUp,
    /// The charge lies outside the rule's first months.
    Outside,
    /// The amount cannot be computed exactly.
    TooLarge,
    /// A monthly amount on a one-time charge.
    MonthlyOnOneTime,
    /// A one-off amount after the line's first charge.
    OnceOnly,
}

impl Skip {
    /// The reason in words, for `explain`.
    pub(super) fn why(self, rule: &DiscountRule, start: NaiveDate) -> String {
        match self {
            Skip::TrueUp => "minimum true-ups are not discounted".into(),
            Skip::Outside => format!(
                "outside the first {} months from {start}",
                rule.duration_months.unwrap_or(0)
            ),
            Skip::TooLarge => "the discount is too large to compute exactly".into(),
            Skip::MonthlyOnOneTime => "a monthly amount does not apply to a one-time charge".into(),
            Skip::OnceOnly => "a one-off amount applies to the line's first charge only".into(),
        }
    }
}
