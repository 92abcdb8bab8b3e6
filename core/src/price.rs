//! Pricing a quote: every charge of every line over the committed term, exact to the cent.
//!
//! Each charge is computed exactly (`quantity × price × billing months ÷ price months ×
//! fraction`, multiplied out before dividing) and rounded once, in the rule set's mode. A
//! discount is its own negative charge, rounded once; discounts apply in written order, each to
//! what the ones before it left. Totals are sums of rounded charges, never re-rounded.

use crate::calendar::{self, Anchor};
use crate::catalogue::{
    AnchorRule, Billing, Catalogue, Condition, DiscountAmount, DiscountRule, DiscountScope, Offer,
    Price, Sellable,
};
use crate::quote::{ManualDiscount, Quote, QuoteLine};
use crate::schedule::{self, AnchorAt, Coterm, Fraction, FractionUnit, Piece, Plan};
use crate::tiers;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;
use tenor_dsl::ast::{Comparison, DateOp, DateSubject};
use tenor_dsl::diagnostic::did_you_mean;

/// What to compute besides the charges.
#[derive(Clone, Copy, Debug, Default)]
pub struct PriceOptions {
    /// Record, for every charge, the chain of rules that made it.
    pub explain: bool,
    /// Show a progress bar on a terminal when pricing takes more than about a second.
    pub progress: bool,
}

/// A priced quote (`tenor.priced-quote/1`).
#[derive(Clone, Debug, Serialize)]
pub struct PricedQuote {
    /// Always `tenor.priced-quote/1`.
    pub schema: &'static str,
    /// The quote id.
    pub quote: String,
    /// The quote's date.
    pub date: NaiveDate,
    /// ISO 4217 code.
    pub currency: String,
    /// Who it is for.
    pub customer: CustomerRef,
    /// Priced lines in quote order.
    pub lines: Vec<PricedLine>,
    /// Figures over the whole quote.
    pub totals: Totals,
}

/// The customer of a priced quote.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerRef {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// One priced quote line.
#[derive(Clone, Debug, Serialize)]
pub struct PricedLine {
    /// 1-based line number in the quote.
    pub line: usize,
    /// SKU.
    pub product: Arc<str>,
    /// Display name.
    pub name: Arc<str>,
    /// True for a bundle.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bundle: bool,
    /// Units sold.
    pub quantity: Decimal,
    /// Term as quoted (`P1Y`, `one-time`).
    pub term: Cow<'static, str>,
    /// Billing frequency (`once` for one-time lines).
    pub billing: &'static str,
    /// The co-term policy used, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coterm: Option<Arc<str>>,
    /// Start of service.
    pub start: NaiveDate,
    /// Start of the full term (after any stub).
    pub term_start: NaiveDate,
    /// End of the commitment (exclusive): the renewal date.
    pub end: NaiveDate,
    /// What the line's first bill date bills, net of discounts.
    pub first_charge: Decimal,
    /// A full billing period's charge at the steady rate, net of lasting discounts.
    pub recurring: Decimal,
    /// Monthly recurring revenue of the line.
    pub mrr: Decimal,
    /// Every charge of the commitment, in bill-date order.
    pub charges: Vec<Charge>,
    /// Steps common to the line (offer, policy), for `explain`.
    #[serde(skip)]
    pub explain: Vec<Step>,
}

/// Kinds of charge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChargeKind {
    /// The prorated first piece before the anchor.
    Stub,
    /// A full billing period.
    Recurring,
    /// Hardware, labour, project fees.
    OneTime,
    /// Metered usage, billed in arrears.
    Usage,
    /// A discount (negative).
    Discount,
    /// The difference up to a minimum commitment.
    MinimumTrueUp,
}

impl ChargeKind {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeKind::Stub => "stub",
            ChargeKind::Recurring => "recurring",
            ChargeKind::OneTime => "one_time",
            ChargeKind::Usage => "usage",
            ChargeKind::Discount => "discount",
            ChargeKind::MinimumTrueUp => "minimum_true_up",
        }
    }
}

/// One charge.
#[derive(Clone, Debug, Serialize)]
pub struct Charge {
    /// What it is.
    pub kind: ChargeKind,
    /// First day covered.
    pub period_start: NaiveDate,
    /// Day after the last day covered.
    pub period_end: NaiveDate,
    /// When it is billed: the period's start (in advance), its end for usage (in arrears).
    pub bill_date: NaiveDate,
    /// Amount, rounded once.
    pub amount: Decimal,
    /// Cost to the MSP, rounded once.
    pub cost: Decimal,
    /// The discount rule that made a discount charge (`manual` for the quote line's own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<Arc<str>>,
    /// How it was made, for `explain`.
    #[serde(skip)]
    pub explain: Vec<Step>,
    /// The share of a billing period the charge covers (for amounts stated per month).
    #[serde(skip)]
    pub share: Share,
}

/// A charge's share of its billing period: `months × num ÷ den` months of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Share {
    /// Months in the billing period (0 for one-time charges).
    pub months: u32,
    /// Numerator of the fraction of the period.
    pub num: i64,
    /// Denominator of the fraction of the period.
    pub den: i64,
}

impl Share {
    /// A one-time charge covers no months.
    pub const NONE: Share = Share {
        months: 0,
        num: 1,
        den: 1,
    };

    /// True when less than a whole period.
    pub fn is_partial(&self) -> bool {
        self.num != self.den
    }

    /// Months of service, exactly where it can be written in 28 digits.
    pub fn months(&self) -> Decimal {
        muldiv(
            &[Decimal::from(self.months), Decimal::from(self.num)],
            &[Decimal::from(self.den)],
        )
        .unwrap_or_default()
    }
}

/// One step of an explanation, with the rule's location when it comes from a rule file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// What happened.
    pub text: String,
    /// `file:line` of the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Figures over the whole quote; each is a sum of rounded amounts.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Totals {
    /// Everything billed on the quote's earliest bill date.
    pub first_invoice: Decimal,
    /// Monthly recurring revenue (sum of the lines').
    pub mrr: Decimal,
    /// Annual recurring revenue: 12 × MRR.
    pub arr: Decimal,
    /// Every charge of the commitment.
    pub contract_value: Decimal,
    /// Every charge's cost.
    pub cost: Decimal,
    /// Contract value − cost.
    pub margin: Decimal,
}

/// A problem with one field of the quote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceError {
    /// The field's path (`lines[2].product`).
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

fn perr(field: String, message: impl Into<String>, help: Option<String>) -> PriceError {
    PriceError {
        field,
        message: message.into(),
        help,
    }
}

/// The quoted spelling of a term, without allocating for the common ones.
fn term_name(months: Option<u32>) -> Cow<'static, str> {
    match months {
        None => Cow::Borrowed("one-time"),
        Some(1) => Cow::Borrowed("P1M"),
        Some(12) => Cow::Borrowed("P1Y"),
        Some(36) => Cow::Borrowed("P3Y"),
        m => Cow::Owned(crate::catalogue::term_text(m)),
    }
}

/// Parses a quote's term: `P1M`, `P1Y`, `P36M`, `one-time`. `Ok(None)` is one-time.
pub fn parse_term(s: &str) -> Result<Option<u32>, String> {
    let t = s.trim();
    if t == "one-time" {
        return Ok(None);
    }
    let bad = || format!("`{s}` is not a term: write `P1M`, `P1Y`, `P3Y`, `P36M` or `one-time`");
    let body = t.strip_prefix('P').ok_or_else(bad)?;
    // By suffix, not by byte index: a quote may hold any text, and slicing inside a multi-byte
    // character would panic.
    let months = if let Some(n) = body.strip_suffix('M') {
        n.parse::<u32>().ok()
    } else if let Some(n) = body.strip_suffix('Y') {
        n.parse::<u32>().ok().and_then(|n| n.checked_mul(12))
    } else {
        None
    }
    .ok_or_else(bad)?;
    if months == 0 || months > 1200 {
        return Err(bad());
    }
    Ok(Some(months))
}

/// Parses a billing frequency.
pub fn parse_billing(s: &str) -> Result<Billing, String> {
    match s.trim() {
        "monthly" => Ok(Billing::Monthly),
        "quarterly" => Ok(Billing::Quarterly),
        "annual" => Ok(Billing::Annual),
        "upfront" => Ok(Billing::Upfront),
        other => Err(format!(
            "`{other}` is not a billing frequency: write `monthly`, `quarterly`, `annual` or `upfront`"
        )),
    }
}

/// Prices a quote against a compiled rule set. Every problem of the quote is reported, each
/// naming its field; nothing is priced when there is any.
pub fn price(
    cat: &Catalogue,
    quote: &Quote,
    opts: &PriceOptions,
) -> Result<PricedQuote, Vec<PriceError>> {
    let mut errors = Vec::new();
    if quote.currency != cat.currency {
        errors.push(perr(
            "currency".into(),
            format!(
                "the quote is in `{}` but the rule set prices in `{}`",
                quote.currency, cat.currency
            ),
            Some(format!(
                "write `currency: {}` or price it with rules in `{}`",
                cat.currency, quote.currency
            )),
        ));
    }
    if quote.lines.is_empty() {
        errors.push(perr(
            "lines".into(),
            "the quote has no lines",
            Some("list what is sold under `lines:`".into()),
        ));
    }
    let mut pricer = Pricer::new(cat, quote, *opts);
    let mut lines = Vec::with_capacity(quote.lines.len());
    let mut progress =
        crate::progress::Counter::new(quote.lines.len() as u64, "pricing", opts.progress);
    for (i, line) in quote.lines.iter().enumerate() {
        progress.inc();
        match pricer.line(i, line) {
            Ok(l) => lines.push(l),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        // One problem shared by several lines (no anniversary) is reported once.
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert((e.field.clone(), e.message.clone())));
        return Err(errors);
    }
    let Some(totals) = totals(&lines, cat.minor_units) else {
        return Err(vec![perr(
            "lines".into(),
            "the quote's totals are too large to compute exactly",
            Some("check the quantities and usage estimates".into()),
        )]);
    };
    Ok(PricedQuote {
        schema: "tenor.priced-quote/1",
        quote: quote.quote.clone(),
        date: quote.date,
        currency: cat.currency.clone(),
        customer: CustomerRef {
            id: quote.customer.id.clone(),
            name: quote.customer.name.clone(),
        },
        lines,
        totals,
    })
}

/// Prices the lines of one quote one at a time, for callers that stream lines rather than
/// hold a whole priced quote (the quote's customer and date still apply to every line).
pub struct Pricer<'a> {
    cat: &'a Catalogue,
    quote: &'a Quote,
    opts: PriceOptions,
    quote_discount_used: Vec<bool>,
}

impl<'a> Pricer<'a> {
    /// A pricer for lines of `quote` (its own `lines` are not read).
    pub fn new(cat: &'a Catalogue, quote: &'a Quote, opts: PriceOptions) -> Self {
        Pricer {
            cat,
            quote,
            opts,
            quote_discount_used: vec![false; cat.discounts.len()],
        }
    }

    /// Prices one line; `index` is its 0-based position, used in error fields.
    pub fn line(&mut self, index: usize, line: &QuoteLine) -> Result<PricedLine, Vec<PriceError>> {
        price_line(
            self.cat,
            self.quote,
            index,
            line,
            &self.opts,
            &mut self.quote_discount_used,
        )
    }
}

fn totals(lines: &[PricedLine], minor_units: u32) -> Option<Totals> {
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

/// Everything about a line that pricing needs once resolved.
struct Resolved<'a> {
    item: &'a Sellable,
    offer: &'a Offer,
    term: Option<u32>,
    billing: Billing,
    coterm: Option<(Arc<str>, Coterm)>,
}

fn field(i: usize, name: &str) -> String {
    format!("lines[{i}].{name}")
}

fn resolve<'a>(
    cat: &'a Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
) -> Result<Resolved<'a>, Vec<PriceError>> {
    let mut errors = Vec::new();
    let item = match cat.item(&line.product) {
        Some((_, item)) => Some(item),
        None => {
            errors.push(perr(
                field(i, "product"),
                format!("unknown product `{}`", line.product),
                did_you_mean(&line.product, cat.skus()).map(|s| format!("did you mean `{s}`?")),
            ));
            None
        }
    };
    // A trillion units is beyond any real order; past it, amounts outgrow a decimal's 28 digits
    // and would lose their cents.
    let limit = Decimal::from(1_000_000_000_000u64);
    if line.quantity > limit {
        errors.push(perr(
            field(i, "quantity"),
            format!(
                "quantity `{}` is beyond what Tenor prices (at most 1,000,000,000,000)",
                line.quantity
            ),
            None,
        ));
    }
    if line.usage.is_some_and(|u| u > limit) {
        errors.push(perr(
            field(i, "usage"),
            "the usage estimate is beyond what Tenor rates (at most 1,000,000,000,000)",
            None,
        ));
    }
    if line.quantity <= Decimal::ZERO {
        errors.push(perr(
            field(i, "quantity"),
            format!("quantity `{}` must be above zero", line.quantity),
            Some(
                "a reduction is a seat change on an accepted subscription, not a quote line".into(),
            ),
        ));
    }
    let term = match parse_term(&line.term) {
        Ok(t) => Some(t),
        Err(e) => {
            errors.push(perr(field(i, "term"), e, None));
            None
        }
    };
    if let (Some(None), Some(b)) = (term, &line.billing) {
        if b.trim() != "upfront" {
            errors.push(perr(
                field(i, "billing"),
                format!("a one-time item is billed once, not `{b}`"),
                Some("remove `billing` from this line".into()),
            ));
        }
    }
    let billing = match (&line.billing, term) {
        (Some(_), Some(None)) => Some(Billing::Upfront),
        (Some(b), _) => match parse_billing(b) {
            Ok(b) => Some(b),
            Err(e) => {
                errors.push(perr(field(i, "billing"), e, None));
                None
            }
        },
        (None, Some(None)) => Some(Billing::Upfront),
        (None, Some(Some(_))) => {
            errors.push(perr(
                field(i, "term"),
                format!("a `{}` line needs a billing frequency", line.term),
                Some("add `billing: monthly` (or quarterly, annual, upfront)".into()),
            ));
            None
        }
        (None, None) => None,
    };
    let (Some(item), Some(term), Some(billing)) = (item, term, billing) else {
        return Err(errors);
    };
    let offer = match item.offer(term, billing) {
        Some(o) => o,
        None => {
            let offered: Vec<String> = item
                .offers
                .iter()
                .map(|o| match o.term_months {
                    None => "one-time".to_string(),
                    Some(_) => format!("{} {}", o.term_text(), o.billing),
                })
                .collect();
            let (what, path) = if item.offers.iter().any(|o| o.term_months == term) {
                ("billing", "billing")
            } else {
                ("term", "term")
            };
            errors.push(perr(
                field(i, path),
                format!(
                    "`{}` is not offered on {} {}",
                    item.sku,
                    crate::catalogue::term_text(term),
                    if term.is_some() {
                        billing.keyword()
                    } else {
                        ""
                    }
                )
                .trim_end()
                .to_string(),
                Some(format!(
                    "the {what} must match a price line; offered: {}",
                    offered.join(", ")
                )),
            ));
            return Err(errors);
        }
    };
    let coterm = if term.is_none() {
        None
    } else {
        match resolve_coterm(cat, quote, i, line, item) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                None
            }
        }
    };
    if item.usage.is_none() && line.usage.is_some() {
        errors.push(perr(
            field(i, "usage"),
            format!(
                "`{}` is not metered, so it takes no usage estimate",
                item.sku
            ),
            Some(
                "remove `usage`, or give the product a `usage METRIC by …` line in the rules"
                    .into(),
            ),
        ));
    }
    if let Some(u) = line.usage {
        if u < Decimal::ZERO {
            errors.push(perr(
                field(i, "usage"),
                format!("usage estimate `{u}` is negative"),
                None,
            ));
        }
    }
    if errors.is_empty() {
        Ok(Resolved {
            item,
            offer,
            term,
            billing,
            coterm,
        })
    } else {
        Err(errors)
    }
}

fn resolve_coterm(
    cat: &Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    item: &Sellable,
) -> Result<Option<(Arc<str>, Coterm)>, PriceError> {
    let index = match line.coterm.as_deref() {
        Some("none") => return Ok(None),
        Some(name) => Some(cat.policy(name).ok_or_else(|| {
            perr(
                field(i, "coterm"),
                format!("unknown co-term policy `{name}`"),
                Some(
                    match did_you_mean(name, cat.policies.iter().map(|p| &*p.name)) {
                        Some(s) => format!("did you mean `{s}`? (or `none` for no co-terming)"),
                        None => "name a `coterm` policy of the rules, or `none`".to_string(),
                    },
                ),
            )
        })?),
        None => item.policy,
    };
    let Some(index) = index else { return Ok(None) };
    let Some(p) = cat.policies.get(index) else {
        return Ok(None);
    };
    let anchor = match &p.anchor {
        AnchorRule::CalendarMonthEnd => AnchorAt::CalendarMonthEnd,
        AnchorRule::Date(d) => AnchorAt::Date(Anchor::at(*d)),
        AnchorRule::CustomerAnniversary => {
            let md = quote.customer.anniversary.ok_or_else(|| {
                perr(
                    "customer.anniversary".into(),
                    format!("co-term policy `{}` anchors on the customer anniversary, but the customer has none", p.name),
                    Some("add `anniversary: MM-DD` to the customer, or set `coterm: none` on the line".into()),
                )
            })?;
            let a = Anchor::intending(line.start.year(), md.month, md.day).ok_or_else(|| {
                perr(
                    "customer.anniversary".into(),
                    format!("`{md}` is not a month and day"),
                    None,
                )
            })?;
            AnchorAt::Date(a)
        }
        AnchorRule::EndOfExisting(sku) => {
            let sub = quote.customer.subscriptions.iter().find(|s| &s.product == sku).ok_or_else(|| {
                perr(
                    field(i, "product"),
                    format!(
                        "co-term policy `{}` aligns to the customer's existing `{sku}` subscription, but the customer has none",
                        p.name
                    ),
                    Some("list it under `customer.subscriptions` with its `ends` date, or set `coterm:` on the line".to_string()),
                )
            })?;
            let boundary = sub.ends.succ_opt().ok_or_else(|| {
                perr(
                    "customer.subscriptions".into(),
                    "the subscription's end date is out of range",
                    None,
                )
            })?;
            AnchorAt::Date(Anchor::at(boundary))
        }
    };
    Ok(Some((
        p.name.clone(),
        Coterm {
            anchor,
            mode: p.mode,
            proration: p.proration,
            basis: p.basis,
        },
    )))
}

fn overflow(i: usize) -> Vec<PriceError> {
    vec![perr(
        field(i, "quantity"),
        "the amounts of this line are too large to compute exactly",
        None,
    )]
}

/// `a × b × … ÷ (c × d × …)`, multiplied out before dividing so the result is exact whenever
/// it can be written in 28 digits.
fn muldiv(num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    let mut n = Decimal::ONE;
    for x in num {
        n = n.checked_mul(*x)?;
    }
    let mut d = Decimal::ONE;
    for x in den {
        d = d.checked_mul(*x)?;
    }
    if d.is_zero() {
        return None;
    }
    // Division is the slow operation; whole periods divide by one.
    if d == Decimal::ONE {
        return Some(n);
    }
    n.checked_div(d)
}

/// `a month`, `a year`, `a term`, `once`.
fn per_words(per: Option<u32>, term: Option<u32>) -> String {
    match per {
        None => "once".to_string(),
        Some(1) => "a month".to_string(),
        Some(3) => "a quarter".to_string(),
        Some(12) => "a year".to_string(),
        Some(m) if Some(m) == term => format!("a term ({m} months)"),
        Some(m) => format!("per {m} months"),
    }
}

fn describe_fraction(f: &Fraction, piece: &Piece) -> String {
    match f.unit {
        FractionUnit::Whole => format!("the full billing period [{}, {})", piece.start, piece.end),
        FractionUnit::Days => format!(
            "[{}, {}) is {} of {} days of the billing period [{}, {}) (daily, actual days)",
            piece.start, piece.end, f.num, f.den, piece.period.0, piece.period.1
        ),
        FractionUnit::Days30 => format!(
            "[{}, {}) is {} of {} days of the billing period [{}, {}) (daily, 30-day months)",
            piece.start, piece.end, f.num, f.den, piece.period.0, piece.period.1
        ),
        FractionUnit::Months => format!(
            "[{}, {}) starts {} of the {} months of the billing period [{}, {}) (monthly: a started month counts whole)",
            piece.start, piece.end, f.num, f.den, piece.period.0, piece.period.1
        ),
        FractionUnit::Unprorated => format!(
            "[{}, {}) is billed as the full period [{}, {}) (proration none)",
            piece.start, piece.end, piece.period.0, piece.period.1
        ),
    }
}

fn price_line(
    cat: &Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    opts: &PriceOptions,
    quote_discount_used: &mut [bool],
) -> Result<PricedLine, Vec<PriceError>> {
    let r = resolve(cat, quote, i, line)?;
    // Zero in the currency's minor unit, so every amount prints with its decimals.
    let zero = cat.round(Decimal::ZERO);
    let item = r.item;
    let offer = r.offer;
    let metered = item.usage.is_some();
    let units = if metered {
        line.usage.unwrap_or(Decimal::ZERO)
    } else {
        line.quantity
    };
    let mut line_steps = Vec::new();
    if opts.explain {
        line_steps.push(Step {
            text: format!(
                "offer {} of `{}`{}",
                if offer.term_months.is_some() {
                    format!("{} {}", offer.term_text(), offer.billing)
                } else {
                    "one-time".to_string()
                },
                item.sku,
                match &offer.price {
                    Price::Flat(rate) => format!(
                        ": {} {}",
                        rate.amount,
                        per_words(rate.per_months, offer.term_months)
                    ),
                    Price::Tiered(t) => format!(
                        ": through tier table `{}`",
                        cat.tiers.get(*t).map(|t| t.name.as_str()).unwrap_or("?")
                    ),
                }
            ),
            at: Some(offer.origin.clone()),
        });
        if let Some(d) = &offer.derivation {
            line_steps.push(Step {
                text: d.clone(),
                at: Some(offer.origin.clone()),
            });
        }
        match &r.coterm {
            Some((name, c)) => {
                let policy = cat.policy(name).and_then(|p| cat.policies.get(p));
                let at = policy.map(|p| p.origin.clone());
                let anchor_text = match policy.map(|p| &p.anchor) {
                    Some(AnchorRule::CustomerAnniversary) => format!(
                        "anchor customer anniversary {}",
                        quote
                            .customer
                            .anniversary
                            .map(|a| a.to_string())
                            .unwrap_or_default()
                    ),
                    Some(AnchorRule::Date(d)) => format!("anchor date {d}"),
                    Some(AnchorRule::EndOfExisting(sku)) => format!(
                        "anchor end of the existing `{sku}` subscription ({})",
                        quote
                            .customer
                            .subscriptions
                            .iter()
                            .find(|s| &s.product == sku)
                            .map(|s| format!("last day {}", s.ends))
                            .unwrap_or_default()
                    ),
                    Some(AnchorRule::CalendarMonthEnd) | None => {
                        "anchor calendar month end".to_string()
                    }
                };
                line_steps.push(Step {
                    text: format!(
                        "co-term policy `{name}`: {anchor_text}, {}, prorate {}, {}",
                        match c.mode {
                            crate::catalogue::CotermMode::Stub => "mode stub",
                            crate::catalogue::CotermMode::Coterminous => "mode coterminous",
                        },
                        match c.proration {
                            crate::catalogue::Proration::Daily => "daily",
                            crate::catalogue::Proration::Monthly => "monthly",
                            crate::catalogue::Proration::None => "none",
                        },
                        match c.basis {
                            crate::catalogue::DayBasis::Actual => "actual days",
                            crate::catalogue::DayBasis::Thirty => "30-day months",
                        }
                    ),
                    at,
                });
            }
            None if r.term.is_some() => line_steps.push(Step {
                text: "no co-term policy: the term starts on the start date".into(),
                at: None,
            }),
            None => {}
        }
    }

    // The committed pieces.
    let (plan, billing_months) = match r.term {
        None => (
            Plan {
                start: line.start,
                term_start: line.start,
                end: line.start,
                pieces: Vec::new(),
            },
            0,
        ),
        Some(term) => {
            let b = r.billing.months().unwrap_or(term);
            let plan = schedule::plan(line.start, term, b, r.coterm.as_ref().map(|c| &c.1))
                .map_err(|e| vec![perr(field(i, "start"), e.0, None)])?;
            (plan, b)
        }
    };
    let b = Decimal::from(billing_months.max(1));

    // Price per full billing period (exact), for units.
    let tier_table = match &offer.price {
        Price::Tiered(t) => cat.tiers.get(*t),
        Price::Flat(_) => None,
    };
    let per_period = |tier_steps: &mut Vec<Step>| -> Option<(Decimal, Decimal)> {
        // Returns (numerator, denominator) of the exact amount per full billing period.
        match &offer.price {
            Price::Flat(rate) => match rate.per_months {
                None => Some((units.checked_mul(rate.amount)?, Decimal::ONE)),
                Some(p) if Decimal::from(p) == b => {
                    Some((units.checked_mul(rate.amount)?, Decimal::ONE))
                }
                Some(p) => Some((
                    units.checked_mul(rate.amount)?.checked_mul(b)?,
                    Decimal::from(p),
                )),
            },
            Price::Tiered(_) => {
                let t = tier_table?;
                let amount = tiers::checked_amount(t, units)?;
                if opts.explain {
                    for u in tiers::breakdown(t, units) {
                        let row = t.rows.get(u.row);
                        tier_steps.push(Step {
                            text: format!(
                                "tier {} of `{}`: {} × {}{} = {}",
                                u.row + 1,
                                t.name,
                                u.units,
                                u.price,
                                if u.flat.is_zero() {
                                    String::new()
                                } else {
                                    format!(" + flat {}", u.flat)
                                },
                                u.amount()
                            ),
                            at: row.map(|r| r.origin.clone()),
                        });
                    }
                }
                match (t.per_months, t.once || offer.term_months.is_none()) {
                    (_, true) | (None, false) => Some((amount, Decimal::ONE)),
                    (Some(p), false) => Some((amount.checked_mul(b)?, Decimal::from(p))),
                }
            }
        }
    };
    let mut tier_steps = Vec::new();
    let (pp_num, pp_den) = per_period(&mut tier_steps).ok_or_else(|| overflow(i))?;
    let cost_units = units;
    let cost_per_period: Option<(Decimal, Decimal)> = match offer.cost {
        None => Some((Decimal::ZERO, Decimal::ONE)),
        Some(c) => match c.per_months {
            None => cost_units.checked_mul(c.amount).map(|n| (n, Decimal::ONE)),
            Some(p) => cost_units
                .checked_mul(c.amount)
                .and_then(|n| n.checked_mul(b))
                .map(|n| (n, Decimal::from(p))),
        },
    };
    let (cp_num, cp_den) = cost_per_period.ok_or_else(|| overflow(i))?;

    let mut gross: Vec<Charge> = Vec::with_capacity(plan.pieces.len().max(1));
    if r.term.is_none() {
        let amount = cat.round(muldiv(&[pp_num], &[pp_den]).ok_or_else(|| overflow(i))?);
        let cost = cat.round(muldiv(&[cp_num], &[cp_den]).ok_or_else(|| overflow(i))?);
        let mut explain = Vec::new();
        if opts.explain {
            explain.extend(tier_steps.iter().cloned());
            explain.push(Step {
                text: format!(
                    "{} × price = {} → {} ({})",
                    units,
                    muldiv(&[pp_num], &[pp_den]).unwrap_or_default(),
                    amount,
                    cat.rounding_name
                ),
                at: None,
            });
        }
        gross.push(Charge {
            kind: ChargeKind::OneTime,
            period_start: line.start,
            period_end: line.start,
            bill_date: line.start,
            amount,
            cost,
            rule: None,
            explain,
            share: Share::NONE,
        });
    }
    let minimum = item.minimum.filter(|_| metered);
    // Every whole billing period of a line costs the same: compute it once.
    let mut whole_memo: Option<(Decimal, Decimal, Decimal, Option<Decimal>)> = None;
    for piece in &plan.pieces {
        let partial = piece.fraction.is_partial();
        let (fnum, fden) = (
            Decimal::from(piece.fraction.num),
            Decimal::from(piece.fraction.den),
        );
        let (exact, amount, cost, min_amount) = match (partial, whole_memo) {
            (false, Some(m)) => m,
            _ => {
                let exact = muldiv(&[pp_num, fnum], &[pp_den, fden]).ok_or_else(|| overflow(i))?;
                let cost =
                    cat.round(muldiv(&[cp_num, fnum], &[cp_den, fden]).ok_or_else(|| overflow(i))?);
                let min_amount = match minimum {
                    Some(min) => Some(
                        cat.round(
                            muldiv(
                                &[min.amount, b, fnum],
                                &[Decimal::from(min.per_months.unwrap_or(1)), fden],
                            )
                            .ok_or_else(|| overflow(i))?,
                        ),
                    ),
                    None => None,
                };
                let m = (exact, cat.round(exact), cost, min_amount);
                if !partial {
                    whole_memo = Some(m);
                }
                m
            }
        };
        let kind = if metered {
            ChargeKind::Usage
        } else if piece.stub {
            ChargeKind::Stub
        } else {
            ChargeKind::Recurring
        };
        let bill_date = if metered { piece.end } else { piece.start };
        let mut explain = Vec::new();
        if opts.explain {
            explain.push(Step {
                text: format!("period: {}", describe_fraction(&piece.fraction, piece)),
                at: None,
            });
            explain.extend(tier_steps.iter().cloned());
            let per_text = match &offer.price {
                Price::Flat(rate) => format!(
                    "{units} × {} {} for a {billing_months}-month billing period",
                    rate.amount,
                    per_words(rate.per_months, offer.term_months)
                ),
                Price::Tiered(_) => {
                    format!("tiers({units}) for a {billing_months}-month billing period")
                }
            };
            explain.push(Step {
                text: format!(
                    "{per_text}{} = {} → {amount} ({}, once)",
                    if piece.fraction.is_partial() {
                        format!(" × {}/{}", piece.fraction.num, piece.fraction.den)
                    } else {
                        String::new()
                    },
                    exact.round_dp(6).normalize(),
                    cat.rounding_name
                ),
                at: None,
            });
            if metered {
                explain.push(Step {
                    text: format!("usage estimate {units} per billing period, billed in arrears on {bill_date}"),
                    at: None,
                });
            }
        }
        let share = Share {
            months: billing_months,
            num: piece.fraction.num,
            den: piece.fraction.den,
        };
        gross.push(Charge {
            kind,
            period_start: piece.start,
            period_end: piece.end,
            bill_date,
            amount,
            cost,
            rule: None,
            explain,
            share,
        });
        if let Some(min_amount) = min_amount {
            if min_amount > amount {
                let up = min_amount - amount;
                let mut explain = Vec::new();
                if opts.explain {
                    explain.push(Step {
                        text: format!("minimum commitment {min_amount} for the period; usage rated {amount}; true-up {up}"),
                        at: Some(item.origin.clone()),
                    });
                }
                gross.push(Charge {
                    kind: ChargeKind::MinimumTrueUp,
                    period_start: piece.start,
                    period_end: piece.end,
                    bill_date,
                    amount: up,
                    cost: zero,
                    rule: None,
                    explain,
                    share,
                });
            }
        }
    }

    // Discounts: each gross charge in turn, rules in written order, then the manual discount.
    let ctx = LineCtx {
        cat,
        quote,
        line,
        item,
        term: r.term,
        billing: r.billing,
        explain: opts.explain,
    };
    let verdicts: Vec<Result<(), String>> = cat.discounts.iter().map(|d| ctx.applies(d)).collect();
    let mut charges = Vec::with_capacity(gross.len() * 2);
    let mut first_charge_done = false;
    // When every rule that applies treats all whole periods alike (no duration, nothing
    // charged once), a whole period's discounts are worked out once and reused.
    let uniform = !opts.explain
        && !matches!(line.discount, Some(ManualDiscount::Amount(_)))
        && cat.discounts.iter().zip(&verdicts).all(|(r, v)| {
            v.is_err()
                || (r.duration_months.is_none()
                    && !matches!(r.amount, DiscountAmount::Fixed { monthly: false, .. })
                    && !matches!(
                        (&r.scope, &r.amount),
                        (DiscountScope::Quote, DiscountAmount::Fixed { .. })
                    ))
        });
    let mut memo: Option<WholePeriodDiscounts> = None;
    for mut g in gross {
        if let Some((amount, share, ds)) = &memo {
            if g.amount == *amount && g.share == *share && g.kind != ChargeKind::MinimumTrueUp {
                let (start, end, bill) = (g.period_start, g.period_end, g.bill_date);
                let m = g.share;
                charges.push(g);
                for (rule, d) in ds {
                    charges.push(Charge {
                        kind: ChargeKind::Discount,
                        period_start: start,
                        period_end: end,
                        bill_date: bill,
                        amount: -*d,
                        cost: zero,
                        rule: Some(rule.clone()),
                        explain: Vec::new(),
                        share: m,
                    });
                }
                continue;
            }
        }
        let mut running = g.amount;
        let mut discounts = Vec::new();
        for (k, rule) in cat.discounts.iter().enumerate() {
            let verdict = verdicts.get(k).cloned().unwrap_or(Err(String::new()));
            if let Err(why) = verdict {
                if opts.explain {
                    g.explain.push(Step {
                        text: format!("discount `{}` skipped: {why}", rule.name),
                        at: Some(rule.origin.clone()),
                    });
                }
                continue;
            }
            let quote_once = matches!(rule.scope, DiscountScope::Quote)
                && matches!(rule.amount, DiscountAmount::Fixed { .. });
            if quote_once && quote_discount_used.get(k).copied().unwrap_or(true) {
                if opts.explain {
                    g.explain.push(Step {
                        text: format!("discount `{}` skipped: a fixed amount off the quote applies once, already used", rule.name),
                        at: Some(rule.origin.clone()),
                    });
                }
                continue;
            }
            match ctx.discount(rule, &g, running, first_charge_done) {
                Ok((amount, how)) if !amount.is_zero() => {
                    running -= amount;
                    if quote_once {
                        if let Some(u) = quote_discount_used.get_mut(k) {
                            *u = true;
                        }
                    }
                    if opts.explain {
                        g.explain.push(Step {
                            text: format!("discount `{}` fired: {how}", rule.name),
                            at: Some(rule.origin.clone()),
                        });
                    }
                    discounts.push(Charge {
                        kind: ChargeKind::Discount,
                        period_start: g.period_start,
                        period_end: g.period_end,
                        bill_date: g.bill_date,
                        amount: -amount,
                        cost: zero,
                        rule: Some(rule.name.clone()),
                        explain: if opts.explain {
                            vec![Step {
                                text: how,
                                at: Some(rule.origin.clone()),
                            }]
                        } else {
                            Vec::new()
                        },
                        share: g.share,
                    });
                }
                Ok(_) | Err(_) if !opts.explain => {}
                Ok((_, how)) | Err(how) => g.explain.push(Step {
                    text: format!("discount `{}` skipped: {how}", rule.name),
                    at: Some(rule.origin.clone()),
                }),
            }
        }
        if let (Some(m), false) = (line.discount, g.kind == ChargeKind::MinimumTrueUp) {
            let (amount, how) = match m {
                ManualDiscount::Percent(p) => {
                    let a = cat.round(running * p / Decimal::ONE_HUNDRED);
                    (a, format!("manual {p}% of {running} = {a}"))
                }
                ManualDiscount::Amount(a) if !first_charge_done => {
                    let a = cat.round(a.min(running.max(Decimal::ZERO)));
                    (a, format!("manual {a} off the line's first charge"))
                }
                ManualDiscount::Amount(_) => (Decimal::ZERO, String::new()),
            };
            if !amount.is_zero() {
                running -= amount;
                discounts.push(Charge {
                    kind: ChargeKind::Discount,
                    period_start: g.period_start,
                    period_end: g.period_end,
                    bill_date: g.bill_date,
                    amount: -amount,
                    cost: zero,
                    rule: Some(Arc::from("manual")),
                    explain: if opts.explain {
                        vec![Step {
                            text: how,
                            at: None,
                        }]
                    } else {
                        Vec::new()
                    },
                    share: g.share,
                });
            }
        }
        if g.kind != ChargeKind::MinimumTrueUp {
            first_charge_done = true;
            if uniform && !g.share.is_partial() && !matches!(g.kind, ChargeKind::OneTime) {
                let ds = discounts
                    .iter()
                    .filter_map(|d| Some((d.rule.clone()?, -d.amount)))
                    .collect();
                memo = Some((g.amount, g.share, ds));
            }
        }
        charges.push(g);
        charges.append(&mut discounts);
    }
    // Charges were made in bill-date order (each discount right after its charge), so no sort.

    // Steady-state figures.
    let recurring = if r.term.is_none() {
        zero
    } else {
        let full = cat.round(muldiv(&[pp_num], &[pp_den]).ok_or_else(|| overflow(i))?);
        // A true-up is never discounted: discount the rated amount, add the true-up after.
        let true_up = match minimum {
            Some(min) => {
                let m = cat.round(
                    muldiv(
                        &[min.amount, b],
                        &[Decimal::from(min.per_months.unwrap_or(1))],
                    )
                    .ok_or_else(|| overflow(i))?,
                );
                (m - full).max(zero)
            }
            None => zero,
        };
        let mut net = full;
        for (k, rule) in cat.discounts.iter().enumerate() {
            let lasting = rule.duration_months.is_none()
                && !matches!(rule.amount, DiscountAmount::Fixed { monthly: false, .. })
                && !matches!(rule.scope, DiscountScope::Quote if matches!(rule.amount, DiscountAmount::Fixed { .. }));
            if lasting && verdicts.get(k).is_some_and(|v| v.is_ok()) {
                let d = match rule.amount {
                    DiscountAmount::Percent(p) => cat.round(net * p / Decimal::ONE_HUNDRED),
                    DiscountAmount::Fixed {
                        value, per_unit, ..
                    } => {
                        let per = if per_unit {
                            value * line.quantity
                        } else {
                            value
                        };
                        cat.round(per * b).min(net.max(Decimal::ZERO))
                    }
                };
                net -= d;
            }
        }
        if let Some(ManualDiscount::Percent(p)) = line.discount {
            net -= cat.round(net * p / Decimal::ONE_HUNDRED);
        }
        net + true_up
    };
    let mrr = if r.term.is_none() {
        zero
    } else {
        cat.round(recurring / b)
    };
    let first_date = charges.iter().map(|c| c.bill_date).min();
    let first_charge = charges
        .iter()
        .filter(|c| Some(c.bill_date) == first_date)
        .map(|c| c.amount)
        .sum();
    Ok(PricedLine {
        line: i + 1,
        product: item.sku.clone(),
        name: item.name.clone(),
        bundle: item.is_bundle,
        quantity: line.quantity,
        term: term_name(r.term),
        billing: if r.term.is_none() {
            "once"
        } else {
            r.billing.keyword()
        },
        coterm: r.coterm.map(|c| c.0),
        start: line.start,
        term_start: plan.term_start,
        end: plan.end,
        first_charge,
        recurring,
        mrr,
        charges,
        explain: line_steps,
    })
}

/// A whole period's amount and share, with the discounts (rule, amount) it received.
type WholePeriodDiscounts = (Decimal, Share, Vec<(Arc<str>, Decimal)>);

/// A line's facts for evaluating discount rules.
struct LineCtx<'a> {
    cat: &'a Catalogue,
    quote: &'a Quote,
    line: &'a QuoteLine,
    item: &'a Sellable,
    term: Option<u32>,
    billing: Billing,
    /// Build the words of reasons only when someone will read them.
    explain: bool,
}

impl LineCtx<'_> {
    fn why(&self, f: impl FnOnce() -> String) -> String {
        if self.explain { f() } else { String::new() }
    }

    /// Whether a rule's scope and conditions hold for this line; the reason when not.
    fn applies(&self, rule: &DiscountRule) -> Result<(), String> {
        let item = self.item;
        match &rule.scope {
            DiscountScope::Sku(s) if &*item.sku != s.as_str() => {
                return Err(self.why(|| format!("applies to `{s}`, this line is `{}`", item.sku)));
            }
            DiscountScope::Vendor(v) if item.vendor.as_deref() != Some(v) => {
                return Err(self.why(|| {
                    format!(
                        "applies to vendor `{v}`, this line's vendor is {}",
                        item.vendor
                            .as_deref()
                            .map(|x| format!("`{x}`"))
                            .unwrap_or_else(|| "not set".into())
                    )
                }));
            }
            DiscountScope::Category(c) if item.category.as_deref() != Some(c) => {
                return Err(self.why(|| {
                    format!(
                        "applies to category `{c}`, this line's category is {}",
                        item.category
                            .as_deref()
                            .map(|x| format!("`{x}`"))
                            .unwrap_or_else(|| "not set".into())
                    )
                }));
            }
            _ => {}
        }
        for cond in &rule.conditions {
            match cond {
                Condition::Segment(list) => {
                    let seg = self.quote.customer.segment.as_deref();
                    if !seg.is_some_and(|s| list.iter().any(|x| x == s)) {
                        return Err(self.why(|| {
                            format!(
                                "needs customer segment {}, the customer's is {}",
                                list.join(" or "),
                                seg.map(|s| format!("`{s}`"))
                                    .unwrap_or_else(|| "not set".into())
                            )
                        }));
                    }
                }
                Condition::Term(list) => {
                    if !list.contains(&self.term) {
                        let names: Vec<String> = list
                            .iter()
                            .map(|t| crate::catalogue::term_text(*t))
                            .collect();
                        return Err(self.why(|| {
                            format!(
                                "needs term {}, the line is {}",
                                names.join(" or "),
                                crate::catalogue::term_text(self.term)
                            )
                        }));
                    }
                }
                Condition::Billing(list) => {
                    if self.term.is_none() || !list.contains(&self.billing) {
                        let names: Vec<&str> = list.iter().map(|b| b.keyword()).collect();
                        return Err(self.why(|| {
                            format!(
                                "needs billing {}, the line is billed {}",
                                names.join(" or "),
                                if self.term.is_none() {
                                    "once"
                                } else {
                                    self.billing.keyword()
                                }
                            )
                        }));
                    }
                }
                Condition::Quantity(op, n) => {
                    let q = self.line.quantity;
                    let ok = match op {
                        Comparison::AtLeast => q >= *n,
                        Comparison::AtMost => q <= *n,
                        Comparison::Above => q > *n,
                        Comparison::Below => q < *n,
                        Comparison::Is => q == *n,
                    };
                    if !ok {
                        return Err(self.why(|| {
                            format!("needs quantity {} {n}, the line has {q}", op.words())
                        }));
                    }
                }
                Condition::Date(subject, op, date) => {
                    let (what, d) = match subject {
                        DateSubject::Start => ("start", self.line.start),
                        DateSubject::QuoteDate => ("quote date", self.quote.date),
                    };
                    let ok = match op {
                        DateOp::Before => d < *date,
                        DateOp::From => d >= *date,
                    };
                    if !ok {
                        return Err(self.why(|| {
                            format!(
                                "needs {what} {} {date}, it is {d}",
                                if *op == DateOp::Before {
                                    "before"
                                } else {
                                    "from"
                                }
                            )
                        }));
                    }
                }
            }
        }
        Ok(())
    }

    /// The share of a charge's period inside the rule's duration, as days inside over days in
    /// the charge (kept as integers so the discount stays exact); `None` when outside.
    fn overlap(&self, rule: &DiscountRule, c: &Charge) -> Option<(i64, i64, String)> {
        let Some(months) = rule.duration_months else {
            return Some((1, 1, String::new()));
        };
        let window_end = calendar::add_months(self.line.start, i64::from(months))?;
        if c.period_start == c.period_end {
            return (c.period_start < window_end).then(|| (1, 1, String::new()));
        }
        let from = c.period_start.max(self.line.start);
        let to = c.period_end.min(window_end);
        if to <= from {
            return None;
        }
        let inside = calendar::actual_days(from, to);
        let all = calendar::actual_days(c.period_start, c.period_end);
        if inside >= all {
            return Some((1, 1, String::new()));
        }
        let text = self.why(|| {
            format!(" × {inside}/{all} days inside the first {months} months (to {window_end})")
        });
        Some((inside, all, text))
    }

    /// The discount amount (positive, rounded once) for one charge, with how it was reached.
    fn discount(
        &self,
        rule: &DiscountRule,
        c: &Charge,
        running: Decimal,
        first_done: bool,
    ) -> Result<(Decimal, String), String> {
        if c.kind == ChargeKind::MinimumTrueUp {
            return Err(self.why(|| "minimum true-ups are not discounted".into()));
        }
        let Some((inside, all, share_text)) = self.overlap(rule, c) else {
            return Err(self.why(|| {
                format!(
                    "outside the first {} months from {}",
                    rule.duration_months.unwrap_or(0),
                    self.line.start
                )
            }));
        };
        let (inside, all) = (Decimal::from(inside), Decimal::from(all));
        let cat = self.cat;
        let too_large = || self.why(|| "the discount is too large to compute exactly".into());
        match rule.amount {
            DiscountAmount::Percent(p) => {
                let exact =
                    muldiv(&[running, rule.factor, inside], &[all]).ok_or_else(too_large)?;
                let a = cat.round(exact);
                let how = self.why(|| {
                    format!(
                        "{p}% of {running}{share_text} = {} → {a}",
                        exact.round_dp(6).normalize()
                    )
                });
                Ok((a, how))
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
                let unit_text = || {
                    if per_unit {
                        format!(" × {units} units")
                    } else {
                        String::new()
                    }
                };
                if monthly {
                    if c.period_start == c.period_end {
                        return Err(self.why(|| {
                            "a monthly amount does not apply to a one-time charge".into()
                        }));
                    }
                    let sh = c.share;
                    let exact = muldiv(
                        &[
                            value,
                            units,
                            Decimal::from(sh.months),
                            Decimal::from(sh.num),
                            inside,
                        ],
                        &[Decimal::from(sh.den), all],
                    )
                    .ok_or_else(too_large)?;
                    let a = cat.round(exact).min(running.max(Decimal::ZERO));
                    let how = self.why(|| {
                        format!(
                            "{value} a month{} × {} months{share_text} = {a}",
                            unit_text(),
                            c.share.months().round_dp(4).normalize()
                        )
                    });
                    Ok((a, how))
                } else {
                    if first_done && !matches!(rule.scope, DiscountScope::Quote) {
                        return Err(self.why(|| {
                            "a one-off amount applies to the line's first charge only".into()
                        }));
                    }
                    let a = cat.round(value * units).min(running.max(Decimal::ZERO));
                    Ok((a, self.why(|| format!("{value} once{} = {a}", unit_text()))))
                }
            }
        }
    }
}
