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
mod rounding;
mod totals;
mod types;
mod warnings;

pub use offer::{parse_billing, parse_term};
pub use rounding::muldiv;
pub use types::{
    Charge, ChargeDetail, ChargeKind, CustomerRef, LineDetail, PriceError, PriceOptions,
    PriceWarning, PricedLine, PricedQuote, Progress, ProrationDetail, Share, Step, TierApplied,
    Totals, Verdict,
};

use crate::engine::catalogue::Catalogue;
use crate::engine::quote::{Quote, QuoteLine};
use plans::Plans;
use rust_decimal::Decimal;
use std::sync::Arc;
use types::perr;

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
    discounts::check_customer(cat, quote, &mut errors);
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
    let Some(totals) = totals::totals(&lines, cat) else {
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
        warnings: warnings::of_quote(quote),
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
}
