//! Pushing a purchase order: one `POST /orders`. Pax8 takes no idempotency key, so a create
//! interrupted before its answer was recorded is never sent again blindly: the company's
//! orders are listed first (`GET /orders?companyId=…`) and one created on or after the
//! purchase order's date with the same products, quantities and billing terms is taken as
//! ours. `?isMock=true` (validation only) is not a dry run: the host's `--dry-run` prints the
//! requests without sending any.

use serde_json::Value;
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::{date_prefix, invalid};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PushDocument, PushInput, PushStep, Request, VendorRef,
};

use crate::read::{content, more_pages};

/// Orders listed per page while looking up (Pax8's maximum).
const PAGE_SIZE: u32 = 200;

/// The next step of pushing `input`.
pub(crate) fn step(input: &PushInput) -> Result<PushStep, PluginError> {
    let po = match &input.document {
        PushDocument::PurchaseOrder { purchase_order } => purchase_order,
        PushDocument::Change {
            change_order,
            pushed,
        } => return crate::change::step(input, change_order, pushed),
        _ => {
            return Err(invalid(
                "Pax8 takes purchase orders and their seat changes only",
            ));
        }
    };
    let accounts = if input.accounts.is_empty() {
        &po.customer.accounts
    } else {
        &input.accounts
    };
    let body = crate::order_body(po, accounts)?;
    let company = crate::company_id(accounts, po)?.to_string();
    let Some(last) = input.exchanges.last() else {
        return Ok(send(create(po, body)));
    };
    match (&last.request.effect, &last.response) {
        (Effect::Create, Some(r)) if ok(r.status) => Ok(PushStep::Done {
            refs: refs(&r.body, po)?,
        }),
        (_, Some(r)) if !ok(r.status) => Err(refused(last, r.status, &r.body)),
        // Interrupted after sending: the order may exist. Look before creating again.
        (Effect::Create, None) => Ok(send(lookup(&company, 0))),
        (Effect::Read, Some(r)) => match find(&r.body, &body, po) {
            Some(order) => Ok(PushStep::Done {
                refs: refs(order, po)?,
            }),
            None if more_pages(&r.body) => Ok(send(lookup(&company, page_of(&last.request) + 1))),
            None => Ok(send(create(po, body))),
        },
        // An interrupted lookup is repeated: reading is safe.
        (Effect::Read, None) => Ok(send(last.request.clone())),
        _ => Err(invalid(format!(
            "Pax8 push of {}: unexpected exchange `{}`",
            po.id, last.request.purpose
        ))),
    }
}

fn ok(status: u16) -> bool {
    (200..300).contains(&status)
}

fn send(request: Request) -> PushStep {
    PushStep::Send { request }
}

fn create(po: &PurchaseOrder, body: Value) -> Request {
    Request {
        method: Method::Post,
        path: "/orders".into(),
        query: Vec::new(),
        headers: Vec::new(),
        body: Some(body),
        effect: Effect::Create,
        purpose: format!("create the order for {}", po.id),
    }
}

fn lookup(company: &str, page: u32) -> Request {
    Request {
        method: Method::Get,
        path: "/orders".into(),
        query: vec![
            ("companyId".into(), company.to_string()),
            ("page".into(), page.to_string()),
            ("size".into(), PAGE_SIZE.to_string()),
        ],
        headers: Vec::new(),
        body: None,
        effect: Effect::Read,
        purpose: format!("look up the orders of company {company} before creating again"),
    }
}

fn page_of(r: &Request) -> u32 {
    r.query
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0)
}

/// Pax8's refusal, with its message and details.
fn refused(last: &Exchange, status: u16, body: &Value) -> PluginError {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| body.to_string());
    let details: Vec<&str> = body
        .get("details")
        .and_then(Value::as_array)
        .map(|d| {
            d.iter()
                .filter_map(|x| x.get("message")?.as_str())
                .collect()
        })
        .unwrap_or_default();
    let mut text = format!(
        "Pax8 answered {status} to `{}`: {message}",
        last.request.purpose
    );
    for d in details {
        text.push_str(&format!("\n  {d}"));
    }
    invalid(text)
}

/// (productId, quantity, billingTerm) of every line item, sorted: what two orders for the
/// same purchase order share (responses carry no `lineItemNumber`).
fn shape(order: &Value) -> Vec<(String, String, String)> {
    let mut lines: Vec<(String, String, String)> = order
        .get("lineItems")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .map(|l| {
                    let s = |k: &str| match l.get(k) {
                        Some(Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    };
                    (s("productId"), s("quantity"), s("billingTerm"))
                })
                .collect()
        })
        .unwrap_or_default();
    lines.sort();
    lines
}

/// The order of the listed page that is ours: the same lines, created on or after the
/// purchase order's date.
fn find<'v>(page: &'v Value, body: &Value, po: &PurchaseOrder) -> Option<&'v Value> {
    let want = shape(body);
    content(page, "orders").ok()?.iter().find(|o| {
        let created = o
            .get("createdDate")
            .and_then(Value::as_str)
            .and_then(date_prefix);
        created.is_some_and(|d| d >= po.date) && shape(o) == want
    })
}

/// The ids of a created (or found) order: the order, and each line's subscription, matched to
/// the purchase-order line by product and quantity in order, stored against its quote line.
fn refs(order: &Value, po: &PurchaseOrder) -> Result<Vec<VendorRef>, PluginError> {
    let id = order
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("Pax8's answer for {} has no order `id`", po.id)))?;
    let mut out = vec![VendorRef {
        kind: "order".into(),
        id: id.to_string(),
        line: None,
    }];
    let mut taken = vec![false; po.lines.len()];
    let items = order.get("lineItems").and_then(Value::as_array);
    for item in items.into_iter().flatten() {
        let Some(sub) = item.get("subscriptionId").and_then(Value::as_str) else {
            continue;
        };
        let product = item.get("productId").and_then(Value::as_str);
        let qty = item.get("quantity").map(Value::to_string);
        let line = po.lines.iter().enumerate().find(|(i, l)| {
            !taken.get(*i).copied().unwrap_or(true)
                && l.distributor_product_id.as_deref() == product
                && qty.as_deref() == Some(l.quantity.normalize().to_string().as_str())
        });
        if let Some((i, l)) = line {
            if let Some(t) = taken.get_mut(i) {
                *t = true;
            }
            // The quote line, as a seat change names it (a bundle's parts share theirs).
            out.push(VendorRef {
                kind: "subscription".into(),
                id: sub.to_string(),
                line: Some(l.quote_line),
            });
        }
    }
    Ok(out)
}
