//! Reading Ingram Micro's documents back: the order-create body Tenor wrote, Ingram's answer to
//! it (`orders[].lines[]`, 201/207), the order detail (`GET /resellers/v6.1/orders/{n}`: one
//! order, its `lines[]` at the top), and invoice details with their serial numbers.

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use tenor_plugin_sdk::connector::{invalid, read_whole_units, value_decimal};
use tenor_plugin_sdk::exchange::Serial;
use tenor_plugin_sdk::{InvoiceLine, OrderLine, PluginError};

use crate::{Invoice, InvoiceDetailLine, Order, Summary, date, money};

/// The lines of an order-create body Tenor wrote (what was asked, not what Ingram holds).
pub fn body_lines(order: &Order) -> Result<Vec<OrderLine>, PluginError> {
    let reference = order.customer_order_number.trim().to_string();
    if reference.is_empty() {
        return Err(invalid(
            "Ingram Micro order has an empty `customerOrderNumber`",
        ));
    }
    let customer = order
        .end_user_info
        .as_ref()
        .and_then(|u| u.company_name.clone());
    order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let at = |field: &str| format!("order line {} `{field}`", i + 1);
            let quantity = read_whole_units(&l.quantity, &at("quantity"))?;
            let unit_cost = l
                .unit_price
                .as_ref()
                .map(|p| money(p, &at("unitPrice")))
                .transpose()?;
            Ok(OrderLine {
                document: reference.clone(),
                reference: Some(reference.clone()),
                line_ref: Some(l.customer_line_number.clone()),
                customer: customer.clone(),
                part_number: l.ingram_part_number.clone(),
                quantity,
                // Ingram's order carries no term, billing or dates.
                unit_cost,
                ..OrderLine::default()
            })
        })
        .collect()
}

/// The lines Ingram holds, from its answer to an order create (`orders[]`, one per order the
/// request was split into) or from an order detail (one order, `lines[]` at the top); `None`
/// for a document of neither shape.
pub fn response_lines(v: &Value) -> Result<Option<Vec<OrderLine>>, PluginError> {
    let Some(o) = v.as_object() else {
        return Ok(None);
    };
    let reference = text(o, "customerOrderNumber");
    if let Some(orders) = o.get("orders").and_then(Value::as_array) {
        let mut lines = Vec::new();
        for (i, order) in orders.iter().enumerate() {
            let order = order
                .as_object()
                .ok_or_else(|| invalid(format!("Ingram Micro `orders[{i}]` is not an object")))?;
            lines.extend(order_lines(
                order,
                reference.as_deref(),
                &format!("orders[{i}]"),
            )?);
        }
        return Ok(Some(lines));
    }
    if o.contains_key("ingramOrderNumber") && o.get("lines").is_some_and(Value::is_array) {
        return order_lines(o, reference.as_deref(), "order").map(Some);
    }
    Ok(None)
}

/// One Ingram order's lines. The quantity Ingram holds is what it confirmed plus what it
/// back-ordered (a rejected part is in neither); `quantityOrdered` only when neither is stated.
fn order_lines(
    order: &Map<String, Value>,
    reference: Option<&str>,
    at: &str,
) -> Result<Vec<OrderLine>, PluginError> {
    let number = text(order, "ingramOrderNumber")
        .ok_or_else(|| invalid(format!("Ingram Micro {at} has no `ingramOrderNumber`")))?;
    let reference = reference
        .map(str::to_string)
        .or_else(|| text(order, "customerOrderNumber"));
    let lines = order
        .get("lines")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let at = format!("Ingram Micro order {number} line {}", i + 1);
            let l = l.as_object().ok_or_else(|| invalid(format!("{at} is not an object")))?;
            let part = text(l, "ingramPartNumber")
                .ok_or_else(|| invalid(format!("{at} has no `ingramPartNumber`")))?;
            let confirmed = whole(l, "quantityConfirmed", &at)?;
            let back_ordered = whole(l, "quantityBackOrdered", &at)?;
            let quantity = match (confirmed, back_ordered) {
                (None, None) => whole(l, "quantityOrdered", &at)?.ok_or_else(|| {
                    invalid(format!(
                        "{at} states none of `quantityConfirmed`, `quantityBackOrdered`, `quantityOrdered`"
                    ))
                })?,
                (c, b) => c.unwrap_or_default() + b.unwrap_or_default(),
            };
            Ok(OrderLine {
                document: number.clone(),
                reference: reference.clone(),
                line_ref: text(l, "customerLineNumber"),
                customer: None,
                part_number: part,
                quantity,
                unit_cost: exact(l, "unitPrice", &at)?,
                ..OrderLine::default()
            })
        })
        .collect()
}

/// A whole, non-negative count from a JSON number; `None` when absent or null.
fn whole(o: &Map<String, Value>, key: &str, at: &str) -> Result<Option<Decimal>, PluginError> {
    match exact(o, key, at)? {
        Some(q) if q.fract().is_zero() && q >= Decimal::ZERO => Ok(Some(q)),
        Some(q) => Err(invalid(format!("{at} `{key}` {q} is not a whole number"))),
        None => Ok(None),
    }
}

/// An exact decimal from a JSON number (or a number written as text); `None` when absent.
fn exact(o: &Map<String, Value>, key: &str, at: &str) -> Result<Option<Decimal>, PluginError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => value_decimal(v)
            .map(Some)
            .ok_or_else(|| invalid(format!("{at} `{key}` {v} is not an exact number"))),
    }
}

fn text(o: &Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// What invoice details read into.
#[derive(Debug, Default)]
pub struct ReadInvoice {
    /// The lines.
    pub lines: Vec<InvoiceLine>,
    /// Every serial number of every line.
    pub serials: Vec<Serial>,
    /// The lines do not add up to `summary.totals.netInvoiceAmount` (a discount or a charge
    /// Ingram nets in, or a line missing): said, not refused.
    pub warning: Option<String>,
}

/// Reads invoice details exactly: amounts from the numbers' text, whole quantities, one
/// currency, serial numbers per line.
pub fn invoice(invoice: &Invoice) -> Result<ReadInvoice, PluginError> {
    let document = invoice.invoice_number.trim().to_string();
    if document.is_empty() {
        return Err(invalid("Ingram Micro invoice has an empty `invoiceNumber`"));
    }
    let date = invoice
        .invoice_date
        .as_deref()
        .map(|d| {
            date(d).ok_or_else(|| {
                invalid(format!(
                    "invoice {document}: `invoiceDate` `{d}` is not a date"
                ))
            })
        })
        .transpose()?;
    let reference = invoice
        .customer_order_number
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let mut read = ReadInvoice::default();
    let mut net = Decimal::ZERO;
    let mut currency: Option<&str> = None;
    for (i, l) in invoice.lines.iter().enumerate() {
        let at = |field: &str| format!("invoice {document} line {} `{field}`", i + 1);
        if let Some(code) = l.currency_code.as_deref() {
            // The net-amount check below only means something in one currency.
            match currency {
                Some(seen) if seen != code => {
                    return Err(invalid(format!(
                        "{} is `{code}` but an earlier line is `{seen}`",
                        at("currencyCode")
                    )));
                }
                _ => currency = Some(code),
            }
        }
        let line = invoice_line(&document, reference, date, l, &at)?;
        net = net
            .checked_add(line.amount)
            .ok_or_else(|| invalid(format!("invoice {document}: the lines' amounts overflow")))?;
        read.serials
            .extend(line.serial_numbers.iter().map(|s| Serial {
                reference: reference.map(str::to_string),
                line_ref: l.customer_line_number.clone(),
                part_number: l.ingram_part_number.clone(),
                serial: s.clone(),
            }));
        read.lines.push(line);
    }
    read.warning = net_amount_warning(&invoice.summary, &document, net)?;
    Ok(read)
}

/// One line of invoice details; `at` names a field of it in an error.
fn invoice_line(
    document: &str,
    reference: Option<&str>,
    date: Option<chrono::NaiveDate>,
    l: &InvoiceDetailLine,
    at: &dyn Fn(&str) -> String,
) -> Result<InvoiceLine, PluginError> {
    let quantity = tenor_plugin_sdk::json_decimal(&l.quantity)
        .filter(|q| q.fract().is_zero())
        .ok_or_else(|| {
            invalid(format!(
                "{} {} is not a whole number",
                at("quantity"),
                l.quantity
            ))
        })?;
    let amount = money(&l.extended_price, &at("extendedPrice"))?;
    Ok(InvoiceLine {
        serial_numbers: serials(l, at)?,
        document: document.to_string(),
        reference: reference.map(str::to_string),
        customer: None,
        part_number: l.ingram_part_number.clone(),
        description: description(l),
        quantity,
        unit_price: l
            .unit_price
            .as_ref()
            .map(|p| money(p, &at("unitPrice")))
            .transpose()?,
        amount,
        period_start: None,
        period_end: None,
        term: None,
        billing: None,
        date,
    })
}

/// `serialNumbers[].serialNumber` (a bare string is taken too); an entry with no serial
/// number in it is an error rather than dropped, and so is the same serial twice on a line.
fn serials(l: &InvoiceDetailLine, at: &dyn Fn(&str) -> String) -> Result<Vec<String>, PluginError> {
    let mut out: Vec<String> = Vec::new();
    for (i, s) in l.serial_numbers.iter().flatten().enumerate() {
        let serial = match s {
            Value::String(t) => Some(t.as_str()),
            other => other.get("serialNumber").and_then(Value::as_str),
        }
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            invalid(format!(
                "{}[{i}] has no serial number: {s}",
                at("serialNumbers")
            ))
        })?;
        if out.iter().any(|o| o == serial) {
            return Err(invalid(format!(
                "{} lists `{serial}` twice",
                at("serialNumbers")
            )));
        }
        out.push(serial.to_string());
    }
    Ok(out)
}

/// A warning when invoice details' lines do not add up to the net amount they state.
fn net_amount_warning(
    summary: &Option<Summary>,
    document: &str,
    net: Decimal,
) -> Result<Option<String>, PluginError> {
    let stated = summary
        .as_ref()
        .and_then(|s| s.totals.as_ref())
        .and_then(|t| t.net_invoice_amount.as_ref());
    let Some(stated) = stated else {
        return Ok(None);
    };
    let stated = money(
        stated,
        &format!("invoice {document} `summary.totals.netInvoiceAmount`"),
    )?;
    Ok((stated != net).then(|| {
        format!(
            "invoice {document}: the lines' `extendedPrice` add up to {net} but `summary.totals.netInvoiceAmount` is {stated} (a discount or charge, or a line missing)"
        )
    }))
}

/// `InvoiceLine` has no field for Ingram's line number or the manufacturer's part number, so
/// they are kept in the description for a person reading a finding.
fn description(l: &InvoiceDetailLine) -> String {
    let mut parts = Vec::new();
    if let Some(n) = l
        .customer_line_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        parts.push(format!("line {n}"));
    }
    if let Some(v) = l
        .vendor_part_number
        .as_deref()
        .filter(|v| !v.trim().is_empty())
    {
        parts.push(format!("vendor part {v}"));
    }
    if let Some(d) = l
        .product_description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        parts.push(d.trim().to_string());
    }
    parts.join("; ")
}
