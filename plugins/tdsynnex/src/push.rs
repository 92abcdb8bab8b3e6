//! Pushing a purchase order to StreamOne Ion: create a cart for the customer with its items,
//! then check it out. No idempotency key exists, so a checkout interrupted before its answer
//! was recorded is never repeated blindly: the customer's orders are listed first and one made
//! from our cart (`cartId`) or carrying our purchase order id (`resellerPo`, `displayName`) is
//! taken as ours. An interrupted cart creation is simply made again: a cart orders nothing
//! until it is checked out.

use serde_json::Value;
use tenor_plugin_sdk::PluginError;
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PushDocument, PushInput, PushStep, Request, VendorRef,
};

use crate::cart::{cart_body, customer_root};

/// The next step of pushing `input`.
pub(crate) fn step(input: &PushInput) -> Result<PushStep, PluginError> {
    let PushDocument::PurchaseOrder { purchase_order: po } = &input.document else {
        return Err(invalid(
            "TD SYNNEX takes purchase orders only; a seat change is not pushed to TD SYNNEX yet",
        ));
    };
    let accounts = if input.accounts.is_empty() {
        &po.customer.accounts
    } else {
        &input.accounts
    };
    let body = cart_body(po, accounts)?;
    let root = customer_root(accounts, &po.customer.id)?;
    let Some(last) = input.exchanges.last() else {
        return Ok(send(create_cart(&root, po, body)));
    };
    if let Some(r) = &last.response {
        if !(200..300).contains(&r.status) {
            return Err(invalid(format!(
                "TD SYNNEX answered {} to `{}`: {}",
                r.status, last.request.purpose, r.body
            )));
        }
    }
    let path = last.request.path.as_str();
    let cart = cart_id(&input.exchanges);
    match (&last.response, cart) {
        (None, _) if path.ends_with("/carts") => Ok(send(create_cart(&root, po, body))),
        (Some(_), Some(cart)) if path.ends_with("/carts") => Ok(send(checkout(&root, po, &cart))),
        (Some(r), Some(cart)) if path.ends_with("/checkout") => Ok(PushStep::Done {
            refs: refs(&cart, &r.body)?,
        }),
        (None, Some(_)) if path.ends_with("/checkout") => Ok(send(lookup(&root, po))),
        (Some(r), Some(cart)) if path.ends_with("/orders") => match find(&r.body, &cart, po) {
            Some(order) => Ok(PushStep::Done {
                refs: refs(&cart, order)?,
            }),
            None => Ok(send(checkout(&root, po, &cart))),
        },
        (None, _) => Ok(send(last.request.clone())),
        _ => Err(invalid(format!(
            "TD SYNNEX push of {}: no cart id in the answer to `{}`",
            po.id, last.request.purpose
        ))),
    }
}

fn send(request: Request) -> PushStep {
    PushStep::Send { request }
}

fn request(
    method: Method,
    path: String,
    body: Option<Value>,
    effect: Effect,
    purpose: String,
) -> Request {
    Request {
        method,
        path,
        query: Vec::new(),
        headers: Vec::new(),
        body,
        effect,
        purpose,
    }
}

fn create_cart(root: &str, po: &PurchaseOrder, body: Value) -> Request {
    request(
        Method::Post,
        format!("{root}/carts"),
        Some(body),
        Effect::Create,
        format!("create the cart for {}", po.id),
    )
}

fn checkout(root: &str, po: &PurchaseOrder, cart: &str) -> Request {
    request(
        Method::Post,
        format!("{root}/carts/{cart}/checkout"),
        None,
        Effect::Create,
        format!("check out cart {cart} for {}", po.id),
    )
}

fn lookup(root: &str, po: &PurchaseOrder) -> Request {
    request(
        Method::Get,
        format!("{root}/orders"),
        None,
        Effect::Read,
        format!("look up the orders of {} before checking out again", po.id),
    )
}

/// The last segment of a resource `name` (`accounts/a/customers/c/carts/42` → `42`), or `id`.
fn id_of(v: &Value) -> Option<String> {
    v.get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| {
            let name = v.get("name")?.as_str()?;
            name.rsplit('/').next().map(str::to_string)
        })
        .filter(|s| !s.is_empty())
}

/// The id of the cart the last answered cart creation made.
fn cart_id(ex: &[Exchange]) -> Option<String> {
    ex.iter()
        .rev()
        .filter(|e| e.request.path.ends_with("/carts"))
        .find_map(|e| id_of(&e.response.as_ref()?.body))
}

/// The listed order made from our cart or carrying our purchase order id.
fn find<'v>(page: &'v Value, cart: &str, po: &PurchaseOrder) -> Option<&'v Value> {
    let orders = match page {
        Value::Array(a) => a,
        _ => page
            .get("orders")
            .or_else(|| page.get("items"))
            .and_then(Value::as_array)?,
    };
    orders.iter().find(|o| {
        let s = |k: &str| o.get(k).and_then(Value::as_str);
        s("cartId") == Some(cart)
            || s("referenceId").is_some_and(|r| r.ends_with(&format!("/carts/{cart}")))
            || s("resellerPo") == Some(po.id.as_str())
            || s("displayName") == Some(po.id.as_str())
    })
}

fn refs(cart: &str, order: &Value) -> Result<Vec<VendorRef>, PluginError> {
    let order_id =
        id_of(order).ok_or_else(|| invalid("TD SYNNEX's order has no `name` or `id`"))?;
    let mut out = vec![
        VendorRef {
            kind: "cart".into(),
            id: cart.to_string(),
            line: None,
        },
        VendorRef {
            kind: "order".into(),
            id: order_id,
            line: None,
        },
    ];
    // Order items are in cart order, which is the purchase order's line order.
    let items = order.get("orderItems").and_then(Value::as_array);
    for (i, item) in items.into_iter().flatten().enumerate() {
        if let Some(id) = item.get("referenceId").and_then(Value::as_str) {
            out.push(VendorRef {
                kind: "order_item".into(),
                id: id.to_string(),
                line: u32::try_from(i + 1).ok(),
            });
        }
    }
    Ok(out)
}
