//! Pricing a quote: every charge of every line over the committed term, exact to the cent.
//!
//! Each charge is computed exactly (`quantity × price × billing months ÷ price months ×
//! fraction`, multiplied out before dividing) and rounded once, in the rule set's mode. A
//! discount is its own negative charge, rounded once; discounts apply in written order, each to
//! what the ones before it left. Totals are sums of rounded charges, never re-rounded.

mod charges;
mod discounts;
mod offer;
mod plans;
mod recipes;
mod rounding;
mod totals;
mod types;
mod warnings;

pub use offer::{parse_billing, parse_term};
pub use rounding::muldiv;
pub use types::{
    Charge, ChargeDetail, ChargeKind, CustomerRef, Explained, LineDetail, PriceError, PriceOptions,
    PriceWarning, PricedLine, PricedQuote, Progress, ProrationDetail, Share, Step, TierApplied,
    Totals, Verdict,
};

use crate::engine::catalogue::{self, Catalogue};
use crate::engine::quote::{Quote, QuoteLine};
use plans::Plans;
use rust_decimal::Decimal;
use std::sync::Arc;
use types::perr;

/// The schema of a priced quote.
pub const SCHEMA: &str = "tenor.priced-quote/1";

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
    let mut lines = Vec::with_capacity(quote.lines.len());
    let s = price_lines(cat, quote, opts, progress, Some(&mut |l| lines.push(l)))?;
    Ok(PricedQuote {
        schema: s.schema,
        quote: s.quote,
        date: s.date,
        currency: s.currency,
        customer: s.customer,
        lines,
        totals: s.totals,
        warnings: s.warnings,
    })
}

/// A priced quote without its lines: everything [`price`] gives but the lines, which
/// [`each_line`] then hands over one at a time (a large quote's lines and charges run to
/// hundreds of megabytes; its figures are a few numbers).
#[derive(Clone, Debug)]
pub struct PricedSummary {
    /// Always `tenor.priced-quote/1`.
    pub schema: &'static str,
    /// The quote id.
    pub quote: String,
    /// The quote's date.
    pub date: chrono::NaiveDate,
    /// ISO 4217 code.
    pub currency: String,
    /// Who it is for.
    pub customer: CustomerRef,
    /// Figures over the whole quote.
    pub totals: Totals,
    /// As [`PricedQuote::warnings`].
    pub warnings: Vec<PriceWarning>,
}

impl PricedSummary {
    /// The priced quote with no lines: what [`price`] gives, its `lines` empty.
    pub fn without_lines(&self) -> PricedQuote {
        PricedQuote {
            schema: self.schema,
            quote: self.quote.clone(),
            date: self.date,
            currency: self.currency.clone(),
            customer: self.customer.clone(),
            lines: Vec::new(),
            totals: self.totals.clone(),
            warnings: self.warnings.clone(),
        }
    }
}

/// [`price_with_progress`] keeping none of the lines: the same checks, errors and figures.
pub fn summarize(
    cat: &Catalogue,
    quote: &Quote,
    opts: &PriceOptions,
    progress: &mut dyn Progress,
) -> Result<PricedSummary, Vec<PriceError>> {
    price_lines(cat, quote, opts, progress, None)
}

/// Why [`each_line`] stopped.
#[derive(Debug)]
pub enum EachLineError<E> {
    /// A line did not price (the quote was not one [`summarize`] accepted).
    Price(Vec<PriceError>),
    /// The caller's `f` failed.
    Sink(E),
}

/// Prices the lines of a quote that [`summarize`] accepted, handing each to `f` in order and
/// keeping none: the lines [`price`] would give, one at a time.
pub fn each_line<E>(
    cat: &Catalogue,
    quote: &Quote,
    opts: &PriceOptions,
    mut f: impl FnMut(&PricedLine) -> Result<(), E>,
) -> Result<(), EachLineError<E>> {
    let mut pricer = Pricer::new(cat, quote, *opts);
    let mut held = None;
    for (i, line) in quote.lines.iter().enumerate() {
        let l = pricer
            .line_reusing(i, line, &mut held)
            .map_err(EachLineError::Price)?;
        f(l).map_err(EachLineError::Sink)?;
    }
    Ok(())
}

/// Prices every line, handing each to `keep` (with none, each line is priced into the last
/// one's place and dropped) and summing the figures as it goes. Every problem of the quote is
/// reported, each naming its field.
fn price_lines(
    cat: &Catalogue,
    quote: &Quote,
    opts: &PriceOptions,
    progress: &mut dyn Progress,
    mut keep: Option<&mut dyn FnMut(PricedLine)>,
) -> Result<PricedSummary, Vec<PriceError>> {
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
    discounts::check_customer(cat, quote, &mut errors);
    if quote.lines.is_empty() {
        errors.push(perr(
            "lines".into(),
            "the quote has no lines",
            Some("list what is sold under `lines:`".into()),
        ));
    }
    let mut pricer = Pricer::new(cat, quote, *opts);
    let mut sums = totals::Summing::default();
    let mut held = None;
    for (i, line) in quote.lines.iter().enumerate() {
        progress.advance();
        let priced = match keep.as_mut() {
            Some(keep) => pricer.line(i, line).map(|l| {
                sums.add(&l);
                keep(l);
            }),
            None => pricer.line_reusing(i, line, &mut held).map(|l| sums.add(l)),
        };
        if let Err(mut e) = priced {
            errors.append(&mut e);
        }
    }
    if !errors.is_empty() {
        // One problem shared by several lines (no anniversary) is reported once.
        let mut seen = std::collections::HashSet::new();
        errors.retain(|e| seen.insert((e.field.clone(), e.message.clone())));
        return Err(errors);
    }
    summary(cat, quote, sums)
}

/// The quote summed up by `sums`, which has every line's figures.
fn summary(
    cat: &Catalogue,
    quote: &Quote,
    sums: totals::Summing,
) -> Result<PricedSummary, Vec<PriceError>> {
    summed_up(cat, quote, sums, warnings::of_quote(quote))
}

/// The quote (its lines not read) summed up by `sums` with the `warnings` of its lines.
fn summed_up(
    cat: &Catalogue,
    quote: &Quote,
    sums: totals::Summing,
    warnings: Vec<PriceWarning>,
) -> Result<PricedSummary, Vec<PriceError>> {
    let Some(totals) = sums.totals(cat) else {
        return Err(vec![perr(
            "lines".into(),
            "the quote's totals are too large to compute exactly",
            Some("check the quantities and usage estimates".into()),
        )]);
    };
    Ok(PricedSummary {
        schema: SCHEMA,
        quote: quote.quote.clone(),
        date: quote.date,
        currency: cat.currency.clone(),
        customer: CustomerRef {
            id: quote.customer.id.clone(),
            name: quote.customer.name.clone(),
        },
        totals,
        warnings,
    })
}

/// True when the quote passes every check that needs no amount worked out (its currency,
/// customer and lines, each line's offer, quantities and schedule) and sells under
/// [`UNITS_CHECKED`] units and usage in all: pricing it cannot then fail, so a caller may write
/// lines as they are priced ([`stream`]) instead of pricing the quote once for its errors
/// first. False says nothing more: [`summarize`] names the problems, if any.
pub fn checks_out(cat: &Catalogue, quote: &Quote) -> bool {
    !quote.lines.is_empty() && Checks::new(cat, quote).is_some_and(|mut c| c.lines(0, &quote.lines))
}

/// [`checks_out`] a run of lines at a time, for lines read or priced in runs: the quote's own
/// checks first ([`Checks::new`]), then each run's, the units counted over them all.
pub struct Checks<'a> {
    cat: &'a Catalogue,
    quote: &'a Quote,
    scratch: Scratch,
    units: Decimal,
}

impl<'a> Checks<'a> {
    /// The checks of lines of `quote` (its own `lines` are not read), or `None` when the
    /// quote's currency or customer does not check out.
    pub fn new(cat: &'a Catalogue, quote: &'a Quote) -> Option<Self> {
        let mut errors = Vec::new();
        discounts::check_customer(cat, quote, &mut errors);
        (quote.currency == cat.currency && errors.is_empty()).then(|| Checks {
            cat,
            quote,
            scratch: Scratch::new(cat),
            units: Decimal::ZERO,
        })
    }

    /// True when each of `lines`, the first at 0-based position `start`, checks out, and the
    /// units counted so far stay under [`UNITS_CHECKED`].
    pub fn lines(&mut self, start: usize, lines: &[QuoteLine]) -> bool {
        (start..).zip(lines).all(|(i, line)| {
            let fine = offer::resolve(self.cat, self.quote, i, line, &mut self.scratch.offers)
                .and_then(|r| charges::plan_line(&mut self.scratch.plans, line, &r, i).map(|_| ()))
                .is_ok();
            fine && self.count(std::slice::from_ref(line))
        })
    }

    /// The units and lines counted so far.
    pub fn units(&self) -> Decimal {
        self.units
    }

    /// True when the units counted so far with `units` counted elsewhere (by the checks of
    /// other runs of the quote) stay under [`UNITS_CHECKED`].
    pub fn join(&mut self, units: Decimal) -> bool {
        self.units = self.units.checked_add(units).unwrap_or(Decimal::MAX);
        self.units < UNITS_CHECKED
    }

    /// True when the units counted so far with those of `lines` (already known to check out:
    /// they priced) stay under [`UNITS_CHECKED`].
    pub fn count(&mut self, lines: &[QuoteLine]) -> bool {
        // Lines count as units too: a minimum charge is owed by a line whatever its units.
        lines.iter().all(|line| {
            let usage = line.usage.unwrap_or(Decimal::ZERO);
            self.units = (self.units.checked_add(Decimal::ONE))
                .and_then(|u| u.checked_add(line.quantity.abs()))
                .and_then(|u| u.checked_add(usage.abs()))
                .unwrap_or(Decimal::MAX);
            self.units < UNITS_CHECKED
        })
    }
}

/// The lines, units and usage a quote may sell in all for [`checks_out`] to vouch that no
/// amount overflows. The rules price at most 10¹² a month (a unit, or a line's minimum) and a
/// term is at most 1,200 months, so with its stub a line bills at most 2.4 × 10¹⁵ for each,
/// and every running sum of the quote's charges (discounts at most double it) stays under
/// 4.8 × 10²⁴: ten thousand times below a decimal's 7.9 × 10²⁸, room enough for bundles'
/// summed prices. A larger quote is priced for its errors first.
pub const UNITS_CHECKED: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// [`summarize`] and [`each_line`] in one pass, for a quote that [`checks_out`]: each line
/// is handed to `f` as it is priced, and the quote is summed up at the end. It stops at the
/// first line that does not price (what `f` was handed stays handed); [`summarize`] then
/// names every problem of the quote.
pub fn stream<E>(
    cat: &Catalogue,
    quote: &Quote,
    opts: &PriceOptions,
    progress: &mut dyn Progress,
    f: impl FnMut(&PricedLine) -> Result<(), E>,
) -> Result<PricedSummary, EachLineError<E>> {
    let mut pricer = Pricer::new(cat, quote, *opts);
    let part = pricer.part(0..quote.lines.len(), progress, f)?;
    part.summary(cat, quote).map_err(EachLineError::Price)
}

/// True when a quote's lines priced in parts, each part by a pricer of its own
/// ([`Pricer::part`]), price as they do in one run: no rule takes a fixed amount off the
/// whole quote, which goes to the first line it fits and so depends on the lines before.
pub fn parts_independent(cat: &Catalogue) -> bool {
    !cat.discounts.iter().any(|d| {
        matches!(d.scope, catalogue::DiscountScope::Quote)
            && matches!(d.amount, catalogue::DiscountAmount::Fixed { .. })
    })
}

/// The figures and warnings of a run of a quote's lines ([`Pricer::part`]), to be joined with
/// the other runs' in the lines' order ([`Part::join`]) and summed up ([`Part::summary`]).
pub struct Part(totals::Summing, Vec<PriceWarning>);

impl Part {
    /// The figures of this run followed by `next`'s, as if priced in one run: sums of exact
    /// decimals are the same whatever the grouping, and the lines keep their order.
    pub fn join(&mut self, next: Part) {
        self.0.append(next.0);
        self.1.extend(next.1);
    }

    /// The quote summed up from the figures of all its lines (its own `lines` are not read).
    pub fn summary(self, cat: &Catalogue, quote: &Quote) -> Result<PricedSummary, Vec<PriceError>> {
        summed_up(cat, quote, self.0, self.1)
    }
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
    /// Offers resolved for earlier lines.
    offers: offer::Offers,
    /// Schedules planned for earlier lines.
    plans: Plans,
    /// Figures of earlier lines selling the same offer in the same quantity.
    recipes: recipes::Recipes,
    /// The discounts of one gross charge as (rule index, `None` for manual; amount).
    fired: Vec<(Option<usize>, Decimal)>,
    /// The rule name of manual discounts.
    manual: Arc<str>,
    /// The last line's charges, set aside while the next line is priced into its place: a
    /// discount takes its rule's name from the charge in its place there when it names the
    /// same rule.
    spare: Vec<types::Charge>,
    /// Zero in the currency's minor unit, so every amount prints with its decimals.
    zero: Decimal,
}

impl Scratch {
    fn new(cat: &Catalogue) -> Self {
        Scratch {
            offers: offer::Offers::default(),
            plans: Plans::default(),
            recipes: recipes::Recipes::new(cat),
            fired: Vec::new(),
            manual: Arc::from("manual"),
            spare: Vec::new(),
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
        charges::price_line(
            self.cat,
            self.quote,
            index,
            line,
            &self.opts,
            &mut self.quote_discount_used,
            &mut self.scratch,
        )
    }

    /// Prices the lines `range` of a quote that [`checks_out`], handing each to `f` in order,
    /// and sums them up. Parts of one quote may be priced at once on several threads, each
    /// with a pricer of its own, when [`parts_independent`]. It stops at the first line that
    /// does not price; [`summarize`] then names every problem of the quote.
    pub fn part<E>(
        &mut self,
        range: std::ops::Range<usize>,
        progress: &mut dyn Progress,
        f: impl FnMut(&PricedLine) -> Result<(), E>,
    ) -> Result<Part, EachLineError<E>> {
        let quote = self.quote;
        let range = range.start..range.end.min(quote.lines.len());
        let lines = quote.lines.get(range.clone()).unwrap_or_default();
        self.run(range.start, lines, progress, f)
    }

    /// [`Pricer::part`] of `lines` given apart from the quote (read in runs), the first at
    /// 0-based position `start`.
    pub fn run<E>(
        &mut self,
        start: usize,
        lines: &[QuoteLine],
        progress: &mut dyn Progress,
        mut f: impl FnMut(&PricedLine) -> Result<(), E>,
    ) -> Result<Part, EachLineError<E>> {
        let mut sums = totals::Summing::default();
        let mut warned = Vec::new();
        let mut held = None;
        for (i, line) in (start..).zip(lines) {
            progress.advance();
            let l = self
                .line_reusing(i, line, &mut held)
                .map_err(EachLineError::Price)?;
            sums.add(l);
            warned.extend(warnings::of_line(self.quote, i, line));
            f(l).map_err(EachLineError::Sink)?;
        }
        Ok(Part(sums, warned))
    }

    /// [`Pricer::line`] into `out`, a line priced before, reusing its buffers.
    fn line_into(
        &mut self,
        index: usize,
        line: &QuoteLine,
        out: &mut PricedLine,
    ) -> Result<(), Vec<PriceError>> {
        charges::price_line_into(
            self.cat,
            self.quote,
            index,
            line,
            &self.opts,
            &mut self.quote_discount_used,
            &mut self.scratch,
            out,
        )
    }

    /// [`Pricer::line`] into `held`, the line priced before (kept there for the next call):
    /// for callers that read each line and drop it.
    fn line_reusing<'h>(
        &mut self,
        index: usize,
        line: &QuoteLine,
        held: &'h mut Option<PricedLine>,
    ) -> Result<&'h PricedLine, Vec<PriceError>> {
        match held {
            Some(out) => {
                self.line_into(index, line, out)?;
                Ok(out)
            }
            None => Ok(held.insert(self.line(index, line)?)),
        }
    }
}
