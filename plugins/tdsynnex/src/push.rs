//! Pushing a purchase order to StreamOne Ion: create a cart for the customer, add its items,
//! then check it out. No idempotency key exists, so a checkout interrupted before its answer
//! was recorded is never repeated blindly: the customer's orders are listed first and one made
//! from our cart (`cartId`) or carrying our purchase order id (`resellerPo`, `displayName`) is
//! taken as ours. An interrupted cart creation is simply made again: a cart orders nothing
//! until it is checked out. A seat change is a cart of `UPDATE` items checked out the same way.
//!
//! A checkout starts its lines' subscriptions on the day, so with the host's `today` given the
//! purchase order is ordered in stages, one cart per first-term start day, each checked out on
//! or after its day: the push waits ([`PushStep::Wait`]) until the next stage's day. The stages
//! depend on the purchase order only (never on today), so every run replays the same carts.
//! The first stage's cart is named after the purchase order; a later one after it and its day
//! (`PO-… 2027-02-15`), all carrying the purchase order id in `resellerPo`. A seat change
//! effective later waits the same way.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenor_plugin_sdk::connector::{invalid, value_decimal};
use tenor_plugin_sdk::conversation::{Conversation, Create, Flow, Refused, vendor_message};
use tenor_plugin_sdk::docs::PurchaseOrder;
use tenor_plugin_sdk::exchange::{
    Effect, Method, PushDocument, PushInput, PushStep, Request, Response, VendorRef,
};
use tenor_plugin_sdk::{PluginError, step};

use crate::cart::{cart_body, customer_root};

/// Why a later stage (or a future seat change) waits.
pub(crate) const STARTS_AT_CHECKOUT: &str = "TD SYNNEX starts a cart's subscriptions at checkout";

/// The next step of pushing `input`: a purchase order's carts, one per start day
/// ([`cart_flow`], waiting for each day), then the subscriptions their checkouts made
/// (`GET /accounts/{a}/subscriptions?customerId&resellerPo`, the searchable field the carts
/// set), stored against their quote lines; or a seat change ([`change`]).
pub(crate) fn step(input: &PushInput) -> Result<PushStep, PluginError> {
    let po = match &input.document {
        PushDocument::PurchaseOrder { purchase_order } => purchase_order,
        PushDocument::Change {
            change_order,
            pushed,
        } => return change(input, change_order, pushed),
        _ => {
            return Err(invalid(
                "TD SYNNEX takes purchase orders and their seat changes only",
            ));
        }
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
    let mut refs = Vec::new();
    for (n, (day, lines)) in stages(po, input.today).into_iter().enumerate() {
        if let (Some(day), Some(today)) = (day, input.today)
            && day > today
        {
            talk.all_consumed()?;
            return Ok(PushStep::Wait {
                until: day,
                why: STARTS_AT_CHECKOUT.into(),
            });
        }
        let name = match day {
            Some(day) if n > 0 => format!("{} {day}", po.id),
            _ => po.id.clone(),
        };
        let stage_items: Vec<Value> = lines
            .iter()
            .filter_map(|&i| items.get(i).cloned())
            .collect();
        let cart = Cart {
            name: &name,
            reseller_po: &po.id,
            items: &stage_items,
            taken: &order_ids(&refs),
        };
        let (cart_id, order) = step!(cart_flow(&mut talk, &root, &cart)?, send);
        let numbers: Vec<u32> = lines
            .iter()
            .filter_map(|&i| po.lines.get(i).map(|l| l.line))
            .collect();
        refs.extend(order_refs(&cart_id, &order, &numbers)?);
    }
    let subs = step!(talk.read(made_subscriptions(&root, &po.id)?)?, send);
    refs.extend(subscription_refs(&subs, po, &items));
    talk.all_consumed()?;
    Ok(PushStep::Done { refs })
}

/// The purchase order's stages: each first-term start day with the indices of its lines, in
/// day order; one stage of every line, with no day, when the host gives no today (an older
/// host: everything at once, as before protocol 5).
fn stages(po: &PurchaseOrder, today: Option<NaiveDate>) -> Vec<(Option<NaiveDate>, Vec<usize>)> {
    if today.is_none() {
        return vec![(None, (0..po.lines.len()).collect())];
    }
    let mut by_day: BTreeMap<NaiveDate, Vec<usize>> = BTreeMap::new();
    for (i, l) in po.lines.iter().enumerate() {
        by_day.entry(l.first_term_start).or_default().push(i);
    }
    by_day.into_iter().map(|(d, l)| (Some(d), l)).collect()
}

/// The order ids among `refs`: orders an earlier stage made, which a later lookup must not
/// take for its own.
fn order_ids(refs: &[VendorRef]) -> Vec<String> {
    refs.iter()
        .filter(|r| r.kind == "order")
        .map(|r| r.id.clone())
        .collect()
}

/// One cart to fill and check out.
struct Cart<'a> {
    /// Its `displayName`.
    name: &'a str,
    /// Its `resellerPo` (the purchase order or change order id).
    reseller_po: &'a str,
    /// Its items.
    items: &'a [Value],
    /// Orders of earlier stages, never taken as this cart's.
    taken: &'a [String],
}

/// A cart named `name` (its `displayName`; `resellerPo` the document's id) with `items`, checked out: the
/// cart (made again when its answer was lost: an empty cart orders nothing), each item added
/// (`POST …/carts/{cart}/cartItems`, VENDORS.md: "create a cart, add cart items, check out";
/// a lost answer is looked up in the cart before adding again), then the checkout (looked up
/// in the customer's orders before checking out again). The cart id and the order.
fn cart_flow(
    talk: &mut Conversation<'_>,
    root: &str,
    c: &Cart<'_>,
) -> Result<Flow<(String, Value)>, PluginError> {
    let (name, items) = (c.name, c.items);
    let header = json!({"displayName": name, "resellerPo": c.reseller_po});
    let made = step!(
        talk.read(request(
            Method::Post,
            format!("{root}/carts"),
            Some(header),
            Effect::Create,
            format!("create the cart for {name}"),
        ))?,
        Flow::Send
    );
    let cart = id_of(&made).ok_or_else(|| {
        invalid(format!(
            "TD SYNNEX push of {name}: no cart id in the answer to the cart creation"
        ))
    })?;
    for (i, item) in items.iter().enumerate() {
        let found = |v: &Value| Ok(holds(v, items, i).then_some(()));
        let add = Create {
            request: request(
                Method::Post,
                format!("{root}/carts/{cart}/cartItems"),
                Some(item.clone()),
                Effect::Create,
                format!("add item {} to cart {cart} for {name}", i + 1),
            ),
            lookup: request(
                Method::Get,
                format!("{root}/carts/{cart}"),
                None,
                Effect::Read,
                format!("read cart {cart} before adding item {} again", i + 1),
            ),
            created: &|_| Ok(()),
            found: &found,
            refused: &refused,
        };
        step!(talk.create(&add)?, Flow::Send);
    }
    let found = |v: &Value| Ok(find(v, &cart, name, c.taken).cloned());
    let out = Create {
        request: checkout(root, name, &cart),
        lookup: lookup(root, name),
        created: &|v: &Value| Ok(v.clone()),
        found: &found,
        refused: &refused,
    };
    let order = step!(talk.create(&out)?, Flow::Send);
    Ok(Flow::Have((cart, order)))
}

/// `GET /accounts/{a}/subscriptions?customerId=c&resellerPo=…`: what a checkout made.
fn made_subscriptions(root: &str, po: &str) -> Result<Request, PluginError> {
    let (account, customer) = root
        .rsplit_once("/customers/")
        .ok_or_else(|| invalid(format!("not a customer path: {root}")))?;
    let mut r = request(
        Method::Get,
        format!("{account}/subscriptions"),
        None,
        Effect::Read,
        format!("read the subscriptions {po} made"),
    );
    r.query = vec![
        ("customerId".into(), customer.to_string()),
        ("resellerPo".into(), po.to_string()),
        ("pagination.limit".into(), "1000".into()),
        ("pagination.offset".into(), "0".into()),
    ];
    Ok(r)
}

/// Each purchase-order line's subscription, by its catalogue ids, against its quote line.
fn subscription_refs(subs: &Value, po: &PurchaseOrder, items: &[Value]) -> Vec<VendorRef> {
    let list = subs
        .get("items")
        .or_else(|| subs.get("subscriptions"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mut taken = vec![false; list.len()];
    let mut out = Vec::new();
    for (l, item) in po.lines.iter().zip(items) {
        let ids = |v: &Value, keys: [&str; 3]| keys.map(|k| v.get(k).map(Value::to_string));
        let want = ids(item, ["productId", "skuId", "planId"]);
        let hit = list.iter().enumerate().find(|(n, s)| {
            !taken.get(*n).copied().unwrap_or(true)
                && ids(s, ["ccpProductId", "ccpSkuId", "ccpPlanId"]) == want
        });
        if let Some((n, s)) = hit
            && let Some(id) = s.get("subscriptionId").and_then(Value::as_str)
        {
            if let Some(t) = taken.get_mut(n) {
                *t = true;
            }
            out.push(VendorRef {
                kind: "subscription".into(),
                id: id.to_string(),
                line: Some(l.quote_line),
            });
        }
    }
    out
}

/// A seat change: each subscription of the change's quote line is read (its licences now)
/// and an `UPDATE` item sets it to licences × new ÷ old, in a cart checked out like an order
/// (named after the change order). A line with no TD SYNNEX subscription is another vendor's:
/// nothing is sent.
fn change(
    input: &PushInput,
    change: &Value,
    pushed: &[VendorRef],
) -> Result<PushStep, PluginError> {
    let (line, old, new) = change_of(change)?;
    if let Some(until) = tenor_plugin_sdk::connector::change_not_before(input, change)? {
        return Ok(PushStep::Wait {
            until,
            why: STARTS_AT_CHECKOUT.into(),
        });
    }
    let subs: Vec<&VendorRef> = pushed
        .iter()
        .filter(|r| r.kind == "subscription" && r.line == Some(line))
        .collect();
    if subs.is_empty() {
        return Ok(PushStep::Done { refs: Vec::new() });
    }
    let root = customer_root(&input.accounts, "this customer")?;
    let name = change
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("the change order has no `id`"))?;
    let mut talk = Conversation::new(&input.exchanges);
    let send = |request| PushStep::Send { request };
    let mut items = Vec::new();
    for sub in &subs {
        let held = step!(
            talk.read(request(
                Method::Get,
                format!("{root}/subscriptions/{}", sub.id),
                None,
                Effect::Read,
                format!("read subscription {}'s licences", sub.id),
            ))?,
            send
        );
        let now = held
            .get("subscriptionTotalLicenses")
            .and_then(value_decimal)
            .ok_or_else(|| invalid(format!("subscription {} has no licences", sub.id)))?;
        let want = scaled(now, old, new, &sub.id)?;
        items.push(json!({"action": "UPDATE", "subscriptionId": sub.id, "quantity": want}));
    }
    let cart = Cart {
        name,
        reseller_po: name,
        items: &items,
        taken: &[],
    };
    let (cart_id, order) = step!(cart_flow(&mut talk, &root, &cart)?, send);
    let numbers: Vec<u32> = (1..=u32::try_from(items.len()).unwrap_or(u32::MAX)).collect();
    let mut refs = order_refs(&cart_id, &order, &numbers)?;
    refs.extend(subs.into_iter().cloned());
    talk.all_consumed()?;
    Ok(PushStep::Done { refs })
}

/// The change order's line, old and new quantities.
fn change_of(change: &Value) -> Result<(u32, Decimal, Decimal), PluginError> {
    let line = change
        .get("line")
        .and_then(Value::as_u64)
        .and_then(|l| u32::try_from(l).ok())
        .ok_or_else(|| invalid("the change order's `line` is not a line number"))?;
    let qty = |k: &str| {
        change
            .get(k)
            .and_then(value_decimal)
            .filter(|q| *q > Decimal::ZERO || k == "new_quantity")
            .ok_or_else(|| invalid(format!("the change order's `{k}` is not a quantity")))
    };
    Ok((line, qty("old_quantity")?, qty("new_quantity")?))
}

/// `now × new ÷ old` as whole licences, at least 1.
fn scaled(now: Decimal, old: Decimal, new: Decimal, sub: &str) -> Result<u64, PluginError> {
    let want = (now * new / old).normalize();
    want.fract()
        .is_zero()
        .then(|| u64::try_from(want.mantissa()).ok())
        .flatten()
        .filter(|w| *w >= 1 && want.scale() == 0)
        .ok_or_else(|| {
            invalid(format!(
                "subscription {sub} would hold {want} licences ({now} × {new} ÷ {old}): not a \
                 whole number of at least 1"
            ))
        })
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

fn checkout(root: &str, name: &str, cart: &str) -> Request {
    request(
        Method::Post,
        format!("{root}/carts/{cart}/checkout"),
        None,
        Effect::Create,
        format!("check out cart {cart} for {name}"),
    )
}

fn lookup(root: &str, name: &str) -> Request {
    request(
        Method::Get,
        format!("{root}/orders"),
        None,
        Effect::Read,
        format!("look up the orders of {name} before checking out again"),
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

/// The listed order made from our cart, or carrying our cart's name and not `taken` by an
/// earlier stage.
fn find<'v>(page: &'v Value, cart: &str, name: &str, taken: &[String]) -> Option<&'v Value> {
    let orders = match page {
        Value::Array(a) => a,
        _ => page
            .get("orders")
            .or_else(|| page.get("items"))
            .and_then(Value::as_array)?,
    };
    orders.iter().find(|o| {
        let s = |k: &str| o.get(k).and_then(Value::as_str);
        let mine = s("cartId") == Some(cart)
            || s("referenceId").is_some_and(|r| r.ends_with(&format!("/carts/{cart}")));
        let named = s("resellerPo") == Some(name) || s("displayName") == Some(name);
        let other = id_of(o).is_some_and(|id| taken.contains(&id));
        mine || (named && !other)
    })
}

/// The cart, its order and each order item against its purchase-order line (`lines`, in cart
/// order).
fn order_refs(cart: &str, order: &Value, lines: &[u32]) -> Result<Vec<VendorRef>, PluginError> {
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
    // Order items are in cart order, which is the stage's purchase-order line order.
    let items = order.get("orderItems").and_then(Value::as_array);
    for (i, item) in items.into_iter().flatten().enumerate() {
        if let Some(id) = item.get("referenceId").and_then(Value::as_str) {
            out.push(VendorRef {
                kind: "order_item".into(),
                id: id.to_string(),
                line: lines.get(i).copied(),
            });
        }
    }
    Ok(out)
}
