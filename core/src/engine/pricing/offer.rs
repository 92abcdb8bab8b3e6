//! Offer resolution: a quote line checked against the rule set, its offer and co-term policy found.

use super::types::{PriceError, perr};
use crate::engine::calendar::Anchor;
use crate::engine::catalogue::{AnchorRule, Billing, Catalogue, Offer, Sellable};
use crate::engine::quote::{Quote, QuoteLine};
use crate::engine::schedule::{AnchorAt, Coterm};
use chrono::Datelike;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::sync::Arc;
use tenor_dsl::diagnostic::did_you_mean;

/// The quoted spelling of a term, without allocating for the common ones.
pub(super) fn term_name(months: Option<u32>) -> Cow<'static, str> {
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

/// Everything about a line that pricing needs once resolved.
pub(super) struct Resolved<'a> {
    pub(super) item: &'a Sellable,
    pub(super) offer: &'a Offer,
    pub(super) term: Option<u32>,
    pub(super) billing: Billing,
    /// The co-term policy's name (the catalogue's, shared) and its terms.
    pub(super) coterm: Option<(&'a Arc<str>, Coterm)>,
}

pub(super) fn field(i: usize, name: &str) -> String {
    format!("lines[{i}].{name}")
}

/// The offers of recent lines by what they quote (product, term and billing as written): most
/// lines of a quote repeat a few of them, and a line found here skips the product lookup, the
/// parsing of its term and billing and the search for its offer. Only lines whose product,
/// term, billing and offer all resolved are kept, so a line found here has no problem there.
#[derive(Default)]
pub(super) struct Offers {
    entries: Vec<OfferEntry>,
    /// The entry to replace next once full.
    next: usize,
}

/// One remembered resolution, by index into the catalogue.
struct OfferEntry {
    product: String,
    term_text: String,
    billing_text: Option<String>,
    item: usize,
    offer: usize,
    term: Option<u32>,
    billing: Billing,
}

impl Offers {
    /// Entries kept: a quote's lines seldom quote more offers than this in a row.
    const SIZE: usize = 8;

    /// The item, offer, term and billing of a line quoting what an earlier line quoted.
    fn find<'a>(
        &self,
        cat: &'a Catalogue,
        line: &QuoteLine,
    ) -> Option<(&'a Sellable, &'a Offer, Option<u32>, Billing)> {
        let e = self.entries.iter().find(|e| {
            short_eq(&e.product, &line.product)
                && short_eq(&e.term_text, &line.term)
                && match (&e.billing_text, &line.billing) {
                    (Some(a), Some(b)) => short_eq(a, b),
                    (a, b) => a.is_none() && b.is_none(),
                }
        })?;
        let item = cat.items.get(e.item)?;
        Some((item, item.offers.get(e.offer)?, e.term, e.billing))
    }

    /// Remembers a line's resolution.
    fn keep(&mut self, line: &QuoteLine, item: usize, offer: usize, term: Option<u32>, b: Billing) {
        let e = OfferEntry {
            product: line.product.clone(),
            term_text: line.term.clone(),
            billing_text: line.billing.clone(),
            item,
            offer,
            term,
            billing: b,
        };
        if self.entries.len() < Offers::SIZE {
            self.entries.push(e);
        } else if let Some(slot) = self.entries.get_mut(self.next) {
            *slot = e;
            self.next = (self.next + 1) % Offers::SIZE;
        }
    }
}

/// `a == b` for the few bytes of a SKU, term or billing word, compared here rather than by a
/// call to the C library's `memcmp` (a twentieth of checking a line was spent in calls to it).
fn short_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).all(|(x, y)| x == y)
}

/// Checks a quote line against the rule set and finds its product, offer and co-term policy;
/// every problem of the line is reported.
pub(super) fn resolve<'a>(
    cat: &'a Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    offers: &mut Offers,
) -> Result<Resolved<'a>, Vec<PriceError>> {
    if let Some((item, offer, term, billing)) = offers.find(cat, line) {
        // What the full path checks besides the offer, in the same order.
        let mut errors = Vec::new();
        check_amounts(i, line, &mut errors);
        return finish(cat, quote, i, line, (item, offer, term, billing), errors);
    }
    let mut errors = Vec::new();
    let item = match cat.item(&line.product) {
        Some(found) => Some(found),
        None => {
            errors.push(perr(
                field(i, "product"),
                format!("unknown product `{}`", line.product),
                did_you_mean(&line.product, cat.skus()).map(|s| format!("did you mean `{s}`?")),
            ));
            None
        }
    };
    check_amounts(i, line, &mut errors);
    let (term, billing) = term_and_billing(i, line, &mut errors);
    let (Some((index, item)), Some(term), Some(billing)) = (item, term, billing) else {
        return Err(errors);
    };
    let offer = match find_offer(item, term, billing, i) {
        Ok(o) => o,
        Err(e) => {
            errors.push(e);
            return Err(errors);
        }
    };
    if let Some(k) = item.offers.iter().position(|o| std::ptr::eq(o, offer)) {
        offers.keep(line, index, k, term, billing);
    }
    finish(cat, quote, i, line, (item, offer, term, billing), errors)
}

/// The rest of [`resolve`] once the offer is found: the co-term policy and the usage checks.
fn finish<'a>(
    cat: &'a Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    (item, offer, term, billing): (&'a Sellable, &'a Offer, Option<u32>, Billing),
    mut errors: Vec<PriceError>,
) -> Result<Resolved<'a>, Vec<PriceError>> {
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
    check_usage(item, i, line, &mut errors);
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

/// Quantity and usage within what Tenor prices, and a quantity above zero.
fn check_amounts(i: usize, line: &QuoteLine, errors: &mut Vec<PriceError>) {
    // Most lines sell a whole number of units and estimate no usage: one integer comparison
    // tells them apart from the lines the checks below can refuse.
    let whole_units = line.quantity.scale() == 0
        && (1..=1_000_000_000_000i128).contains(&line.quantity.mantissa());
    if whole_units && line.usage.is_none() {
        return;
    }
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
}

/// The line's term (`Some(None)` for one-time) and billing frequency, each `None` when wrong.
fn term_and_billing(
    i: usize,
    line: &QuoteLine,
    errors: &mut Vec<PriceError>,
) -> (Option<Option<u32>>, Option<Billing>) {
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
    (term, billing)
}

/// The product's price line for this term and billing, or what it does offer.
fn find_offer(
    item: &Sellable,
    term: Option<u32>,
    billing: Billing,
    i: usize,
) -> Result<&Offer, PriceError> {
    if let Some(o) = item.offer(term, billing) {
        return Ok(o);
    }
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
    Err(perr(
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
    ))
}

/// A usage estimate only on a metered product, and never negative.
fn check_usage(item: &Sellable, i: usize, line: &QuoteLine, errors: &mut Vec<PriceError>) {
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
}

pub(super) fn resolve_coterm<'a>(
    cat: &'a Catalogue,
    quote: &Quote,
    i: usize,
    line: &QuoteLine,
    item: &Sellable,
) -> Result<Option<(&'a Arc<str>, Coterm)>, PriceError> {
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
        &p.name,
        Coterm {
            anchor,
            mode: p.mode,
            proration: p.proration,
            basis: p.basis,
        },
    )))
}

pub(super) fn overflow(i: usize) -> Vec<PriceError> {
    vec![perr(
        field(i, "quantity"),
        "the amounts of this line are too large to compute exactly",
        None,
    )]
}

#[cfg(test)]
mod tests {
    use crate::engine::catalogue::Catalogue;
    use crate::engine::pricing::{PriceOptions, Pricer};
    use crate::engine::quote::QuoteFile;

    const RULES: &str = "currency USD\nrounding half_up\nvendor microsoft \"Microsoft\"\n\
        product BP \"Business Premium\" {\n  vendor microsoft\n  P1Y monthly  22.00 a month\n}\n";

    /// A line quoting what an earlier line quoted (so its offer is remembered) prices and
    /// fails exactly as it does on a pricer that has seen no line before.
    #[test]
    fn a_remembered_offer_prices_and_fails_as_a_fresh_one() {
        let mut sources = tenor_dsl::SourceSet::new();
        sources.add("t.tenor", RULES);
        let rules = tenor_dsl::check(&sources).unwrap();
        let cat = Catalogue::compile(&rules, &sources);
        let text = "quote: Q-1\ndate: 2026-01-01\ncurrency: USD\ncustomer: { id: C, name: C }\n\
            lines:\n  - { product: BP, quantity: 5, term: P1Y, billing: monthly, start: 2026-01-10 }\n\
            \x20 - { product: BP, quantity: 0, term: P1Y, billing: monthly, start: 2026-01-10 }\n\
            \x20 - { product: BP, quantity: 7, term: P1Y, billing: monthly, start: 2026-03-01, coterm: nope }\n\
            \x20 - { product: BP, quantity: 3, term: P1Y, billing: monthly, start: 2026-02-01 }\n";
        let q = QuoteFile::parse("q.yaml", text).unwrap().quote;
        let opts = PriceOptions::default();
        let mut warm = Pricer::new(&cat, &q, opts);
        for (i, line) in q.lines.iter().enumerate() {
            let fresh = Pricer::new(&cat, &q, opts).line(i, line);
            let seen = warm.line(i, line);
            match (fresh, seen) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(
                        serde_json::to_string(&a).unwrap(),
                        serde_json::to_string(&b).unwrap()
                    )
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "line {i}"),
                (a, b) => panic!("line {i}: {a:?} against {b:?}"),
            }
        }
    }
}
