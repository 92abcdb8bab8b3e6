//! The conversations with Ingram Micro's Reseller API (see the SDK's `exchange`): a push
//! creates the order, a pull reads the orders pushed and the month's invoices.
//!
//! Requests carry no headers: `IM-CustomerNumber`, `IM-CountryCode` and `IM-SenderID` are the
//! MSP's Ingram account, the host's configuration, and the host gives each request its own
//! `IM-CorrelationID` (Ingram's spec: at most 32 characters, unique per transaction), which
//! a deterministic plugin cannot make unique.
//!
//! A push is one create. Ingram has no idempotency key, but it refuses a second order with
//! the same `customerOrderNumber` (the Tenor PO id): that refusal means "already ordered" and
//! is read back with the order search, never failed on. A create whose answer was lost is
//! looked up first too, and created again only when the search finds nothing.

use chrono::{Months, NaiveDate};
use serde_json::Value;
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::conversation::{
    Conversation, Create, Flow, Refused, request, vendor_message,
};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{
    Effect, Method, PullInput, PullKind, PullStep, Pulled, PushDocument, PushInput, PushStep,
    Request, Response, VendorRef,
};
use tenor_plugin_sdk::{PluginError, step};

use crate::{Invoice, order_body, read};

/// The order-create path.
pub const ORDERS: &str = "/resellers/v6/orders";
/// The order search path.
pub const ORDER_SEARCH: &str = "/resellers/v6/orders/search";
/// The invoice search path.
pub const INVOICES: &str = "/resellers/v6/invoices";
/// Invoices asked for per page (Ingram's most).
pub const PAGE_SIZE: usize = 100;

/// The next step of pushing a purchase order.
pub fn push_step(input: &PushInput) -> Result<PushStep, PluginError> {
    let po = match &input.document {
        PushDocument::PurchaseOrder { purchase_order } => purchase_order,
        PushDocument::Sales { .. } => {
            return Err(invalid(
                "Ingram Micro takes purchase orders, not the PSA's sales order and agreements",
            ));
        }
        PushDocument::Change { .. } => {
            return Err(invalid(
                "Ingram Micro's Reseller API holds orders, not subscription quantities: a seat change on an Ingram line is a new order or a return, made by hand",
            ));
        }
        PushDocument::Serials { .. } => {
            return Err(invalid(
                "serial numbers come from Ingram Micro's invoices; they are not pushed to it",
            ));
        }
    };
    // The host fills the push's accounts; a purchase order sent by an older host carries them.
    let accounts = if input.accounts.is_empty() {
        &po.customer.accounts
    } else {
        &input.accounts
    };
    let mut create = request(
        Method::Post,
        ORDERS,
        Effect::Create,
        format!("create the order for {}", po.id),
    );
    create.body = Some(
        serde_json::to_value(order_body(po, accounts)?)
            .map_err(|e| invalid(format!("the order body for {} is not JSON: {e}", po.id)))?,
    );
    let found = |v: &Value| found_orders(v, &po.id);
    let c = Create {
        request: create,
        lookup: search(po),
        created: &created_orders,
        found: &found,
        refused: &duplicate_guard,
    };
    let mut talk = Conversation::new(&input.exchanges);
    let refs = step!(talk.create(&c)?, |request| PushStep::Send { request });
    talk.all_consumed()?;
    Ok(PushStep::Done { refs })
}

/// `GET /resellers/v6/orders/search?customerOrderNumber=…`: what Ingram holds for the PO.
fn search(po: &PurchaseOrder) -> Request {
    let mut r = request(
        Method::Get,
        ORDER_SEARCH,
        Effect::Read,
        format!("look up the orders of {} before ordering again", po.id),
    );
    r.query = vec![("customerOrderNumber".into(), po.id.clone())];
    r
}

/// The orders an order create made (`orders[].ingramOrderNumber`: Ingram may split one
/// request into several), and each line it rejected, as a `rejected_line` ref whose id is
/// Ingram's code and reason: the order stands, and the three-way match reports the line as
/// not ordered.
fn created_orders(v: &Value) -> Result<Vec<VendorRef>, PluginError> {
    let orders = v
        .get("orders")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("Ingram Micro's answer to the order create has no `orders`"))?;
    let mut refs = Vec::new();
    for (i, o) in orders.iter().enumerate() {
        let number = o
            .get("ingramOrderNumber")
            .and_then(Value::as_str)
            .filter(|n| !n.trim().is_empty())
            .ok_or_else(|| {
                invalid(format!(
                    "Ingram Micro `orders[{i}]` has no `ingramOrderNumber`"
                ))
            })?;
        refs.push(VendorRef {
            kind: "order".into(),
            id: number.trim().to_string(),
            line: None,
        });
        for r in o
            .get("rejectedLineItems")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // The spec spells it `customerLinenumber` here (`customerLineNumber` elsewhere).
            let line = ["customerLinenumber", "customerLineNumber"]
                .iter()
                .find_map(|k| r.get(*k).and_then(Value::as_str))
                .and_then(|n| n.trim().parse().ok());
            let word = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            refs.push(VendorRef {
                kind: "rejected_line".into(),
                id: format!(
                    "{} {}: {}",
                    word("ingramPartNumber"),
                    word("rejectCode"),
                    word("rejectReason")
                ),
                line,
            });
        }
    }
    if refs.is_empty() {
        return Err(invalid(
            "Ingram Micro answered the order create without any order",
        ));
    }
    Ok(refs)
}

/// The orders the search found for the PO, `None` when it found none.
fn found_orders(v: &Value, po: &str) -> Result<Option<Vec<VendorRef>>, PluginError> {
    let orders = v
        .get("orders")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let refs: Vec<VendorRef> = orders
        .iter()
        .filter(|o| o.get("customerOrderNumber").and_then(Value::as_str) == Some(po))
        .filter_map(|o| o.get("ingramOrderNumber").and_then(Value::as_str))
        .map(|n| VendorRef {
            kind: "order".into(),
            id: n.trim().to_string(),
            line: None,
        })
        .collect();
    Ok((!refs.is_empty()).then_some(refs))
}

/// Ingram's refusal of a duplicate `customerOrderNumber` means the order exists: read it
/// back. Any other refusal is an error with Ingram's words.
fn duplicate_guard(r: &Response) -> Refused {
    let words = vendor_message(&r.body);
    let lower = words.to_lowercase();
    if matches!(r.status, 400 | 409) && lower.contains("duplicate") {
        Refused::AlreadyThere
    } else {
        Refused::Error(words)
    }
}

/// The next step of a pull.
pub fn pull_step(input: &PullInput) -> Result<PullStep, PluginError> {
    let mut talk = Conversation::new(&input.exchanges);
    let pulled = match input.what {
        PullKind::Orders => step!(pull_orders(&mut talk, &input.pushed)?, send),
        PullKind::Invoices => step!(pull_invoices(&mut talk, input.month.as_deref())?, send),
        PullKind::Subscriptions => return Err(PluginError::Unsupported),
    };
    talk.all_consumed()?;
    Ok(PullStep::Done { pulled })
}

fn send(request: Request) -> PullStep {
    PullStep::Send { request }
}

/// An id from a response or the record, refused unless it is safe in a path.
fn path_id<'i>(id: &'i str, what: &str) -> Result<&'i str, PluginError> {
    let ok = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(id)
    } else {
        Err(invalid(format!(
            "{what} `{id}` is not an Ingram Micro number"
        )))
    }
}

/// The detail of every order pushed (`GET /resellers/v6.1/orders/{n}`), read into its lines.
fn pull_orders(
    talk: &mut Conversation<'_>,
    pushed: &[VendorRef],
) -> Result<Flow<Pulled>, PluginError> {
    let mut pulled = Pulled::default();
    for r in pushed.iter().filter(|r| r.kind == "order") {
        let n = path_id(&r.id, "order number")?;
        let read = request(
            Method::Get,
            format!("/resellers/v6.1/orders/{n}"),
            Effect::Read,
            format!("read order {n}"),
        );
        let body = match talk.read(read)? {
            Flow::Have(b) => b,
            Flow::Send(r) => return Ok(Flow::Send(r)),
        };
        let lines = read::response_lines(&body)?.ok_or_else(|| {
            invalid(format!(
                "Ingram Micro's detail of order {n} is not an order"
            ))
        })?;
        pulled.orders.extend(lines);
    }
    Ok(Flow::Have(pulled))
}

/// The first and last day of `YYYY-MM`.
fn month_days(month: &str) -> Result<(NaiveDate, NaiveDate), PluginError> {
    let bad = || invalid(format!("month `{month}` is not YYYY-MM"));
    let first = NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").map_err(|_| bad())?;
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .ok_or_else(bad)?;
    Ok((first, last))
}

/// The month's invoices: the search, page by page, then each invoice's details with its
/// serial numbers.
fn pull_invoices(
    talk: &mut Conversation<'_>,
    month: Option<&str>,
) -> Result<Flow<Pulled>, PluginError> {
    let month =
        month.ok_or_else(|| invalid("Ingram Micro invoices are pulled by month: give one"))?;
    let (first, last) = month_days(month)?;
    let mut numbers: Vec<String> = Vec::new();
    for page in 1.. {
        let mut r = request(
            Method::Get,
            INVOICES,
            Effect::Read,
            format!("list the invoices of {month}, page {page}"),
        );
        r.query = vec![
            ("invoiceFromDate".into(), first.to_string()),
            ("invoiceToDate".into(), last.to_string()),
            ("pageSize".into(), PAGE_SIZE.to_string()),
            ("pageNumber".into(), page.to_string()),
        ];
        let body = match talk.read(r)? {
            Flow::Have(b) => b,
            Flow::Send(r) => return Ok(Flow::Send(r)),
        };
        let listed = body
            .get("invoices")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for i in listed {
            let n = i
                .get("invoiceNumber")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    invalid(format!("an invoice of page {page} has no `invoiceNumber`"))
                })?;
            if !numbers.iter().any(|m| m == n) {
                numbers.push(n.to_string());
            }
        }
        let total = body
            .get("recordsFound")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let seen = u64::try_from(page * PAGE_SIZE).unwrap_or(u64::MAX);
        if listed.is_empty() || seen >= total {
            break;
        }
    }
    let mut pulled = Pulled::default();
    for n in &numbers {
        let n = path_id(n, "invoice number")?;
        let mut r = request(
            Method::Get,
            format!("/resellers/v6.1/invoices/{n}"),
            Effect::Read,
            format!("read invoice {n}"),
        );
        r.query = vec![("includeSerialNumbers".into(), "true".into())];
        let body = match talk.read(r)? {
            Flow::Have(b) => b,
            Flow::Send(r) => return Ok(Flow::Send(r)),
        };
        let invoice: Invoice = serde_json::from_value(body)
            .map_err(|e| invalid(format!("Ingram Micro invoice {n} cannot be read: {e}")))?;
        let read = read::invoice(&invoice)?;
        pulled.invoices.extend(read.lines);
        pulled.serials.extend(read.serials);
        pulled.warnings.extend(read.warning);
    }
    Ok(Flow::Have(pulled))
}
