//! The StreamOne Ion cart a purchase order becomes, and the orders and subscriptions read
//! back. Everything lives under `accounts/{accountId}/customers/{customerId}/`: the MSP's
//! account (`accounts["account"]`) and the end customer (`accounts["customer"]`), both from
//! the customer's links. Cart items carry TD SYNNEX's own catalogue ids from the rules
//! (`productId` `TechData…-smp`, `skuId` `sku--…`, `planId` per term and billing), never
//! Microsoft's.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tenor_plugin_sdk::connector::{
    Problems, check_purchase_order, date_prefix, invalid, period_end, value_decimal, whole_quantity,
};
use tenor_plugin_sdk::docs::{PurchaseOrder, PurchaseOrderLine};
use tenor_plugin_sdk::exchange::{Accounts, Subscription};
use tenor_plugin_sdk::{OrderLine, PluginError};

use crate::{CREATE, Cycle, DISTRIBUTOR, tenor_term};

/// Account key of the MSP's StreamOne account id.
pub const ACCOUNT: &str = "account";
/// Account key of the end customer's StreamOne customer id.
pub const CUSTOMER: &str = "customer";

/// `/accounts/{a}/customers/{c}`, the root of every request for the customer.
pub fn customer_root(accounts: &Accounts, customer: &str) -> Result<String, PluginError> {
    let get = |key: &str, what: &str| {
        accounts
            .get(key)
            .filter(|v| !v.trim().is_empty() && !v.contains(['/', ' ']))
            .ok_or_else(|| {
                invalid(format!(
                    "customer `{customer}` has no TD SYNNEX {what}: link it with `tenor link \
                     {customer} --tdsynnex {key}=<id>`"
                ))
            })
    };
    let account = get(ACCOUNT, "account (the MSP's StreamOne account id)");
    let cust = get(CUSTOMER, "customer id");
    match (account, cust) {
        (Ok(a), Ok(c)) => Ok(format!("/accounts/{a}/customers/{c}")),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(a), Err(c)) => Err(invalid(format!("{a}\n{c}"))),
    }
}

/// One rules id of a line, refused by name when absent or shaped like Microsoft's.
fn rules_id<'l>(
    l: &'l PurchaseOrderLine,
    id: Option<&'l str>,
    what: &str,
    rule: &str,
) -> Result<&'l str, PluginError> {
    match id {
        Some(id) if !id.contains(':') && !id.trim().is_empty() => Ok(id),
        Some(id) => Err(invalid(format!(
            "line {} ({}): TD SYNNEX {what} `{id}` looks like Microsoft's id; StreamOne takes its \
             own catalogue's",
            l.line, l.product
        ))),
        None => Err(invalid(format!(
            "line {} ({}): no TD SYNNEX {what}; give it in the rules: {rule}",
            l.line, l.product
        ))),
    }
}

/// One cart item: `action`, `productId`, `skuId`, `planId`, `quantity`.
fn cart_item(l: &PurchaseOrderLine) -> Result<Value, PluginError> {
    let product = rules_id(
        l,
        l.distributor_product_id.as_deref(),
        "product id",
        "`bought via tdsynnex as \"…\" id \"TechData…-smp\" sku \"sku--…\"`",
    )?;
    let sku = rules_id(l, l.sku_id.as_deref(), "SKU id", "`… sku \"sku--…\"`")?;
    let plan = rules_id(
        l,
        l.plan_id.as_deref(),
        &format!("plan id for {} {}", l.term, l.billing),
        &format!(
            "`plan {} {} via tdsynnex id \"plan--…\"`",
            l.term, l.billing
        ),
    )?;
    Ok(json!({
        "action": CREATE,
        "productId": product,
        "skuId": sku,
        "planId": plan,
        "quantity": Value::Number(whole_quantity(l, "StreamOne sells whole seats")?),
    }))
}

/// The cart body: its display name and `resellerPo` are the Tenor purchase order id (the
/// searchable field StreamOne keeps on the subscriptions it creates), then the items.
pub fn cart_body(po: &PurchaseOrder, accounts: &Accounts) -> Result<Value, PluginError> {
    check_purchase_order(po, DISTRIBUTOR)?;
    let mut problems = Problems::default();
    let root = problems.note(customer_root(accounts, &po.customer.id));
    let items: Vec<Option<Value>> = po
        .lines
        .iter()
        .map(|l| problems.note(cart_item(l)))
        .collect();
    let items: Option<Vec<Value>> = items.into_iter().collect();
    let body = root.zip(items).map(|(_, items)| {
        json!({
            "displayName": po.id,
            "resellerPo": po.id,
            "items": items,
        })
    });
    problems.or_value(body)
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn quantity(v: &Value, at: &str) -> Result<Decimal, PluginError> {
    match v
        .get("quantity")
        .or_else(|| v.get("subscriptionTotalLicenses"))
    {
        Some(Value::Number(n)) => tenor_plugin_sdk::json_decimal(n)
            .ok_or_else(|| invalid(format!("{at}: quantity {n} is not a decimal"))),
        _ => Err(invalid(format!(
            "{at}: the quantity is missing or not a number"
        ))),
    }
}

/// The lines of an order as StreamOne reads it back (`name`, `referenceId`, `displayName`,
/// `orderItems[] {productId, skuId, planId, quantity…}`), or of a cart as Tenor writes it
/// (`displayName`, `resellerPo`, `items[]`).
pub fn order_lines(v: &Value) -> Result<Vec<OrderLine>, PluginError> {
    let items = v
        .get("orderItems")
        .or_else(|| v.get("items"))
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("not a TD SYNNEX order or cart: no `orderItems` or `items`"))?;
    let document = text(v, "name")
        .or_else(|| text(v, "displayName"))
        .ok_or_else(|| invalid("TD SYNNEX order has no `name` or `displayName`"))?;
    let reference = text(v, "resellerPo").or_else(|| text(v, "displayName"));
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{document}, item {}", i + 1);
            if let Some(action) = text(item, "action").filter(|a| !a.eq_ignore_ascii_case(CREATE)) {
                return Err(invalid(format!(
                    "{at}: action `{action}`; only `CREATE` items are new subscriptions to match"
                )));
            }
            Ok(OrderLine {
                document: document.clone(),
                reference: reference.clone(),
                line_ref: Some((i + 1).to_string()),
                customer: None,
                part_number: text(item, "productId")
                    .ok_or_else(|| invalid(format!("{at}: no `productId`")))?,
                quantity: quantity(item, &at)?,
                // A plan id names the term and billing only in TD SYNNEX's catalogue: the
                // match maps it back through the rules.
                term: None,
                billing: None,
                start: None,
                end: None,
                unit_cost: None,
                plan: text(item, "planId"),
            })
        })
        .collect()
}

fn date(v: &Value, k: &str) -> Option<NaiveDate> {
    date_prefix(v.get(k)?.as_str()?)
}

/// The subscriptions of a StreamOne answer (`subscriptions[]`, `items[]` or a bare array):
/// `subscriptionId`, `customerId`, `ccpProductId` (TD SYNNEX's product id, as the rules give
/// it), `subscriptionTotalLicenses`, `subscriptionStatus`, `subscriptionBillingTerm`,
/// `subscriptionBillingCycle`, `subscriptionStartDate`/`EndDate`, `cost`, `price`,
/// `resellerPo`.
pub fn subscriptions(v: &Value) -> Result<Vec<Subscription>, PluginError> {
    let list = match v {
        Value::Array(a) => a,
        _ => v
            .get("subscriptions")
            .or_else(|| v.get("items"))
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("not TD SYNNEX subscriptions: no `subscriptions` list"))?,
    };
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            let at = format!("subscription {}", i + 1);
            let term = text(s, "subscriptionBillingTerm");
            let cycle = text(s, "subscriptionBillingCycle");
            Ok(Subscription {
                id: text(s, "subscriptionId")
                    .ok_or_else(|| invalid(format!("{at}: no `subscriptionId`")))?,
                customer: text(s, "customerId"),
                reference: text(s, "resellerPo").or_else(|| text(s, "customerPo")),
                agreement: None,
                part_number: text(s, "ccpProductId")
                    .ok_or_else(|| invalid(format!("{at}: no `ccpProductId`")))?,
                quantity: quantity(s, &at)?,
                status: text(s, "subscriptionStatus").unwrap_or_default(),
                term: term.as_deref().and_then(tenor_term).map(str::to_string),
                billing: cycle
                    .as_deref()
                    .and_then(Cycle::from_word)
                    .map(|c| c.tenor_billing().to_string()),
                start: date(s, "subscriptionStartDate"),
                end: date(s, "subscriptionEndDate").and_then(period_end),
                unit_cost: s.get("cost").and_then(value_decimal),
                unit_price: s.get("price").and_then(value_decimal),
                plan: text(s, "ccpPlanId"),
            })
        })
        .collect()
}
