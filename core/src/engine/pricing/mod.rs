//! Pricing a quote: every charge of every line over the committed term, exact to the cent.
//!
//! Each charge is computed exactly (`quantity × price × billing months ÷ price months ×
//! fraction`, multiplied out before dividing) and rounded once, in the rule set's mode. A
//! discount is its own negative charge, rounded once; discounts apply in written order, each to
//! what the ones before it left. Totals are sums of rounded charges, never re-rounded.

use crate::engine::calendar::{self, Anchor};
use crate::engine::catalogue::{
    AnchorRule, Billing, Catalogue, Condition, DiscountAmount, DiscountRule, DiscountScope, Offer,
    Price, Sellable,
};
use crate::engine::quote::{ManualDiscount, Quote, QuoteLine};
use crate::engine::schedule::{self, AnchorAt, Coterm, Fraction, FractionUnit, Piece};
use crate::engine::tiers;
use chrono::{Datelike, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};
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
}

/// Told of each quote line priced, so that a caller can show progress; the engine itself never
/// draws anything.
pub trait Progress {
    /// One more line is priced.
    fn advance(&mut self);
}

/// No progress to show.
impl Progress for () {
    fn advance(&mut self) {}
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
        m => Cow::Owned(crate::engine::catalogue::term_text(m)),
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
    price_with_progress(cat, quote, opts, &mut ())
}

/// [`price`], telling `progress` of each line priced.
pub fn price_with_progress(
    cat: &Catalogue,
    quote: &Quote,
    opts: &PriceOptions,
    progress: &mut dyn Progress,
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
    for (i, line) in quote.lines.iter().enumerate() {
        progress.advance();
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
    scratch: Scratch,
}

/// Working buffers reused from line to line, so a line allocates only what it returns.
struct Scratch {
    /// Schedules planned for earlier lines.
    plans: Plans,
    /// The discounts of one gross charge as (rule index, `None` for manual; amount).
    fired: Vec<(Option<usize>, Decimal)>,
    /// The discounts of a whole period, for reuse on the line's other whole periods.
    memo: Vec<(Option<usize>, Decimal)>,
    /// Whether each discount rule applies to the line, with the reason when not.
    verdicts: Vec<Result<(), String>>,
    /// The rule name of manual discounts.
    manual: Arc<str>,
    /// Zero in the currency's minor unit, so every amount prints with its decimals.
    zero: Decimal,
}

impl Scratch {
    fn new(cat: &Catalogue) -> Self {
        Scratch {
            plans: Plans::default(),
            fired: Vec::new(),
            memo: Vec::new(),
            verdicts: Vec::new(),
            manual: Arc::from("manual"),
            zero: cat.round(Decimal::ZERO),
        }
    }
}

impl<'a> Pricer<'a> {
    /// A pricer for lines of `quote` (its own `lines` are not read).
    pub fn new(cat: &'a Catalogue, quote: &'a Quote, opts: PriceOptions) -> Self {
        Pricer {
            cat,
            quote,
            opts,
            quote_discount_used: vec![false; cat.discounts.len()],
            scratch: Scratch::new(cat),
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
            &mut self.scratch,
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
                    crate::engine::catalogue::term_text(term),
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

/// Largest Decimal mantissa plus one: a product below it is exact in a `Decimal`.
const DECIMAL_LIMIT: u128 = 1 << 96;

/// Powers of ten that fit in a `u128`.
#[allow(
    clippy::indexing_slicing,
    reason = "a constant evaluated at compile time; `i` stays within the table"
)]
const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10^e, for 0 ≤ e ≤ 38.
fn pow10(e: u32) -> Option<u128> {
    POW10.get(usize::try_from(e).ok()?).copied()
}

/// `a × b`, with a single 64-bit multiply when both fit in 64 bits (the usual case: a
/// checked 128-bit multiply is a library call).
fn mul(a: u128, b: u128) -> Option<u128> {
    match (u64::try_from(a), u64::try_from(b)) {
        (Ok(a), Ok(b)) => Some(u128::from(a) * u128::from(b)),
        _ => a.checked_mul(b),
    }
}

/// `round(a × b × … ÷ (c × d × …))` in the rule set's mode: the same value as
/// `cat.round(muldiv(num, den)?)`, worked out in 128-bit integers when that provably gives the
/// same answer, and through `muldiv` otherwise.
fn round_muldiv(cat: &Catalogue, num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    match round_exact(cat, num, den) {
        Some(r) => Some(r),
        None => muldiv(num, den).map(|x| cat.round(x)),
    }
}

/// `round(value × percent ÷ 100)`: a percentage of an amount, rounded once.
fn percent_of(cat: &Catalogue, value: Decimal, percent: Decimal) -> Decimal {
    let fast = Exact::of(value)
        .and_then(|v| v.times(Exact::of(percent)?))
        .and_then(|n| round_ratio(cat, n, Exact::HUNDRED));
    fast.unwrap_or_else(|| cat.round(value * percent / Decimal::ONE_HUNDRED))
}

/// `round(n × num ÷ (d × den))` for an amount per period `n ÷ d` (already decoded into
/// `fast` when it can be) and a share `num ÷ den` of the period: [`round_muldiv`] of
/// `[n, num]` over `[d, den]`, without decoding the amount again for every charge.
fn round_share(
    cat: &Catalogue,
    per_period: (Decimal, Decimal),
    fast: Option<(Exact, Exact)>,
    num: i64,
    den: i64,
) -> Option<Decimal> {
    let quick = fast.and_then(|(n, d)| {
        round_ratio(cat, n.times(Exact::int(num)?)?, d.times(Exact::int(den)?)?)
    });
    match quick {
        Some(r) => Some(r),
        None => round_muldiv(
            cat,
            &[per_period.0, Decimal::from(num)],
            &[per_period.1, Decimal::from(den)],
        ),
    }
}

/// [`round_exact`] of one decimal over a whole number of months or days.
fn round_over(cat: &Catalogue, value: Decimal, den: u32) -> Option<Decimal> {
    round_ratio(cat, Exact::of(value)?, Exact::int(i64::from(den))?)
}

/// A non-negative decimal as an integer mantissa and a scale, made only from values a
/// `Decimal` holds exactly (mantissa under 2⁹⁶, scale at most 28): arithmetic on it gives what
/// `Decimal` arithmetic gives, in plain integer instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Exact {
    /// The mantissa.
    m: u128,
    /// Decimal places.
    s: u32,
}

impl Exact {
    const ONE: Exact = Exact { m: 1, s: 0 };
    const HUNDRED: Exact = Exact { m: 100, s: 0 };

    /// A decimal's mantissa and scale; `None` when negative.
    fn of(d: Decimal) -> Option<Exact> {
        Some(Exact {
            m: u128::try_from(d.mantissa()).ok()?,
            s: d.scale(),
        })
    }

    /// A whole number; `None` when negative.
    fn int(n: i64) -> Option<Exact> {
        Some(Exact {
            m: u128::from(u64::try_from(n).ok()?),
            s: 0,
        })
    }

    /// The product, when a `Decimal` would hold it exactly.
    fn times(self, o: Exact) -> Option<Exact> {
        let m = mul(self.m, o.m)?;
        let s = self.s + o.s;
        (m < DECIMAL_LIMIT && s <= 28).then_some(Exact { m, s })
    }
}

/// The exact quotient `Π num ÷ Π den` rounded once to the minor unit, in integers; `None`
/// when the integers cannot show that `muldiv` followed by [`Catalogue::round`] gives the same.
fn round_exact(cat: &Catalogue, num: &[Decimal], den: &[Decimal]) -> Option<Decimal> {
    round_ratio(cat, exact_product(num)?, exact_product(den)?)
}

/// The product of non-negative decimals, when a `Decimal` holds it and each partial product
/// exactly (as `muldiv` multiplies them).
fn exact_product(xs: &[Decimal]) -> Option<Exact> {
    xs.iter()
        .try_fold(Exact::ONE, |acc, x| acc.times(Exact::of(*x)?))
}

/// `n ÷ d` rounded once to the minor unit in the rule set's mode, where `n` and `d` are the
/// exact products `muldiv` would form; `None` when the integers cannot show the result equals
/// `muldiv` followed by [`Catalogue::round`].
///
/// Decimal division is the slowest step of pricing; an integer quotient and remainder are a
/// fraction of its cost. The answers agree because:
/// - both products are exact in `Decimal` too ([`Exact`]), so `muldiv` multiplies without loss;
/// - when `muldiv` really divides (the denominator is not 1) the quotient is kept below 10¹²,
///   so `muldiv` carries at least 15 decimals, an error under ½·10⁻¹⁵; an exact quotient with a
///   denominator `b` (kept to b × 10^minor ≤ 10¹⁴) is either on a rounding boundary, which
///   `muldiv` then reaches exactly, or at least 1 ÷ (2 × b × 10^minor) ≥ ½·10⁻¹⁴ away from
///   one, so both round the same way.
fn round_ratio(cat: &Catalogue, n: Exact, d: Exact) -> Option<Decimal> {
    let mu = cat.minor_units;
    if mu > 8 || d.m == 0 {
        return None;
    }
    if n.m == 0 {
        // `muldiv` gives `Decimal::ZERO` (a zero product has no sign or scale).
        return Some(Decimal::new(0, mu));
    }
    // value × 10^mu = n.m × 10^(mu + d.s - n.s) ÷ d.m = a ÷ b.
    let (a, b) = match (mu + d.s).checked_sub(n.s) {
        Some(e) => (mul(n.m, pow10(e)?)?, d.m),
        None => (n.m, mul(d.m, pow10(n.s - mu - d.s)?)?),
    };
    if d.m != pow10(d.s)? {
        // `muldiv` divides: keep to where its quotient is precise enough (see above).
        let grid = mul(b, pow10(mu)?)?;
        if grid > 100_000_000_000_000 || a >= grid * 1_000_000_000_000 {
            return None;
        }
    }
    let (q, r) = match (u64::try_from(a), u64::try_from(b)) {
        // Whole periods and amounts already in the minor unit need no division at all.
        (_, Ok(1)) => (a, 0),
        // 64-bit division when it fits: 128-bit division is a library call.
        (Ok(a), Ok(b)) => (u128::from(a / b), u128::from(a % b)),
        _ => (a / b, a % b),
    };
    let up = match cat.rounding {
        RoundingStrategy::MidpointAwayFromZero => 2 * r >= b,
        RoundingStrategy::MidpointNearestEven => 2 * r > b || (2 * r == b && q % 2 == 1),
        RoundingStrategy::MidpointTowardZero => 2 * r > b,
        RoundingStrategy::AwayFromZero => r > 0,
        RoundingStrategy::ToZero => false,
        _ => return None,
    };
    let q = if up { q + 1 } else { q };
    if q >= DECIMAL_LIMIT {
        return None;
    }
    Decimal::try_from_i128_with_scale(i128::try_from(q).ok()?, mu).ok()
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
    scratch: &mut Scratch,
) -> Result<PricedLine, Vec<PriceError>> {
    let r = resolve(cat, quote, i, line)?;
    let Scratch {
        plans,
        fired,
        memo,
        verdicts,
        manual,
        zero,
    } = scratch;
    let zero = *zero;
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
                            crate::engine::catalogue::CotermMode::Stub => "mode stub",
                            crate::engine::catalogue::CotermMode::Coterminous => "mode coterminous",
                        },
                        match c.proration {
                            crate::engine::catalogue::Proration::Daily => "daily",
                            crate::engine::catalogue::Proration::Monthly => "monthly",
                            crate::engine::catalogue::Proration::None => "none",
                        },
                        match c.basis {
                            crate::engine::catalogue::DayBasis::Actual => "actual days",
                            crate::engine::catalogue::DayBasis::Thirty => "30-day months",
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
    let (term_start, end, billing_months, pieces) = match r.term {
        None => (line.start, line.start, 0, &[][..]),
        Some(term) => {
            let b = r.billing.months().unwrap_or(term);
            let (term_start, end, pieces) = plans
                .plan(line.start, term, b, r.coterm.as_ref().map(|c| c.1))
                .map_err(|e| vec![perr(field(i, "start"), e.0, None)])?;
            (term_start, end, b, pieces)
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
    // The per-period amounts as integers, decoded once for all the line's charges.
    let pp_fast = Exact::of(pp_num).zip(Exact::of(pp_den));
    let cp_fast = Exact::of(cp_num).zip(Exact::of(cp_den));

    // Discounts: each gross charge in turn, as it is made, rules in written order, then the
    // manual discount. (A gross charge can only fail to compute before the first has been
    // discounted: a line's later pieces are whole periods, no larger than the first piece's
    // arithmetic, so discounting as we go leaves the same state as discounting afterwards.)
    let ctx = LineCtx {
        cat,
        quote,
        line,
        item,
        term: r.term,
        billing: r.billing,
        explain: opts.explain,
    };
    verdicts.clear();
    verdicts.extend(cat.discounts.iter().map(|d| ctx.applies(d)));
    // When every rule that applies treats all whole periods alike (no duration, nothing
    // charged once), a whole period's discounts are worked out once and reused.
    let uniform = !opts.explain
        && !matches!(line.discount, Some(ManualDiscount::Amount(_)))
        && cat.discounts.iter().zip(verdicts.iter()).all(|(r, v)| {
            v.is_err()
                || (r.duration_months.is_none()
                    && !matches!(r.amount, DiscountAmount::Fixed { monthly: false, .. })
                    && !matches!(
                        (&r.scope, &r.amount),
                        (DiscountScope::Quote, DiscountAmount::Fixed { .. })
                    ))
        });
    let mut charges = Vec::with_capacity(pieces.len().max(1) * 2);
    let mut disc = Discounter {
        ctx: &ctx,
        verdicts,
        uniform,
        first_charge_done: false,
        memo_key: None,
        memo,
        fired,
        quote_discount_used,
        manual,
        zero,
        explain: opts.explain,
    };

    if r.term.is_none() {
        let amount = round_muldiv(cat, &[pp_num], &[pp_den]).ok_or_else(|| overflow(i))?;
        let cost = round_muldiv(cat, &[cp_num], &[cp_den]).ok_or_else(|| overflow(i))?;
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
        disc.push(
            Charge {
                kind: ChargeKind::OneTime,
                period_start: line.start,
                period_end: line.start,
                bill_date: line.start,
                amount,
                cost,
                rule: None,
                explain,
                share: Share::NONE,
            },
            &mut charges,
        );
    }
    let minimum = item.minimum.filter(|_| metered);
    // Every whole billing period of a line costs the same: compute it once.
    let mut whole_memo: Option<(Decimal, Decimal, Decimal, Option<Decimal>)> = None;
    // The rounded amount of a whole period priced at exactly 1/1 (what `recurring` starts from).
    let mut whole_amount: Option<Decimal> = None;
    for piece in pieces.iter() {
        let partial = piece.fraction.is_partial();
        let (num, den) = (piece.fraction.num, piece.fraction.den);
        let (fnum, fden) = (Decimal::from(num), Decimal::from(den));
        let (exact, amount, cost, min_amount) = match (partial, whole_memo) {
            (false, Some(m)) => m,
            _ => {
                let amount = round_share(cat, (pp_num, pp_den), pp_fast, num, den)
                    .ok_or_else(|| overflow(i))?;
                // The unrounded amount is only shown by `explain`.
                let exact = if opts.explain {
                    muldiv(&[pp_num, fnum], &[pp_den, fden]).ok_or_else(|| overflow(i))?
                } else {
                    Decimal::ZERO
                };
                let cost = round_share(cat, (cp_num, cp_den), cp_fast, num, den)
                    .ok_or_else(|| overflow(i))?;
                let min_amount = match minimum {
                    Some(min) => Some(
                        round_muldiv(
                            cat,
                            &[min.amount, b, fnum],
                            &[Decimal::from(min.per_months.unwrap_or(1)), fden],
                        )
                        .ok_or_else(|| overflow(i))?,
                    ),
                    None => None,
                };
                let m = (exact, amount, cost, min_amount);
                if !partial {
                    whole_memo = Some(m);
                    if piece.fraction.num == 1 && piece.fraction.den == 1 {
                        whole_amount = Some(amount);
                    }
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
        disc.push(
            Charge {
                kind,
                period_start: piece.start,
                period_end: piece.end,
                bill_date,
                amount,
                cost,
                rule: None,
                explain,
                share,
            },
            &mut charges,
        );
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
                disc.push(
                    Charge {
                        kind: ChargeKind::MinimumTrueUp,
                        period_start: piece.start,
                        period_end: piece.end,
                        bill_date,
                        amount: up,
                        cost: zero,
                        rule: None,
                        explain,
                        share,
                    },
                    &mut charges,
                );
            }
        }
    }
    // Charges were made in bill-date order (each discount right after its charge), so no sort.

    // Steady-state figures.
    let recurring = if r.term.is_none() {
        zero
    } else {
        let full = match whole_amount {
            Some(a) => a,
            None => round_muldiv(cat, &[pp_num], &[pp_den]).ok_or_else(|| overflow(i))?,
        };
        // A true-up is never discounted: discount the rated amount, add the true-up after.
        let true_up = match minimum {
            Some(min) => {
                let m = round_muldiv(
                    cat,
                    &[min.amount, b],
                    &[Decimal::from(min.per_months.unwrap_or(1))],
                )
                .ok_or_else(|| overflow(i))?;
                (m - full).max(zero)
            }
            None => zero,
        };
        let mut net = full;
        for (k, rule) in cat.discounts.iter().enumerate() {
            let lasting = rule.duration_months.is_none()
                && !matches!(rule.amount, DiscountAmount::Fixed { monthly: false, .. })
                && !matches!(rule.scope, DiscountScope::Quote if matches!(rule.amount, DiscountAmount::Fixed { .. }));
            if lasting && disc.verdicts.get(k).is_some_and(|v| v.is_ok()) {
                let d = match rule.amount {
                    DiscountAmount::Percent(p) => percent_of(cat, net, p),
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
            net -= percent_of(cat, net, p);
        }
        net + true_up
    };
    let mrr = if r.term.is_none() {
        zero
    } else {
        round_over(cat, recurring, billing_months.max(1))
            .unwrap_or_else(|| cat.round(recurring / b))
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
        term_start,
        end,
        first_charge,
        recurring,
        mrr,
        charges,
        explain: line_steps,
    })
}

/// Schedules already planned for a quote's lines. A schedule depends only on the start date,
/// term, billing and co-term policy, and the lines of one quote mostly share those (a quote's
/// lines usually start together), so most lines find theirs here instead of redoing the
/// anchored month arithmetic. Direct-mapped: a line whose slot holds another schedule replaces it.
#[derive(Default)]
struct Plans {
    /// A power of two of slots: one until the quote proves long, so a pricer made for a line
    /// or two (as three-way matching makes them) does not set up a table it will not use.
    slots: Vec<Option<PlanSlot>>,
    /// Lines planned so far.
    planned: usize,
}

/// One remembered schedule.
struct PlanSlot {
    key: PlanKey,
    term_start: NaiveDate,
    end: NaiveDate,
    pieces: Vec<Piece>,
}

/// Everything a schedule depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PlanKey {
    start: NaiveDate,
    term: u32,
    billing: u32,
    coterm: Option<Coterm>,
}

impl Plans {
    /// Slots of a long quote's table.
    const SLOTS: usize = 256;
    /// Lines after which a quote counts as long.
    const LONG: usize = 16;

    /// [`schedule::plan`] for these inputs: the term's start, the commitment's end and the
    /// billed pieces. Plans that fail are not remembered.
    fn plan(
        &mut self,
        start: NaiveDate,
        term: u32,
        billing: u32,
        coterm: Option<Coterm>,
    ) -> Result<(NaiveDate, NaiveDate, &[Piece]), schedule::PlanError> {
        let key = PlanKey {
            start,
            term,
            billing,
            coterm,
        };
        self.planned += 1;
        if self.planned == Plans::LONG {
            self.slots.clear();
        }
        if self.slots.is_empty() {
            let n = if self.planned < Plans::LONG {
                1
            } else {
                Plans::SLOTS
            };
            self.slots.resize_with(n, || None);
        }
        // Lines mostly differ in start date: spread consecutive days and years over the slots.
        let h = (i64::from(start.year()) * 367 + i64::from(start.ordinal()))
            .wrapping_mul(31)
            .wrapping_add(i64::from(term) * 7 + i64::from(billing));
        let mask = self.slots.len().saturating_sub(1);
        let index = usize::try_from(h.unsigned_abs()).map_or(0, |h| h & mask);
        // The index is masked to the table's size, so the slot is always there.
        let Some(slot) = self.slots.get_mut(index) else {
            return Err(schedule::PlanError("no room to plan the schedule".into()));
        };
        let hit = slot.as_ref().is_some_and(|s| s.key == key);
        if !hit {
            let mut pieces = slot.take().map(|s| s.pieces).unwrap_or_default();
            let (term_start, end) =
                schedule::plan_into(start, term, billing, coterm.as_ref(), &mut pieces)?;
            *slot = Some(PlanSlot {
                key,
                term_start,
                end,
                pieces,
            });
        }
        match slot {
            Some(s) => Ok((s.term_start, s.end, &s.pieces)),
            None => Err(schedule::PlanError("no room to plan the schedule".into())),
        }
    }
}

/// Discounts a line's gross charges one at a time, in bill-date order.
struct Discounter<'c, 's> {
    ctx: &'s LineCtx<'c>,
    /// Whether each rule applies to the line (the reason when not).
    verdicts: &'s [Result<(), String>],
    /// Whole periods may reuse the discounts of the first whole period (see `price_line`).
    uniform: bool,
    /// A charge other than a true-up has been discounted.
    first_charge_done: bool,
    /// The whole period whose discounts are in `memo`: its amount and share.
    memo_key: Option<(Decimal, Share)>,
    memo: &'s mut Vec<(Option<usize>, Decimal)>,
    fired: &'s mut Vec<(Option<usize>, Decimal)>,
    quote_discount_used: &'s mut [bool],
    manual: &'s Arc<str>,
    zero: Decimal,
    explain: bool,
}

impl Discounter<'_, '_> {
    /// Adds a gross charge to `charges`, each of its discounts right after it.
    fn push(&mut self, g: Charge, charges: &mut Vec<Charge>) {
        let cat = self.ctx.cat;
        let line = self.ctx.line;
        let explain = self.explain;
        let zero = self.zero;
        let c = Gross {
            kind: g.kind,
            period_start: g.period_start,
            period_end: g.period_end,
            bill_date: g.bill_date,
            amount: g.amount,
            share: g.share,
        };
        // The gross charge goes in first; its discounts follow, and `explain` adds to its steps
        // through `gi`.
        let gi = charges.len();
        charges.push(g);
        let note = |charges: &mut Vec<Charge>, step: Step| {
            if let Some(g) = charges.get_mut(gi) {
                g.explain.push(step);
            }
        };
        let discount = |rule: Option<Arc<str>>, amount: Decimal, explain: Vec<Step>| Charge {
            kind: ChargeKind::Discount,
            period_start: c.period_start,
            period_end: c.period_end,
            bill_date: c.bill_date,
            amount: -amount,
            cost: zero,
            rule,
            explain,
            share: c.share,
        };
        if let Some((amount, share)) = self.memo_key {
            if c.amount == amount && c.share == share && c.kind != ChargeKind::MinimumTrueUp {
                for (rule, d) in self.memo.iter() {
                    let rule = match rule {
                        Some(k) => cat.discounts.get(*k).map(|r| r.name.clone()),
                        None => Some(self.manual.clone()),
                    };
                    charges.push(discount(rule, *d, Vec::new()));
                }
                return;
            }
        }
        let mut running = c.amount;
        self.fired.clear();
        for (k, rule) in cat.discounts.iter().enumerate() {
            let no_reason = Err(String::new());
            let verdict = self.verdicts.get(k).unwrap_or(&no_reason);
            if let Err(why) = verdict {
                if explain {
                    note(
                        charges,
                        Step {
                            text: format!("discount `{}` skipped: {why}", rule.name),
                            at: Some(rule.origin.clone()),
                        },
                    );
                }
                continue;
            }
            let quote_once = matches!(rule.scope, DiscountScope::Quote)
                && matches!(rule.amount, DiscountAmount::Fixed { .. });
            if quote_once && self.quote_discount_used.get(k).copied().unwrap_or(true) {
                if explain {
                    note(
                        charges,
                        Step {
                            text: format!(
                                "discount `{}` skipped: a fixed amount off the quote applies once, already used",
                                rule.name
                            ),
                            at: Some(rule.origin.clone()),
                        },
                    );
                }
                continue;
            }
            match self.ctx.discount(rule, &c, running, self.first_charge_done) {
                Ok(amount) if !amount.is_zero() => {
                    let how = if explain {
                        self.ctx.discount_how(rule, &c, running, amount)
                    } else {
                        String::new()
                    };
                    running -= amount;
                    if quote_once {
                        if let Some(u) = self.quote_discount_used.get_mut(k) {
                            *u = true;
                        }
                    }
                    self.fired.push((Some(k), amount));
                    let steps = if explain {
                        note(
                            charges,
                            Step {
                                text: format!("discount `{}` fired: {how}", rule.name),
                                at: Some(rule.origin.clone()),
                            },
                        );
                        vec![Step {
                            text: how,
                            at: Some(rule.origin.clone()),
                        }]
                    } else {
                        Vec::new()
                    };
                    charges.push(discount(Some(rule.name.clone()), amount, steps));
                }
                _ if !explain => {}
                outcome => {
                    let how = match outcome {
                        Ok(amount) => self.ctx.discount_how(rule, &c, running, amount),
                        Err(skip) => skip.why(rule, line.start),
                    };
                    note(
                        charges,
                        Step {
                            text: format!("discount `{}` skipped: {how}", rule.name),
                            at: Some(rule.origin.clone()),
                        },
                    );
                }
            }
        }
        if let (Some(m), false) = (line.discount, c.kind == ChargeKind::MinimumTrueUp) {
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
            if !amount.is_zero() {
                self.fired.push((None, amount));
                let steps = if explain {
                    vec![Step {
                        text: how,
                        at: None,
                    }]
                } else {
                    Vec::new()
                };
                charges.push(discount(Some(self.manual.clone()), amount, steps));
            }
        }
        if c.kind != ChargeKind::MinimumTrueUp {
            self.first_charge_done = true;
            if self.uniform && !c.share.is_partial() && !matches!(c.kind, ChargeKind::OneTime) {
                self.memo_key = Some((c.amount, c.share));
                std::mem::swap(self.memo, self.fired);
            }
        }
    }
}

/// What discounting reads of a gross charge.
#[derive(Clone, Copy, Debug)]
struct Gross {
    kind: ChargeKind,
    period_start: NaiveDate,
    period_end: NaiveDate,
    bill_date: NaiveDate,
    amount: Decimal,
    share: Share,
}

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
                        // The names are made only when `explain` reads them.
                        return Err(self.why(|| {
                            let names: Vec<String> = list
                                .iter()
                                .map(|t| crate::engine::catalogue::term_text(*t))
                                .collect();
                            format!(
                                "needs term {}, the line is {}",
                                names.join(" or "),
                                crate::engine::catalogue::term_text(self.term)
                            )
                        }));
                    }
                }
                Condition::Billing(list) => {
                    if self.term.is_none() || !list.contains(&self.billing) {
                        return Err(self.why(|| {
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
    fn overlap(&self, rule: &DiscountRule, c: &Gross) -> Option<(i64, i64)> {
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
    fn overlap_text(&self, rule: &DiscountRule, c: &Gross) -> String {
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
    fn discount(
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
    fn discount_how(&self, rule: &DiscountRule, c: &Gross, running: Decimal, a: Decimal) -> String {
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

/// Why a discount rule that applies to a line takes nothing off one of its charges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Skip {
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
    fn why(self, rule: &DiscountRule, start: NaiveDate) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn catalogue(minor_units: u32, rounding: RoundingStrategy) -> Catalogue {
        let mut sources = tenor_dsl::SourceSet::new();
        sources.add("t.tenor", "currency USD\n");
        let rules = tenor_dsl::check(&sources).unwrap();
        let mut cat = Catalogue::compile(&rules, &sources);
        cat.minor_units = minor_units;
        cat.rounding = rounding;
        cat
    }

    const MODES: [RoundingStrategy; 5] = [
        RoundingStrategy::MidpointAwayFromZero,
        RoundingStrategy::MidpointNearestEven,
        RoundingStrategy::MidpointTowardZero,
        RoundingStrategy::AwayFromZero,
        RoundingStrategy::ToZero,
    ];

    /// A decimal of any size and scale, biased towards the small ones prices are made of.
    fn decimal() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (0i64..100_000, 0u32..5).prop_map(|(m, s)| Decimal::new(m, s)),
            (0i64..i64::MAX, 0u32..29).prop_map(|(m, s)| Decimal::new(m, s)),
            (0u32..=u32::MAX, 0u32..=u32::MAX, 0u32..=u32::MAX, 0u32..29)
                .prop_map(|(lo, mid, hi, s)| Decimal::from_parts(lo, mid, hi, false, s)),
            (-1000i64..1000, 0u32..3).prop_map(|(m, s)| Decimal::new(m, s)),
        ]
    }

    fn denominator() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            (1i64..400).prop_map(Decimal::from),
            (1i64..2_000_000).prop_map(Decimal::from),
            (0i64..10_000, 0u32..4).prop_map(|(m, s)| Decimal::new(m, s)),
            decimal(),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

        /// The integer path gives exactly what `muldiv` and `Catalogue::round` give, value and
        /// scale, whenever it gives anything.
        #[test]
        fn integer_rounding_equals_decimal_rounding(
            num in prop::collection::vec(decimal(), 1..5),
            den in prop::collection::vec(denominator(), 0..3),
            mode in 0usize..5,
            mu in prop::sample::select(vec![0u32, 2, 3, 4]),
        ) {
            let cat = catalogue(mu, MODES[mode]);
            if let Some(fast) = round_exact(&cat, &num, &den) {
                let slow = muldiv(&num, &den).map(|x| cat.round(x));
                prop_assert_eq!(Some(fast), slow);
                prop_assert_eq!(Some(fast.to_string()), slow.map(|x| x.to_string()));
            }
        }

        /// Amounts a day-count proration makes, including exact half cents.
        #[test]
        fn prorated_amounts_round_alike(
            cents in 0i64..100_000_000,
            qty in 1i64..100_000,
            num in 0i64..1200,
            den in 1i64..1200,
            per in prop::sample::select(vec![1i64, 3, 12, 36]),
            mode in 0usize..5,
        ) {
            let cat = catalogue(2, MODES[mode]);
            let n = [Decimal::new(cents, 4), Decimal::from(qty), Decimal::from(num)];
            let d = [Decimal::from(per), Decimal::from(den)];
            let fast = round_exact(&cat, &n, &d);
            prop_assert!(fast.is_some());
            prop_assert_eq!(fast, muldiv(&n, &d).map(|x| cat.round(x)));
            let half = [Decimal::new(cents * 10 + 5, 3)];
            prop_assert_eq!(round_exact(&cat, &half, &[]), Some(cat.round(half[0])));
        }

        /// Near the largest amounts the integer path takes on (10¹² and denominators up to
        /// 10¹⁴), on and beside rounding boundaries, it still agrees with the decimal path.
        #[test]
        fn large_quotients_round_alike(
            whole in 0i64..1_000_000_000_000,
            den in prop_oneof![1i64..1000, 1i64..1_000_000_000, 1i64..1_000_000_000_000],
            nudge in -3i64..=3,
            mode in 0usize..5,
            mu in prop::sample::select(vec![0u32, 2, 3]),
        ) {
            let cat = catalogue(mu, MODES[mode]);
            // A numerator whose quotient by `den` sits on (or a hair beside) a half minor unit.
            let half = i128::from(whole) * 10 + 5;
            let n = half * i128::from(den) + i128::from(nudge);
            if let Ok(n) = Decimal::try_from_i128_with_scale(n, mu + 1) {
                if n >= Decimal::ZERO {
                    let (num, den) = ([n], [Decimal::from(den)]);
                    if let Some(fast) = round_exact(&cat, &num, &den) {
                        prop_assert_eq!(Some(fast), muldiv(&num, &den).map(|x| cat.round(x)));
                    }
                }
            }
        }
    }
}
