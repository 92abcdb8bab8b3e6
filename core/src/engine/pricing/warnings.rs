//! Warnings of a priced quote: what prices but is probably a mistake. They never stop pricing.

use super::types::PriceWarning;
use crate::engine::quote::{Quote, QuoteLine};

/// Every warning of a quote, in line order.
pub(super) fn of_quote(quote: &Quote) -> Vec<PriceWarning> {
    (0..)
        .zip(&quote.lines)
        .filter_map(|(i, l)| of_line(quote, i, l))
        .collect()
}

/// The warning of `line`, at 0-based position `i` of `quote`, if it has one.
pub(super) fn of_line(quote: &Quote, i: usize, line: &QuoteLine) -> Option<PriceWarning> {
    (line.start < quote.date).then(|| PriceWarning {
        code: "start-before-quote",
        field: format!("lines[{i}].start"),
        message: format!(
            "line {} starts on {}, before the quote's date, {}",
            i + 1,
            line.start,
            quote.date
        ),
        help: Some(format!(
            "the customer is billed from {} for service already past; check the start date, or date the quote no later than it",
            line.start
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-line quote dated 2026-11-20 whose line starts on `start`.
    fn quote(start: &str) -> Quote {
        let text = format!(
            "quote: Q-1\ndate: 2026-11-20\ncurrency: USD\ncustomer: {{ id: C, name: C }}\nlines:\n  - {{ product: X, quantity: 1, term: P1M, billing: monthly, start: {start} }}\n"
        );
        crate::engine::quote::QuoteFile::parse("q.yaml", &text)
            .unwrap()
            .quote
    }

    #[test]
    fn a_start_before_the_quote_date_is_a_warning_at_its_start_field() {
        let w = of_quote(&quote("2026-11-19"));
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, "start-before-quote");
        assert_eq!(w[0].field, "lines[0].start");
        assert_eq!(
            w[0].message,
            "line 1 starts on 2026-11-19, before the quote's date, 2026-11-20"
        );
    }

    #[test]
    fn a_start_on_or_after_the_quote_date_is_not() {
        assert!(of_quote(&quote("2026-11-20")).is_empty());
        assert!(of_quote(&quote("2026-12-07")).is_empty());
    }
}
