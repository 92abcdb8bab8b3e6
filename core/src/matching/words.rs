//! How findings spell terms, billing frequencies, spans, units and money, and how documents'
//! own words for terms and billing are read.

use super::risk::whole_months;
use crate::engine::calendar;
use crate::engine::catalogue::Billing;
use crate::engine::pricing;
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub(super) fn units(n: Decimal) -> String {
    if n.abs() == Decimal::ONE {
        format!("{n} unit")
    } else {
        format!("{n} units")
    }
}

pub(super) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        noun.to_string()
    } else {
        format!("{noun}s")
    }
}

/// A billing word as a document writes it, read once per line: one-time (`once`, `one-time`)
/// or a frequency. Every check then asks it without reading the text again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BillWord {
    Once,
    Every(Billing),
}

impl BillWord {
    /// Reads a billing word; `None` when it is not one.
    pub(super) fn read(word: &str) -> Option<BillWord> {
        // Tenor's own spellings first, without allocating: this runs for every line.
        match word {
            "monthly" => return Some(BillWord::Every(Billing::Monthly)),
            "quarterly" => return Some(BillWord::Every(Billing::Quarterly)),
            "annual" => return Some(BillWord::Every(Billing::Annual)),
            "upfront" => return Some(BillWord::Every(Billing::Upfront)),
            "once" => return Some(BillWord::Once),
            _ => {}
        }
        match word.trim().to_ascii_lowercase().as_str() {
            "once" | "one-time" | "one_time" | "onetime" => Some(BillWord::Once),
            w => pricing::parse_billing(w).ok().map(BillWord::Every),
        }
    }

    /// Months in one billing period on a term (`upfront` is the whole term); `None` for
    /// one-time.
    pub(super) fn months(self, term: Option<u32>) -> Option<u32> {
        match self {
            BillWord::Once => None,
            BillWord::Every(b) => b.months().or(term),
        }
    }

    /// The frequency, when the word names one (not for one-time).
    pub(super) fn billing(self) -> Option<Billing> {
        match self {
            BillWord::Once => None,
            BillWord::Every(b) => Some(b),
        }
    }
}

/// The billing frequency a word names; `None` for one-time and for a word that is none.
pub(super) fn parse_billing_word(word: &str) -> Option<Billing> {
    BillWord::read(word).and_then(BillWord::billing)
}

/// A quote line number as a document writes it.
pub(super) fn parse_line_ref(r: &str) -> Option<u32> {
    // Digits alone need no trimming (the usual case, and trimming walks characters).
    if !r.is_empty() && r.bytes().all(|b| b.is_ascii_digit()) {
        return r.parse().ok();
    }
    r.trim().parse().ok()
}

/// A term as a document writes it; `None` when unreadable, `Some(None)` for one-time.
pub(super) fn parse_term_word(word: &str) -> Option<Option<u32>> {
    match word {
        "P1M" => return Some(Some(1)),
        "P1Y" => return Some(Some(12)),
        "P3Y" => return Some(Some(36)),
        "one-time" => return Some(None),
        _ => {}
    }
    let w = word.trim();
    // `pricing::parse_term` splits off the last byte: hand it only ASCII.
    if !w.is_ascii() {
        return None;
    }
    match w.to_ascii_lowercase().as_str() {
        "one-time" | "once" | "one_time" => Some(None),
        _ => pricing::parse_term(&w.to_ascii_uppercase()).ok(),
    }
}

/// What a billing period of `months` looks like relative to its term: the whole term at its
/// start (upfront, or annual on a one-year term) is one shape, whatever it is called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    Once,
    WholeTerm,
    Every(u32),
}

pub(super) fn shape(months: Option<u32>, term: Option<u32>) -> Shape {
    match (months, term) {
        (None, _) | (_, None) => Shape::Once,
        (Some(m), Some(t)) if m >= t => Shape::WholeTerm,
        (Some(m), _) => Shape::Every(m),
    }
}

pub(super) fn billing_word(months: Option<u32>, term: Option<u32>) -> String {
    match months {
        None => "once".into(),
        Some(1) => "monthly".into(),
        Some(3) => "quarterly".into(),
        Some(12) => "annual".into(),
        Some(m) if Some(m) == term => "upfront".into(),
        Some(m) => format!("every {m} months"),
    }
}

/// `24 months`, or `14 days` when the span is not whole months.
pub(super) fn span_words(a: NaiveDate, b: NaiveDate) -> String {
    match whole_months(a, b) {
        Some(1) => "1 month".into(),
        Some(m) => format!("{m} months"),
        None => {
            let d = calendar::actual_days(a, b);
            if d == 1 {
                "1 day".into()
            } else {
                format!("{d} days")
            }
        }
    }
}

pub(super) fn per_period(months: Option<u32>) -> String {
    match months {
        None => "once".into(),
        Some(1) => "a month".into(),
        Some(3) => "a quarter".into(),
        Some(12) => "a year".into(),
        Some(m) => format!("per {m} months"),
    }
}

/// Why a one-time sale and a subscription (either way round) cannot be priced against each
/// other; `verb` says what the other document did (`bought`, `billed as`).
pub(super) fn mixed_terms(sold: &str, verb: &str, found: &str) -> String {
    format!(
        "sold {sold}, {verb} {found}: a one-time item and a subscription cannot be priced against each other"
    )
}

/// A term as findings spell it.
pub(super) fn term_word(t: Option<u32>) -> String {
    crate::engine::catalogue::term_text(t)
}

/// A unit price as people read it: at least the minor unit, at most six decimals.
pub(super) fn unit_text(v: Decimal, minor: u32) -> String {
    let mut p = v.round_dp(6).normalize();
    if p.scale() < minor {
        p.rescale(minor);
    }
    p.to_string()
}

pub(super) fn money_text(v: Decimal, currency: &str) -> String {
    format!("{} {currency}", crate::engine::money::money(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_words_read_once_answer_as_the_text_did() {
        // (word, months on a 36-month term, frequency named)
        type Case = (&'static str, Option<Option<u32>>, Option<Billing>);
        let cases: [Case; 9] = [
            ("monthly", Some(Some(1)), Some(Billing::Monthly)),
            (" Quarterly ", Some(Some(3)), Some(Billing::Quarterly)),
            ("ANNUAL", Some(Some(12)), Some(Billing::Annual)),
            ("upfront", Some(Some(36)), Some(Billing::Upfront)),
            ("once", Some(None), None),
            ("One-Time", Some(None), None),
            ("onetime", Some(None), None),
            ("fortnightly", None, None),
            ("", None, None),
        ];
        for (word, months, billing) in cases {
            let b = BillWord::read(word);
            assert_eq!(b.map(|b| b.months(Some(36))), months, "{word:?}");
            assert_eq!(parse_billing_word(word), billing, "{word:?}");
        }
        assert_eq!(
            BillWord::read("upfront").map(|b| b.months(None)),
            Some(None)
        );
    }

    #[test]
    fn line_refs() {
        assert_eq!(parse_line_ref("12"), Some(12));
        assert_eq!(parse_line_ref(" 7 "), Some(7));
        assert_eq!(parse_line_ref("+3"), Some(3));
        assert_eq!(parse_line_ref("x1"), None);
        assert_eq!(parse_line_ref(""), None);
        assert_eq!(parse_line_ref("99999999999"), None);
    }
}
