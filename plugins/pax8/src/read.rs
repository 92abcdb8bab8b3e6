//! Pax8's answers read into Tenor's lines: orders (`POST /orders` and `GET /orders/{id}`
//! answer with the order, whose line items do not echo `lineItemNumber`), subscriptions and
//! invoice items, paged as `{content, page}`. Money is read from the number's text, exactly.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;
use tenor_plugin_sdk::connector::{
    billing_from_period, date_prefix, invalid, period_end, value_decimal,
};
use tenor_plugin_sdk::exchange::Subscription;
use tenor_plugin_sdk::{InvoiceLine, OrderLine, PluginError};

/// Pax8 `billingTerm` → Tenor billing: a `2-Year` or `3-Year` billing term bills the whole
/// term at its start (`upfront`).
pub fn tenor_billing(pax8: &str) -> Option<&'static str> {
    match pax8.trim().to_ascii_lowercase().as_str() {
        "monthly" => Some("monthly"),
        "annual" => Some("annual"),
        "2-year" | "3-year" => Some("upfront"),
        "one-time" => Some("once"),
        _ => None,
    }
}

/// A Pax8 commitment's `term` (`Monthly`, `1-Year`, `Annual`, `3-Year`…) → Tenor term.
pub fn tenor_commitment(pax8: &str) -> Option<&'static str> {
    match pax8.trim().to_ascii_lowercase().as_str() {
        "monthly" | "1-month" | "1 month" => Some("P1M"),
        "annual" | "1-year" | "1 year" => Some("P1Y"),
        "2-year" | "2 year" => Some("P2Y"),
        "3-year" | "3 year" => Some("P3Y"),
        "one-time" => Some("one-time"),
        _ => None,
    }
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn decimal(v: &Value, k: &str) -> Option<Decimal> {
    value_decimal(v.get(k)?)
}

fn date(v: &Value, k: &str) -> Option<NaiveDate> {
    date_prefix(v.get(k)?.as_str()?)
}

/// The entries of a page (`{content: […], page}`), or of a bare array.
pub(crate) fn content<'v>(v: &'v Value, what: &str) -> Result<&'v [Value], PluginError> {
    match v {
        Value::Array(a) => Ok(a),
        Value::Object(o) => match o.get("content") {
            Some(Value::Array(a)) => Ok(a),
            _ => Err(invalid(format!("not Pax8 {what}: expected `content`"))),
        },
        _ => Err(invalid(format!("not Pax8 {what}"))),
    }
}

/// True when the page says more pages follow (`page.number` + 1 < `page.totalPages`).
pub(crate) fn more_pages(v: &Value) -> bool {
    let page = v.get("page");
    let n = page.and_then(|p| p.get("number")).and_then(Value::as_u64);
    let total = page
        .and_then(|p| p.get("totalPages"))
        .and_then(Value::as_u64);
    matches!((n, total), (Some(n), Some(t)) if n + 1 < t)
}

/// A quantity: a JSON number of whole units, exactly.
fn quantity(item: &Value, at: &str) -> Result<Decimal, PluginError> {
    match item.get("quantity") {
        Some(Value::Number(n)) => tenor_plugin_sdk::json_decimal(n)
            .ok_or_else(|| invalid(format!("{at}: quantity {n} is not a decimal"))),
        _ => Err(invalid(format!(
            "{at}: `quantity` is missing or not a number"
        ))),
    }
}

/// The lines of a Pax8 order: a response (`id`, `companyId`, `createdDate`, `lineItems[]`
/// with `id`, `productId`, `subscriptionId`, `billingTerm`, `quantity`) or the body Tenor
/// sends (which numbers its lines with `lineItemNumber`).
pub(crate) fn order_lines(order: &Value) -> Result<Vec<OrderLine>, PluginError> {
    let Some(items) = order.get("lineItems").and_then(Value::as_array) else {
        return Err(invalid("not a Pax8 order: no `lineItems`"));
    };
    let company = text(order, "companyId");
    let document = text(order, "id")
        .map(|id| format!("Pax8 order {id}"))
        .unwrap_or_else(|| format!("Pax8 order for {}", company.as_deref().unwrap_or("?")));
    items
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let at = format!("{document}, line item {}", i + 1);
            let billing = l
                .get("billingTerm")
                .and_then(Value::as_str)
                .and_then(tenor_billing);
            Ok(OrderLine {
                document: document.clone(),
                reference: None,
                line_ref: l
                    .get("lineItemNumber")
                    .map(|n| n.to_string())
                    .or_else(|| Some((i + 1).to_string())),
                // A Pax8 company uuid, which only the record's links map to a Tenor customer:
                // the order is named by its document, and a pull knows whose orders it read.
                customer: None,
                part_number: text(l, "productId")
                    .ok_or_else(|| invalid(format!("{at}: no `productId`")))?,
                quantity: quantity(l, &at)?,
                // `billingTerm` is the billing; only a one-time item's says its term too.
                term: (billing == Some("once")).then(|| "one-time".into()),
                billing: billing.map(str::to_string),
                start: date(l, "provisionStartDate").or_else(|| date(order, "createdDate")),
                end: None,
                unit_cost: None,
                // Only the body Tenor sends names the commitment; a response has none.
                plan: text(l, "commitmentTermId"),
            })
        })
        .collect()
}

/// The subscriptions of a page of `GET /subscriptions`: `id`, `companyId`, `productId`,
/// `quantity`, `status`, `billingTerm`, `commitmentTerm {id, term, endDate}`, `startDate`,
/// `endDate`, `price` (the customer's), `partnerCost` (the MSP's).
pub(crate) fn subscriptions(page: &Value) -> Result<Vec<Subscription>, PluginError> {
    content(page, "subscriptions")?
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("subscription {}", i + 1);
            let commitment = s.get("commitmentTerm");
            Ok(Subscription {
                id: text(s, "id").ok_or_else(|| invalid(format!("{at}: no `id`")))?,
                customer: text(s, "companyId"),
                reference: None,
                agreement: None,
                part_number: text(s, "productId")
                    .ok_or_else(|| invalid(format!("{at}: no `productId`")))?,
                quantity: quantity(s, &at)?,
                status: text(s, "status").unwrap_or_default(),
                term: commitment
                    .and_then(|c| c.get("term"))
                    .and_then(Value::as_str)
                    .and_then(tenor_commitment)
                    .map(str::to_string),
                billing: s
                    .get("billingTerm")
                    .and_then(Value::as_str)
                    .and_then(tenor_billing)
                    .map(str::to_string),
                start: date(s, "startDate"),
                // Pax8's dates are the last day of service; Tenor's ends are exclusive.
                end: commitment
                    .and_then(|c| date(c, "endDate"))
                    .or_else(|| date(s, "endDate"))
                    .and_then(period_end),
                unit_cost: decimal(s, "partnerCost"),
                unit_price: decimal(s, "price"),
                plan: commitment.and_then(|c| text(c, "id")),
            })
        })
        .collect()
}

/// The lines of a page of invoice items (`GET /invoices/{id}/items`; items carry no invoice
/// id, so `invoice` names it). The amount is what Pax8 charges the MSP (`costTotal`, `cost`
/// per unit), not the customer price it holds for the partner (`price`, `subTotal`).
pub(crate) fn invoice_items(invoice: &str, page: &Value) -> Result<Vec<InvoiceLine>, PluginError> {
    content(page, "invoice items")?
        .iter()
        .enumerate()
        .map(|(i, item)| invoice_line(invoice, i, item))
        .collect()
}

fn invoice_line(invoice: &str, i: usize, item: &Value) -> Result<InvoiceLine, PluginError> {
    let at = format!("invoice {invoice}, item {}", i + 1);
    let amount = decimal(item, "costTotal")
        .ok_or_else(|| invalid(format!("{at}: `costTotal` is missing or not a number")))?;
    let start = date(item, "startPeriod");
    let end = end_period(start, date(item, "endPeriod"));
    // The item's `term` is its billing term (the spec's enum: `Monthly`, `Annual`, `2 Year`,
    // `3 Year`, `One-Time`…), not the commitment: `Monthly` on a P1Y licence is P1Y billed
    // monthly. Only a term billed whole (2 or 3 years, once) says the commitment too. Without a
    // term, the period tells the billing; Pax8 sells no quarterly billing, so a period of
    // about three months is not read as one.
    let billing_term = text(item, "term").map(|t| t.trim().replace(' ', "-"));
    let billing = billing_term
        .as_deref()
        .and_then(tenor_billing)
        .or_else(|| {
            start
                .zip(end)
                .and_then(|(s, e)| billing_from_period(s, e))
                .filter(|b| *b != "quarterly")
        })
        .map(str::to_string);
    let term = billing_term
        .as_deref()
        .filter(|t| matches!(tenor_billing(t), Some("upfront" | "once")))
        .and_then(tenor_commitment)
        .map(str::to_string);
    Ok(InvoiceLine {
        serial_numbers: Vec::new(),
        document: invoice.to_string(),
        reference: None,
        customer: text(item, "companyId"),
        part_number: text(item, "productId")
            .or_else(|| text(item, "sku"))
            .unwrap_or_default(),
        description: text(item, "description")
            .or_else(|| text(item, "productName"))
            .unwrap_or_default(),
        quantity: quantity(item, &at)?,
        unit_price: decimal(item, "cost"),
        amount,
        period_start: start,
        period_end: end,
        term,
        billing,
        date: None,
    })
}

/// `endPeriod` appears in Pax8's examples both as the last day billed (`2026-12-31`) and as
/// the day after (`2027-01-01`): a period that ends on the day its start repeats (the 1st for
/// a period starting on the 1st) is taken as exclusive, any other as its last day.
fn end_period(start: Option<NaiveDate>, end: Option<NaiveDate>) -> Option<NaiveDate> {
    use chrono::Datelike;
    let end = end?;
    match start {
        Some(s) if end.day() == s.day() && end > s => Some(end),
        _ => period_end(end),
    }
}

/// True for a Pax8 order or page of invoice items or subscriptions.
pub(crate) fn detect(text: &str) -> bool {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let is_order = v.get("lineItems").is_some() && v.get("companyId").is_some();
    let first = content(&v, "").ok().and_then(|c| c.first());
    is_order
        || first
            .is_some_and(|f| f.get("subscriptionId").is_some() && f.get("startPeriod").is_some())
}
