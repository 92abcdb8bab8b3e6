//! Pushing a purchase order: `POST /orders`, one per start day. Pax8 takes no scheduled
//! orders and starts a subscription on the day it is ordered, so with the host's `today` given
//! only the lines whose first term has started are ordered (`provisionStartDate` only for a
//! line starting that very day); the rest wait ([`PushStep::Wait`]) until the earliest of their
//! starts, and the next run on or after it orders them. What each stage ordered is read back
//! from the conversation's own exchanges (the `lineItemNumber`s of its creates), so the plugin
//! stays stateless. Pax8 takes no idempotency key, so a create interrupted before its answer
//! was recorded is never sent again blindly: the company's orders are listed first
//! (`GET /orders?companyId=…`) and one created on or after the purchase order's date with that
//! stage's products, quantities and billing terms, and not already taken by an earlier stage,
//! is taken as ours. `?isMock=true` (validation only) is not a dry run: the host's `--dry-run`
//! prints the requests without sending any.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::Value;
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::{date_prefix, invalid};
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PushDocument, PushInput, PushStep, Request, VendorRef,
};

use crate::read::{content, more_pages};

/// Orders listed per page while looking up (Pax8's maximum).
const PAGE_SIZE: u32 = 200;

/// Why a purchase order's later lines are held.
pub(crate) const NO_SCHEDULED: &str = "Pax8 takes no scheduled orders";

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
    // The whole body first: every problem of every line is reported before anything is sent,
    // whichever stage it belongs to.
    let full = crate::order_body(po, accounts)?;
    let company = crate::company_id(accounts, po)?.to_string();
    let progress = replay(&input.exchanges, po)?;
    if let Some(request) = progress.next {
        return Ok(send(request(&company)));
    }
    next_stage(po, &full, progress, input.today)
}

/// After the last stage's answer: create the order of the lines due now, wait for the next
/// start, or finish with every stage's ids.
fn next_stage(
    po: &PurchaseOrder,
    full: &Value,
    progress: Progress,
    today: Option<NaiveDate>,
) -> Result<PushStep, PluginError> {
    let remaining: Vec<&PurchaseOrderLine> = po
        .lines
        .iter()
        .filter(|l| !progress.ordered.contains(&l.line))
        .collect();
    // An older host gives no today: everything is ordered at once, as before protocol 5.
    let due: BTreeSet<u32> = remaining
        .iter()
        .filter(|l| today.is_none_or(|t| l.first_term_start <= t))
        .map(|l| l.line)
        .collect();
    if let Some(until) = remaining.iter().map(|l| l.first_term_start).min()
        && due.is_empty()
    {
        return Ok(PushStep::Wait {
            until,
            why: NO_SCHEDULED.into(),
        });
    }
    if due.is_empty() {
        return Ok(PushStep::Done {
            refs: progress.refs,
        });
    }
    let body = stage_body(po, full, &due, today);
    Ok(send(create(po, body)))
}

/// The order body of one stage: the full body's line items of the `due` lines, with
/// `provisionStartDate` on those that start today (Pax8 takes it only on the day).
fn stage_body(
    po: &PurchaseOrder,
    full: &Value,
    due: &BTreeSet<u32>,
    today: Option<NaiveDate>,
) -> Value {
    let mut body = full.clone();
    if let Some(Value::Array(items)) = body.get_mut("lineItems") {
        items.retain(|i| item_line(i).is_some_and(|n| due.contains(&n)));
        for item in items.iter_mut() {
            let starts_today = po
                .lines
                .iter()
                .find(|l| Some(l.line) == item_line(item))
                .is_some_and(|l| Some(l.first_term_start) == today);
            if let (Some(day), Value::Object(map), true) = (today, &mut *item, starts_today) {
                map.insert(
                    "provisionStartDate".into(),
                    Value::String(format!("{day}T00:00:00Z")),
                );
            }
        }
    }
    body
}

/// A line item's `lineItemNumber` (the purchase-order line).
fn item_line(item: &Value) -> Option<u32> {
    item.get("lineItemNumber")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// The purchase-order lines a create request's body orders.
fn lines_of(body: Option<&Value>) -> BTreeSet<u32> {
    body.and_then(|b| b.get("lineItems"))
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(item_line).collect())
        .unwrap_or_default()
}

/// A request still to send, made once the company is known.
type Pending = Box<dyn Fn(&str) -> Request>;

/// What the exchanges so far came to: the lines ordered and their ids, and the request a
/// lookup in progress needs next (given the company), if one does.
struct Progress {
    ordered: BTreeSet<u32>,
    refs: Vec<VendorRef>,
    next: Option<Pending>,
}

/// Reads the conversation so far, stage by stage.
fn replay(exchanges: &[Exchange], po: &PurchaseOrder) -> Result<Progress, PluginError> {
    let mut p = Progress {
        ordered: BTreeSet::new(),
        refs: Vec::new(),
        next: None,
    };
    // The body of a create sent without an answer, while its lookup goes on.
    let mut pending: Option<&Value> = None;
    for (i, ex) in exchanges.iter().enumerate() {
        let last = i + 1 == exchanges.len();
        p.next = None;
        match (&ex.request.effect, &ex.response) {
            (_, Some(r)) if !ok(r.status) => {
                if last {
                    return Err(refused(ex, r.status, &r.body));
                }
            }
            (Effect::Create, Some(r)) => {
                let lines = lines_of(ex.request.body.as_ref());
                p.refs.extend(refs(&r.body, po, &lines)?);
                p.ordered.extend(lines);
                pending = None;
            }
            // Interrupted after sending: the order may exist. Look before creating again.
            (Effect::Create, None) => {
                pending = ex.request.body.as_ref();
                p.next = Some(Box::new(|company: &str| lookup(company, 0)));
            }
            (Effect::Read, Some(r)) => {
                let Some(body) = pending else { continue };
                let taken: Vec<&str> = p.refs.iter().map(|r| r.id.as_str()).collect();
                if let Some(order) = find(&r.body, body, po, &taken) {
                    let lines = lines_of(Some(body));
                    p.refs.extend(refs(order, po, &lines)?);
                    p.ordered.extend(lines);
                    pending = None;
                } else if more_pages(&r.body) {
                    let page = page_of(&ex.request) + 1;
                    p.next = Some(Box::new(move |company: &str| lookup(company, page)));
                } else {
                    // Not there: it was never created; the next stage is planned afresh.
                    pending = None;
                }
            }
            // An interrupted lookup is repeated: reading is safe.
            (Effect::Read, None) => {
                let again = ex.request.clone();
                p.next = Some(Box::new(move |_: &str| again.clone()));
            }
            _ => {
                return Err(invalid(format!(
                    "Pax8 push of {}: unexpected exchange `{}`",
                    po.id, ex.request.purpose
                )));
            }
        }
    }
    Ok(p)
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

/// The order of the listed page that is ours: the same lines as the stage's `body`, created on
/// or after the purchase order's date, and not one an earlier stage already `taken`.
fn find<'v>(
    page: &'v Value,
    body: &Value,
    po: &PurchaseOrder,
    taken: &[&str],
) -> Option<&'v Value> {
    let want = shape(body);
    content(page, "orders").ok()?.iter().find(|o| {
        let created = o
            .get("createdDate")
            .and_then(Value::as_str)
            .and_then(date_prefix);
        let id = o.get("id").and_then(Value::as_str).unwrap_or("");
        created.is_some_and(|d| d >= po.date) && shape(o) == want && !taken.contains(&id)
    })
}

/// The ids of a created (or found) order: the order, and each line's subscription, matched to
/// one of the stage's purchase-order `lines` by product and quantity in order, stored against
/// its quote line.
fn refs(
    order: &Value,
    po: &PurchaseOrder,
    lines: &BTreeSet<u32>,
) -> Result<Vec<VendorRef>, PluginError> {
    let id = order
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("Pax8's answer for {} has no order `id`", po.id)))?;
    let mut out = vec![VendorRef {
        kind: "order".into(),
        id: id.to_string(),
        line: None,
    }];
    // Lines of other stages count as taken: they are another order's.
    let mut taken: Vec<bool> = po.lines.iter().map(|l| !lines.contains(&l.line)).collect();
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
