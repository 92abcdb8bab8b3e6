//! The distributor's own commitment or plan id read back (Pax8 `commitmentTerm.id`, TD SYNNEX
//! `planId`), mapped through the rules' ids to the term and billing it stands for.

use super::words::{BillWord, term_word};
use crate::engine::catalogue::{Billing, PartNumber};

/// What the rules say a commitment or plan id stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct PlanMeaning {
    /// The term in months; `None` for one-time.
    pub(super) term: Option<u32>,
    /// The billing, for a plan id; a commitment id names the term only (Pax8 sells one
    /// commitment id per term, whatever the billing).
    pub(super) billing: Option<Billing>,
}

impl PlanMeaning {
    /// The billing as an order line's word: one-time for a one-time plan.
    pub(super) fn bill_word(self) -> Option<BillWord> {
        match self.term {
            None => Some(BillWord::Once),
            Some(_) => self.billing.map(BillWord::Every),
        }
    }

    /// `P1Y` for a commitment id, `P1Y monthly` for a plan id.
    pub(super) fn words(self) -> String {
        match (self.term, self.billing) {
            (Some(_), Some(b)) => format!("{} {b}", term_word(self.term)),
            _ => term_word(self.term),
        }
    }
}

/// Distributors' ids compare without case or surrounding blanks: uuids come either way.
fn same_id(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// What `id` stands for among a product's part numbers' commitment and plan ids, the first
/// the rules write; `None` when the rules do not give it.
pub(super) fn meaning(parts: &[PartNumber], id: &str) -> Option<PlanMeaning> {
    parts.iter().find_map(|pn| {
        pn.commitments
            .iter()
            .find(|(_, c)| same_id(c, id))
            .map(|(m, _)| PlanMeaning {
                term: Some(*m),
                billing: None,
            })
            .or_else(|| {
                pn.plans
                    .iter()
                    .find(|(_, _, p)| same_id(p, id))
                    .map(|(m, b, _)| PlanMeaning {
                        term: *m,
                        billing: Some(*b),
                    })
            })
    })
}

/// True when the rules give a product's part numbers any commitment or plan id: only then can
/// an id read back be one the rules do not know.
pub(super) fn has_ids(parts: &[PartNumber]) -> bool {
    parts
        .iter()
        .any(|pn| !pn.commitments.is_empty() || !pn.plans.is_empty())
}

/// True when `id` is one of the ids the purchase-order line names.
pub(super) fn names(named: &[&str], id: &str) -> bool {
    named.iter().any(|n| same_id(n, id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]
    use super::*;

    fn item() -> Vec<PartNumber> {
        vec![
            PartNumber {
                distributor: "pax8".into(),
                number: "MST-NCE-M365E3".into(),
                id: None,
                sku: None,
                commitments: vec![(12, "d59a0625-469d".into()), (36, "cb4ac8b4-df0c".into())],
                plans: vec![],
            },
            PartNumber {
                distributor: "tdsynnex".into(),
                number: "CFQ7TTC0LFLX:0001".into(),
                id: None,
                sku: None,
                commitments: vec![],
                plans: vec![
                    (Some(12), Billing::Monthly, "plan--18a2b7b6c2".into()),
                    (Some(36), Billing::Upfront, "plan--945cd9a9b3".into()),
                    (None, Billing::Upfront, "plan--once".into()),
                ],
            },
        ]
    }

    #[test]
    fn a_commitment_id_stands_for_its_term_and_a_plan_id_for_term_and_billing() {
        let it = item();
        let one_year = meaning(&it, "D59A0625-469D ").unwrap();
        assert_eq!((one_year.term, one_year.billing), (Some(12), None));
        assert_eq!(one_year.words(), "P1Y");
        // Billing unknown from a commitment id: the line's own billing word stands.
        assert_eq!(one_year.bill_word(), None);
        let plan = meaning(&it, "plan--945cd9a9b3").unwrap();
        assert_eq!(
            (plan.term, plan.billing),
            (Some(36), Some(Billing::Upfront))
        );
        assert_eq!(plan.words(), "P3Y upfront");
        assert_eq!(plan.bill_word(), Some(BillWord::Every(Billing::Upfront)));
        let once = meaning(&it, "plan--once").unwrap();
        assert_eq!(once.bill_word(), Some(BillWord::Once));
        assert_eq!(meaning(&it, "plan--nosuch"), None);
        assert!(has_ids(&it));
        assert!(!has_ids(&[]));
        assert!(names(&["cb4ac8b4-df0c"], "CB4AC8B4-DF0C"));
        assert!(!names(&["cb4ac8b4-df0c"], "d59a0625-469d"));
        assert!(!names(&[], "d59a0625-469d"));
    }
}
