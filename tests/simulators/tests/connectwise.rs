//! ConnectWise: auth, agreements and additions (required fields, references that must exist,
//! the 2017 `billCycleId` refused), look-ups by `conditions`, sales orders with procurement
//! products and their serial numbers, and invoices from additions computed by hand.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a missing field is a failed test"
)]

mod support;

use serde_json::{Value, json};
use support::{CW_BASIC, Client, connectwise, messages};
use tenor_simulators::Simulators;

/// A change to a valid body that must make it invalid.
type Change = Box<dyn Fn(&mut Value)>;

fn agreement(po: &str) -> Value {
    json!({"name": "Q-1001 Managed Workstation", "type": {"name": "Managed Services"},
           "company": {"id": 250}, "contact": {"id": 1187}, "customerPO": po,
           "startDate": "2026-12-01T00:00:00Z", "billingCycle": {"id": 1}})
}

fn addition(qty: i64, price: f64) -> Value {
    json!({"product": {"identifier": "MWS"}, "billCustomer": "Billable", "quantity": qty,
           "unitPrice": price, "unitCost": 40.5, "effectiveDate": "2026-12-01T00:00:00Z"})
}

fn create(c: &Client, po: &str) -> i64 {
    let (status, b) = c.post("/finance/agreements", &agreement(po));
    assert_eq!(status, 201, "{b}");
    b["id"].as_i64().unwrap()
}

#[test]
fn basic_auth_and_client_id_are_required() {
    let sims = Simulators::start().unwrap();
    let no_client = Client::new(&sims.urls().connectwise, &[("Authorization", CW_BASIC)]);
    let (status, b) = no_client.get("/company/companies");
    assert_eq!(status, 401);
    assert!(messages(&b).contains("clientId"), "{b}");
    let wrong = Client::new(
        &sims.urls().connectwise,
        &[
            ("Authorization", "Basic d3Jvbmc6d3Jvbmc="),
            ("clientId", "cw-client-id"),
        ],
    );
    assert_eq!(wrong.get("/company/companies").0, 401);
    let (status, list) =
        connectwise(&sims).get("/company/companies?conditions=identifier=\"CUST-0042\"");
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["defaultContact"]["id"], 1187);
}

#[test]
fn an_agreement_and_its_additions_are_created_and_found() {
    let sims = Simulators::start().unwrap();
    let c = connectwise(&sims);
    let id = create(&c, "SO-Q1001");
    let (_, found) = c.get("/finance/agreements?conditions=customerPO=\"SO-Q1001\"");
    assert_eq!(found.as_array().unwrap().len(), 1);
    assert_eq!(
        found[0]["billingCycle"],
        json!({"id": 1, "name": "Monthly"})
    );
    assert_eq!(found[0]["company"]["identifier"], "CUST-0042");
    let (_, none) =
        c.get("/finance/agreements?conditions=customerPO=\"SO-OTHER\" and company/id=250");
    assert!(none.as_array().unwrap().is_empty());
    let (status, a) = c.post(
        &format!("/finance/agreements/{id}/additions"),
        &addition(25, 65.0),
    );
    assert_eq!(status, 201, "{a}");
    assert_eq!(
        (a["billedQuantity"].clone(), a["extPrice"].clone()),
        (json!(25), json!(1625))
    );
    let aid = a["id"].as_i64().unwrap();
    let (status, p) = c.patch(
        &format!("/finance/agreements/{id}/additions/{aid}"),
        &json!([{"op": "replace", "path": "quantity", "value": 28}]),
    );
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["extPrice"], json!(1820));
    let (status, bad) = c.patch(
        &format!("/finance/agreements/{id}/additions/{aid}"),
        &json!([{"op": "replace", "path": "extPrice", "value": 1}]),
    );
    assert_eq!(status, 400);
    assert!(messages(&bad).contains("extPrice cannot be patched"));
    let (_, list) = c.get(&format!("/finance/agreements/{id}/additions"));
    assert_eq!(list[0]["quantity"], 28);
    assert_eq!(sims.cw_agreements_for("SO-Q1001"), 1);
}

// Longer than 80 lines: one table row per validation rule, read best as one list.
#[test]
fn each_agreement_rule_refuses_with_400_naming_the_field() {
    let sims = Simulators::start().unwrap();
    let c = connectwise(&sims);
    let cases: Vec<(Change, &str, &str)> = vec![
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("name");
            }),
            "name",
            "NullOrMissingField",
        ),
        (
            Box::new(|b| b["name"] = json!("x".repeat(101))),
            "name",
            "at most 100",
        ),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("type");
            }),
            "type",
            "type is required",
        ),
        (
            Box::new(|b| b["type"] = json!({"name": "Nope"})),
            "type",
            "does not exist",
        ),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("company");
            }),
            "company",
            "company is required",
        ),
        (
            Box::new(|b| b["company"] = json!({"id": "250"})),
            "company.id",
            "must be an integer",
        ),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("contact");
            }),
            "contact",
            "contact is required",
        ),
        (
            Box::new(|b| b["contact"] = json!({"id": 999})),
            "contact",
            "does not exist",
        ),
        (
            Box::new(|b| b["contact"] = json!({"id": 1192})),
            "contact",
            "does not belong to company 250",
        ),
        (
            Box::new(|b| b["billingCycle"] = json!({"id": 99})),
            "billingCycle",
            "does not exist",
        ),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("billingCycle");
                b["billCycleId"] = json!(1);
            }),
            "billCycleId",
            "not a field",
        ),
        (
            Box::new(|b| b["customerPO"] = json!("x".repeat(51))),
            "customerPO",
            "at most 50",
        ),
        (
            Box::new(|b| b["invoicingCycle"] = json!("Monthly")),
            "invoicingCycle",
            "must be one of",
        ),
        (
            Box::new(|b| b["startDate"] = json!("12/01/2026")),
            "startDate",
            "ISO 8601",
        ),
    ];
    for (i, (change, field, words)) in cases.iter().enumerate() {
        let mut b = agreement("SO-BAD");
        change(&mut b);
        let (status, answer) = c.post("/finance/agreements", &b);
        assert_eq!(status, 400, "case {i}: {answer}");
        let hit = answer["errors"].as_array().unwrap().iter().any(|e| {
            e["field"] == *field
                && (e["message"].as_str().unwrap().contains(words) || e["code"] == *words)
        });
        assert!(hit, "case {i}: expected {field} / {words} in {answer}");
        assert_eq!(answer["code"], "InvalidObject");
    }
    assert_eq!(sims.cw_agreements_for("SO-BAD"), 0);
}

#[test]
fn each_addition_rule_refuses_with_400_naming_the_field() {
    let sims = Simulators::start().unwrap();
    let c = connectwise(&sims);
    let id = create(&c, "SO-A");
    let cases: Vec<(Change, &str)> = vec![
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("product");
            }),
            "product",
        ),
        (
            Box::new(|b| b["product"] = json!({"identifier": "NOT-IN-CATALOGUE"})),
            "product",
        ),
        (
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("billCustomer");
            }),
            "billCustomer",
        ),
        (
            Box::new(|b| b["billCustomer"] = json!("Yes")),
            "billCustomer",
        ),
        (Box::new(|b| b["quantity"] = json!("25")), "quantity"),
        (Box::new(|b| b["endDate"] = json!("2027-06-30")), "endDate"),
        (
            Box::new(|b| b["invoiceDescription"] = json!("x".repeat(6001))),
            "invoiceDescription",
        ),
    ];
    for (i, (change, field)) in cases.iter().enumerate() {
        let mut b = addition(5, 10.0);
        change(&mut b);
        let (status, answer) = c.post(&format!("/finance/agreements/{id}/additions"), &b);
        assert_eq!(status, 400, "case {i}: {answer}");
        assert!(
            answer["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == *field),
            "case {i}: {answer}"
        );
    }
    assert_eq!(
        c.post("/finance/agreements/99999/additions", &addition(1, 1.0))
            .0,
        404
    );
}

#[test]
fn sales_orders_and_procurement_products_carry_po_numbers_and_serials() {
    let sims = Simulators::start().unwrap();
    let c = connectwise(&sims);
    let (status, so) = c.post("/sales/orders", &json!({"company": {"identifier": "CUST-0063"}, "status": {"name": "New"},
                                                         "salesRep": {"identifier": "jsmith"}, "poNumber": "SO-Q1003"}));
    assert_eq!(status, 201, "{so}");
    let so_id = so["id"].as_i64().unwrap();
    for (status_body, field) in [
        (
            json!({"company": {"id": 252}, "status": {"name": "New"}}),
            "salesRep",
        ),
        (
            json!({"company": {"id": 252}, "status": {"name": "Shipped?"}, "salesRep": {"id": 7}}),
            "status",
        ),
        (
            json!({"company": {"id": 252}, "status": {"id": 1}, "salesRep": {"id": 7}, "poNumber": "x".repeat(51)}),
            "poNumber",
        ),
    ] {
        let (status, answer) = c.post("/sales/orders", &status_body);
        assert_eq!(status, 400);
        assert!(
            answer["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["field"] == field),
            "{answer}"
        );
    }
    let (_, found) = c.get("/sales/orders?conditions=poNumber=\"SO-Q1003\"");
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (status, p) = c.post("/procurement/products", &json!({"catalogItem": {"identifier": "DELL-LAT5550"}, "billableOption": "Billable",
                                                                "quantity": 2, "price": 1237.82, "cost": 1049, "salesOrder": {"id": so_id}}));
    assert_eq!(status, 201, "{p}");
    let pid = p["id"].as_i64().unwrap();
    assert_eq!(
        c.post(
            "/procurement/products",
            &json!({"catalogItem": {"identifier": "DELL-LAT5550"}, "billableOption": "Sometimes"})
        )
        .0,
        400
    );
    assert_eq!(c.post("/procurement/products", &json!({"catalogItem": {"id": 612}, "billableOption": "Billable", "salesOrder": {"id": 1}})).0, 400);
    let (status, patched) = c.patch(
        &format!("/procurement/products/{pid}"),
        &json!([{"op": "replace", "path": "serialNumbers", "value": ["SN-A", "SN-B"]}]),
    );
    assert_eq!(status, 200, "{patched}");
    let (_, lines) = c.get(&format!(
        "/procurement/products?conditions=salesOrder/id={so_id}"
    ));
    assert_eq!(lines[0]["serialNumbers"], json!(["SN-A", "SN-B"]));
    assert_eq!(
        c.get(&format!("/sales/orders/{so_id}")).1["productIds"],
        json!([pid])
    );
    let ids = sims.bill("2026-12").unwrap();
    assert_eq!(ids.len(), 1);
    let (_, inv) = c.get("/finance/invoices?conditions=type=\"Standard\"");
    // 2 × 1,237.82
    assert_eq!(
        (inv[0]["productTotal"].clone(), inv[0]["customerPO"].clone()),
        (json!(2475.64), json!("SO-Q1003"))
    );
    let n = inv[0]["id"].as_i64().unwrap();
    let (_, on_invoice) = c.get(&format!("/procurement/products?conditions=invoice/id={n}"));
    assert_eq!(on_invoice.as_array().unwrap().len(), 1);
    assert_eq!(sims.cw_sales_orders_for("SO-Q1003"), 1);
}

#[test]
fn agreement_invoices_bill_the_additions_by_hand_figures() {
    let sims = Simulators::start().unwrap();
    let c = connectwise(&sims);
    let id = create(&c, "SO-BILL");
    let add = |b: Value| -> i64 {
        let (status, a) = c.post(&format!("/finance/agreements/{id}/additions"), &b);
        assert_eq!(status, 201, "{a}");
        a["id"].as_i64().unwrap()
    };
    add(addition(25, 65.0));
    let mut with_included = addition(30, 10.0);
    with_included["lessIncluded"] = json!(5);
    add(with_included);
    let mut prorated = addition(10, 31.0);
    prorated["effectiveDate"] = json!("2027-01-16T00:00:00Z");
    prorated["prorateCurrentPeriodFlag"] = json!(true);
    add(prorated);
    let mut not_billed = addition(3, 99.0);
    not_billed["billCustomer"] = json!("NoCharge");
    add(not_billed);
    let cancelled = add(addition(4, 50.0));
    sims.drift_cancel_addition(
        cancelled,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    )
    .unwrap();

    let ids = sims.bill("2027-01").unwrap();
    assert_eq!(ids.len(), 1, "{ids:?}");
    let (_, inv) = c.get(&format!("/finance/invoices?conditions=agreement/id={id}"));
    // 25 × 65 = 1,625.00; (30 − 5) × 10 = 250.00; 10 × 31 × 16/31 days = 160.00;
    // NoCharge and the addition cancelled before January bill nothing.
    assert_eq!(inv[0]["subtotal"], json!(2035));
    assert_eq!(inv[0]["type"], "Agreement");
    assert_eq!(inv[0]["date"], "2027-01-01T00:00:00Z");
    assert_eq!(inv[0]["customerPO"], "SO-BILL");
    assert!(
        inv[0].get("lines").is_none(),
        "ConnectWise invoices have no line arrays"
    );
    // December: the cancelled one still bills (cancelled on the 31st), the prorated one not yet.
    sims.bill("2026-12").unwrap();
    let (_, dec) = c.get(&format!(
        "/finance/invoices?conditions=agreement/id={id} and date=[2026-12-01]"
    ));
    assert_eq!(dec[0]["subtotal"], json!(2075), "1,625 + 250 + 4 × 50");
}
