#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use super::*;
use serde_json::json;
use tenor_plugin_sdk::exchange::{
    Effect, Exchange, Method, PullKind, PushDocument, Request, Response, VendorRef,
};

const ROOT: &str = "/accounts/TD-ACCT-100245/customers/TD-CUST-778812";

/// The SDK's sample TD SYNNEX purchase order with the sample customer's links.
fn po() -> PurchaseOrder {
    tenor_plugin_sdk::samples::purchase_order_for("tdsynnex").unwrap()
}

#[test]
fn the_cart_carries_td_synnex_catalogue_ids_and_our_po() {
    let p = po();
    let body = cart::cart_body(&p, &p.customer.accounts).unwrap();
    // Written by hand from VENDORS.md's cart item and the rules' ids for M365-E3 / M365-BB.
    let expected = json!({
        "displayName": "PO-Q-SAMPLE-tdsynnex",
        "resellerPo": "PO-Q-SAMPLE-tdsynnex",
        "items": [
            {"action": "CREATE", "productId": "TechDataMicrosoft365E3-smp",
             "skuId": "sku--a3b7e7595cc7", "planId": "plan--9252669f2e", "quantity": 4},
            {"action": "CREATE", "productId": "TechDataMicrosoft365BusinessBasic-smp",
             "skuId": "sku--3de1cc0bce2c", "planId": "plan--a86a48d9fc", "quantity": 6},
        ]
    });
    assert_eq!(body, expected);
    assert!(body["items"][0]["quantity"].is_u64());
}

#[test]
fn missing_links_and_ids_are_refused_by_name() {
    let mut p = po();
    p.customer.accounts.clear();
    let e = Connector.render_purchase_order(&p).unwrap_err().to_string();
    assert!(
        e.contains("tenor link CUST-SAMPLE --tdsynnex account=<id>"),
        "{e}"
    );
    assert!(
        e.contains("tenor link CUST-SAMPLE --tdsynnex customer=<id>"),
        "{e}"
    );
    let mut p = po();
    p.lines[0].plan_id = None;
    let e = Connector.render_purchase_order(&p).unwrap_err().to_string();
    assert!(e.contains("plan P3Y annual via tdsynnex id"), "{e}");
    let mut p = po();
    p.lines[1].distributor_product_id = Some("CFQ7TTC0LH18:0001".into());
    let e = Connector.render_purchase_order(&p).unwrap_err().to_string();
    assert!(
        e.contains("line 2") && e.contains("looks like Microsoft's"),
        "{e}"
    );
}

fn ex(request: Request, body: Option<Value>) -> Exchange {
    Exchange {
        request,
        response: body.map(|body| Response {
            status: 200,
            headers: Vec::new(),
            body,
        }),
    }
}

fn push(exchanges: Vec<Exchange>) -> PushStep {
    let p = po();
    Connector
        .push_step(&PushInput {
            today: None,
            document: PushDocument::PurchaseOrder {
                purchase_order: Box::new(p.clone()),
            },
            accounts: p.customer.accounts.clone(),
            exchanges,
        })
        .unwrap()
}

fn sent(step: PushStep) -> Request {
    match step {
        PushStep::Send { request } => request,
        PushStep::Done { refs } => panic!("expected a request, got {refs:?}"),
        PushStep::Wait { until, why } => panic!("expected a request, got a wait: {until} {why}"),
    }
}

fn order() -> Value {
    json!({
        "name": format!("{}/orders/O-9001", &ROOT[1..]),
        "referenceId": format!("customers/TD-CUST-778812/carts/C-77"),
        "displayName": "PO-Q-SAMPLE-tdsynnex", "status": "COMPLETE", "currencyCode": "USD",
        "cartId": "C-77",
        "orderItems": [
            {"referenceId": "OI-1", "action": "CREATE", "productId": "TechDataMicrosoft365E3-smp",
             "skuId": "sku--a3b7e7595cc7", "planId": "plan--9252669f2e", "quantity": 4,
             "cartItemId": "CI-1", "status": "COMPLETE"},
            {"referenceId": "OI-2", "action": "CREATE",
             "productId": "TechDataMicrosoft365BusinessBasic-smp", "skuId": "sku--3de1cc0bce2c",
             "planId": "plan--a86a48d9fc", "quantity": 6, "cartItemId": "CI-2",
             "status": "COMPLETE"}]
    })
}

fn done_refs() -> Vec<VendorRef> {
    let r = |kind: &str, id: &str, line| VendorRef {
        kind: kind.into(),
        id: id.into(),
        line,
    };
    let p = po();
    vec![
        r("cart", "C-77", None),
        r("order", "O-9001", None),
        r("order_item", "OI-1", Some(1)),
        r("order_item", "OI-2", Some(2)),
        r("subscription", "S-E3", Some(p.lines[0].quote_line)),
        r("subscription", "S-BB", Some(p.lines[1].quote_line)),
    ]
}

/// The cart made and both items added: the exchanges before the checkout.
fn cart_filled() -> Vec<Exchange> {
    let cart = sent(push(Vec::new()));
    let cart_answer = json!({"name": format!("{}/carts/C-77", &ROOT[1..])});
    let mut so_far = vec![ex(cart, Some(cart_answer))];
    for n in 1..=2 {
        let add = sent(push(so_far.clone()));
        so_far.push(ex(add, Some(json!({"id": format!("CI-{n}")}))));
    }
    so_far
}

#[test]
fn a_fresh_push_creates_the_cart_adds_its_items_checks_it_out_and_stores_the_ids() {
    let cart = sent(push(Vec::new()));
    assert_eq!(
        (cart.method, cart.path.as_str(), cart.effect),
        (
            Method::Post,
            format!("{ROOT}/carts").as_str(),
            Effect::Create
        )
    );
    assert_eq!(
        cart.body,
        Some(json!({"displayName": "PO-Q-SAMPLE-tdsynnex", "resellerPo": "PO-Q-SAMPLE-tdsynnex"}))
    );
    let cart_answer = json!({"name": format!("{}/carts/C-77", &ROOT[1..])});
    let first = sent(push(vec![ex(cart.clone(), Some(cart_answer.clone()))]));
    assert_eq!(first.path, format!("{ROOT}/carts/C-77/cartItems"));
    assert_eq!(first.body.as_ref().unwrap()["planId"], "plan--9252669f2e");
    let mut so_far = cart_filled();
    let checkout = sent(push(so_far.clone()));
    assert_eq!(checkout.path, format!("{ROOT}/carts/C-77/checkout"));
    so_far.push(ex(checkout, Some(order())));
    assert_eq!(finish(so_far), PushStep::Done { refs: done_refs() });
}

/// Answers the read of the subscriptions the checkout made (after `so_far`), and the step
/// after it.
fn finish(mut so_far: Vec<Exchange>) -> PushStep {
    let read = sent(push(so_far.clone()));
    assert_eq!(read.path, "/accounts/TD-ACCT-100245/subscriptions");
    assert!(
        read.query
            .contains(&("resellerPo".into(), "PO-Q-SAMPLE-tdsynnex".into()))
    );
    // Listed out of order: each is matched to its line by its catalogue ids.
    let subs = json!({"items": [
        {"subscriptionId": "S-BB", "ccpProductId": "TechDataMicrosoft365BusinessBasic-smp",
         "ccpSkuId": "sku--3de1cc0bce2c", "ccpPlanId": "plan--a86a48d9fc"},
        {"subscriptionId": "S-E3", "ccpProductId": "TechDataMicrosoft365E3-smp",
         "ccpSkuId": "sku--a3b7e7595cc7", "ccpPlanId": "plan--9252669f2e"}]});
    so_far.push(ex(read, Some(subs)));
    push(so_far)
}

#[test]
fn an_item_whose_answer_was_lost_is_looked_up_in_the_cart_not_added_twice() {
    let cart = sent(push(Vec::new()));
    let cart_answer = json!({"name": format!("{}/carts/C-77", &ROOT[1..])});
    let made = ex(cart, Some(cart_answer));
    let add = sent(push(vec![made.clone()]));
    let lost = vec![made, ex(add.clone(), None)];
    let look = sent(push(lost.clone()));
    assert_eq!(
        (look.method, look.path.clone()),
        (Method::Get, format!("{ROOT}/carts/C-77"))
    );
    let mut held = lost.clone();
    held.push(ex(
        look.clone(),
        Some(json!({"items": [add.body.clone().unwrap()]})),
    ));
    let next = sent(push(held));
    assert_eq!(
        next.body.as_ref().unwrap()["planId"],
        "plan--a86a48d9fc",
        "the second line next"
    );
    let mut empty = lost;
    empty.push(ex(look, Some(json!({"items": []}))));
    assert_eq!(sent(push(empty)), add, "not in the cart: added again");
}

#[test]
fn an_interrupted_checkout_looks_up_the_orders_and_never_orders_twice() {
    let filled = cart_filled();
    let checkout = sent(push(filled.clone()));
    let mut interrupted = filled;
    interrupted.push(ex(checkout.clone(), None));
    let lookup = sent(push(interrupted.clone()));
    assert_eq!((lookup.method, lookup.effect), (Method::Get, Effect::Read));
    assert_eq!(lookup.path, format!("{ROOT}/orders"));
    let mut found = interrupted.clone();
    found.push(ex(lookup.clone(), Some(json!({"orders": [order()]}))));
    assert_eq!(finish(found), PushStep::Done { refs: done_refs() });
    let mut none = interrupted;
    none.push(ex(lookup, Some(json!({"orders": []}))));
    assert_eq!(
        sent(push(none)),
        checkout,
        "the same cart is checked out, not a new one"
    );
}

#[test]
fn orders_and_subscriptions_read_back_in_streamone_shapes() {
    let lines = Connector.parse_order(&order().to_string()).unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1].part_number,
        "TechDataMicrosoft365BusinessBasic-smp"
    );
    assert_eq!(lines[1].quantity, Decimal::from(6));
    assert_eq!(lines[0].reference.as_deref(), Some("PO-Q-SAMPLE-tdsynnex"));
    let text = r#"{"subscriptions": [{"subscriptionId": "S-1", "customerId": "TD-CUST-778812",
        "ccpProductId": "TechDataMicrosoft365BusinessBasic-smp", "ccpSkuId": "sku--3de1cc0bce2c",
        "ccpPlanId": "plan--a86a48d9fc", "subscriptionProductId": "CFQ7TTC0LH18",
        "subscriptionTotalLicenses": 6, "subscriptionStatus": "active",
        "subscriptionStartDate": "2026-12-07", "subscriptionEndDate": "2027-12-06",
        "subscriptionBillingCycle": "monthly", "subscriptionBillingTerm": "P1Y",
        "price": 6.00, "cost": 4.80, "resellerPo": "PO-Q-SAMPLE-tdsynnex"}]}"#;
    let mut accounts = tenor_plugin_sdk::samples::sample_accounts("tdsynnex");
    accounts.insert("unused".into(), "x".into());
    let first = Connector
        .pull_step(&PullInput {
            what: PullKind::Subscriptions,
            accounts: accounts.clone(),
            month: None,
            pushed: Vec::new(),
            exchanges: Vec::new(),
        })
        .unwrap();
    let PullStep::Send { request } = first else {
        panic!("a request first")
    };
    assert_eq!(request.path, "/accounts/TD-ACCT-100245/subscriptions");
    assert_eq!(
        request.query[0],
        ("customerId".into(), "TD-CUST-778812".into())
    );
    let PullStep::Done { pulled } = Connector
        .pull_step(&PullInput {
            what: PullKind::Subscriptions,
            accounts,
            month: None,
            pushed: Vec::new(),
            exchanges: vec![ex(request, Some(serde_json::from_str(text).unwrap()))],
        })
        .unwrap()
    else {
        panic!("one answer is all")
    };
    let s = &pulled.subscriptions[0];
    assert_eq!(s.part_number, "TechDataMicrosoft365BusinessBasic-smp");
    assert_eq!(
        (s.term.as_deref(), s.billing.as_deref()),
        (Some("P1Y"), Some("monthly"))
    );
    assert_eq!(s.reference.as_deref(), Some("PO-Q-SAMPLE-tdsynnex"));
    assert_eq!(s.end, NaiveDate::from_ymd_opt(2027, 12, 7));
    assert_eq!(s.unit_cost.unwrap().to_string(), "4.80");
}

/// The sample purchase order with its second line (Business Basic) starting 2027-01-18.
fn two_day_po() -> PurchaseOrder {
    let mut p = po();
    p.lines[1].first_term_start = chrono::NaiveDate::from_ymd_opt(2027, 1, 18).unwrap();
    p
}

/// A push step of [`two_day_po`] on `today`, after `exchanges`.
fn push_on(today: &str, exchanges: Vec<Exchange>) -> PushStep {
    let p = two_day_po();
    Connector
        .push_step(&PushInput {
            today: Some(today.parse().unwrap()),
            document: PushDocument::PurchaseOrder {
                purchase_order: Box::new(p.clone()),
            },
            accounts: p.customer.accounts.clone(),
            exchanges,
        })
        .unwrap()
}

#[test]
fn a_cart_per_start_day_each_checked_out_on_its_day() {
    // Before the first start: nothing is sent.
    assert_eq!(
        push_on("2026-12-06", Vec::new()),
        PushStep::Wait {
            until: "2026-12-07".parse().unwrap(),
            why: crate::push::STARTS_AT_CHECKOUT.into()
        }
    );
    // On 2026-12-07 the first cart holds E3 alone: one item added, then the checkout.
    let cart = sent(push_on("2026-12-07", Vec::new()));
    assert_eq!(
        cart.body.as_ref().unwrap()["displayName"],
        "PO-Q-SAMPLE-tdsynnex"
    );
    let cart_answer = json!({"name": format!("{}/carts/C-77", &ROOT[1..])});
    let mut so_far = vec![ex(cart, Some(cart_answer))];
    let add = sent(push_on("2026-12-07", so_far.clone()));
    assert_eq!(add.body.as_ref().unwrap()["planId"], "plan--9252669f2e");
    so_far.push(ex(add, Some(json!({"id": "CI-1"}))));
    let checkout = sent(push_on("2026-12-07", so_far.clone()));
    assert_eq!(checkout.path, format!("{ROOT}/carts/C-77/checkout"));
    let mut first_order = order();
    first_order["orderItems"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    so_far.push(ex(checkout, Some(first_order)));
    // Then it waits for Business Basic's day, run that day or the day before.
    for day in ["2026-12-07", "2027-01-17"] {
        assert_eq!(
            push_on(day, so_far.clone()),
            PushStep::Wait {
                until: "2027-01-18".parse().unwrap(),
                why: crate::push::STARTS_AT_CHECKOUT.into()
            },
            "{day}"
        );
    }
    // On 2027-01-18 a second cart, named for its day, carrying the same purchase order id.
    let second = sent(push_on("2027-01-18", so_far));
    assert_eq!(second.path, format!("{ROOT}/carts"));
    assert_eq!(
        second.body,
        Some(json!({"displayName": "PO-Q-SAMPLE-tdsynnex 2027-01-18",
                    "resellerPo": "PO-Q-SAMPLE-tdsynnex"}))
    );
}
