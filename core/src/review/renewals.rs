//! The subscriptions of the record renewing in a month (`tenor renewals`, `tenor.renewals/1`):
//! each with the price it bills now (as accepted), the price of its next term under today's
//! rules, the MRR change and the day its cancellation window closes.

use super::ReviewError;
use super::rules::RuleBook;
use crate::engine::pricing::{self, PriceOptions};
use crate::engine::quote::{Quote, QuoteFile};
use crate::record::Record;
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use tenor_plugin_sdk::docs::SalesOrderLine;

/// The `tenor.renewals/1` document.
#[derive(Clone, Debug, Serialize)]
pub struct Renewals {
    /// Always `tenor.renewals/1`.
    pub schema: &'static str,
    /// The month, `YYYY-MM`.
    pub month: String,
    /// Every subscription renewing in it, by renewal date, quote, line.
    pub renewals: Vec<Renewal>,
    /// Σ MRR now of those.
    pub current_mrr: Decimal,
    /// Σ MRR of their next terms.
    pub next_mrr: Decimal,
    /// `next_mrr − current_mrr`.
    pub mrr_change: Decimal,
}

/// One subscription (an accepted quote line) renewing.
#[derive(Clone, Debug, Serialize)]
pub struct Renewal {
    /// The quote id.
    pub quote: String,
    /// Its latest revision.
    pub revision: u32,
    /// Customer id.
    pub customer: String,
    /// Customer name.
    pub customer_name: String,
    /// 1-based quote line.
    pub line: usize,
    /// Its product.
    pub product: String,
    /// Units.
    pub quantity: Decimal,
    /// Term (`P1Y`).
    pub term: String,
    /// Billing frequency.
    pub billing: String,
    /// The day the next term starts.
    pub renewal: NaiveDate,
    /// A full period's charge now, as accepted.
    pub current: Decimal,
    /// MRR now.
    pub current_mrr: Decimal,
    /// A full period's charge of the next term under today's rules (absent when the line no
    /// longer prices: a product or offer removed).
    pub next: Option<Decimal>,
    /// MRR of the next term.
    pub next_mrr: Option<Decimal>,
    /// MRR change (absent with `next`).
    pub mrr_change: Option<Decimal>,
    /// Why the next term does not price.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first day the cancellation window is closed: `renewal + N days` for the product's
    /// `cancel within N days` (absent: no window in the rules).
    pub window_closes: Option<NaiveDate>,
}

/// The recorded priced quote, as far as renewals need it.
#[derive(Deserialize)]
struct RecordedPriced {
    lines: Vec<RecordedLine>,
}

#[derive(Clone, Deserialize)]
struct RecordedLine {
    line: usize,
    product: String,
    quantity: Decimal,
    term: String,
    billing: String,
    end: NaiveDate,
    recurring: Decimal,
    mrr: Decimal,
}

/// Months of a term (`P1M`, `P3Y`, `P18M`); `None` for one-time lines.
fn term_months(term: &str) -> Option<u32> {
    let rest = term.strip_prefix('P')?;
    if let Some(n) = rest.strip_suffix('M') {
        return n.parse().ok().filter(|n| *n > 0);
    }
    let n: u32 = rest.strip_suffix('Y')?.parse().ok()?;
    n.checked_mul(12).filter(|n| *n > 0)
}

/// The first renewal of a term ending on `end` (then every `months` after, anchored on `end`)
/// that falls in `[from, to)`.
fn renewal_in(end: NaiveDate, months: u32, from: NaiveDate, to: NaiveDate) -> Option<NaiveDate> {
    let mut k: u32 = 0;
    loop {
        let at = end.checked_add_months(Months::new(months.checked_mul(k)?))?;
        if at >= to {
            return None;
        }
        if at >= from {
            return Some(at);
        }
        k = k.checked_add(1)?;
    }
}

/// The first day of `YYYY-MM`, and of the month after.
pub fn month_bounds(month: &str) -> Option<(NaiveDate, NaiveDate)> {
    let from = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").ok()?;
    Some((from, from.checked_add_months(Months::new(1))?))
}

/// `YYYY-MM` of a day.
pub fn month_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// Every recorded subscription renewing in `month` (`YYYY-MM`), priced for its next term
/// under `rules`.
pub fn renewals(record: &Record, rules: &RuleBook, month: &str) -> Result<Renewals, ReviewError> {
    let (from, to) = month_bounds(month)
        .ok_or_else(|| ReviewError::Io(format!("`{month}` is not a month (YYYY-MM)")))?;
    let mut all = Vec::new();
    for id in record.quotes()? {
        let rev = record.revision(&id, None)?;
        let (priced, text) = record.revision_texts(&id, rev.revision)?;
        let recorded: RecordedPriced = serde_json::from_str(&priced).map_err(|e| {
            ReviewError::Io(format!(
                "the record's priced quote of {id} does not read: {e}"
            ))
        })?;
        let file = QuoteFile::parse(&rev.quote_file, &text).map_err(|e| ReviewError::File {
            file: rev.quote_file.clone(),
            text: text.clone(),
            errors: vec![*e],
        })?;
        let held = super::held::current_lines(record, &id, rev.revision)?;
        let quote = super::held::with_held_quantities(file.quote, &held);
        for l in &recorded.lines {
            let Some(months) = term_months(&l.term) else {
                continue;
            };
            if let Some(at) = renewal_in(l.end, months, from, to) {
                let now = held_now(l, held.get(&(l.line as u32)), rules);
                all.push(renewal(&quote, rev.revision, &now, at, rules));
            }
        }
    }
    all.sort_by(|a, b| (a.renewal, &a.quote, a.line).cmp(&(b.renewal, &b.quote, b.line)));
    let current_mrr: Decimal = all.iter().map(|r| r.current_mrr).sum();
    let next_mrr: Decimal = all
        .iter()
        .map(|r| r.next_mrr.unwrap_or(r.current_mrr))
        .sum();
    Ok(Renewals {
        schema: "tenor.renewals/1",
        month: month.to_string(),
        renewals: all,
        current_mrr,
        next_mrr,
        mrr_change: next_mrr - current_mrr,
    })
}

/// The recorded line as it bills now: a seat change (`tenor change`) left its quantity and
/// full-period charge on the sales order; its MRR is that charge over the billing period,
/// rounded as `tenor change` rounds it.
fn held_now(l: &RecordedLine, so: Option<&SalesOrderLine>, rules: &RuleBook) -> RecordedLine {
    let mut now = l.clone();
    let Some(so) = so.filter(|so| so.quantity != l.quantity) else {
        return now;
    };
    let months = crate::engine::pricing::parse_billing(&l.billing)
        .ok()
        .and_then(|b| b.months())
        .or_else(|| term_months(&l.term))
        .unwrap_or(1);
    now.quantity = so.quantity;
    now.recurring = so.recurring;
    now.mrr = rules
        .catalogue
        .round(so.recurring / Decimal::from(months.max(1)));
    now
}

/// One line's renewal: the line alone, starting on its renewal date for one full term, as a
/// returning customer's (no welcome offers), quoted that day.
fn renewal(q: &Quote, revision: u32, l: &RecordedLine, at: NaiveDate, rules: &RuleBook) -> Renewal {
    let mut next = q.clone();
    next.date = at;
    next.customer.new = false;
    next.lines = q
        .lines
        .get(l.line.saturating_sub(1))
        .cloned()
        .map(|mut ql| {
            ql.start = at;
            // A manual discount was agreed for the term sold, not for the next one.
            ql.discount = None;
            vec![ql]
        })
        .unwrap_or_default();
    let priced = pricing::price(&rules.catalogue, &next, &PriceOptions { explain: false });
    let (next_line, error) = match &priced {
        Ok(p) => (p.lines.first(), None),
        Err(e) => (
            None,
            e.first().map(|e| format!("{}: {}", e.field, e.message)),
        ),
    };
    let cancel = rules
        .catalogue
        .items
        .iter()
        .find(|s| *s.sku == *l.product)
        .and_then(|s| s.cancel_days);
    Renewal {
        quote: q.quote.clone(),
        revision,
        customer: q.customer.id.clone(),
        customer_name: q.customer.name.clone(),
        line: l.line,
        product: l.product.clone(),
        quantity: l.quantity,
        term: l.term.clone(),
        billing: l.billing.clone(),
        renewal: at,
        current: l.recurring,
        current_mrr: l.mrr,
        next: next_line.map(|n| n.recurring),
        next_mrr: next_line.map(|n| n.mrr),
        mrr_change: next_line.map(|n| n.mrr - l.mrr),
        error,
        window_closes: cancel.and_then(|d| at.checked_add_days(chrono::Days::new(u64::from(d)))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn terms_and_renewal_dates() {
        assert_eq!(term_months("P1M"), Some(1));
        assert_eq!(term_months("P3Y"), Some(36));
        assert_eq!(term_months("one-time"), None);
        // A P1M line ending 2027-01-31 renews on the 31st, clamped: 2027-02-28, 2027-03-31.
        let (f, t) = month_bounds("2027-03").unwrap_or_default();
        assert_eq!(renewal_in(d("2027-01-31"), 1, f, t), Some(d("2027-03-31")));
        let (f, t) = month_bounds("2028-07").unwrap_or_default();
        assert_eq!(renewal_in(d("2027-07-01"), 12, f, t), Some(d("2028-07-01")));
        let (f, t) = month_bounds("2028-06").unwrap_or_default();
        assert_eq!(renewal_in(d("2027-07-01"), 12, f, t), None);
    }
}
