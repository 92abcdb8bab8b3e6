//! Readers of Tenor's own order and invoice files.

use crate::engine::quote::Quote;
use chrono::NaiveDate;
use std::path::Path;
use tenor_plugin_sdk::docs::{self, PurchaseOrder};
use tenor_plugin_sdk::{InvoiceLine, OrderLine};

/// Schema of a file of normalised order lines: `{"schema": …, "lines": [OrderLine…]}`.
pub const ORDER_LINES: &str = "tenor.order-lines/1";
/// Schema of a file of normalised invoice lines: `{"schema": …, "lines": [InvoiceLine…]}`.
pub const INVOICE_LINES: &str = "tenor.invoice-lines/1";

#[derive(serde::Deserialize)]
struct LinesFile {
    #[serde(default)]
    document: Option<String>,
    lines: Vec<serde_json::Value>,
}

/// Fills a missing `document` of each line (the file's own, else the file name).
fn with_document(lines: Vec<serde_json::Value>, default: &str) -> Vec<serde_json::Value> {
    lines
        .into_iter()
        .map(|mut v| {
            if let Some(o) = v.as_object_mut() {
                if !o.contains_key("document") {
                    o.insert("document".into(), default.into());
                }
            }
            v
        })
        .collect()
}

/// The file name of a path, for a line that names no document.
fn base_name(name: &str) -> String {
    Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| name.to_string())
}

/// Reads lines in one of Tenor's own formats: a JSON array of them (when every element has
/// `fields`), a file of them (`lines_schema`), or a whole document that `document` turns into
/// lines (it answers `None` for a schema it does not read). `Ok(None)` when the text is in none
/// of them; another Tenor document is an error saying it is not `wanted`.
fn read_lines<T: serde::de::DeserializeOwned>(
    name: &str,
    text: &str,
    fields: &[&str],
    lines_schema: &str,
    wanted: &str,
    document: impl FnOnce(&str, serde_json::Value) -> Option<Result<Vec<T>, serde_json::Error>>,
) -> Result<Option<Vec<T>>, String> {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    let bad = |e: serde_json::Error| format!("{name}: {e}");
    let default = base_name(name);
    let schema = match &v {
        serde_json::Value::Array(a) => {
            // Only an array of our lines is ours; a vendor's array goes to the plugins.
            if !a.iter().all(|x| fields.iter().all(|f| x.get(f).is_some())) {
                return Ok(None);
            }
            let lines = with_document(a.clone(), &default);
            return serde_json::from_value(serde_json::Value::Array(lines))
                .map(Some)
                .map_err(bad);
        }
        serde_json::Value::Object(o) => match o.get("schema").and_then(|s| s.as_str()) {
            Some(s) => s.to_string(),
            None => return Ok(None),
        },
        _ => return Ok(None),
    };
    if schema == lines_schema {
        let f: LinesFile = serde_json::from_value(v).map_err(bad)?;
        let doc = f.document.unwrap_or(default);
        return serde_json::from_value(serde_json::Value::Array(with_document(f.lines, &doc)))
            .map(Some)
            .map_err(bad);
    }
    if let Some(lines) = document(&schema, v) {
        return lines.map(Some).map_err(bad);
    }
    if schema.starts_with("tenor.") {
        return Err(format!("{name} is a `{schema}` document, not {wanted}"));
    }
    Ok(None)
}

/// Reads order lines in one of Tenor's own formats: a purchase order (`tenor.purchase-order/2`),
/// a file of order lines (`tenor.order-lines/1`) or a JSON array of them. `Ok(None)` when the
/// text is in none of them (a vendor's document, for a plugin to read).
pub fn parse_orders(name: &str, text: &str) -> Result<Option<Vec<OrderLine>>, String> {
    read_lines(
        name,
        text,
        &["part_number"],
        ORDER_LINES,
        "a purchase order or order lines",
        |schema, v| {
            (schema == docs::PURCHASE_ORDER)
                .then(|| docs::from_value_strict::<PurchaseOrder>(v).map(|po| order_lines(&po)))
        },
    )
}

/// A purchase order's lines as order lines read back.
fn order_lines(po: &PurchaseOrder) -> Vec<OrderLine> {
    po.lines
        .iter()
        .map(|l| OrderLine {
            document: po.id.clone(),
            reference: Some(po.id.clone()),
            line_ref: Some(l.line.to_string()),
            customer: Some(po.customer.id.clone()),
            part_number: l
                .distributor_product_id
                .clone()
                .unwrap_or_else(|| l.part_number.clone()),
            quantity: l.quantity,
            term: Some(l.term.clone()),
            billing: Some(l.billing.clone()),
            start: Some(l.first_term_start),
            // What the MSP committed to: the first term and the renewals to the customer's end.
            end: Some(l.commitment_end),
            unit_cost: l.unit_cost,
            plan: l.commitment_term_id.clone().or_else(|| l.plan_id.clone()),
        })
        .collect()
}

/// Reads invoice lines in one of Tenor's own formats: an invoice schedule
/// (`tenor.invoice-schedule/1`, its quantities taken from the quote's lines), a file of invoice
/// lines (`tenor.invoice-lines/1`) or a JSON array of them. `Ok(None)` when the text is in none
/// of them.
pub fn parse_invoices(
    name: &str,
    text: &str,
    quote: &Quote,
) -> Result<Option<Vec<InvoiceLine>>, String> {
    read_lines(
        name,
        text,
        &["part_number", "amount"],
        INVOICE_LINES,
        "an invoice schedule or invoice lines",
        |schema, v| {
            (schema == docs::INVOICE_SCHEDULE).then(|| {
                docs::from_value_strict::<docs::InvoiceSchedule>(v)
                    .map(|sched| schedule_lines(&sched, quote))
            })
        },
    )
}

/// Tenor's own schedule as invoice lines: one per line and period (a charge with its
/// discounts), quantity, term and billing from the quote line it names.
fn schedule_lines(sched: &docs::InvoiceSchedule, quote: &Quote) -> Vec<InvoiceLine> {
    let mut out: Vec<InvoiceLine> = Vec::new();
    let mut last: Option<(u32, NaiveDate, NaiveDate)> = None;
    let mut sorted: Vec<&docs::ScheduledCharge> = sched.charges.iter().collect();
    sorted.sort_by_key(|c| (c.line, c.period_start, c.period_end));
    for c in sorted {
        let key = (c.line, c.period_start, c.period_end);
        if last == Some(key) {
            if let Some(l) = out.last_mut() {
                l.amount = l.amount.saturating_add(c.amount);
            }
            continue;
        }
        last = Some(key);
        let ql = usize::try_from(c.line)
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|n| quote.lines.get(n))
            .filter(|l| l.product.as_str() == &*c.product);
        let once = c.kind == "one_time";
        out.push(InvoiceLine {
            serial_numbers: Vec::new(),
            document: sched.id.clone(),
            reference: Some(sched.sales_order.clone()),
            customer: Some(sched.customer.id.clone()),
            part_number: c.product.to_string(),
            description: String::new(),
            quantity: ql.map(|l| l.quantity).unwrap_or_default(),
            unit_price: None,
            amount: c.amount,
            period_start: Some(c.period_start),
            period_end: (!once).then_some(c.period_end),
            term: ql.map(|l| l.term.clone()),
            billing: ql.and_then(|l| l.billing.clone()),
            date: Some(c.bill_date),
        });
    }
    out
}
