//! The charges of a line: the period pieces of its schedule priced, with tiers and proration.

use super::Scratch;
use super::discounts::{Discounter, Gross, LineCtx};
use super::offer::Resolved;
use super::offer::{field, overflow, resolve, term_name};
use super::plans::Plans;
use super::recipes::{PieceAmounts, Rates, Recipe, RecipeKey, Recipes};
use super::rounding::{Exact, muldiv, percent_of, round_muldiv, round_over, round_share};
use super::types::{
    Charge, ChargeDetail, ChargeKind, Explained, LineDetail, PriceError, PriceOptions, PricedLine,
    ProrationDetail, Share, Step, TierApplied, perr,
};
use crate::engine::catalogue::{
    AnchorRule, Catalogue, CotermMode, DayBasis, DiscountAmount, DiscountRule, DiscountScope,
    Offer, Price, Proration, Sellable, TierTable,
};
use crate::engine::quote::{ManualDiscount, Quote, QuoteLine};
use crate::engine::schedule::Coterm;
use crate::engine::schedule::{Fraction, FractionUnit, Piece};
use crate::engine::tiers;
use chrono::NaiveDate;
use rust_decimal::Decimal;

/// `a month`, `a year`, `a term`, `once`.
pub(super) fn per_words(per: Option<u32>, term: Option<u32>) -> String {
    match per {
        None => "once".to_string(),
        Some(1) => "a month".to_string(),
        Some(3) => "a quarter".to_string(),
        Some(12) => "a year".to_string(),
        Some(m) if Some(m) == term => format!("a term ({m} months)"),
        Some(m) => format!("per {m} months"),
    }
}

/// A piece's share of its billing period in words, for `explain`.
pub(super) fn describe_fraction(f: &Fraction, piece: &Piece) -> String {
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

/// Prices one quote line: resolves its offer, plans its periods, prices each piece and
/// discounts it, then works out the steady-state figures.
pub(super) fn price_line(
    cat: &Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    opts: &PriceOptions,
    quote_discount_used: &mut [bool],
    scratch: &mut Scratch,
) -> Result<PricedLine, Vec<PriceError>> {
    let mut charges = Vec::new();
    let f = line_figures(
        cat,
        quote,
        i,
        line,
        opts,
        quote_discount_used,
        scratch,
        &mut charges,
    )?;
    Ok(PricedLine {
        line: i + 1,
        product: f.item.sku.clone(),
        name: f.item.name.clone(),
        bundle: f.item.is_bundle,
        quantity: line.quantity,
        term: f.term,
        billing: f.billing,
        coterm: f.coterm.cloned(),
        start: line.start,
        term_start: f.term_start,
        end: f.end,
        first_charge: f.first_charge,
        recurring: f.recurring,
        mrr: f.mrr,
        billing_months: f.billing_months,
        charges,
        explain: f.explain,
        unit_price: f.unit_price,
        detail: f.detail,
    })
}

/// [`price_line`] into a line priced before, reusing its charges' buffer and keeping its
/// product and name when they are the same (a line priced only to be read and dropped need
/// not allocate, nor count references, for what the previous line already holds).
#[allow(
    clippy::too_many_arguments,
    reason = "the pricer's parts, as `price_line` takes them, and the line to price into"
)]
pub(super) fn price_line_into(
    cat: &Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    opts: &PriceOptions,
    quote_discount_used: &mut [bool],
    scratch: &mut Scratch,
    out: &mut PricedLine,
) -> Result<(), Vec<PriceError>> {
    // The last line's charges are kept aside for their rule names (see `Scratch::spare`).
    std::mem::swap(&mut out.charges, &mut scratch.spare);
    out.charges.clear();
    let f = line_figures(
        cat,
        quote,
        i,
        line,
        opts,
        quote_discount_used,
        scratch,
        &mut out.charges,
    )?;
    let same = |held: &mut std::sync::Arc<str>, new: &std::sync::Arc<str>| {
        if !std::sync::Arc::ptr_eq(held, new) {
            held.clone_from(new);
        }
    };
    out.line = i + 1;
    same(&mut out.product, &f.item.sku);
    same(&mut out.name, &f.item.name);
    out.bundle = f.item.is_bundle;
    out.quantity = line.quantity;
    out.term = f.term;
    out.billing = f.billing;
    match (&mut out.coterm, f.coterm) {
        (Some(held), Some(new)) => same(held, new),
        (held, new) => *held = new.cloned(),
    }
    out.start = line.start;
    out.term_start = f.term_start;
    out.end = f.end;
    out.first_charge = f.first_charge;
    out.recurring = f.recurring;
    out.mrr = f.mrr;
    out.billing_months = f.billing_months;
    out.explain = f.explain;
    out.unit_price = f.unit_price;
    out.detail = f.detail;
    Ok(())
}

/// A priced line's figures besides its charges.
struct Figures<'a> {
    item: &'a Sellable,
    term: std::borrow::Cow<'static, str>,
    billing: &'static str,
    coterm: Option<&'a std::sync::Arc<str>>,
    term_start: NaiveDate,
    end: NaiveDate,
    first_charge: Decimal,
    recurring: Decimal,
    mrr: Decimal,
    billing_months: u32,
    explain: Vec<Step>,
    unit_price: Option<(Decimal, Option<u32>)>,
    detail: Option<Box<LineDetail>>,
}

/// Prices one line's charges into `charges` (empty) and works out its other figures.
#[allow(
    clippy::too_many_arguments,
    reason = "the pricer's parts, borrowed apart so that the scratch buffers and the charges can be lent at once"
)]
fn line_figures<'c>(
    cat: &'c Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    opts: &PriceOptions,
    quote_discount_used: &mut [bool],
    scratch: &mut Scratch,
    charges: &mut Vec<Charge>,
) -> Result<Figures<'c>, Vec<PriceError>> {
    let r = resolve(cat, quote, i, line, &mut scratch.offers)?;
    let Scratch {
        plans,
        recipes,
        fired,
        manual,
        zero,
        spare,
        ..
    } = scratch;
    let zero = *zero;
    let (term_start, end, billing_months, pieces) = plan_line(plans, line, &r, i)?;
    let ctx = LineCtx::new(cat, quote, line, &r, opts.explain);
    let basis = Basis::new(cat, line, &r, billing_months);
    let Recipe {
        rates,
        verdicts,
        uniform,
        whole,
        memo_key,
        memo,
        steady,
        ..
    } = line_recipe(recipes, &ctx, &r, &basis, i)?;
    let (tier_steps, line_steps, detail) = match opts.explain {
        true => line_explain(cat, quote, &r, basis.tiers_applied()),
        false => (Vec::new(), Vec::new(), None),
    };
    let lp = LinePricer::new(basis, i, rates, tier_steps, opts.explain);
    charges.reserve(pieces.len().max(1) * 2);
    let mut disc = Discounter {
        ctx: &ctx,
        verdicts,
        uniform: *uniform,
        first_charge_done: false,
        memo_key: *memo_key,
        memo,
        fired,
        spare,
        quote_discount_used,
        manual,
        zero,
        explain: opts.explain,
    };
    if r.term.is_none() {
        lp.push_one_time(&mut disc, charges)?;
    }
    let whole_amount = lp.push_pieces(pieces, &mut disc, charges, zero, whole)?;
    *memo_key = disc.memo_key;
    // Charges were made in bill-date order (each discount right after its charge), so no sort.
    let (recurring, mrr) =
        lp.steady_kept(r.term.is_some(), steady, whole_amount, verdicts, zero)?;
    Ok(Figures {
        item: r.item,
        term: term_name(r.term),
        billing: billing_name(&r),
        coterm: r.coterm.as_ref().map(|c| c.0),
        term_start,
        end,
        first_charge: first_charge(charges),
        recurring,
        mrr,
        billing_months,
        explain: line_steps,
        unit_price: unit_price(&r.offer.price),
        detail,
    })
}

/// A flat price's amount and the months it is for (`None` for once); tiered prices have none.
fn unit_price(price: &Price) -> Option<(Decimal, Option<u32>)> {
    match price {
        Price::Flat(rate) => Some((rate.amount, rate.per_months)),
        Price::Tiered(_) => None,
    }
}

/// The line's recipe: an earlier line's with its key, or worked out now (from `basis`) into its
/// slot.
fn line_recipe<'r>(
    recipes: &'r mut Recipes,
    ctx: &LineCtx<'_>,
    r: &Resolved<'_>,
    basis: &Basis<'_>,
    i: usize,
) -> Result<&'r mut Recipe, Vec<PriceError>> {
    let (cat, line, explain) = (ctx.cat, ctx.line, ctx.explain);
    let key = RecipeKey::of(
        r.offer,
        r.term,
        r.billing,
        basis.billing_months,
        line,
        recipes.start_matters,
    );
    let no_room = || vec![perr(field(i, "product"), "no room to price the line", None)];
    let (slot, hit) = recipes.find(&key, explain).ok_or_else(no_room)?;
    if !hit {
        let rates = basis.rates(i)?;
        let made = slot.get_or_insert_with(|| Recipe::empty(key));
        refill(made, cat, line, ctx, key, rates, explain);
    }
    // A hit found the slot filled, and a miss has just filled it.
    slot.as_mut().ok_or_else(no_room)
}

/// Works out a line's recipe afresh in the place of the one it replaces (in place, keeping
/// its buffers: moving a recipe in and out of its slot cost more than the rest of a miss).
fn refill(
    r: &mut Recipe,
    cat: &Catalogue,
    line: &QuoteLine,
    ctx: &LineCtx<'_>,
    key: RecipeKey,
    rates: Rates,
    explain: bool,
) {
    r.key = key;
    r.rates = rates;
    r.verdicts.clear();
    r.verdicts
        .extend(cat.discounts.iter().map(|d| ctx.applies(d)));
    r.uniform = !explain && uniform_discounts(cat, line, &r.verdicts);
    r.whole = None;
    r.memo_key = None;
    r.memo.clear();
    r.steady = None;
}

/// The line's billing frequency as written (`once` for one-time lines).
fn billing_name(r: &Resolved<'_>) -> &'static str {
    if r.term.is_none() {
        "once"
    } else {
        r.billing.keyword()
    }
}

/// The line's term start, commitment end, months per billing period and billed pieces (none
/// for a one-time line).
pub(super) fn plan_line<'p>(
    plans: &'p mut Plans,
    line: &QuoteLine,
    r: &Resolved<'_>,
    i: usize,
) -> Result<(NaiveDate, NaiveDate, u32, &'p [Piece]), Vec<PriceError>> {
    let Some(term) = r.term else {
        return Ok((line.start, line.start, 0, &[]));
    };
    let b = r.billing.months().unwrap_or(term);
    let (term_start, end, pieces) = plans
        .plan(line.start, term, b, r.coterm.as_ref().map(|c| c.1))
        .map_err(|e| vec![perr(field(i, "start"), e.0, None)])?;
    Ok((term_start, end, b, pieces))
}

/// What the line's first bill date bills, net of discounts.
fn first_charge(charges: &[Charge]) -> Decimal {
    // Charges are made in bill-date order, so the first date's charges lead.
    let Some(first) = charges.first().map(|c| c.bill_date) else {
        return Decimal::ZERO;
    };
    charges
        .iter()
        .take_while(|c| c.bill_date == first)
        .map(|c| c.amount)
        .sum()
}

/// True when every rule that applies treats all whole periods alike (no duration, nothing
/// charged once), so a whole period's discounts can be worked out once and reused.
fn uniform_discounts(cat: &Catalogue, line: &QuoteLine, verdicts: &[Result<(), String>]) -> bool {
    !matches!(line.discount, Some(ManualDiscount::Amount(_)))
        && cat
            .discounts
            .iter()
            .zip(verdicts.iter())
            .all(|(r, v)| v.is_err() || lasting(r))
}

/// A rule that takes the same off every whole period: no duration, not a one-off amount, not
/// a fixed amount off the whole quote.
fn lasting(rule: &DiscountRule) -> bool {
    rule.duration_months.is_none()
        && !matches!(rule.amount, DiscountAmount::Fixed { monthly: false, .. })
        && !matches!(
            (&rule.scope, &rule.amount),
            (DiscountScope::Quote, DiscountAmount::Fixed { .. })
        )
}

/// For `explain`: the steps of the `tiers` the line's units go through, which each of its
/// charges repeats; the line's steps common to all its charges (offer, derivation, co-term
/// policy); and the same facts as data, with the tiers.
fn line_explain(
    cat: &Catalogue,
    quote: &Quote,
    r: &Resolved<'_>,
    tiers: Vec<TierApplied>,
) -> (Vec<Step>, Vec<Step>, Option<Box<LineDetail>>) {
    let offer = r.offer;
    let offer_name = if offer.term_months.is_some() {
        format!("{} {}", offer.term_text(), offer.billing)
    } else {
        "one-time".to_string()
    };
    let price = match &offer.price {
        Price::Flat(rate) => format!(
            "{} {}",
            rate.amount,
            per_words(rate.per_months, offer.term_months)
        ),
        Price::Tiered(t) => format!(
            "through tier table `{}`",
            cat.tiers.get(*t).map(|t| t.name.as_str()).unwrap_or("?")
        ),
    };
    let mut steps = vec![Step {
        text: format!("offer {offer_name} of `{}`: {price}", r.item.sku),
        at: Some(offer.origin.clone()),
    }];
    if let Some(d) = &offer.derivation {
        steps.push(Step {
            text: d.clone(),
            at: Some(offer.origin.clone()),
        });
    }
    let tier_steps = tiers.iter().map(tier_step).collect();
    let mut coterm = None;
    match &r.coterm {
        Some((name, c)) => {
            let step = coterm_step(cat, quote, name, c);
            coterm = Some((name.to_string(), step.at.clone().unwrap_or_default()));
            steps.push(step);
        }
        None if r.term.is_some() => steps.push(Step {
            text: "no co-term policy: the term starts on the start date".into(),
            at: None,
        }),
        None => {}
    }
    let detail = LineDetail {
        offer: offer_name,
        price,
        at: offer.origin.clone(),
        coterm,
        tiers,
    };
    (tier_steps, steps, Some(Box::new(detail)))
}

/// The co-term policy's step: its anchor, mode, proration and day basis in words.
fn coterm_step(cat: &Catalogue, quote: &Quote, name: &str, c: &Coterm) -> Step {
    let policy = cat.policy(name).and_then(|p| cat.policies.get(p));
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
        Some(AnchorRule::CalendarMonthEnd) | None => "anchor calendar month end".to_string(),
    };
    let mode = match c.mode {
        CotermMode::Stub => "mode stub",
        CotermMode::Coterminous => "mode coterminous",
    };
    let proration = match c.proration {
        Proration::Daily => "daily",
        Proration::Monthly => "monthly",
        Proration::None => "none",
    };
    Step {
        text: format!(
            "co-term policy `{name}`: {anchor_text}, {mode}, prorate {proration}, {}",
            day_basis(c.basis)
        ),
        at: policy.map(|p| p.origin.clone()),
    }
}

/// A day basis in words.
fn day_basis(b: DayBasis) -> &'static str {
    match b {
        DayBasis::Actual => "actual days",
        DayBasis::Thirty => "30-day months",
    }
}

/// A tier row applied, as an `explain` step.
fn tier_step(t: &TierApplied) -> Step {
    Step {
        text: format!(
            "tier {} of `{}`: {} × {}{} = {}",
            t.row,
            t.table,
            t.units,
            t.rate,
            if t.flat.is_zero() {
                String::new()
            } else {
                format!(" + flat {}", t.flat)
            },
            t.amount
        ),
        at: Some(t.at.clone()),
    }
}

/// A piece's proration as data, for `explain`.
fn proration_detail(piece: &Piece) -> ProrationDetail {
    let f = &piece.fraction;
    let (unit, day_basis) = match f.unit {
        FractionUnit::Whole => ("whole", None),
        FractionUnit::Days => ("days", Some("actual")),
        FractionUnit::Days30 => ("days", Some("30-day")),
        FractionUnit::Months => ("months", None),
        FractionUnit::Unprorated => ("unprorated", None),
    };
    ProrationDetail {
        unit,
        covered: f.num,
        of: f.den,
        day_basis,
        period: piece.period,
    }
}

/// What a line's prices per full billing period are worked out from.
struct Basis<'a> {
    cat: &'a Catalogue,
    line: &'a QuoteLine,
    item: &'a Sellable,
    offer: &'a Offer,
    /// True for a metered line.
    metered: bool,
    /// Units priced: the usage estimate of a metered line, else the quantity.
    units: Decimal,
    /// Months in a billing period (0 for one-time lines).
    billing_months: u32,
    /// The billing period's months as a decimal (at least 1).
    b: Decimal,
    /// The tier table the offer prices through, if any.
    tier_table: Option<&'a TierTable>,
}

impl<'a> Basis<'a> {
    /// The basis of a resolved line billed every `billing_months`.
    fn new(cat: &'a Catalogue, line: &'a QuoteLine, r: &Resolved<'a>, billing_months: u32) -> Self {
        let metered = r.item.usage.is_some();
        let units = if metered {
            line.usage.unwrap_or(Decimal::ZERO)
        } else {
            line.quantity
        };
        let tier_table = match &r.offer.price {
            Price::Tiered(t) => cat.tiers.get(*t),
            Price::Flat(_) => None,
        };
        Basis {
            cat,
            line,
            item: r.item,
            offer: r.offer,
            metered,
            units,
            billing_months,
            b: Decimal::from(billing_months.max(1)),
            tier_table,
        }
    }

    /// The line's price and cost per full billing period, to remember with its recipe key;
    /// an overflow is reported against line `i`.
    fn rates(&self, i: usize) -> Result<Rates, Vec<PriceError>> {
        let pp = self.per_period().ok_or_else(|| overflow(i))?;
        let cp = self.cost_per_period().ok_or_else(|| overflow(i))?;
        Ok(Rates {
            pp,
            cp,
            pp_fast: Exact::of(pp.0).zip(Exact::of(pp.1)),
            cp_fast: Exact::of(cp.0).zip(Exact::of(cp.1)),
        })
    }

    /// (numerator, denominator) of the exact amount per full billing period.
    fn per_period(&self) -> Option<(Decimal, Decimal)> {
        let (units, b) = (self.units, self.b);
        match &self.offer.price {
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
                let t = self.tier_table?;
                let amount = tiers::checked_amount(t, units)?;
                match (t.per_months, t.once || self.offer.term_months.is_none()) {
                    (_, true) | (None, false) => Some((amount, Decimal::ONE)),
                    (Some(p), false) => Some((amount.checked_mul(b)?, Decimal::from(p))),
                }
            }
        }
    }

    /// (numerator, denominator) of the exact cost per full billing period.
    fn cost_per_period(&self) -> Option<(Decimal, Decimal)> {
        match self.offer.cost {
            None => Some((Decimal::ZERO, Decimal::ONE)),
            Some(c) => match c.per_months {
                None => self.units.checked_mul(c.amount).map(|n| (n, Decimal::ONE)),
                Some(p) => self
                    .units
                    .checked_mul(c.amount)
                    .and_then(|n| n.checked_mul(self.b))
                    .map(|n| (n, Decimal::from(p))),
            },
        }
    }

    /// The tier rows the line's units go through, as data.
    fn tiers_applied(&self) -> Vec<TierApplied> {
        let Some(t) = self.tier_table else {
            return Vec::new();
        };
        tiers::breakdown(t, self.units)
            .into_iter()
            .map(|u| TierApplied {
                table: t.name.clone(),
                row: u.row + 1,
                from: u
                    .row
                    .checked_sub(1)
                    .and_then(|p| t.rows.get(p))
                    .and_then(|r| r.upper)
                    .unwrap_or(Decimal::ZERO),
                to: t.rows.get(u.row).and_then(|r| r.upper),
                units: u.units,
                rate: u.price,
                flat: u.flat,
                amount: u.amount(),
                at: t
                    .rows
                    .get(u.row)
                    .map(|r| r.origin.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }
}

/// One line's prices per full billing period, worked out once (for its recipe) and applied to
/// each piece.
struct LinePricer<'a, 'r> {
    basis: Basis<'a>,
    /// Position of the line in the quote (for error fields).
    i: usize,
    /// Borrowed from the recipe: copied, they were a tenth of pricing a line.
    rates: &'r Rates,
    /// The tier rows the line's units go through as steps, which every charge of the line repeats (`explain` only).
    tier_steps: Vec<Step>,
    explain: bool,
}

impl<'a, 'r> LinePricer<'a, 'r> {
    /// The pricer of a line with its `basis`, `rates` and, for `explain`, the steps of the
    /// tiers its units go through. Inlined, it is made in its place: returned, it was copied
    /// on every line.
    #[inline(always)]
    fn new(
        basis: Basis<'a>,
        i: usize,
        rates: &'r Rates,
        tier_steps: Vec<Step>,
        explain: bool,
    ) -> Self {
        LinePricer {
            basis,
            i,
            rates,
            tier_steps,
            explain,
        }
    }

    /// Rounds `value`, reporting an overflow against the line.
    fn ok<T>(&self, value: Option<T>) -> Result<T, Vec<PriceError>> {
        value.ok_or_else(|| overflow(self.i))
    }

    /// Prices and discounts the single charge of a one-time line.
    fn push_one_time(
        &self,
        disc: &mut Discounter<'_, '_>,
        charges: &mut Vec<Charge>,
    ) -> Result<(), Vec<PriceError>> {
        let cat = self.basis.cat;
        let (pp, cp) = (self.rates.pp, self.rates.cp);
        let amount = self.ok(round_muldiv(cat, &[pp.0], &[pp.1]))?;
        let cost = self.ok(round_muldiv(cat, &[cp.0], &[cp.1]))?;
        let mut explain = Vec::new();
        if self.explain {
            explain.extend(self.tier_steps.iter().cloned());
            explain.push(Step {
                text: format!(
                    "{} × price = {} → {} ({})",
                    self.basis.units,
                    muldiv(&[pp.0], &[pp.1]).unwrap_or_default(),
                    amount,
                    cat.rounding_name
                ),
                at: None,
            });
        }
        let start = self.basis.line.start;
        let gross = Gross {
            kind: ChargeKind::OneTime,
            period_start: start,
            period_end: start,
            bill_date: start,
            amount,
            share: Share::NONE,
        };
        disc.push(gross, cost, Explained::of(explain, None), charges);
        Ok(())
    }

    /// The rounded amounts of one piece.
    fn piece_amounts(&self, piece: &Piece) -> Result<PieceAmounts, Vec<PriceError>> {
        let cat = self.basis.cat;
        let (num, den) = (piece.fraction.num, piece.fraction.den);
        let (fnum, fden) = (Decimal::from(num), Decimal::from(den));
        let amount = self.ok(round_share(
            cat,
            self.rates.pp,
            self.rates.pp_fast,
            num,
            den,
        ))?;
        // The unrounded amount is only shown by `explain`.
        let exact = if self.explain {
            self.ok(muldiv(&[self.rates.pp.0, fnum], &[self.rates.pp.1, fden]))?
        } else {
            Decimal::ZERO
        };
        let cost = self.ok(round_share(
            cat,
            self.rates.cp,
            self.rates.cp_fast,
            num,
            den,
        ))?;
        let min_amount = match self.basis.item.minimum.filter(|_| self.basis.metered) {
            Some(min) => Some(self.ok(round_muldiv(
                cat,
                &[min.amount, self.basis.b, fnum],
                &[Decimal::from(min.per_months.unwrap_or(1)), fden],
            ))?),
            None => None,
        };
        Ok((exact, amount, cost, min_amount))
    }

    /// Prices and discounts every piece of the schedule, with any minimum true-up; returns the
    /// rounded amount of a whole period priced at exactly 1/1 (what `recurring` starts from)
    /// when it priced one. `whole` holds a whole period's amounts once known (by this line or
    /// an earlier one with the same recipe).
    fn push_pieces(
        &self,
        pieces: &[Piece],
        disc: &mut Discounter<'_, '_>,
        charges: &mut Vec<Charge>,
        zero: Decimal,
        whole: &mut Option<PieceAmounts>,
    ) -> Result<Option<Decimal>, Vec<PriceError>> {
        // Every whole billing period of a line costs the same: compute it once.
        let mut whole_amount = None;
        for piece in pieces {
            let partial = piece.fraction.is_partial();
            let m = match (partial, *whole) {
                (false, Some(m)) => m,
                _ => {
                    let m = self.piece_amounts(piece)?;
                    if !partial {
                        *whole = Some(m);
                        if piece.fraction.num == 1 && piece.fraction.den == 1 {
                            whole_amount = Some(m.1);
                        }
                    }
                    m
                }
            };
            self.push_piece(piece, m, disc, charges, zero);
        }
        Ok(whole_amount)
    }

    /// Adds one piece's charge and its true-up (if usage falls short of the minimum).
    fn push_piece(
        &self,
        piece: &Piece,
        (exact, amount, cost, min_amount): PieceAmounts,
        disc: &mut Discounter<'_, '_>,
        charges: &mut Vec<Charge>,
        zero: Decimal,
    ) {
        let kind = if self.basis.metered {
            ChargeKind::Usage
        } else if piece.stub {
            ChargeKind::Stub
        } else {
            ChargeKind::Recurring
        };
        let bill_date = if self.basis.metered {
            piece.end
        } else {
            piece.start
        };
        let explained = if self.explain {
            let detail = ChargeDetail {
                proration: Some(proration_detail(piece)),
                verdicts: Vec::new(),
            };
            let steps = self.piece_explain(piece, exact, amount, bill_date);
            Explained::of(steps, Some(detail))
        } else {
            None
        };
        let share = Share {
            months: self.basis.billing_months,
            num: piece.fraction.num,
            den: piece.fraction.den,
        };
        let gross = |kind, amount| Gross {
            kind,
            period_start: piece.start,
            period_end: piece.end,
            bill_date,
            amount,
            share,
        };
        disc.push(gross(kind, amount), cost, explained, charges);
        let Some(min_amount) = min_amount.filter(|m| *m > amount) else {
            return;
        };
        let up = min_amount - amount;
        let explained = if self.explain {
            let step = Step {
                text: format!(
                    "minimum commitment {min_amount} for the period; usage rated {amount}; true-up {up}"
                ),
                at: Some(self.basis.item.origin.clone()),
            };
            Explained::of(vec![step], None)
        } else {
            None
        };
        let true_up = gross(ChargeKind::MinimumTrueUp, up);
        disc.push(true_up, zero, explained, charges);
    }

    /// How a piece's amount was reached, for `explain`.
    fn piece_explain(
        &self,
        piece: &Piece,
        exact: Decimal,
        amount: Decimal,
        bill_date: NaiveDate,
    ) -> Vec<Step> {
        let (units, billing_months) = (self.basis.units, self.basis.billing_months);
        let mut explain = vec![Step {
            text: format!("period: {}", describe_fraction(&piece.fraction, piece)),
            at: None,
        }];
        explain.extend(self.tier_steps.iter().cloned());
        let per_text = match &self.basis.offer.price {
            Price::Flat(rate) => format!(
                "{units} × {} {} for a {billing_months}-month billing period",
                rate.amount,
                per_words(rate.per_months, self.basis.offer.term_months)
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
                self.basis.cat.rounding_name
            ),
            at: None,
        });
        if self.basis.metered {
            explain.push(Step {
                text: format!(
                    "usage estimate {units} per billing period, billed in arrears on {bill_date}"
                ),
                at: None,
            });
        }
        explain
    }

    /// [`LinePricer::steady`] of a recurring line, worked out once into `kept`, its recipe's
    /// (zero for a one-time line).
    fn steady_kept(
        &self,
        recurring: bool,
        kept: &mut Option<(Decimal, Decimal)>,
        whole_amount: Option<Decimal>,
        verdicts: &[Result<(), String>],
        zero: Decimal,
    ) -> Result<(Decimal, Decimal), Vec<PriceError>> {
        match (recurring, *kept) {
            (false, _) => Ok((zero, zero)),
            (true, Some(known)) => Ok(known),
            (true, None) => Ok(*kept.insert(self.steady(whole_amount, verdicts, zero)?)),
        }
    }

    /// The steady-state figures: a full period's charge net of lasting discounts, and the MRR.
    fn steady(
        &self,
        whole_amount: Option<Decimal>,
        verdicts: &[Result<(), String>],
        zero: Decimal,
    ) -> Result<(Decimal, Decimal), Vec<PriceError>> {
        let recurring = self.recurring(whole_amount, verdicts, zero)?;
        let mrr = round_over(self.basis.cat, recurring, self.basis.billing_months.max(1))
            .unwrap_or_else(|| self.basis.cat.round(recurring / self.basis.b));
        Ok((recurring, mrr))
    }

    /// A full billing period's charge at the steady rate, net of lasting discounts, plus any
    /// true-up to the minimum.
    fn recurring(
        &self,
        whole_amount: Option<Decimal>,
        verdicts: &[Result<(), String>],
        zero: Decimal,
    ) -> Result<Decimal, Vec<PriceError>> {
        let cat = self.basis.cat;
        let full = match whole_amount {
            Some(a) => a,
            None => self.ok(round_muldiv(cat, &[self.rates.pp.0], &[self.rates.pp.1]))?,
        };
        // A true-up is never discounted: discount the rated amount, add the true-up after.
        let true_up = match self.basis.item.minimum.filter(|_| self.basis.metered) {
            Some(min) => {
                let m = self.ok(round_muldiv(
                    cat,
                    &[min.amount, self.basis.b],
                    &[Decimal::from(min.per_months.unwrap_or(1))],
                ))?;
                (m - full).max(zero)
            }
            None => zero,
        };
        let mut net = full;
        for (k, rule) in cat.discounts.iter().enumerate() {
            if lasting(rule) && verdicts.get(k).is_some_and(|v| v.is_ok()) {
                net -= self.lasting_discount(rule, net);
            }
        }
        if let Some(ManualDiscount::Percent(p)) = self.basis.line.discount {
            net -= percent_of(cat, net, p);
        }
        Ok(net + true_up)
    }

    /// What a lasting rule takes off a full period's `net` amount.
    fn lasting_discount(&self, rule: &DiscountRule, net: Decimal) -> Decimal {
        match rule.amount {
            DiscountAmount::Percent(p) => percent_of(self.basis.cat, net, p),
            DiscountAmount::Fixed {
                value, per_unit, ..
            } => {
                let per = if per_unit {
                    value * self.basis.line.quantity
                } else {
                    value
                };
                self.basis
                    .cat
                    .round(per * self.basis.b)
                    .min(net.max(Decimal::ZERO))
            }
        }
    }
}
