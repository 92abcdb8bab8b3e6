//! TD SYNNEX: refresh-token auth, cart → items → checkout → order and subscriptions,
//! catalogue ids checked, a quantity change through an UPDATE item.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a missing field is a failed test"
)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Client, agent, form, messages, tdsynnex};
use tenor_simulators::Simulators;

const PRODUCT: &str = "TechDataMicrosoft365BusinessPremium-smp";
const SKU: &str = "sku--6550d0504891";
const PLAN: &str = "plan--784ebc32f2";

fn cart(c: &Client, po: &str) -> String {
    let (status, b) = c.post(
        "/customers/700113/carts",
        &json!({"displayName": "Q-1001", "resellerPo": po}),
    );
    assert_eq!(status, 200, "{b}");
    b["id"].as_str().unwrap().to_string()
}

fn item(product: &str, sku: &str, plan: &str, qty: Value) -> Value {
    json!({"action": "CREATE", "productId": product, "skuId": sku, "planId": plan, "quantity": qty})
}

#[test]
fn the_refresh_token_buys_an_access_token() {
    let sims = Simulators::start().unwrap();
    let a = agent(Duration::from_secs(5));
    let url = format!("{}/oauth/token", sims.urls().tdsynnex);
    let (status, _) = form(
        &a,
        &url,
        &[("grant_type", "refresh_token"), ("refresh_token", "stolen")],
    );
    assert_eq!(status, 401);
    let (status, b) = form(
        &a,
        &url,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", "tdsynnex-refresh"),
        ],
    );
    assert_eq!(status, 200);
    let access = b["access_token"].as_str().unwrap();
    let renewed = b["refresh_token"].as_str().unwrap();
    assert_eq!(
        form(
            &a,
            &url,
            &[("grant_type", "refresh_token"), ("refresh_token", renewed)]
        )
        .0,
        200
    );
    let check = format!("{}/oauth/validateAccess", sims.urls().tdsynnex);
    assert_eq!(form(&a, &check, &[("access_token", access)]).0, 200);
    assert_eq!(form(&a, &check, &[("access_token", "nope")]).0, 401);
    let anon = Client::new(
        &format!("{}/api/v3/accounts/4711", sims.urls().tdsynnex),
        &[],
    );
    assert_eq!(anon.get("/customers").0, 401);
    let c = tdsynnex(&sims);
    let other = Client::new(
        &format!("{}/api/v3/accounts/9999", sims.urls().tdsynnex),
        &[("Authorization", c.headers[0].1.as_str())],
    );
    assert_eq!(other.get("/customers").0, 403);
}

#[test]
fn checkout_creates_an_order_and_its_subscription() {
    let sims = Simulators::start().unwrap();
    let c = tdsynnex(&sims);
    let id = cart(&c, "PO-Q1001-TD");
    let (status, b) = c.post(
        &format!("/customers/700113/carts/{id}/cartItems"),
        &item(PRODUCT, SKU, PLAN, json!(25)),
    );
    assert_eq!(status, 200, "{b}");
    let (status, order) = c.post(
        &format!("/customers/700113/carts/{id}/checkout"),
        &json!({}),
    );
    assert_eq!(status, 200, "{order}");
    assert_eq!(order["referenceId"], format!("customers/700113/carts/{id}"));
    assert_eq!(order["orderItems"][0]["planId"], PLAN);
    assert_eq!(order["orderItems"][0]["quantity"], 25);
    let (_, again) = c.get(&format!(
        "/customers/700113/orders/{}",
        order["id"].as_str().unwrap()
    ));
    assert_eq!(again, order);
    let (_, subs) = c.get("/subscriptions?resellerPo=PO-Q1001-TD");
    let s = &subs["items"][0];
    assert_eq!(s["ccpProductId"], PRODUCT);
    assert_eq!(s["subscriptionProductId"], "CFQ7TTC0LCHC");
    assert_eq!(s["subscriptionTotalLicenses"], 25);
    assert_eq!(
        (
            s["subscriptionBillingTerm"].clone(),
            s["subscriptionBillingCycle"].clone()
        ),
        (json!("P1Y"), json!("monthly"))
    );
    assert_eq!(s["cost"], json!(17.6));
    assert_eq!(sims.tdsynnex_orders_for("PO-Q1001-TD"), 1);
    let (status, b) = c.post(
        &format!("/customers/700113/carts/{id}/checkout"),
        &json!({}),
    );
    assert_eq!(status, 400);
    assert!(messages(&b).contains("already checked out"), "{b}");
    assert_eq!(sims.tdsynnex_orders_for("PO-Q1001-TD"), 1);
}

#[test]
fn cart_items_need_td_synnex_catalogue_ids() {
    let sims = Simulators::start().unwrap();
    let c = tdsynnex(&sims);
    let id = cart(&c, "PO-X");
    let path = format!("/customers/700113/carts/{id}/cartItems");
    let cases = [
        (
            item("CFQ7TTC0LCHC", SKU, PLAN, json!(5)),
            "productId CFQ7TTC0LCHC is not a TD SYNNEX catalogue product",
        ),
        (
            item(PRODUCT, "0002", PLAN, json!(5)),
            "skuId 0002 is not a sku",
        ),
        (
            item(PRODUCT, SKU, "P1Y:M", json!(5)),
            "planId P1Y:M is not a plan",
        ),
        (
            item(PRODUCT, SKU, PLAN, json!("5")),
            "quantity must be a number",
        ),
        (
            json!({"productId": PRODUCT, "skuId": SKU, "planId": PLAN, "quantity": 5}),
            "action is required",
        ),
    ];
    for (body, words) in cases {
        let (status, b) = c.post(&path, &body);
        assert_eq!(status, 400, "{body}");
        assert!(messages(&b).contains(words), "expected {words:?} in {b}");
    }
    assert_eq!(
        c.post(
            &format!("/customers/700113/carts/{id}/checkout"),
            &json!({})
        )
        .0,
        400,
        "an empty cart"
    );
    assert_eq!(
        c.post("/customers/0000/carts", &json!({})).0,
        404,
        "carts live under a customer"
    );
}

#[test]
fn an_update_item_changes_the_licences() {
    let sims = Simulators::start().unwrap();
    let c = tdsynnex(&sims);
    let id = cart(&c, "PO-U");
    c.post(
        &format!("/customers/700113/carts/{id}/cartItems"),
        &item(PRODUCT, SKU, PLAN, json!(10)),
    );
    let (_, order) = c.post(
        &format!("/customers/700113/carts/{id}/checkout"),
        &json!({}),
    );
    let sub = order["orderItems"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_string();
    let change = cart(&c, "PO-U-CO1");
    let (status, b) = c.post(
        &format!("/customers/700113/carts/{change}/cartItems"),
        &json!({"action": "UPDATE", "subscriptionId": sub, "quantity": 12}),
    );
    assert_eq!(status, 200, "{b}");
    assert_eq!(
        c.post(
            &format!("/customers/700113/carts/{change}/checkout"),
            &json!({})
        )
        .0,
        200
    );
    let (_, s) = c.get(&format!("/customers/700113/subscriptions/{sub}"));
    assert_eq!(s["subscriptionTotalLicenses"], 12);
    let (status, b) = c.post(
        &format!("/customers/700114/carts/{change}/cartItems"),
        &json!({"action": "UPDATE", "subscriptionId": sub, "quantity": 1}),
    );
    assert_eq!(status, 400);
    assert!(
        messages(&b).contains("is not a subscription of customer 700114"),
        "{b}"
    );
}

/// One HTTP/1.1 answer read off a raw connection: its head and its body (by content-length).
fn read_answer(s: &mut std::net::TcpStream) -> (String, String) {
    use std::io::Read;
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            _ => return (String::from_utf8_lossy(&got).into_owned(), String::new()),
        }
    }
    let head = String::from_utf8_lossy(&got).into_owned();
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

#[test]
fn a_body_that_comes_late_is_read_before_the_answer_and_the_connection_stays_open() {
    use std::io::Write;
    let sims = Simulators::start().unwrap();
    let c = tdsynnex(&sims);
    let id = cart(&c, "PO-LATE");
    let (host, prefix) = c
        .base
        .strip_prefix("http://")
        .unwrap()
        .split_once('/')
        .unwrap();
    let auth = &c.headers[0].1;
    let mut s = std::net::TcpStream::connect(host).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    // The checkout takes no body, yet the client sends one, after its head.
    let checkout = format!(
        "POST /{prefix}/customers/700113/carts/{id}/checkout HTTP/1.1\r\nHost: {host}\r\n\
         Authorization: {auth}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"
    );
    s.write_all(checkout.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    s.write_all(b"{}").unwrap();
    let (head, body) = read_answer(&mut s);
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(body.contains("has no items"), "{body}");
    let again = format!(
        "GET /{prefix}/customers/700113/carts/{id} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {auth}\r\n\r\n"
    );
    s.write_all(again.as_bytes()).unwrap();
    let (head, body) = read_answer(&mut s);
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "the connection was closed: {head:?}"
    );
    assert!(body.contains("PO-LATE"), "{body}");
}
