//! Tenor's Pax8 connector. Purchase orders become Pax8 `POST /orders` bodies; Pax8 order
//! bodies and invoice items (`GET /invoices/{id}/items`) are read back for the three-way match.
//!
//! `billingTerm` is how often Pax8 bills (VENDORS.md), read from the purchase-order line's
//! `billing`, never from its commitment. The commitment is `commitmentTermId`, a Pax8 uuid
//! from the product's dependencies that the rules do not hold: it is left out, so the body
//! does not state the commitment and reads back without a term (the three-way match then takes
//! the sold one). Metered products are in the purchase order's `usage`, which Pax8's order
//! does not take: they are left off.
//!
//! Pax8 has no idempotency key, so each line carries `lineItemNumber` = the purchase order's
//! line number, and the file is named after the Tenor purchase order. Fields this connector
//! cannot know from Tenor's documents (`companyId` is Pax8's own uuid for the customer) are set
//! by one mapping function each, so they are easy to change.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tenor_plugin_sdk::connector::{
    billing_from_period, date_prefix, period_end, read_json, value_decimal,
};
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::{
    Capability, InvoiceLine, OrderLine, Plugin, PluginError, PluginInfo, Rendered,
};

/// The Pax8 connector.
#[derive(Default)]
pub struct Pax8;

/// Pax8 create-order body.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Pax8's id of the customer company.
    pub company_id: String,
    /// Who places the order.
    pub ordered_by: String,
    /// The lines.
    pub line_items: Vec<LineItem>,
}

/// A Pax8 order line.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Our own line reference (Pax8 has no idempotency key).
    pub line_item_number: u32,
    /// Pax8's product uuid.
    pub product_id: String,
    /// Seats.
    pub quantity: Decimal,
    /// `Monthly`, `Annual`, `2-Year`, `3-Year`, `One-Time`.
    pub billing_term: String,
    /// When provisioning starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provision_start_date: Option<String>,
}

/// Tenor (term, billing) → Pax8 `billingTerm`, how often Pax8 bills (VENDORS.md's table):
/// `monthly` → `Monthly`, `annual` → `Annual`, the whole term at once (`upfront`) → `Monthly`,
/// `Annual`, `2-Year` or `3-Year` by the term, one-time → `One-Time`.
pub fn billing_term(term: &str, billing: &str) -> Result<&'static str, PluginError> {
    Ok(match (term, billing) {
        ("one-time", _) => "One-Time",
        (_, "monthly") | ("P1M", "upfront") => "Monthly",
        (_, "annual") | ("P1Y", "upfront") => "Annual",
        ("P2Y", "upfront") => "2-Year",
        ("P3Y", "upfront") => "3-Year",
        (term, billing) => {
            return Err(PluginError::Invalid(format!(
                "Pax8 has no billing term for a `{term}` commitment billed `{billing}`"
            )));
        }
    })
}

/// Pax8 `billingTerm` → Tenor billing frequency: a `2-Year` or `3-Year` billing term bills the
/// whole term at its start (`upfront`).
pub fn tenor_billing(pax8: &str) -> Option<&'static str> {
    match pax8.trim().to_ascii_lowercase().as_str() {
        "monthly" => Some("monthly"),
        "annual" => Some("annual"),
        "2-year" | "3-year" => Some("upfront"),
        "one-time" => Some("once"),
        _ => None,
    }
}

/// Pax8 invoice `term` → Tenor term.
pub fn tenor_term(pax8: &str) -> Option<&'static str> {
    match pax8.trim().to_ascii_lowercase().as_str() {
        "monthly" => Some("P1M"),
        "annual" => Some("P1Y"),
        "2-year" | "2 year" => Some("P2Y"),
        "3-year" | "3 year" => Some("P3Y"),
        "one-time" => Some("one-time"),
        _ => None,
    }
}

/// Pax8's company id for the customer: Tenor's customer id, which MSPs using Pax8 set to the
/// Pax8 company uuid (a mapping table would go here).
fn company_id(po: &PurchaseOrder) -> String {
    po.customer.id.clone()
}

/// Pax8's product id for a line: the rules' `bought via pax8 as "…" id "…"`, else the part number.
fn product_id(l: &PurchaseOrderLine) -> String {
    l.distributor_product_id
        .clone()
        .unwrap_or_else(|| l.part_number.clone())
}

impl Plugin for Pax8 {
    fn info(&self) -> PluginInfo {
        PluginInfo::distributor(
            "pax8",
            env!("CARGO_PKG_VERSION"),
            &[
                Capability::RenderPurchaseOrder,
                Capability::ParseOrder,
                Capability::ParseInvoice,
                Capability::Detect,
            ],
        )
    }

    fn render_purchase_order(&self, po: &PurchaseOrder) -> Result<Vec<Rendered>, PluginError> {
        let mut items = Vec::with_capacity(po.lines.len());
        for l in &po.lines {
            items.push(LineItem {
                line_item_number: l.line,
                product_id: product_id(l),
                quantity: l.quantity,
                billing_term: billing_term(&l.term, &l.billing)?.to_string(),
                provision_start_date: Some(format!("{}T00:00:00Z", l.first_term_start)),
            });
        }
        let order = Order {
            company_id: company_id(po),
            ordered_by: "Pax8 Partner".into(),
            line_items: items,
        };
        Ok(vec![Rendered::json(
            format!("{}.pax8-order", po.id),
            &order,
        )?])
    }

    fn parse_order(&self, text: &str) -> Result<Vec<OrderLine>, PluginError> {
        let order: Order = read_json(text, "a Pax8 order")?;
        Ok(order
            .line_items
            .iter()
            .map(|l| OrderLine {
                document: format!("Pax8 order for {}", order.company_id),
                reference: None,
                line_ref: Some(l.line_item_number.to_string()),
                customer: Some(order.company_id.clone()),
                part_number: l.product_id.clone(),
                quantity: l.quantity,
                // `billingTerm` is the billing; only a one-time item's says its term too.
                term: (tenor_billing(&l.billing_term) == Some("once")).then(|| "one-time".into()),
                billing: tenor_billing(&l.billing_term).map(str::to_string),
                start: l.provision_start_date.as_deref().and_then(date_prefix),
                end: None,
                unit_cost: None,
            })
            .collect())
    }

    fn parse_invoice(&self, text: &str) -> Result<Vec<InvoiceLine>, PluginError> {
        let v: Value = read_json(text, "JSON")?;
        // The items endpoint pages its results under `content`; a bare array is accepted too.
        let items = match &v {
            Value::Array(a) => a.clone(),
            Value::Object(o) => match o.get("content") {
                Some(Value::Array(a)) => a.clone(),
                _ => {
                    return Err(PluginError::Invalid(
                        "not Pax8 invoice items: expected an array or `content`".into(),
                    ));
                }
            },
            _ => return Err(PluginError::Invalid("not Pax8 invoice items".into())),
        };
        let invoice = v
            .get("invoiceId")
            .and_then(Value::as_str)
            .unwrap_or("pax8-invoice")
            .to_string();
        items
            .iter()
            .enumerate()
            .map(|(i, item)| invoice_line(&invoice, i, item))
            .collect()
    }

    fn detect(&self, text: &str) -> bool {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        let is_order = v.get("lineItems").is_some() && v.get("companyId").is_some();
        let first = match &v {
            Value::Array(a) => a.first(),
            Value::Object(o) => o
                .get("content")
                .and_then(Value::as_array)
                .and_then(|a| a.first()),
            _ => None,
        };
        is_order
            || first.is_some_and(|f| {
                f.get("subscriptionId").is_some() && f.get("startPeriod").is_some()
            })
    }
}

/// Money arrives as JSON numbers: read their text into a Decimal, never through f64.
fn decimal(v: Option<&Value>) -> Option<Decimal> {
    value_decimal(v?)
}

fn date(v: Option<&Value>) -> Option<NaiveDate> {
    date_prefix(v?.as_str()?)
}

fn invoice_line(invoice: &str, i: usize, item: &Value) -> Result<InvoiceLine, PluginError> {
    let field = |k: &str| item.get(k);
    let bad = |k: &str| {
        PluginError::Invalid(format!(
            "invoice item {}: field `{k}` is missing or not a number",
            i + 1
        ))
    };
    let quantity = decimal(field("quantity")).ok_or_else(|| bad("quantity"))?;
    let amount = decimal(field("subTotal"))
        .or_else(|| decimal(field("total")))
        .ok_or_else(|| bad("subTotal"))?;
    let start = date(field("startPeriod"));
    // Pax8's `endPeriod` is the last day billed; Tenor's periods end the day after.
    let end = date(field("endPeriod")).and_then(period_end);
    // Pax8 sells no quarterly billing: a period of about three months is not read as one.
    let billing = start
        .zip(end)
        .and_then(|(s, e)| billing_from_period(s, e))
        .filter(|b| *b != "quarterly")
        .map(str::to_string);
    Ok(InvoiceLine {
        serial_numbers: Vec::new(),
        document: invoice.to_string(),
        reference: None,
        customer: field("companyId")
            .and_then(Value::as_str)
            .map(str::to_string),
        part_number: field("sku")
            .or_else(|| field("productId"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        description: field("description")
            .or_else(|| field("productName"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        quantity,
        unit_price: decimal(field("price")),
        amount,
        period_start: start,
        period_end: end,
        term: field("term")
            .and_then(Value::as_str)
            .and_then(tenor_term)
            .map(str::to_string),
        billing,
        date: None,
    })
}

tenor_plugin_sdk::export_plugin!(Pax8);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_terms_are_the_billing_not_the_commitment() {
        // VENDORS.md: P1Y monthly → `Monthly` (+ a 1-Year commitment), P1Y annual → `Annual`,
        // P3Y monthly / annual → `Monthly` / `Annual`, P3Y upfront → `3-Year`.
        for (term, billing, pax8, back) in [
            ("P1M", "monthly", "Monthly", "monthly"),
            ("P1Y", "monthly", "Monthly", "monthly"),
            ("P1Y", "annual", "Annual", "annual"),
            ("P3Y", "monthly", "Monthly", "monthly"),
            ("P3Y", "annual", "Annual", "annual"),
            ("P3Y", "upfront", "3-Year", "upfront"),
            ("one-time", "once", "One-Time", "once"),
        ] {
            assert_eq!(billing_term(term, billing).unwrap(), pax8);
            assert_eq!(tenor_billing(pax8), Some(back));
        }
        assert!(billing_term("P1Y", "quarterly").is_err());
        assert_eq!(tenor_term("3 Year"), Some("P3Y"));
    }

    #[test]
    fn reads_invoice_amounts_exactly() {
        let text = r#"{"invoiceId":"INV-9","content":[{"companyId":"c1","sku":"MST-NCE-M365BP","quantity":45,"price":22.0,"subTotal":990.00,"startPeriod":"2026-12-01","endPeriod":"2026-12-31","term":"Annual","subscriptionId":"s1"}]}"#;
        let lines = Pax8.parse_invoice(text).unwrap();
        assert_eq!(lines[0].amount.to_string(), "990.00");
        assert_eq!(lines[0].period_end, NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(lines[0].billing.as_deref(), Some("monthly"));
        assert_eq!(lines[0].term.as_deref(), Some("P1Y"));
        assert!(Pax8.detect(text));
    }
}
