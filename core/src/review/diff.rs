//! Every quote priced under an old and a new rule set (`tenor diff`, `tenor.diff/1`): per
//! quote and customer the change in the figures, each charge that moves with the rule lines
//! behind it, and for accepted quotes a warning instead of a repricing: their prices are locked
//! until renewal.

use super::rules::RuleBook;
use super::{Figures, charge_rules};
use crate::engine::catalogue::Catalogue;
use crate::engine::pricing::{self, Charge, PriceOptions, PricedLine, PricedQuote};
use crate::engine::quote::Quote;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// A quote to price under both rule sets.
pub struct Input {
    /// Where it was read from (a file, or `record:Q-1001@2`).
    pub source: String,
    /// The quote.
    pub quote: Quote,
    /// Whether it is accepted in the record (its prices are locked for the term).
    pub accepted: bool,
}

/// The `tenor.diff/1` document.
#[derive(Clone, Debug, Serialize)]
pub struct Diff {
    /// Always `tenor.diff/1`.
    pub schema: &'static str,
    /// The old rules.
    pub from: String,
    /// The new rules.
    pub to: String,
    /// The day locks are judged on.
    pub today: NaiveDate,
    /// Quotes priced.
    pub quotes_priced: usize,
    /// Every quote whose figures or charges move (or that prices under only one side), in
    /// input order.
    pub quotes: Vec<QuoteDiff>,
    /// The change per customer over their quotes, by customer id.
    pub customers: Vec<CustomerDiff>,
    /// Accepted subscriptions whose price would change: locked until renewal.
    pub locked: Vec<Locked>,
    /// Across the book.
    pub totals: BookTotals,
}

/// One quote that moves.
#[derive(Clone, Debug, Serialize)]
pub struct QuoteDiff {
    /// The quote id.
    pub quote: String,
    /// Where it was read from.
    pub source: String,
    /// Customer id.
    pub customer: String,
    /// Customer name.
    pub customer_name: String,
    /// Accepted in the record: not repriced, see `locked`.
    pub accepted: bool,
    /// Figures under the old rules (absent when it does not price there).
    pub old: Option<Figures>,
    /// Figures under the new rules (absent when it does not price there).
    pub new: Option<Figures>,
    /// `new − old`, when both price.
    pub change: Option<Figures>,
    /// Why it does not price under one side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Every charge that moves.
    pub charges: Vec<ChargeMove>,
}

/// One charge whose amount moves (or that appears or goes).
#[derive(Clone, Debug, Serialize)]
pub struct ChargeMove {
    /// 1-based quote line.
    pub line: usize,
    /// Its product.
    pub product: String,
    /// `recurring`, `stub`, `discount`, …
    pub kind: &'static str,
    /// The discount rule of a discount charge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// When it is billed.
    pub bill_date: NaiveDate,
    /// Amount under the old rules (absent: not billed).
    pub old: Option<Decimal>,
    /// Amount under the new rules (absent: not billed).
    pub new: Option<Decimal>,
    /// `new − old`, absent amounts counted as zero.
    pub change: Decimal,
    /// The new rules' lines that made it (the old rules' when it is no longer billed).
    pub rules: Vec<String>,
}

/// A customer's change over their moving quotes that are not accepted.
#[derive(Clone, Debug, Serialize)]
pub struct CustomerDiff {
    /// Customer id.
    pub customer: String,
    /// Customer name.
    pub name: String,
    /// Its quotes that move.
    pub quotes: Vec<String>,
    /// Σ change of those that price under both rule sets and are not accepted.
    pub change: Figures,
}

/// An accepted subscription whose price would change inside its committed term.
#[derive(Clone, Debug, Serialize)]
pub struct Locked {
    /// The quote id.
    pub quote: String,
    /// Customer id.
    pub customer: String,
    /// 1-based quote line.
    pub line: usize,
    /// Its product.
    pub product: String,
    /// Whether today is inside the committed term (else the term is over and the new price
    /// applies at the renewal that is due).
    pub inside_term: bool,
    /// When the term ends and the new price applies.
    pub renewal: NaiveDate,
    /// A full period's charge now.
    pub current: Decimal,
    /// A full period's charge at renewal under the new rules.
    pub new: Decimal,
    /// The line's MRR change at renewal.
    pub mrr_change: Decimal,
}

/// Figures across every quote.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BookTotals {
    /// Quotes that move.
    pub quotes_changed: usize,
    /// Σ change over the quotes that move now (not accepted, priced under both).
    pub change: Figures,
    /// Accepted subscriptions whose price is locked until renewal.
    pub locked: usize,
    /// Σ MRR change of those, from their renewals.
    pub mrr_at_renewal: Decimal,
}

/// Prices every input under both rule sets and compares them.
pub fn diff(old: &RuleBook, new: &RuleBook, inputs: &[Input], today: NaiveDate) -> Diff {
    let mut quotes = Vec::new();
    let mut locked = Vec::new();
    for input in inputs {
        if let Some(q) = quote_diff(&old.catalogue, &new.catalogue, input) {
            if input.accepted {
                locked.extend(locks(&old.catalogue, &new.catalogue, input, today));
            }
            quotes.push(q);
        }
    }
    let customers = customers(&quotes);
    let totals = BookTotals {
        quotes_changed: quotes.len(),
        change: quotes
            .iter()
            .filter(|q| !q.accepted)
            .filter_map(|q| q.change)
            .fold(Figures::default(), |a, c| a.plus(&c)),
        locked: locked.len(),
        mrr_at_renewal: locked.iter().map(|l| l.mrr_change).sum(),
    };
    Diff {
        schema: "tenor.diff/1",
        from: old.label.clone(),
        to: new.label.clone(),
        today,
        quotes_priced: inputs.len(),
        quotes,
        customers,
        locked,
        totals,
    }
}

/// A quote's diff, or `None` when nothing moves. Priced first without explanations; only a
/// quote that moves is priced again with them, for the rule lines.
fn quote_diff(old: &Catalogue, new: &Catalogue, input: &Input) -> Option<QuoteDiff> {
    let fast = PriceOptions { explain: false };
    let a = pricing::price(old, &input.quote, &fast);
    let b = pricing::price(new, &input.quote, &fast);
    if let (Ok(a), Ok(b)) = (&a, &b) {
        if same(a, b) {
            return None;
        }
    }
    let full = PriceOptions { explain: true };
    let a = a.and_then(|_| pricing::price(old, &input.quote, &full));
    let b = b.and_then(|_| pricing::price(new, &input.quote, &full));
    let q = &input.quote;
    let error = match (&a, &b) {
        (Err(e), Err(_)) => Some(format!(
            "does not price under either rule set: {}",
            first(e)
        )),
        (Err(e), Ok(_)) => Some(format!("did not price under the old rules: {}", first(e))),
        (Ok(_), Err(e)) => Some(format!("does not price under the new rules: {}", first(e))),
        _ => None,
    };
    let (a, b) = (a.ok(), b.ok());
    let old_f = a.as_ref().map(|p| Figures::of(&p.totals));
    let new_f = b.as_ref().map(|p| Figures::of(&p.totals));
    Some(QuoteDiff {
        quote: q.quote.clone(),
        source: input.source.clone(),
        customer: q.customer.id.clone(),
        customer_name: q.customer.name.clone(),
        accepted: input.accepted,
        old: old_f,
        new: new_f,
        change: old_f.zip(new_f).map(|(o, n)| n.minus(&o)),
        error,
        charges: moves(a.as_ref(), b.as_ref()),
    })
}

/// The first pricing problem, for one line of the report.
fn first(e: &[pricing::PriceError]) -> String {
    e.first()
        .map(|e| format!("{}: {}", e.field, e.message))
        .unwrap_or_default()
}

/// Whether two pricings bill the same charges and figures.
fn same(a: &PricedQuote, b: &PricedQuote) -> bool {
    Figures::of(&a.totals) == Figures::of(&b.totals)
        && a.lines.len() == b.lines.len()
        && a.lines.iter().zip(&b.lines).all(|(x, y)| {
            x.charges.len() == y.charges.len()
                && x.charges
                    .iter()
                    .zip(&y.charges)
                    .all(|(c, d)| key(c) == key(d) && c.amount == d.amount && c.cost == d.cost)
        })
}

/// What identifies a charge across two pricings.
type Key = (NaiveDate, NaiveDate, &'static str, Option<String>);

fn key(c: &Charge) -> Key {
    (
        c.bill_date,
        c.period_start,
        c.kind.as_str(),
        c.rule.as_deref().map(str::to_string),
    )
}

/// Every charge that moves between two pricings, by line then bill date.
fn moves(a: Option<&PricedQuote>, b: Option<&PricedQuote>) -> Vec<ChargeMove> {
    type Side<'p> = Option<(&'p PricedLine, &'p Charge)>;
    let mut all: BTreeMap<(usize, Key), (Side<'_>, Side<'_>)> = BTreeMap::new();
    for (side, p) in [(0, a), (1, b)] {
        for l in p.iter().flat_map(|p| p.lines.iter()) {
            for c in &l.charges {
                let e = all.entry((l.line, key(c))).or_insert((None, None));
                match side {
                    0 => e.0 = Some((l, c)),
                    _ => e.1 = Some((l, c)),
                }
            }
        }
    }
    let mut out = Vec::new();
    for ((line, k), (o, n)) in all {
        let (oa, na) = (o.map(|(_, c)| c.amount), n.map(|(_, c)| c.amount));
        if oa == na {
            continue;
        }
        let Some((l, c)) = n.or(o) else { continue };
        out.push(ChargeMove {
            line,
            product: l.product.to_string(),
            kind: k.2,
            rule: k.3,
            bill_date: k.0,
            old: oa,
            new: na,
            change: na.unwrap_or_default() - oa.unwrap_or_default(),
            rules: charge_rules(l, c),
        });
    }
    out
}

/// The recurring lines of an accepted quote whose full-period charge would change: the price
/// holds until the line's renewal, when the new one applies.
fn locks(old: &Catalogue, new: &Catalogue, input: &Input, today: NaiveDate) -> Vec<Locked> {
    let fast = PriceOptions { explain: false };
    let (Ok(a), Ok(b)) = (
        pricing::price(old, &input.quote, &fast),
        pricing::price(new, &input.quote, &fast),
    ) else {
        return Vec::new();
    };
    a.lines
        .iter()
        .zip(&b.lines)
        .filter(|(x, y)| x.billing_months > 0 && (x.recurring != y.recurring || x.mrr != y.mrr))
        .map(|(x, y)| Locked {
            quote: input.quote.quote.clone(),
            customer: input.quote.customer.id.clone(),
            line: x.line,
            product: x.product.to_string(),
            inside_term: today < x.end,
            renewal: x.end,
            current: x.recurring,
            new: y.recurring,
            mrr_change: y.mrr - x.mrr,
        })
        .collect()
}

/// The change per customer, by customer id.
fn customers(quotes: &[QuoteDiff]) -> Vec<CustomerDiff> {
    let mut by: BTreeMap<&str, CustomerDiff> = BTreeMap::new();
    for q in quotes {
        let c = by.entry(&q.customer).or_insert_with(|| CustomerDiff {
            customer: q.customer.clone(),
            name: q.customer_name.clone(),
            quotes: Vec::new(),
            change: Figures::default(),
        });
        c.quotes.push(q.quote.clone());
        if let (false, Some(ch)) = (q.accepted, q.change) {
            c.change = c.change.plus(&ch);
        }
    }
    by.into_values().collect()
}

/// Every accepted quote of the record, at its latest revision, with the quantities its
/// recorded seat changes left.
pub fn accepted(record: &crate::record::Record) -> Result<Vec<Input>, super::ReviewError> {
    let mut inputs = Vec::new();
    for id in record.quotes()? {
        let rev = record.revision(&id, None)?;
        let (_, text) = record.revision_texts(&id, rev.revision)?;
        let file = crate::engine::quote::QuoteFile::parse(&rev.quote_file, &text).map_err(|e| {
            super::ReviewError::File {
                file: rev.quote_file.clone(),
                text: text.clone(),
                errors: vec![*e],
            }
        })?;
        let held = super::held::current_lines(record, &id, rev.revision)?;
        inputs.push(Input {
            source: format!("record:{id}@{}", rev.revision),
            quote: super::held::with_held_quantities(file.quote, &held),
            accepted: true,
        });
    }
    Ok(inputs)
}
