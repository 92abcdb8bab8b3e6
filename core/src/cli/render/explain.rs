//! The `tenor explain` document for programs (`tenor.explain/1`): every charge's offer, tier
//! rows, proration and discount verdicts with their rule locations, as data.

use crate::engine::pricing::{
    Charge, ChargeKind, LineDetail, PricedLine, PricedQuote, ProrationDetail, TierApplied, Verdict,
};
use serde_json::{Value, json};

/// The explain document of a priced quote (all lines, or only line `only_line`, 1-based).
/// Amounts are decimal strings. The quote must have been priced with
/// `PriceOptions { explain: true }`; otherwise the offer, tiers, proration and verdicts are
/// empty.
pub fn explain_document(p: &PricedQuote, only_line: Option<usize>) -> Value {
    let lines: Vec<Value> = p
        .lines
        .iter()
        .filter(|l| only_line.is_none_or(|n| n == l.line))
        .map(line)
        .collect();
    let t = &p.totals;
    json!({
        "schema": "tenor.explain/1",
        "quote": p.quote,
        "date": p.date.to_string(),
        "currency": p.currency,
        "customer": { "id": p.customer.id, "name": p.customer.name },
        "lines": lines,
        "totals": {
            "first_invoice": t.first_invoice.to_string(),
            "mrr": t.mrr.to_string(),
            "arr": t.arr.to_string(),
            "contract_value": t.contract_value.to_string(),
            "cost": t.cost.to_string(),
            "margin": t.margin.to_string(),
        },
    })
}

/// One line: what it sells, the offer and policy chosen, and its charges.
fn line(l: &PricedLine) -> Value {
    let detail = l.detail.as_deref();
    let tiers: Vec<Value> = detail
        .map(|d| d.tiers.iter().map(tier).collect())
        .unwrap_or_default();
    let charges: Vec<Value> = l.charges.iter().map(|c| charge(c, &tiers)).collect();
    json!({
        "line": l.line,
        "product": &*l.product,
        "name": &*l.name,
        "quantity": l.quantity.to_string(),
        "term": l.term,
        "billing": l.billing,
        "start": l.start.to_string(),
        "term_start": l.term_start.to_string(),
        "end": l.end.to_string(),
        "offer": detail.map(offer),
        "coterm": detail.and_then(|d| d.coterm.as_ref()).map(|(policy, at)| json!({
            "policy": policy,
            "at": at,
        })),
        "charges": charges,
        "first_charge": l.first_charge.to_string(),
        "recurring": l.recurring.to_string(),
        "mrr": l.mrr.to_string(),
    })
}

/// The offer chosen for a line, with its rule location.
fn offer(d: &LineDetail) -> Value {
    json!({ "offer": d.offer, "price": d.price, "at": d.at })
}

/// One tier row applied.
fn tier(t: &TierApplied) -> Value {
    json!({
        "table": t.table,
        "row": t.row,
        "from": t.from.to_string(),
        "to": t.to.map(|d| d.to_string()),
        "units": t.units.to_string(),
        "rate": t.rate.to_string(),
        "flat": t.flat.to_string(),
        "amount": t.amount.to_string(),
        "at": t.at,
    })
}

/// One charge; a gross charge carries the line's tier rows, its proration and the verdict of
/// every discount rule on it.
fn charge(c: &Charge, tiers: &[Value]) -> Value {
    let mut v = json!({
        "kind": c.kind.as_str(),
        "period_start": c.period_start.to_string(),
        "period_end": c.period_end.to_string(),
        "bill_date": c.bill_date.to_string(),
        "amount": c.amount.to_string(),
        "cost": c.cost.to_string(),
    });
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(rule) = &c.rule {
        obj.insert("rule".into(), json!(&**rule));
    }
    if !matches!(c.kind, ChargeKind::Discount | ChargeKind::MinimumTrueUp) {
        obj.insert("tiers".into(), Value::Array(tiers.to_vec()));
    }
    let detail = c.detail();
    if c.kind != ChargeKind::Discount {
        obj.insert(
            "proration".into(),
            detail
                .and_then(|d| d.proration.as_ref())
                .map_or(Value::Null, proration),
        );
        let verdicts: Vec<Value> = detail
            .map(|d| d.verdicts.iter().map(verdict).collect())
            .unwrap_or_default();
        obj.insert("discounts".into(), Value::Array(verdicts));
    }
    let steps: Vec<Value> = c
        .steps()
        .iter()
        .map(|s| json!({ "text": s.text, "at": s.at }))
        .collect();
    obj.insert("steps".into(), Value::Array(steps));
    v
}

/// How much of its billing period a charge covers.
fn proration(p: &ProrationDetail) -> Value {
    json!({
        "unit": p.unit,
        "covered": p.covered,
        "of": p.of,
        "day_basis": p.day_basis,
        "billing_period": [p.period.0.to_string(), p.period.1.to_string()],
    })
}

/// One discount rule's verdict on a charge.
fn verdict(v: &Verdict) -> Value {
    json!({
        "name": &*v.rule,
        "verdict": if v.applied { "applied" } else { "skipped" },
        "why": v.why,
        "amount": v.amount.to_string(),
        "at": v.at,
    })
}

#[cfg(test)]
pub(super) mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        reason = "tests"
    )]
    use super::*;
    use crate::engine::catalogue::Catalogue;
    use crate::engine::pricing::{PriceOptions, price};
    use crate::engine::quote::QuoteFile;
    use std::path::Path;

    /// The example rule set's dental-practice quote, priced.
    pub(in crate::cli::render) fn example(explain: bool) -> PricedQuote {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
        let sources = tenor_dsl::load(std::slice::from_ref(&root)).unwrap();
        let rules = tenor_dsl::check(&sources).unwrap();
        let cat = Catalogue::compile(&rules, &sources);
        let path = root.join("quotes/q1001-dental-practice.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let quote = QuoteFile::parse("q1001.yaml", &text).unwrap().quote;
        price(&cat, &quote, &PriceOptions { explain }).unwrap()
    }

    #[test]
    fn explain_document_gives_offers_proration_tiers_and_verdicts() {
        let doc = explain_document(&example(true), None);
        assert_eq!(doc["schema"], "tenor.explain/1");
        let m365 = &doc["lines"][0];
        assert_eq!(m365["product"], "M365-BP");
        assert_eq!(m365["offer"]["offer"], "P1Y monthly");
        assert!(
            m365["offer"]["at"]
                .as_str()
                .unwrap()
                .contains("microsoft-365.tenor:")
        );
        // DOMAIN.md: daily proration counts the days of the piece over the days of the billing
        // period ending where it ends. Start 2026-12-07, monthly boundaries on the 1st:
        // [2026-12-07, 2027-01-01) is 25 days of December's 31.
        let stub = &m365["charges"][0];
        assert_eq!(stub["kind"], "stub");
        assert_eq!(stub["proration"]["unit"], "days");
        assert_eq!(stub["proration"]["covered"], 25);
        assert_eq!(stub["proration"]["of"], 31);
        assert_eq!(stub["proration"]["day_basis"], "actual");
        // 25 × 22.00 × 25/31 = 443.548… → 443.55.
        assert_eq!(stub["amount"], "443.55");
        // The customer is commercial: DOMAIN.md's nonprofit discount does not apply.
        let nonprofit = &stub["discounts"][0];
        assert_eq!(nonprofit["name"], "nonprofit");
        assert_eq!(nonprofit["verdict"], "skipped");
        assert_eq!(nonprofit["amount"], "0.00");
        assert!(
            nonprofit["why"]
                .as_str()
                .unwrap()
                .contains("segment nonprofit")
        );
        assert!(
            nonprofit["at"]
                .as_str()
                .unwrap()
                .contains("policies.tenor:")
        );
        // The managed-device line: 28 devices in tier 2 at 40.00; `welcome` takes 10% of the
        // stub (28 × 40.00 × 25/31 = 903.23 → 90.32).
        let device = &doc["lines"][3];
        let stub = &device["charges"][0];
        assert_eq!(stub["tiers"][0]["row"], 2);
        assert_eq!(stub["tiers"][0]["units"], "28");
        assert_eq!(stub["tiers"][0]["rate"], "40.00");
        assert_eq!(stub["tiers"][0]["amount"], "1120.00");
        let welcome = stub["discounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "welcome")
            .unwrap();
        assert_eq!(welcome["verdict"], "applied");
        assert_eq!(welcome["amount"], "90.32");
        assert_eq!(device["charges"][1]["kind"], "discount");
        assert_eq!(device["charges"][1]["amount"], "-90.32");
        // One line only.
        let one = explain_document(&example(true), Some(5));
        assert_eq!(one["lines"].as_array().unwrap().len(), 1);
        assert_eq!(one["lines"][0]["product"], "ONBOARDING");
    }

    #[test]
    fn pricing_without_explain_builds_no_records() {
        let p = example(false);
        assert!(p.lines.iter().all(|l| l.detail.is_none()));
        assert!(
            p.lines
                .iter()
                .flat_map(|l| &l.charges)
                .all(|c| c.explained.is_none())
        );
    }
}
