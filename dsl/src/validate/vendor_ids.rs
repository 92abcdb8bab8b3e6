//! The vendors' ids a product carries for the connectors: Pax8's product and commitment-term
//! uuids, TD SYNNEX's product, SKU and plan ids, the PSA's catalogue item. Each is checked for
//! its form where the vendor publishes one, for being given once, and for being where it can
//! be used (a commitment on a term the product is priced in, via a distributor it is bought
//! from); and a product set up for Pax8 or TD SYNNEX ordering has one for every price line.
//!
//! The distributors `pax8` and `tdsynnex` are the connectors' names (a distributor's plugin
//! is found by its name in the rules), so their ids are checked in their vendors' forms.

use std::collections::HashMap;

use super::{Validator, effective_billing};
use crate::ast::*;
use crate::diagnostic::Diagnostic;

/// Pax8's name in the rules: its ids are uuids.
const PAX8: &str = "pax8";
/// TD SYNNEX's name in the rules: its ids are its own catalogue's, never Microsoft's.
const TDSYNNEX: &str = "tdsynnex";

/// A price line's term (months, `None` one-time) and effective billing.
type Priced = (Option<u32>, Option<Billing>);

/// True for a uuid in its canonical 8-4-4-4-12 hexadecimal form.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Why an id of `distributor` is not in its vendor's form, if it is not.
fn bad_form(distributor: &str, what: &str, id: &str) -> Option<(String, String)> {
    if id.trim().is_empty() || id.chars().any(char::is_whitespace) {
        return Some((
            format!("{what} `{id}` is empty or holds spaces"),
            "a vendor id is one word".to_string(),
        ));
    }
    if distributor == PAX8 && !is_uuid(id) {
        return Some((
            format!("the Pax8 {what} `{id}` is not a uuid"),
            "Pax8 ids are uuids such as `9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33` (from \
             `GET /products` and `GET /products/{id}/dependencies`)"
                .to_string(),
        ));
    }
    if distributor == TDSYNNEX && id.contains(':') {
        return Some((
            format!("the TD SYNNEX {what} `{id}` looks like Microsoft's catalogue id"),
            "TD SYNNEX takes its own catalogue ids (`TechDataMicrosoft365BusinessPremium-smp`, \
             `sku--…`, `plan--…`, from the product's `definition.skus[].plans[]`); Microsoft's \
             id goes in `catalog id`"
                .to_string(),
        ));
    }
    None
}

/// What a product's vendor-id lines say, gathered for the checks that need them all.
#[derive(Default)]
struct Ids<'a> {
    /// Parts by distributor: the part and its line.
    parts: HashMap<&'a str, (&'a Part, Span)>,
    /// Commitments by (distributor, term months).
    commitments: HashMap<(&'a str, Option<u32>), Span>,
    /// Plans by (distributor, term months, billing).
    plans: HashMap<(&'a str, Option<u32>, Option<Billing>), Span>,
}

impl<'a> Validator<'a> {
    /// Checks the vendors' ids of a product priced on `offers`.
    pub(super) fn vendor_ids(&mut self, p: &'a Product, owner: &str, offers: &[Priced]) {
        let mut ids = Ids::default();
        for e in &p.entries {
            if let ProductEntry::Part(part) = &e.node {
                ids.parts
                    .entry(part.distributor.node.as_str())
                    .or_insert((part, e.span));
                self.part_ids(part, owner);
            }
        }
        let mut sold = HashMap::new();
        for e in &p.entries {
            match &e.node {
                ProductEntry::Commitment(t) => {
                    self.term_id((t, false), e.span, owner, offers, &mut ids)
                }
                ProductEntry::Plan(t) => self.term_id((t, true), e.span, owner, offers, &mut ids),
                ProductEntry::Sold(s) => self.sold(s, e.span, owner, &mut sold),
                _ => {}
            }
        }
        self.required_ids(p, owner, offers, &ids);
    }

    /// A bundle's PSA catalogue items.
    pub(super) fn bundle_sold(&mut self, b: &'a Bundle, owner: &str) {
        let mut sold = HashMap::new();
        for e in &b.entries {
            if let BundleEntry::Sold(s) = &e.node {
                self.sold(s, e.span, owner, &mut sold);
            }
        }
    }

    /// A part's product and SKU ids: in the vendor's form; a SKU only with a product id,
    /// and only where the distributor takes one.
    fn part_ids(&mut self, part: &Part, owner: &str) {
        let dist = part.distributor.node.as_str();
        if let Some(id) = &part.id {
            self.id_form(dist, "product id", id);
        }
        let Some(sku) = &part.sku else { return };
        self.id_form(dist, "SKU id", sku);
        if part.id.is_none() {
            let d = Diagnostic::new(
                "missing-id",
                format!("{owner} gives `{dist}` a SKU id but no product id"),
                sku.span,
                "SKU without its product",
            )
            .with_help(format!(
                "write the product id before it: `bought via {dist} as \"…\" id \"…\" sku \"…\"`"
            ));
            self.push(d);
        } else if dist == PAX8 {
            let d = Diagnostic::new(
                "misplaced",
                format!("{owner}: the Pax8 order takes no SKU id"),
                sku.span,
                "not used by Pax8",
            )
            .with_help("remove `sku \"…\"`; Pax8 needs the product id and a commitment per term");
            self.push(d);
        }
    }

    /// Reports an id not in its vendor's form.
    fn id_form(&mut self, distributor: &str, what: &str, id: &Spanned<String>) {
        if let Some((message, help)) = bad_form(distributor, what, &id.node) {
            let d =
                Diagnostic::new("bad-id", message, id.span, "not a valid id here").with_help(help);
            self.push(d);
        }
    }

    /// A `commitment` or `plan` line: via a distributor the product is bought from, for a
    /// term (and billing) it is priced on, given once, in the vendor's form.
    fn term_id(
        &mut self,
        (t, is_plan): (&'a TermId, bool),
        span: Span,
        owner: &str,
        offers: &[Priced],
        ids: &mut Ids<'a>,
    ) {
        let dist = t.distributor.node.as_str();
        let what = if is_plan { "plan" } else { "commitment" };
        self.require_party(PartyKind::Distributor, &t.distributor);
        self.id_form(dist, &format!("{what} id"), &t.id);
        let months = t.term.node.months();
        let billing = match (months, t.billing) {
            (None, _) => Some(Billing::Upfront),
            (_, b) => b.map(|b| b.node),
        };
        let priced = if is_plan {
            offers.contains(&(months, billing))
        } else {
            months.is_some() && offers.iter().any(|(m, _)| *m == months)
        };
        if !ids.parts.contains_key(dist) {
            self.misplaced(
                span,
                format!("{owner} has a {what} id via `{dist}` but is not bought via `{dist}`"),
                format!("add `bought via {dist} as \"…\" id \"…\"`, or remove this line"),
            );
        } else if !priced {
            let on = match t.billing {
                Some(b) => format!("{} {}", t.term.node, b.node.keyword()),
                None => t.term.node.to_string(),
            };
            self.misplaced(
                t.term.span,
                format!("{owner} has a {what} id for {on}, but no price line on {on}"),
                format!("give {what} ids only for the terms the product is priced on"),
            );
        }
        let first = if is_plan {
            ids.plans.insert((dist, months, billing), span)
        } else {
            ids.commitments.insert((dist, months), span)
        };
        if let Some(first) = first {
            let d = Diagnostic::new(
                "duplicate",
                format!("{owner} has two `{dist}` {what} ids for the same term"),
                span,
                "second id",
            )
            .with_related(first, "first id")
            .with_help("keep one id per term");
            self.push(d);
        }
    }

    pub(super) fn misplaced(&mut self, span: Span, message: String, help: String) {
        let d = Diagnostic::new("misplaced", message, span, "cannot be used here").with_help(help);
        self.push(d);
    }

    /// A `sold via PSA as "…"` line: a declared PSA, one item per PSA.
    fn sold(&mut self, s: &'a Sold, span: Span, owner: &str, seen: &mut HashMap<&'a str, Span>) {
        self.require_party(PartyKind::Psa, &s.psa);
        if s.item.node.trim().is_empty() || s.item.node.trim() != s.item.node {
            let d = Diagnostic::new(
                "bad-id",
                format!("catalogue item `{}` is empty or padded", s.item.node),
                s.item.span,
                "not a catalogue identifier",
            )
            .with_help("write the PSA's catalogue item identifier, such as `\"M365-BP\"`");
            self.push(d);
        }
        if let Some(first) = seen.insert(s.psa.node.as_str(), span) {
            let d = Diagnostic::new(
                "duplicate",
                format!("{owner} is sold via `{}` twice", s.psa.node),
                span,
                "second catalogue item",
            )
            .with_related(first, "first catalogue item")
            .with_help("keep one catalogue item per PSA");
            self.push(d);
        }
    }

    /// A product with a Pax8 product id needs a commitment id for every term it is priced
    /// on (Pax8 refuses NCE orders without one); one with a TD SYNNEX product id needs a SKU
    /// id and a plan for every price line.
    fn required_ids(&mut self, p: &Product, owner: &str, offers: &[Priced], ids: &Ids<'a>) {
        let mut missing: Vec<(Span, String, String)> = Vec::new();
        if let Some((_, span)) = ids.parts.get(PAX8).filter(|(p, _)| p.id.is_some()) {
            let mut terms: Vec<Option<u32>> = offers.iter().map(|(m, _)| *m).collect();
            terms.sort();
            terms.dedup();
            for m in terms.into_iter().flatten() {
                if !ids.commitments.contains_key(&(PAX8, Some(m))) {
                    let term = term_of(p, m);
                    missing.push((
                        *span,
                        format!("{owner} is bought via pax8 but has no commitment id for {term}"),
                        format!(
                            "add `commitment {term} via pax8 id \"…\"` (the uuid Pax8 lists in \
                             `GET /products/{{id}}/dependencies` `commitmentDependencies[]`)"
                        ),
                    ));
                }
            }
        }
        if let Some((part, span)) = ids.parts.get(TDSYNNEX).filter(|(p, _)| p.id.is_some()) {
            if part.sku.is_none() {
                missing.push((
                    *span,
                    format!("{owner} is bought via tdsynnex but has no SKU id"),
                    "add `sku \"sku--…\"` after its product id".to_string(),
                ));
            }
            for (m, b) in offers {
                if !ids.plans.contains_key(&(TDSYNNEX, *m, *b)) {
                    let on = plan_words(p, *m, *b);
                    missing.push((
                        *span,
                        format!("{owner} is bought via tdsynnex but has no plan id for {on}"),
                        format!("add `plan {on} via tdsynnex id \"…\"`"),
                    ));
                }
            }
        }
        for (span, message, help) in missing {
            let d = Diagnostic::new("missing-id", message, span, "its ids are incomplete")
                .with_help(help);
            self.push(d);
        }
    }
}

/// A term as the product's price lines spell it (`P1Y`, not `P12M`, when written so).
fn term_of(p: &Product, months: u32) -> String {
    p.entries
        .iter()
        .find_map(|e| match &e.node {
            ProductEntry::Offer(o) if o.term.node.months() == Some(months) => {
                Some(o.term.node.to_string())
            }
            _ => None,
        })
        .unwrap_or_else(|| format!("P{months}M"))
}

/// `P1Y monthly` for a plan line's term and billing.
fn plan_words(p: &Product, months: Option<u32>, billing: Option<Billing>) -> String {
    let term = match months {
        Some(m) => term_of(p, m),
        None => "one-time".to_string(),
    };
    match (months, billing) {
        (Some(_), Some(b)) => format!("{term} {}", b.keyword()),
        _ => term,
    }
}

/// The priced (term, billing) pairs of a product's offers.
pub(super) fn priced(p: &Product) -> Vec<Priced> {
    p.entries
        .iter()
        .filter_map(|e| match &e.node {
            ProductEntry::Offer(o) => Some((o.term.node.months(), effective_billing(o))),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_in_canonical_form_only() {
        assert!(is_uuid("9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33"));
        assert!(!is_uuid("9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b3"));
        assert!(!is_uuid("MST-NCE-M365BP"));
        assert!(!is_uuid("9b2e4d613c7f4a58b1e07d6c2f9a4b33"));
        assert!(!is_uuid("9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4bzz"));
    }
}
