//! Tenor's Pax8 connector. Purchase orders become Pax8 `POST /orders` bodies; Pax8 order
//! bodies and invoice items (`GET /invoices/{id}/items`) are read back for the three-way match.
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

/// Tenor term → Pax8 `billingTerm` (VENDORS.md's table): the commitment, not the billing.
pub fn billing_term(term: &str) -> Result<&'static str, PluginError> {
    Ok(match term {
        "P1M" => "Monthly",
        "P1Y" => "Annual",
        "P2Y" => "2-Year",
        "P3Y" => "3-Year",
        "one-time" => "One-Time",
        other => {
            return Err(PluginError::Invalid(format!(
                "Pax8 has no billing term for a `{other}` commitment"
            )));
        }
    })
}

/// Pax8 `billingTerm` (order) or `term` (invoice) → Tenor term.
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
                billing_term: billing_term(&l.term)?.to_string(),
                provision_start_date: Some(format!("{}T00:00:00Z", l.start)),
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
                term: tenor_term(&l.billing_term).map(str::to_string),
                billing: None,
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
    fn terms_map_both_ways() {
        for t in ["P1M", "P1Y", "P2Y", "P3Y", "one-time"] {
            assert_eq!(tenor_term(billing_term(t).unwrap()), Some(t));
        }
        assert_eq!(tenor_term("3 Year"), Some("P3Y"));
        assert!(billing_term("P5Y").is_err());
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
