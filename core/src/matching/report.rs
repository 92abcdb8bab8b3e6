//! The match report: findings, what was checked, and the totals per class and customer.

use crate::engine::catalogue::Catalogue;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;

/// Schema of the match report.
pub const MATCH_REPORT: &str = "tenor.match/1";

/// A class of discrepancy, spelt as in the rules' `match ignore CLASS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// Sold but not bought, or sold but not billed.
    MissingLine,
    /// Bought or billed but not sold (or billed twice).
    ExtraLine,
    /// Units differ.
    Quantity,
    /// Commitment term differs.
    Term,
    /// Billing frequency differs.
    BillingFrequency,
    /// Start of service or of billing differs.
    StartDate,
    /// End of the commitment, or the co-term boundaries, differ.
    CotermDate,
    /// Unit price (invoice) or unit cost (purchase order) differs.
    UnitPrice,
    /// The amount of one billed period differs.
    Amount,
}

impl Class {
    /// Every class, in report order.
    pub const ALL: [Class; 9] = [
        Class::MissingLine,
        Class::ExtraLine,
        Class::Quantity,
        Class::Term,
        Class::BillingFrequency,
        Class::StartDate,
        Class::CotermDate,
        Class::UnitPrice,
        Class::Amount,
    ];

    /// The spelling in rules and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::MissingLine => "missing_line",
            Class::ExtraLine => "extra_line",
            Class::Quantity => "quantity",
            Class::Term => "term",
            Class::BillingFrequency => "billing_frequency",
            Class::StartDate => "start_date",
            Class::CotermDate => "coterm_date",
            Class::UnitPrice => "unit_price",
            Class::Amount => "amount",
        }
    }
}

/// Which document disagrees with the quote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// What was bought.
    PurchaseOrder,
    /// What was billed.
    Invoice,
    /// What the PSA will bill: its agreement additions against the recurring template.
    Psa,
    /// What the distributors charged the MSP: their invoices at cost.
    DistributorInvoice,
}

impl Side {
    /// The spelling in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::PurchaseOrder => "purchase order",
            Side::Invoice => "invoice",
            Side::Psa => "PSA agreement",
            Side::DistributorInvoice => "distributor invoice",
        }
    }
}

/// What kind of money is at risk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// Revenue never billed, or billed for nothing (a refund owed).
    Billing,
    /// Cash billed (or paid) at a different time than sold.
    Timing,
    /// Cost the MSP carries that the sale does not cover.
    Cost,
    /// The distributor commitment does not match the customer's.
    Commitment,
    /// The stub changed because service started on another day.
    StartDate,
}

/// Which way the money goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Revenue that will never be billed.
    UnderBilled,
    /// The customer is (or will be) charged for nothing: a refund is owed.
    OverBilled,
    /// Billed later than sold.
    BilledLate,
    /// Billed earlier than sold.
    BilledEarly,
}

/// One disagreement between the quote and a purchase order or invoice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// What differs.
    pub class: Class,
    /// Purchase order or invoice.
    pub side: Side,
    /// The quote id.
    pub quote: String,
    /// The customer's id.
    pub customer: String,
    /// The quote line (from 1); `None` for a line that was not sold.
    pub line: Option<u32>,
    /// The product's SKU (or the part number as written, when the rules do not know it).
    pub product: String,
    /// The document the line was found in; for a missing line, the document it should be in.
    pub document: Option<String>,
    /// What the quote says.
    pub expected: String,
    /// What the document says.
    pub found: String,
    /// Money at risk (never negative), rounded once; `None` when it cannot be known.
    pub money_at_risk: Option<Decimal>,
    /// What kind of money is at risk.
    pub kind: Risk,
    /// Which way the money goes, when that means something.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// Why, in a sentence or two, with the arithmetic.
    pub explanation: String,
    /// The side whose finding on the same line and class already counts this money (a PSA
    /// agreement billing the gap its invoice shows is one leak, seen twice): the totals count
    /// it there, once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counted_with: Option<Side>,
}

/// What one quote was matched against.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The quote id.
    pub quote: String,
    /// The customer's id.
    pub customer: String,
    /// The customer's name.
    pub customer_name: String,
    /// Lines of the quote.
    pub quote_lines: usize,
    /// Purchase-order lines expected.
    pub expected_order_lines: usize,
    /// Order lines of this customer read back.
    pub order_lines: usize,
    /// Invoice lines of this customer read back.
    pub invoice_lines: usize,
    /// Lines naming another customer, set aside.
    pub other_customers: usize,
    /// Recurring-template lines expected as PSA additions, when the PSA side was matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_lines: Option<usize>,
    /// PSA agreement additions read back, when the PSA side was matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additions: Option<usize>,
    /// Distributor invoice lines read back, when that side was matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distributor_invoice_lines: Option<usize>,
}

/// The result of a match: findings in a deterministic order, and what was checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchReport {
    /// ISO 4217 code.
    pub currency: String,
    /// Decimals of the currency's minor unit.
    pub minor_units: u32,
    /// Every finding, sorted by quote, line, side and class.
    pub findings: Vec<Finding>,
    /// One entry per quote matched.
    pub checked: Vec<Checked>,
    /// Things the reader should know that are not findings.
    pub notes: Vec<String>,
}

/// A count and sum of findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Findings.
    pub findings: usize,
    /// The sum of the known amounts.
    pub money_at_risk: Decimal,
    /// Findings whose amount cannot be known.
    pub unknown: usize,
}

/// Totals of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Findings.
    pub findings: usize,
    /// The sum of every known amount.
    pub money_at_risk: Decimal,
    /// Findings whose amount cannot be known.
    pub unknown: usize,
    /// By class name.
    pub by_class: BTreeMap<String, Tally>,
    /// By customer id.
    pub by_customer: BTreeMap<String, Tally>,
}

impl Tally {
    fn add(&mut self, f: &Finding) {
        self.findings += 1;
        match f.money_at_risk {
            Some(_) if f.counted_with.is_some() => {}
            Some(m) => self.money_at_risk = self.money_at_risk.saturating_add(m),
            None => self.unknown += 1,
        }
    }
}

impl MatchReport {
    /// An empty report in the rule set's currency.
    pub fn new(cat: &Catalogue) -> Self {
        MatchReport {
            currency: cat.currency.clone(),
            minor_units: cat.minor_units,
            findings: Vec::new(),
            checked: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// True when nothing disagrees.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// Adds another quote's report (same rules), keeping the order deterministic. Reports
    /// merged in quote order append without sorting.
    pub fn merge(&mut self, other: MatchReport) {
        let in_order = match (self.findings.last(), other.findings.first()) {
            (Some(a), Some(b)) => finding_order(a, b) != std::cmp::Ordering::Greater,
            _ => true,
        };
        self.findings.extend(other.findings);
        self.checked.extend(other.checked);
        self.notes.extend(other.notes);
        if !in_order {
            sort_findings(&mut self.findings);
        }
    }

    /// Totals overall, per class and per customer.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        let mut all = Tally::default();
        for f in &self.findings {
            all.add(f);
            t.by_class
                .entry(f.class.as_str().to_string())
                .or_default()
                .add(f);
            t.by_customer.entry(f.customer.clone()).or_default().add(f);
        }
        let minor = self.minor_units;
        let scale = |d: &mut Decimal| {
            if d.scale() < minor {
                d.rescale(minor);
            }
        };
        scale(&mut all.money_at_risk);
        for v in t.by_class.values_mut().chain(t.by_customer.values_mut()) {
            scale(&mut v.money_at_risk);
        }
        t.findings = all.findings;
        t.money_at_risk = all.money_at_risk;
        t.unknown = all.unknown;
        t
    }

    /// The `tenor.match/1` document.
    pub fn to_json(&self) -> serde_json::Value {
        #[derive(Serialize)]
        struct Doc<'a> {
            schema: &'static str,
            currency: &'a str,
            checked: &'a [Checked],
            findings: &'a [Finding],
            totals: Totals,
            notes: &'a [String],
        }
        serde_json::to_value(Doc {
            schema: MATCH_REPORT,
            currency: &self.currency,
            checked: &self.checked,
            findings: &self.findings,
            totals: self.totals(),
            notes: &self.notes,
        })
        .unwrap_or(serde_json::Value::Null)
    }
}

/// Quote, customer, line (lines not sold last), side, class, then the document's words.
pub(super) fn finding_order(a: &Finding, b: &Finding) -> std::cmp::Ordering {
    (
        &a.quote,
        &a.customer,
        a.line.unwrap_or(u32::MAX),
        a.side,
        a.class,
        &a.document,
        &a.product,
        &a.found,
        &a.expected,
    )
        .cmp(&(
            &b.quote,
            &b.customer,
            b.line.unwrap_or(u32::MAX),
            b.side,
            b.class,
            &b.document,
            &b.product,
            &b.found,
            &b.expected,
        ))
}

/// Sorts findings into report order.
pub(super) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(finding_order);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_are_the_rules_classes() {
        let ours: Vec<&str> = Class::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(ours, tenor_dsl::ast::FINDING_CLASSES);
    }
}
