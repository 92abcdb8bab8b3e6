//! Pushing a purchase order to StreamOne Ion: create a cart for the customer, add its items,
//! then check it out. No idempotency key exists, so a checkout interrupted before its answer
//! was recorded is never repeated blindly: the customer's orders are listed first and one made
//! from our cart (`cartId`) or carrying our purchase order id (`resellerPo`, `displayName`) is
//! taken as ours. An interrupted cart creation is simply made again: a cart orders nothing
//! until it is checked out.

use serde_json::{Value, json};
use tenor_plugin_sdk::connector::invalid;
use tenor_plugin_sdk::conversation::{Conversation, Create, Refused, vendor_message};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{
    Effect, Method, PushDocument, PushInput, PushStep, Request, Response, VendorRef,
};
use tenor_plugin_sdk::{PluginError, step};

use crate::cart::{cart_body, customer_root};

/// The next step of pushing `input`: the cart (made again when its answer was lost: an
/// empty cart orders nothing), each item added (`POST …/carts/{cart}/cartItems`, VENDORS.md:
/// "create a cart, add cart items, check out"; a lost answer is looked up in the cart before
/// adding again), then the checkout (looked up in the customer's orders before checking out
/// again).
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
    let items: Vec<Value> = body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let root = customer_root(accounts, &po.customer.id)?;
    let mut talk = Conversation::new(&input.exchanges);
    let send = |request| PushStep::Send { request };
    let header = json!({"displayName": po.id, "resellerPo": po.id});
    let made = step!(talk.read(create_cart(&root, po, header))?, send);
    let cart = id_of(&made).ok_or_else(|| {
        invalid(format!(
            "TD SYNNEX push of {}: no cart id in the answer to the cart creation",
            po.id
        ))
    })?;
    for (i, item) in items.iter().enumerate() {
        let found = |v: &Value| Ok(holds(v, &items, i).then_some(()));
        let add = Create {
            request: request(
                Method::Post,
                format!("{root}/carts/{cart}/cartItems"),
                Some(item.clone()),
                Effect::Create,
                format!("add line {} to cart {cart} for {}", i + 1, po.id),
            ),
            lookup: request(
                Method::Get,
                format!("{root}/carts/{cart}"),
                None,
                Effect::Read,
                format!("read cart {cart} before adding line {} again", i + 1),
            ),
            created: &|_| Ok(()),
            found: &found,
            refused: &refused,
        };
        step!(talk.create(&add)?, send);
    }
    let found = |v: &Value| find(v, &cart, po).map(|o| refs(&cart, o)).transpose();
    let created = |v: &Value| refs(&cart, v);
    let out = Create {
        request: checkout(&root, po, &cart),
        lookup: lookup(&root, po),
        created: &created,
        found: &found,
        refused: &refused,
    };
    let refs = step!(talk.create(&out)?, send);
    talk.all_consumed()?;
    Ok(PushStep::Done { refs })
}

/// TD SYNNEX's refusal, in its words: nothing it says means "already there".
fn refused(r: &Response) -> Refused {
    Refused::Error(format!("{} {}", r.status, vendor_message(&r.body)))
}

/// The cart's items hold `items[i]` as many times as `items[..=i]` does (two equal lines are
/// two items).
fn holds(cart: &Value, items: &[Value], i: usize) -> bool {
    let key = |v: &Value| {
        ["productId", "skuId", "planId", "quantity"]
            .map(|k| v.get(k).map(Value::to_string).unwrap_or_default())
    };
    let Some(want) = items.get(i).map(key) else {
        return false;
    };
    let wanted = items.iter().take(i + 1).filter(|v| key(v) == want).count();
    let held = cart
        .get("items")
        .and_then(Value::as_array)
        .map_or(0, |a| a.iter().filter(|v| key(v) == want).count());
    held >= wanted
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
