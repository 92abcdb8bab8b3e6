//! Pax8: auth, a valid order creates subscriptions, every validation rule refuses with 422
//! naming its field, quantity change, and billing figures computed by hand.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a missing field is a failed test"
)]

mod support;

use serde_json::{Value, json};
use support::{Client, messages, pax8};
use tenor_simulators::Simulators;

const DENTAL: &str = "3f0c1e52-7d4b-4a6e-9c1a-2b8e5d7f9a01";
const BP: &str = "9b2e4d61-3c7f-4a58-b1e0-7d6c2f9a4b33";
const BP_MONTHLY: &str = "1221b5a2-2155-441c-aff7-c0fcbbe8f88d";
const BP_1Y: &str = "bea4256e-36c2-44c7-9885-bbac88043e5f";
const BP_3Y: &str = "2054fa81-6e7c-4c6a-87ac-5fed4b6ea010";
const MDB: &str = "5a0c9e28-d41b-47f6-8e3a-9c2b5d1f0e66";
const MDB_1Y: &str = "3be93fb8-d995-4a62-9b11-96f741b79d35";

fn line(product: &str, qty: Value, term: &str, commitment: Option<&str>) -> Value {
    let mut l =
        json!({"lineItemNumber": 1, "productId": product, "quantity": qty, "billingTerm": term});
    if let Some(c) = commitment {
        l["commitmentTermId"] = json!(c);
    }
    l
}

fn order(c: &Client, lines: Vec<Value>) -> (u16, Value) {
    c.post(
        "/orders",
        &json!({"companyId": DENTAL, "orderedBy": "Pax8 Partner", "lineItems": lines}),
    )
}

#[test]
fn tokens_are_required_and_checked() {
    let sims = Simulators::start().unwrap();
    let anon = Client::new(&sims.urls().pax8, &[]);
    assert_eq!(anon.get("/companies").0, 401);
    let (status, body) = anon.post(
        "/token",
        &json!({"client_id": "pax8-client", "client_secret": "wrong", "audience": "https://api.pax8.com", "grant_type": "client_credentials"}),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("access_denied"))
    );
    let forged = Client::new(
        &sims.urls().pax8,
        &[("Authorization", "Bearer pax8-token-99")],
    );
    assert_eq!(forged.get("/companies").0, 401);
    let (status, body) = pax8(&sims).get("/companies?size=2");
    assert_eq!(status, 200);
    assert_eq!(body["content"].as_array().unwrap().len(), 2);
    assert_eq!(body["page"]["totalElements"], 4);
    assert_eq!(body["content"][0]["externalId"], "250");
}

#[test]
fn a_valid_order_creates_its_subscription_and_lookups_find_it() {
    let sims = Simulators::start().unwrap();
    let c = pax8(&sims);
    let (status, deps) = c.get(&format!("/products/{BP}/dependencies"));
    assert_eq!(status, 200);
    let terms: Vec<&str> = deps["commitmentDependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["term"].as_str().unwrap())
        .collect();
    assert_eq!(terms, ["Monthly", "1-Year", "3-Year"]);
    let (status, body) = order(&c, vec![line(BP, json!(25), "Monthly", Some(BP_1Y))]);
    assert_eq!(status, 200, "{body}");
    let li = &body["lineItems"][0];
    assert!(
        li.get("lineItemNumber").is_none(),
        "lineItemNumber is write-only"
    );
    assert_eq!(
        (li["quantity"].clone(), li["billingTerm"].clone()),
        (json!(25), json!("Monthly"))
    );
    let sub_id = li["subscriptionId"].as_str().unwrap().to_string();
    let (_, subs) = c.get(&format!("/subscriptions?companyId={DENTAL}&productId={BP}"));
    let s = &subs["content"][0];
    assert_eq!(s["id"], sub_id.as_str());
    assert_eq!(s["billingTerm"], "Monthly");
    assert_eq!(s["commitmentTerm"]["term"], "1-Year");
    assert_eq!(s["commitmentTerm"]["endDate"], "2027-12-06");
    assert_eq!(s["startDate"], "2026-12-07");
    assert_eq!(s["partnerCost"], json!(17.6));
    assert_eq!(
        c.get(&format!("/orders?companyId={DENTAL}")).1["page"]["totalElements"],
        1
    );
    assert_eq!(sims.pax8_orders_for(DENTAL), 1);
}

#[test]
fn is_mock_validates_without_ordering() {
    let sims = Simulators::start().unwrap();
    let c = pax8(&sims);
    let body =
        json!({"companyId": DENTAL, "lineItems": [line(BP, json!(5), "Monthly", Some(BP_1Y))]});
    assert_eq!(c.post("/orders?isMock=true", &body).0, 200);
    let bad = json!({"companyId": DENTAL, "lineItems": [line(BP, json!(5), "Monthly", None)]});
    assert_eq!(c.post("/orders?isMock=true", &bad).0, 422);
    assert_eq!(sims.pax8_orders_for(DENTAL), 0);
    assert!(sims.with_world(|w| w.pax8.subscriptions.is_empty()));
}

#[test]
fn each_order_rule_refuses_with_422_naming_the_field() {
    let sims = Simulators::start().unwrap();
    let c = pax8(&sims);
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!([line(BP, json!("25"), "Monthly", Some(BP_1Y))]),
            "lineItems[0].quantity",
            "must be a number",
        ),
        (
            json!([line(BP, json!(2.5), "Monthly", Some(BP_1Y))]),
            "lineItems[0].quantity",
            "whole number",
        ),
        (
            json!([line(BP, json!(0), "Monthly", Some(BP_1Y))]),
            "lineItems[0].quantity",
            "at least 1",
        ),
        (
            json!([line(BP, json!(5), "Yearly", Some(BP_1Y))]),
            "lineItems[0].billingTerm",
            "must be one of",
        ),
        (
            json!([line(BP, json!(5), "Monthly", None)]),
            "lineItems[0].commitmentTermId",
            "requires a commitment",
        ),
        (
            json!([line(BP, json!(5), "Monthly", Some(MDB_1Y))]),
            "lineItems[0].commitmentTermId",
            "is not a commitment term",
        ),
        (
            json!([line(BP, json!(5), "Annual", Some(BP_MONTHLY))]),
            "lineItems[0].billingTerm",
            "longer than the commitment",
        ),
        (
            json!([line("MST-NCE-M365BP", json!(5), "Monthly", Some(BP_1Y))]),
            "lineItems[0].productId",
            "is not a Pax8 product",
        ),
        (
            json!([{"productId": BP, "quantity": 5, "billingTerm": "Monthly", "commitmentTermId": BP_1Y}]),
            "lineItems[0].lineItemNumber",
            "is required",
        ),
        (json!([]), "lineItems", "must not be empty"),
    ];
    for (lines, field, words) in cases {
        let (status, body) = order(&c, serde_json::from_value(lines.clone()).unwrap());
        assert_eq!(status, 422, "{lines} → {body}");
        let text = messages(&body);
        assert!(
            text.contains(field) && text.contains(words),
            "{lines}: expected {field} / {words} in {text}"
        );
    }
    let mut future = line(BP, json!(5), "Monthly", Some(BP_1Y));
    future["provisionStartDate"] = json!("2026-12-08T00:00:00Z");
    let (status, body) = order(&c, vec![future]);
    assert_eq!(status, 422);
    assert!(
        messages(&body).contains("scheduled orders are not supported"),
        "{body}"
    );
    let (status, body) = c.post("/orders", &json!({"companyId": "CUST-0042", "lineItems": [line(BP, json!(5), "Monthly", Some(BP_1Y))]}));
    assert_eq!(status, 422);
    assert!(
        messages(&body).contains("companyId CUST-0042 is not a company"),
        "{body}"
    );
    assert_eq!(c.post("/orders", &json!("not an object")).0, 400);
    assert!(
        sims.with_world(|w| w.pax8.orders.is_empty()),
        "no refused order was placed"
    );
}

#[test]
fn put_changes_the_quantity_and_refuses_an_empty_update() {
    let sims = Simulators::start().unwrap();
    let c = pax8(&sims);
    let (_, body) = order(&c, vec![line(BP, json!(25), "Monthly", Some(BP_1Y))]);
    let sub = body["lineItems"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, s) = c.put(&format!("/subscriptions/{sub}"), &json!({"quantity": 30}));
    assert_eq!((status, s["quantity"].clone()), (200, json!(30)));
    assert_eq!(c.put(&format!("/subscriptions/{sub}"), &json!({})).0, 422);
    assert_eq!(
        c.put(&format!("/subscriptions/{sub}"), &json!({"quantity": "31"}))
            .0,
        422
    );
    assert_eq!(
        c.patch(&format!("/subscriptions/{sub}"), &json!({"quantity": 31}))
            .0,
        405,
        "the spec has PUT only"
    );
    assert_eq!(c.get(&format!("/subscriptions/{sub}")).1["quantity"], 30);
}

fn items(c: &Client, invoice: &str) -> Vec<Value> {
    let (status, body) = c.get(&format!("/invoices/{invoice}/items?size=200"));
    assert_eq!(status, 200);
    body["content"].as_array().unwrap().clone()
}

#[test]
fn billing_prorates_the_first_month_and_bills_upfront_terms_up_front() {
    let sims = Simulators::start().unwrap();
    let c = pax8(&sims);
    let (s, _) = order(&c, vec![line(BP, json!(25), "Monthly", Some(BP_1Y))]);
    assert_eq!(s, 200);
    let mut mdb = line(MDB, json!(10), "Annual", Some(MDB_1Y));
    mdb["lineItemNumber"] = json!(2);
    let mut bp3 = line(BP, json!(2), "3-Year", Some(BP_3Y));
    bp3["lineItemNumber"] = json!(3);
    assert_eq!(order(&c, vec![mdb, bp3]).0, 200);

    let ids = sims.bill("2027-01").unwrap();
    assert_eq!(
        ids.len(),
        1,
        "one Pax8 invoice, no Ingram or ConnectWise activity"
    );
    let (_, inv) = c.get(&format!("/invoices/{}", ids[0]));
    assert_eq!(inv["invoiceDate"], "2027-01-01");
    let got = items(&c, &ids[0]);
    let find = |kind: &str, product: &str, start: &str| -> Value {
        got.iter()
            .find(|i| i["type"] == kind && i["productId"] == product && i["startPeriod"] == start)
            .cloned()
            .unwrap_or(Value::Null)
    };
    // 25 seats × 17.60 × 25 days (Dec 7–31) / 31 = 354.838… → 354.84
    let prorate = find("prorate", BP, "2026-12-07");
    assert_eq!(
        (prorate["endPeriod"].clone(), prorate["costTotal"].clone()),
        (json!("2026-12-31"), json!(354.84))
    );
    // The customer price alike: 22.00 × 25 × 25 / 31 = 443.548… → 443.55
    assert_eq!(prorate["subTotal"], json!(443.55));
    let month = find("subscription", BP, "2027-01-01");
    assert_eq!(
        (month["endPeriod"].clone(), month["costTotal"].clone()),
        (json!("2027-01-31"), json!(440))
    );
    // Annual: the year up front, 10 × 27.43.
    let annual = find("subscription", MDB, "2026-12-07");
    assert_eq!(
        (
            annual["endPeriod"].clone(),
            annual["costTotal"].clone(),
            annual["term"].clone()
        ),
        (json!("2027-12-06"), json!(274.3), json!("Annual"))
    );
    // 3-Year: the term up front, 2 × 603.43.
    let term = got.iter().find(|i| i["term"] == "3 Year").unwrap();
    assert_eq!(
        (term["endPeriod"].clone(), term["costTotal"].clone()),
        (json!("2029-12-06"), json!(1206.86))
    );
    assert_eq!(got.len(), 4);
    // 354.84 + 440 + 274.30 + 1206.86
    assert_eq!(inv["total"], json!(2276));

    let feb = sims.bill("2027-02").unwrap();
    let got = items(&c, &feb[0]);
    assert_eq!(
        got.len(),
        1,
        "only the monthly subscription bills in February: {got:?}"
    );
    assert_eq!(got[0]["costTotal"], json!(440));
    let (_, paged) = c.get(&format!("/invoices/{}/items?size=1&page=0", ids[0]));
    assert_eq!(
        (
            paged["page"]["totalElements"].clone(),
            paged["content"].as_array().unwrap().len()
        ),
        (json!(4), 1)
    );
}

#[test]
fn drift_changes_what_reads_return() {
    let sims = Simulators::start().unwrap();
    let c = pax8(&sims);
    let (_, body) = order(&c, vec![line(BP, json!(50), "Monthly", Some(BP_1Y))]);
    let sub = body["lineItems"][0]["subscriptionId"]
        .as_str()
        .unwrap()
        .to_string();
    sims.drift_pax8_quantity(&sub, 45).unwrap();
    assert_eq!(c.get(&format!("/subscriptions/{sub}")).1["quantity"], 45);
    let unknown = sims.drift_pax8_unknown_subscription(BP, 3).unwrap();
    let (_, all) = c.get("/subscriptions?size=200");
    let s = all["content"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == unknown.as_str())
        .unwrap()
        .clone();
    assert_ne!(s["companyId"], DENTAL);
    assert!(sims.drift_pax8_quantity("nope", 1).is_err());
}
