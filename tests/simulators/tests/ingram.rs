//! Ingram Micro: headers, a valid order, the duplicate-order guard, the spec's lengths and the
//! US end-user address, rejected lines, and invoices with serial numbers.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a missing field is a failed test"
)]

mod support;

use serde_json::{Value, json};
use support::{Client, ingram, messages};
use tenor_simulators::Simulators;

/// A change to a valid body that must make it invalid.
type Change = Box<dyn Fn(&mut Value)>;

fn end_user() -> Value {
    json!({"companyName": "Bayview Family Dental", "contact": "Dana Office", "addressLine1": "1 Harbour Rd",
           "city": "Bayview", "state": "CA", "postalCode": "94000", "countryCode": "US"})
}

fn body(number: &str) -> Value {
    json!({
        "customerOrderNumber": number,
        "endUserInfo": end_user(),
        "lines": [
            {"customerLineNumber": "1", "ingramPartNumber": "7YD4KL", "quantity": 2},
            {"customerLineNumber": "2", "ingramPartNumber": "5TF9KV", "quantity": 2},
        ],
    })
}

#[test]
fn headers_and_token_are_required() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    let bare = Client::new(
        &sims.urls().ingram,
        &[("Authorization", c.headers[0].1.as_str())],
    );
    let (status, b) = bare.post("/resellers/v6/orders", &body("PO-1"));
    assert_eq!(status, 400);
    let text = messages(&b);
    for h in ["IM-CustomerNumber", "IM-CountryCode", "IM-CorrelationID"] {
        assert!(text.contains(h), "{h} missing from {text}");
    }
    let anon = Client::new(&sims.urls().ingram, &[]);
    assert_eq!(anon.post("/resellers/v6/orders", &body("PO-1")).0, 401);
    assert_eq!(sims.ingram_orders_for("PO-1"), 0);
}

#[test]
fn a_valid_order_is_created_and_read_back() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    let (status, b) = c.post("/resellers/v6/orders", &body("PO-Q1003-ING"));
    assert_eq!(status, 201, "{b}");
    let o = &b["orders"][0];
    assert_eq!(o["lines"][0]["quantityConfirmed"], 2);
    assert_eq!(o["lines"][0]["extendedUnitPrice"], json!(2098));
    let number = o["ingramOrderNumber"].as_str().unwrap().to_string();
    let (status, detail) = c.get(&format!("/resellers/v6.1/orders/{number}"));
    assert_eq!(status, 200);
    assert_eq!(detail["customerOrderNumber"], "PO-Q1003-ING");
    assert_eq!(detail["lines"][1]["ingramOrderLineNumber"], "002");
    assert_eq!(detail["lines"][1]["extendedPrice"], json!(438));
    let (_, found) = c.get("/resellers/v6/orders/search?customerOrderNumber=PO-Q1003-ING");
    assert_eq!(found["recordsFound"], 1);
}

#[test]
fn a_duplicate_customer_order_number_is_refused_unless_allowed() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    assert_eq!(c.post("/resellers/v6/orders", &body("PO-7")).0, 201);
    let (status, b) = c.post("/resellers/v6/orders", &body("PO-7"));
    assert_eq!(status, 400);
    assert!(
        messages(&b).contains("customerOrderNumber PO-7 already exists"),
        "{b}"
    );
    assert_eq!(sims.ingram_orders_for("PO-7"), 1);
    let mut allowed = body("PO-7");
    allowed["additionalAttributes"] =
        json!([{"attributeName": "allowDuplicateCustomerOrderNumber", "attributeValue": "true"}]);
    assert_eq!(c.post("/resellers/v6/orders", &allowed).0, 201);
    assert_eq!(sims.ingram_orders_for("PO-7"), 2);
}

// Longer than 80 lines: one table row per validation rule, read best as one list.
#[test]
fn each_field_rule_refuses_with_400_naming_the_field() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(move |b| b["customerOrderNumber"] = json!(long(36))),
            "customerOrderNumber",
        ),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("customerOrderNumber");
            }),
            "customerOrderNumber is required",
        ),
        (
            Box::new(|b| b["lines"][0]["ingramPartNumber"] = json!("1234567890123456789")),
            "lines[0].ingramPartNumber must be at most 18",
        ),
        (
            Box::new(|b| b["lines"][0]["quantity"] = json!("2")),
            "lines[0].quantity must be a number",
        ),
        (
            Box::new(|b| b["lines"][0]["quantity"] = json!(1.5)),
            "lines[0].quantity must be a whole number",
        ),
        (
            Box::new(|b| b["lines"][0]["customerLineNumber"] = json!(1)),
            "lines[0].customerLineNumber must be a string",
        ),
        (
            Box::new(|b| b["lines"][1]["customerLineNumber"] = json!("1")),
            "lines[1].customerLineNumber 1 is not unique",
        ),
        (
            Box::new(|b| b["lines"][0]["customerLineNumber"] = json!("885")),
            "numeric 1-884",
        ),
        (
            Box::new(|b| b["endUserInfo"]["companyName"] = json!("x".repeat(41))),
            "endUserInfo.companyName must be at most 40",
        ),
        (
            Box::new(|b| b["endUserInfo"]["city"] = json!("x".repeat(26))),
            "endUserInfo.city must be at most 25",
        ),
        (
            Box::new(|b| b["endUserInfo"]["state"] = json!("CALI")),
            "endUserInfo.state must be at most 3",
        ),
        (
            Box::new(|b| {
                b["endUserInfo"]
                    .as_object_mut()
                    .unwrap()
                    .remove("addressLine1");
            }),
            "endUserInfo.addressLine1 is required",
        ),
        (
            Box::new(|b| {
                b["endUserInfo"]
                    .as_object_mut()
                    .unwrap()
                    .remove("postalCode");
            }),
            "endUserInfo.postalCode is required",
        ),
        (
            Box::new(|b| b["shipToInfo"] = json!({"addressId": "12345678901"})),
            "shipToInfo.addressId must be at most 10",
        ),
    ];
    for (i, (change, words)) in cases.iter().enumerate() {
        let mut b = body(&format!("PO-{i}"));
        change(&mut b);
        let (status, answer) = c.post("/resellers/v6/orders", &b);
        assert_eq!(status, 400, "case {i}: {answer}");
        assert!(
            messages(&answer).contains(words),
            "case {i}: expected {words:?} in {}",
            messages(&answer)
        );
    }
    assert!(sims.with_world(|w| w.ingram.orders.is_empty()));
}

#[test]
fn unknown_parts_are_rejected_lines() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    let mut b = body("PO-R");
    b["lines"][1]["ingramPartNumber"] = json!("NOPE123");
    let (status, answer) = c.post("/resellers/v6/orders", &b);
    assert_eq!(status, 207, "{answer}");
    assert_eq!(
        answer["orders"][0]["rejectedLineItems"][0]["ingramPartNumber"],
        "NOPE123"
    );
    assert_eq!(answer["orders"][0]["lines"].as_array().unwrap().len(), 1);
    b["lines"][0]["ingramPartNumber"] = json!("NOPE456");
    b["customerOrderNumber"] = json!("PO-R2");
    assert_eq!(
        c.post("/resellers/v6/orders", &b).0,
        400,
        "all lines rejected"
    );
}

#[test]
fn invoices_carry_a_serial_number_per_laptop() {
    let sims = Simulators::start().unwrap();
    let c = ingram(&sims);
    assert_eq!(c.post("/resellers/v6/orders", &body("PO-INV")).0, 201);
    let ids = sims.bill("2026-12").unwrap();
    assert_eq!(ids.len(), 1);
    let (status, found) = c.get("/resellers/v6/invoices?customerOrderNumber=PO-INV");
    assert_eq!(status, 200);
    assert_eq!(found["invoices"][0]["invoiceNumber"], ids[0].as_str());
    let (_, inv) = c.get(&format!("/resellers/v6.1/invoices/{}", ids[0]));
    assert_eq!(inv["invoiceDate"], "2026-12-07");
    let laptop = &inv["lines"][0];
    assert_eq!(
        (laptop["quantity"].clone(), laptop["extendedPrice"].clone()),
        (json!(2), json!(2098))
    );
    let serials = laptop["serialNumbers"].as_array().unwrap();
    assert_eq!(serials.len(), 2);
    assert_ne!(serials[0]["serialNumber"], serials[1]["serialNumber"]);
    // 2 × 1,049.00 + 2 × 219.00
    assert_eq!(inv["summary"]["totals"]["netInvoiceAmount"], json!(2536));
    assert!(
        sims.bill("2027-01").unwrap().is_empty(),
        "an order is invoiced once"
    );
    let mut no_app = ingram(&sims);
    no_app.headers.retain(|(k, _)| k != "IM-ApplicationID");
    assert_eq!(
        no_app
            .get("/resellers/v6/invoices?customerOrderNumber=PO-INV")
            .0,
        400,
        "the spec requires IM-ApplicationID"
    );
}
