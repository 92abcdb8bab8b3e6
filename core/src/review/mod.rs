//! Reviewing a price book before and after an edit: expectation files checked against the
//! rules (`tenor test`), every quote priced under two rule sets (`tenor diff`) and the
//! subscriptions renewing in a month (`tenor renewals`). Everything here returns typed values;
//! the command line renders them.

pub mod bill;
pub mod diff;
pub mod expect;
pub mod held;
pub mod renewals;
pub mod rules;

use crate::engine::pricing::{Charge, ChargeKind, PricedLine, Totals};
use crate::engine::quote::QuoteError;
use crate::record::RecordError;
use rust_decimal::Decimal;
use serde::Serialize;
use tenor_dsl::{Diagnostic, SourceSet};

/// Why a review could not be made.
#[derive(thiserror::Error)]
pub enum ReviewError {
    /// A rule set that does not check.
    #[error("{summary}")]
    Rules {
        /// Its files, for the source lines under each diagnostic.
        sources: SourceSet,
        /// Every problem found.
        diags: Vec<Diagnostic>,
        /// The closing line.
        summary: String,
    },
    /// A file (a quote, an expectation file) with problems located in it.
    #[error("{} has {} problem(s)", .file, .errors.len())]
    File {
        /// Its name.
        file: String,
        /// Its text, for the line under each problem.
        text: String,
        /// Every problem found.
        errors: Vec<QuoteError>,
    },
    /// Something that could not be read or run (a file, git), in one sentence.
    #[error("{0}")]
    Io(String),
    /// The record could not be read.
    #[error(transparent)]
    Record(#[from] RecordError),
}

impl std::fmt::Debug for ReviewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

/// The figures of a priced quote an admin checks and a diff compares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    /// Everything billed on the quote's first bill date.
    pub first_invoice: Decimal,
    /// Monthly recurring revenue.
    pub mrr: Decimal,
    /// Annual recurring revenue.
    pub arr: Decimal,
    /// Every charge of the commitment.
    pub contract_value: Decimal,
    /// Contract value − cost.
    pub margin: Decimal,
}

impl Figures {
    /// The figures of a priced quote's totals.
    pub fn of(t: &Totals) -> Self {
        Figures {
            first_invoice: t.first_invoice,
            mrr: t.mrr,
            arr: t.arr,
            contract_value: t.contract_value,
            margin: t.margin,
        }
    }

    /// `self − other`, figure by figure.
    pub fn minus(&self, other: &Figures) -> Figures {
        Figures {
            first_invoice: self.first_invoice - other.first_invoice,
            mrr: self.mrr - other.mrr,
            arr: self.arr - other.arr,
            contract_value: self.contract_value - other.contract_value,
            margin: self.margin - other.margin,
        }
    }

    /// `self + other`, figure by figure.
    pub fn plus(&self, other: &Figures) -> Figures {
        Figures {
            first_invoice: self.first_invoice + other.first_invoice,
            mrr: self.mrr + other.mrr,
            arr: self.arr + other.arr,
            contract_value: self.contract_value + other.contract_value,
            margin: self.margin + other.margin,
        }
    }

    /// The figures by name, in the order they are shown.
    pub fn named(&self) -> [(&'static str, Decimal); 5] {
        [
            ("first_invoice", self.first_invoice),
            ("mrr", self.mrr),
            ("arr", self.arr),
            ("contract_value", self.contract_value),
            ("margin", self.margin),
        ]
    }
}

/// The rule locations (`file:line`) that made a charge, from the explanation the engine keeps
/// when pricing with `explain`: the offer, the tier rows and co-term policy, and each discount
/// that fired; for a discount charge, its discount rule.
pub fn charge_rules(line: &PricedLine, charge: &Charge) -> Vec<String> {
    let mut at: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !at.iter().any(|a| a == s) {
            at.push(s.to_string());
        }
    };
    if charge.kind == ChargeKind::Discount {
        let verdicts = line
            .charges
            .iter()
            .filter_map(|c| c.detail())
            .flat_map(|d| d.verdicts.iter());
        for v in verdicts {
            if v.applied && Some(&v.rule) == charge.rule.as_ref() {
                if let Some(a) = &v.at {
                    add(a);
                    break;
                }
            }
        }
        return at;
    }
    if let Some(d) = line.detail.as_deref() {
        add(&d.at);
        for t in &d.tiers {
            add(&t.at);
        }
        if let (Some((_, a)), ChargeKind::Stub) = (&d.coterm, charge.kind) {
            add(a);
        }
    }
    if let Some(d) = charge.detail() {
        for v in d.verdicts.iter().filter(|v| v.applied) {
            if let Some(a) = &v.at {
                add(a);
            }
        }
    }
    at
}
